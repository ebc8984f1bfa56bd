/* unit-sources: vmm/mgmt/json.c vmm/mgmt/jsonread.c vmm/lib/jsonstr.c vmm/lib/utf8.c */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "check.h"
#include "mgmt/json.h"
#include "mgmt/jsonread.h"

static const char *test_writer(void)
{
	struct jsonread doc;
	struct json_writer w;
	char buf[256];

	json_init(&w, buf, sizeof(buf));
	json_object_begin(&w);
	json_key(&w, "name");
	json_string(&w, "we\"b\\\n\x01\x7f");
	json_key(&w, "n");
	json_int(&w, -5);
	json_key(&w, "list");
	json_array_begin(&w);
	json_uint(&w, 18446744073709551615ULL);
	json_bool(&w, 1);
	json_null(&w);
	json_object_begin(&w);
	json_object_end(&w);
	json_array_end(&w);
	json_object_end(&w);
	CHECK(json_finish(&w) > 0);
	CHECK_STR(buf, "{\"name\":\"we\\\"b\\\\\\n\\u0001\\u007f\",\"n\":-5,"
		  "\"list\":[18446744073709551615,true,null,{}]}");
	CHECK_INT(jsonread_open(&doc, buf, strlen(buf)), 0);
	return NULL;
}

static const char *test_writer_utf8(void)
{
	struct json_writer w;
	char buf[128];

	json_init(&w, buf, sizeof(buf));
	/* valid: é, €, U+1F600; invalid: lone continuation, overlong '/', surrogate, truncated sequence */
	json_string(&w, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82");
	CHECK(json_finish(&w) > 0);
	CHECK_STR(buf, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\"");
	return NULL;
}

static const char *test_writer_overflow(void)
{
	struct json_writer w;
	char buf[8];

	json_init(&w, buf, sizeof(buf));
	json_string(&w, "0123456789");
	CHECK_INT(json_finish(&w), -ENOSPC);
	CHECK(strlen(buf) < sizeof(buf));
	json_init(&w, buf, sizeof(buf));
	json_object_begin(&w);
	CHECK_INT(json_finish(&w), -EINVAL);
	return NULL;
}

/* What the management port does with a request body: member KEY of the top-level object. */
static int get_bool(const char *text, size_t len, const char *key, int *out)
{
	struct jsonread doc;
	size_t at;
	int rc;

	rc = jsonread_open(&doc, text, len);
	if (!rc)
		rc = jsonread_member(&doc, 0, key, &at);
	return rc ? rc : jsonread_bool(&doc, at, out);
}

static int get_int(const char *text, const char *key, long long min, long long max, long long *out)
{
	struct jsonread doc;
	size_t at;
	int rc;

	rc = jsonread_open(&doc, text, strlen(text));
	if (!rc)
		rc = jsonread_member(&doc, 0, key, &at);
	return rc ? rc : jsonread_int(&doc, at, min, max, out);
}

static const char *test_reader(void)
{
	const char *text = " {\"autostart\": true, \"x\": [1, {\"a\": null}], \"target_mib\": 96, "
			   "\"s\": \"a\\u00e9\\ud83d\\ude00\\n\"} ";
	struct jsonread doc;
	char s[16];
	size_t at, len;
	long long n;
	int b;

	CHECK_INT(jsonread_open(&doc, text, strlen(text)), 0);
	CHECK_INT(jsonread_type(&doc, 0), JSONREAD_OBJECT);
	CHECK_INT(jsonread_member(&doc, 0, "autostart", &at), 0);
	CHECK_INT(jsonread_bool(&doc, at, &b), 0);
	CHECK_INT(b, 1);
	CHECK_INT(jsonread_int(&doc, at, 0, 1, &n), -EINVAL);
	CHECK_INT(jsonread_member(&doc, 0, "target_mib", &at), 0);
	CHECK_INT(jsonread_int(&doc, at, 0, 1 << 20, &n), 0);
	CHECK_INT(n, 96);
	CHECK_INT(jsonread_int(&doc, at, 100, 200, &n), -ERANGE);
	CHECK_INT(jsonread_bool(&doc, at, &b), -EINVAL);
	CHECK_INT(jsonread_member(&doc, 0, "s", &at), 0);
	CHECK_INT(jsonread_string(&doc, at, s, sizeof(s), &len), 0);
	CHECK_STR(s, "a\xc3\xa9\xf0\x9f\x98\x80\n");
	CHECK_INT(len, 8);
	/* measured without a buffer; truncated to whole characters: "a" and é fit in 4 bytes, the emoji does not */
	CHECK_INT(jsonread_string(&doc, at, NULL, 0, &len), 0);
	CHECK_INT(len, 8);
	CHECK_INT(jsonread_string(&doc, at, s, 4, &len), -ENOSPC);
	CHECK_STR(s, "a\xc3\xa9");
	CHECK_INT(len, 8);
	CHECK_INT(jsonread_member(&doc, 0, "missing", &at), -ENOENT);
	return NULL;
}

static const char *test_reader_walk(void)
{
	const char *text = "{\"guests\": [{\"name\": \"web\", \"n\": 18446744073709551615}, {\"name\": \"db\"}, 3], "
			   "\"empty\": [], \"o\": {\"in\": {\"deep\": false}}}";
	const char *names[] = { "web", "db" };
	unsigned long long u;
	struct jsonread doc;
	size_t arr, at, v;
	char s[8];
	int i = 0;

	CHECK_INT(jsonread_open(&doc, text, strlen(text)), 0);
	CHECK_INT(jsonread_member(&doc, 0, "guests", &arr), 0);
	CHECK_INT(jsonread_type(&doc, arr), JSONREAD_ARRAY);
	CHECK_INT(jsonread_first(&doc, arr, &at), 0);
	do {
		if (i == 2) {
			CHECK_INT(jsonread_type(&doc, at), JSONREAD_NUMBER);
			CHECK_INT(jsonread_member(&doc, at, "name", &v), -EINVAL);
		} else {
			CHECK_INT(jsonread_member(&doc, at, "name", &v), 0);
			CHECK_INT(jsonread_string(&doc, v, s, sizeof(s), NULL), 0);
			CHECK_STR(s, names[i]);
		}
		i++;
	} while (!jsonread_next(&doc, &at));
	CHECK_INT(i, 3);
	CHECK_INT(jsonread_first(&doc, arr, &at), 0);
	CHECK_INT(jsonread_member(&doc, at, "n", &v), 0);
	CHECK_INT(jsonread_uint(&doc, v, ~0ULL, &u), 0);
	CHECK(u == ~0ULL);
	CHECK_INT(jsonread_uint(&doc, v, 10, &u), -ERANGE);
	CHECK_INT(jsonread_member(&doc, 0, "empty", &arr), 0);
	CHECK_INT(jsonread_first(&doc, arr, &at), -ENOENT);
	CHECK_INT(jsonread_first(&doc, 0, &at), -EINVAL);
	CHECK_INT(jsonread_member(&doc, 0, "o", &v), 0);
	CHECK_INT(jsonread_member(&doc, v, "in", &v), 0);
	CHECK_INT(jsonread_member(&doc, v, "deep", &v), 0);
	CHECK_INT(jsonread_type(&doc, v), JSONREAD_FALSE);
	CHECK_INT(jsonread_string(&doc, v, s, sizeof(s), NULL), -EINVAL);
	return NULL;
}

static const char *test_reader_numbers(void)
{
	struct jsonread doc;
	unsigned long long u;
	long long n;

	CHECK_INT(get_int("{\"a\":-9223372036854775808}", "a", LLONG_MIN, LLONG_MAX, &n), 0);
	CHECK(n == LLONG_MIN);
	CHECK_INT(get_int("{\"a\":9223372036854775808}", "a", LLONG_MIN, LLONG_MAX, &n), -ERANGE);
	CHECK_INT(get_int("{\"a\":99999999999999999999999999}", "a", 0, 10, &n), -ERANGE);
	CHECK_INT(get_int("{\"a\":-1}", "a", 0, 10, &n), -ERANGE);
	CHECK_INT(get_int("{\"a\":-1}", "a", -1, 10, &n), 0);
	CHECK_INT(n, -1);
	CHECK_INT(get_int("{\"a\":1.5}", "a", 0, 10, &n), -EINVAL);
	CHECK_INT(get_int("{\"a\":1e2}", "a", 0, 1000, &n), -EINVAL);
	CHECK_INT(get_int("{\"a\":\"1\"}", "a", 0, 10, &n), -EINVAL);
	CHECK_INT(jsonread_open(&doc, "18446744073709551616", 20), 0);
	CHECK_INT(jsonread_uint(&doc, 0, ~0ULL, &u), -ERANGE);
	CHECK_INT(jsonread_open(&doc, "-0", 2), 0);
	CHECK_INT(jsonread_uint(&doc, 0, ~0ULL, &u), -ERANGE);
	return NULL;
}

static const char *test_reader_refuses(void)
{
	static const char *bad[] = {
		"", "{", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":1} x", "[1,]", "{\"a\":\"\x01\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\"}", "{\"a\":\"\xc0\xaf\"}",
		"{\"a\":\"\\x\"}", "{\"a\":tru}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":\"abc", "{'a':1}",
		"[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]",
	};
	struct jsonread doc;
	char s[8];
	size_t i, at;
	int b;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (jsonread_open(&doc, bad[i], strlen(bad[i])) != -EINVAL)
			return check_fail(__FILE__, __LINE__, "accepted bad document %zu: %s", i, bad[i]);
	CHECK_INT(jsonread_open(&doc, "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", 33), 0);	/* exactly the depth cap */
	CHECK_INT(get_bool("{\"a\":true,\"a\":false}", 20, "a", &b), -EINVAL);
	CHECK_INT(get_bool("[true]", 6, "a", &b), -EINVAL);
	/* \u0000 is valid JSON but cannot be read into a C string, nor measured for one */
	CHECK_INT(jsonread_open(&doc, "{\"a\":\"\\u0000\"}", 14), 0);
	CHECK_INT(jsonread_member(&doc, 0, "a", &at), 0);
	CHECK_INT(jsonread_string(&doc, at, s, sizeof(s), NULL), -EINVAL);
	CHECK_INT(jsonread_string(&doc, at, NULL, 0, &i), -EINVAL);
	CHECK_INT(get_bool("{\"a\":true} {", 12, "a", &b), -EINVAL);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "json-writer", test_writer },
		{ "json-writer-utf8", test_writer_utf8 },
		{ "json-writer-overflow", test_writer_overflow },
		{ "json-reader", test_reader },
		{ "json-reader-walk", test_reader_walk },
		{ "json-reader-numbers", test_reader_numbers },
		{ "json-reader-refuses", test_reader_refuses },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
