#!/usr/bin/env python3
"""bars.py TITLE OUT.svg LABEL=VALUE...: a horizontal bar chart on a log scale, as SVG.

Bars whose label starts with "target:" are drawn hollow, so measurements and the
targets they answer to can be read side by side.
"""
import math
import sys
from xml.sax.saxutils import escape


def main():
    title, path, *pairs = sys.argv[1:]
    rows = [(label, float(value)) for label, value in (p.rsplit("=", 1) for p in pairs)]
    lo = min(v for _, v in rows if v > 0) / 2
    hi = max(v for _, v in rows) * 1.5
    width, left, bar_h, gap = 720, 230, 22, 10
    plot_w = width - left - 90
    height = 50 + len(rows) * (bar_h + gap)

    def x(v):
        return left + plot_w * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13">',
           f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(rows):
        y = 40 + i * (bar_h + gap)
        target = label.startswith("target:")
        style = 'fill="none" stroke="#c0392b" stroke-dasharray="4 2"' if target else 'fill="#2e86c1"'
        out.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{x(value) - left:.1f}" height="{bar_h}" {style}/>')
        out.append(f'<text x="{x(value) + 6:.1f}" y="{y + 16}">{value:.2f}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
