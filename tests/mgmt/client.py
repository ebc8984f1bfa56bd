#!/usr/bin/env python3
"""TLS client helpers for tests/mgmt/run and tests/bench/mgmt.

    client.py CERTDIR PORT raw CERT DATA_HEX       send bytes on one TLS connection, print the status line of the
                                                   answer, then "closed" if the server closed; then whether a new
                                                   request on a new connection works ("next 200")
    client.py CERTDIR PORT load CLIENTS REQUESTS   CLIENTS threads x REQUESTS keep-alive GETs of /v1/guests;
                                                   prints "errors N requests N seconds S rps R p50 MS p99 MS"
    client.py CERTDIR PORT handshakes SECONDS      full handshakes (new connection per request) for SECONDS
    client.py CERTDIR PORT idle N TLS|TCP          open N idle connections (TLS-handshaken or bare TCP), then
                                                   time one admin request; prints "status S ms MS opened N"
    client.py metrics FILE                          strict Prometheus text-format check; prints "families N
                                                   samples N" or the first error
"""
import json
import re
import socket
import ssl
import sys
import threading
import time


def context(certdir, cert="admin"):
    ctx = ssl.create_default_context(cafile=f"{certdir}/ca.crt")
    ctx.check_hostname = False  # the test server's SAN is 127.0.0.1; the CA check is what matters here
    if cert:
        ctx.load_cert_chain(f"{certdir}/{cert}.crt", f"{certdir}/{cert}.key")
    return ctx


def connect(ctx, port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(s, server_hostname="shrike")


def read_response(f):
    """Reads one HTTP/1.1 response with Content-Length from a file object; returns (status, headers, body)."""
    line = f.readline()
    if not line:
        return None, {}, b""
    status = int(line.split()[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        k, v = h.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return status, headers, body


def get(conn_file, sock, path, close=False):
    extra = "Connection: close\r\n" if close else ""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: shrike\r\n{extra}\r\n".encode())
    return read_response(conn_file)


def cmd_raw(certdir, port, cert, data_hex):
    ctx = context(certdir, cert)
    s = connect(ctx, port)
    f = s.makefile("rb")
    s.sendall(bytes.fromhex(data_hex))
    status, _, _ = read_response(f)
    print(f"status {status}")
    try:
        rest = f.read(1)
        print("closed" if not rest else "open")
    except (ConnectionError, ssl.SSLError, socket.timeout):
        print("closed")
    s.close()
    s = connect(ctx, port)
    status, _, _ = get(s.makefile("rb"), s, "/v1/guests", close=True)
    print(f"next {status}")


def cmd_load(certdir, port, clients, requests):
    ctx = context(certdir)
    lat = []
    errors = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def worker():
        mine = []
        try:
            s = connect(ctx, port, timeout=30)
            f = s.makefile("rb")
            barrier.wait()
            for _ in range(requests):
                t = time.perf_counter()
                status, _, body = get(f, s, "/v1/guests")
                mine.append(time.perf_counter() - t)
                if status != 200 or b'"web"' not in body:
                    with lock:
                        errors[0] += 1
            s.close()
        except Exception as e:  # any failure is an error of this run, not of the helper
            with lock:
                errors[0] += requests - len(mine)
            print(f"client error: {e!r}", file=sys.stderr)
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    lat.sort()
    p50 = lat[len(lat) // 2] * 1000 if lat else 0
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0
    print(f"errors {errors[0]} requests {len(lat)} seconds {secs:.2f} rps {len(lat) / secs:.0f} "
          f"p50 {p50:.2f} p99 {p99:.2f}")


def cmd_handshakes(certdir, port, seconds):
    ctx = context(certdir)
    n = errors = 0
    end = time.perf_counter() + seconds
    t0 = time.perf_counter()
    while time.perf_counter() < end:
        try:
            s = connect(ctx, port)
            status, _, _ = get(s.makefile("rb"), s, "/v1/guests", close=True)
            s.close()
            n += 1
            errors += status != 200
        except Exception:
            errors += 1
    secs = time.perf_counter() - t0
    print(f"handshakes {n} errors {errors} seconds {secs:.2f} per_second {n / secs:.0f}")


def cmd_idle(certdir, port, n, kind):
    ctx = context(certdir)
    held = []
    for _ in range(n):
        try:
            if kind == "TLS":
                held.append(connect(ctx, port))
            else:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        except Exception as e:
            print(f"open failed after {len(held)}: {e!r}", file=sys.stderr)
            break
    t = time.perf_counter()
    try:
        s = connect(ctx, port)
        status, _, _ = get(s.makefile("rb"), s, "/v1/guests", close=True)
    except Exception as e:
        print(f"request failed: {e!r}", file=sys.stderr)
        status = 0
    ms = (time.perf_counter() - t) * 1000
    print(f"status {status} ms {ms:.0f} opened {len(held)}")
    for s in held:
        s.close()


NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{(?:{LABEL})(?:,{LABEL})*\}})? (\S+)( -?\d+)?$")
VALUE = re.compile(r"^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$")


def cmd_metrics(path):
    """The text exposition format 0.0.4, strictly: HELP/TYPE before samples, one TYPE per family, known types,
    samples belong to the family just declared, valid names, labels and values, no duplicate series."""
    types = {}
    current = None
    series = set()
    samples = 0
    text = open(path, encoding="utf-8").read()
    if not text.endswith("\n"):
        return fail("no newline at the end")
    for no, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not re.fullmatch(NAME, parts[2]):
                return fail(f"line {no}: bad HELP")
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or not re.fullmatch(NAME, parts[2]) or \
                    parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                return fail(f"line {no}: bad TYPE")
            if parts[2] in types:
                return fail(f"line {no}: second TYPE for {parts[2]}")
            types[parts[2]] = parts[3]
            current = parts[2]
            continue
        if line.startswith("#") or not line:
            return fail(f"line {no}: unexpected comment or empty line")
        m = SAMPLE.match(line)
        if not m:
            return fail(f"line {no}: not a sample: {line!r}")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if name != current:
            return fail(f"line {no}: sample {name} outside its family ({current})")
        if not VALUE.match(value):
            return fail(f"line {no}: bad value {value!r}")
        if types[name] == "counter" and not name.endswith("_total"):
            return fail(f"line {no}: counter {name} without _total")
        if (name, labels) in series:
            return fail(f"line {no}: duplicate series")
        series.add((name, labels))
        samples += 1
    print(f"families {len(types)} samples {samples}")
    return 0


def fail(msg):
    print(f"error {msg}")
    return 1


def main():
    a = sys.argv[1:]
    if a and a[0] == "metrics":
        return cmd_metrics(a[1])
    certdir, port, cmd = a[0], int(a[1]), a[2]
    if cmd == "raw":
        cmd_raw(certdir, port, a[3], a[4])
    elif cmd == "load":
        cmd_load(certdir, port, int(a[3]), int(a[4]))
    elif cmd == "handshakes":
        cmd_handshakes(certdir, port, float(a[3]))
    elif cmd == "idle":
        cmd_idle(certdir, port, int(a[3]), a[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
