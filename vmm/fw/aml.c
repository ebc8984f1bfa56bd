#include <string.h>

#include "fw/aml.h"

#define AML_ZERO		0x00
#define AML_ONE			0x01
#define AML_NAME		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_METHOD		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_PREFIX		0x5b
#define AML_DEVICE		0x82	/* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR		0x5c
#define AML_ARG0		0x68
#define AML_NOTIFY		0x86
#define AML_LEQUAL		0x93
#define AML_IF			0xa0

#define NAME_SEG		4
#define PKG_LENGTH_MAX		4	/* bytes; the room aml_begin() reserves */
#define MAX_SEGS		8

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	*a = (struct aml){ .buf = buf, .cap = cap };
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static bool seg_valid(const char *s, size_t n)
{
	size_t i;

	if (n != NAME_SEG || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

void aml_name(struct aml *a, const char *path)
{
	const char *segs[MAX_SEGS];
	unsigned int n = 0, i;
	const char *p = path;

	if (*p == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	}
	while (*p && n < MAX_SEGS) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (!seg_valid(p, len)) {
			a->overflow = true;
			return;
		}
		segs[n++] = p;
		p += len + (dot ? 1 : 0);
	}
	if (*p || n == 0) {
		a->overflow = true;
		return;
	}
	if (n == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (n > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)n);
	}
	for (i = 0; i < n; i++)
		aml_bytes(a, segs[i], NAME_SEG);
}

static void put_le(struct aml *a, uint8_t prefix, uint64_t v, unsigned int bytes)
{
	unsigned int i;

	aml_byte(a, prefix);
	for (i = 0; i < bytes; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO);
	else if (v == 1)
		aml_byte(a, AML_ONE);
	else if (v <= UINT8_MAX)
		put_le(a, AML_BYTE_PREFIX, v, 1);
	else if (v <= UINT16_MAX)
		put_le(a, AML_WORD_PREFIX, v, 2);
	else if (v <= UINT32_MAX)
		put_le(a, AML_DWORD_PREFIX, v, 4);
	else
		put_le(a, AML_QWORD_PREFIX, v, 8);
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

size_t aml_begin(struct aml *a, const uint8_t *op, size_t op_len)
{
	static const uint8_t room[PKG_LENGTH_MAX];
	size_t mark;

	aml_bytes(a, op, op_len);
	mark = a->len;
	aml_bytes(a, room, sizeof(room));
	return mark;
}

/*
 * PkgLength counts its own bytes: one byte up to 63, else a lead byte with the byte count in bits 6-7 and the low
 * four bits of the length, then the rest of the length eight bits at a time.
 */
void aml_end(struct aml *a, size_t mark)
{
	size_t body, total, n;
	uint8_t enc[PKG_LENGTH_MAX];
	unsigned int i;

	if (a->overflow)
		return;
	body = a->len - mark - PKG_LENGTH_MAX;
	for (n = 1; n <= PKG_LENGTH_MAX; n++) {
		total = body + n;
		if ((n == 1 && total <= 0x3f) || (n > 1 && total < (1UL << (4 + 8 * (n - 1)))))
			break;
	}
	if (n > PKG_LENGTH_MAX) {
		a->overflow = true;
		return;
	}
	if (n == 1) {
		enc[0] = (uint8_t)total;
	} else {
		enc[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
		for (i = 1; i < n; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memmove(a->buf + mark + n, a->buf + mark + PKG_LENGTH_MAX, body);
	memcpy(a->buf + mark, enc, n);
	a->len = mark + n + body;
}

void aml_name_decl(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME);
	aml_name(a, path);
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	static const uint8_t op[] = { AML_SCOPE };
	size_t mark = aml_begin(a, op, sizeof(op));

	aml_name(a, path);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *path)
{
	static const uint8_t op[] = { AML_EXT_PREFIX, AML_DEVICE };
	size_t mark = aml_begin(a, op, sizeof(op));

	aml_name(a, path);
	return mark;
}

size_t aml_method_begin(struct aml *a, const char *path, unsigned int nr_args)
{
	static const uint8_t op[] = { AML_METHOD };
	size_t mark = aml_begin(a, op, sizeof(op));

	aml_name(a, path);
	aml_byte(a, (uint8_t)(nr_args & 7));	/* not serialized, sync level 0 */
	return mark;
}

size_t aml_package_begin(struct aml *a, uint8_t n)
{
	static const uint8_t op[] = { AML_PACKAGE };
	size_t mark = aml_begin(a, op, sizeof(op));

	aml_byte(a, n);
	return mark;
}

void aml_buffer(struct aml *a, const uint8_t *data, size_t n)
{
	static const uint8_t op[] = { AML_BUFFER };
	size_t mark = aml_begin(a, op, sizeof(op));

	aml_integer(a, n);
	aml_bytes(a, data, n);
	aml_end(a, mark);
}

size_t aml_if_arg_equals(struct aml *a, unsigned int arg, uint64_t value)
{
	static const uint8_t op[] = { AML_IF };
	size_t mark = aml_begin(a, op, sizeof(op));

	aml_byte(a, AML_LEQUAL);
	aml_byte(a, (uint8_t)(AML_ARG0 + (arg & 7)));
	aml_integer(a, value);
	return mark;
}

void aml_notify(struct aml *a, const char *path, uint8_t value)
{
	aml_byte(a, AML_NOTIFY);
	aml_name(a, path);
	aml_integer(a, value);
}
