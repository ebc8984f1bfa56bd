#include <stdio.h>

#include "lib/jsonstr.h"
#include "lib/utf8.h"

void jsonstr_write(const char *s, size_t len, void (*put)(void *ctx, const char *p, size_t n), void *ctx)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[8];
	size_t i = 0, run;

	put(ctx, "\"", 1);
	while (i < len) {
		unsigned char c = u[i];

		if (c >= 0x80) {
			run = utf8_len(u + i, len - i);
			if (run)
				put(ctx, s + i, run);
			else
				put(ctx, "\xef\xbf\xbd", 3);
			i += run ? run : 1;
			continue;
		}
		switch (c) {
		case '"': put(ctx, "\\\"", 2); break;
		case '\\': put(ctx, "\\\\", 2); break;
		case '\n': put(ctx, "\\n", 2); break;
		case '\r': put(ctx, "\\r", 2); break;
		case '\t': put(ctx, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				put(ctx, esc, 6);
			} else {
				put(ctx, s + i, 1);
			}
		}
		i++;
	}
	put(ctx, "\"", 1);
}
