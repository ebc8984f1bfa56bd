/* unit-sources: vmm/mgmt/json.c */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "check.h"
#include "mgmt/json.h"

static const char *test_writer(void)
{
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
	CHECK_INT(json_validate(buf, strlen(buf)), 0);
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

static const char *test_reader(void)
{
	const char *doc = " {\"autostart\": true, \"x\": [1, {\"a\": null}], \"target_mib\": 96, "
			  "\"s\": \"a\\u00e9\\ud83d\\ude00\\n\"} ";
	char s[16];
	long long n;
	int b;

	CHECK_INT(json_get_bool(doc, strlen(doc), "autostart", &b), 0);
	CHECK_INT(b, 1);
	CHECK_INT(json_get_int(doc, strlen(doc), "target_mib", 0, 1 << 20, &n), 0);
	CHECK_INT(n, 96);
	CHECK_INT(json_get_int(doc, strlen(doc), "target_mib", 100, 200, &n), -ERANGE);
	CHECK_INT(json_get_string(doc, strlen(doc), "s", s, sizeof(s)), 0);
	CHECK_STR(s, "a\xc3\xa9\xf0\x9f\x98\x80\n");
	CHECK_INT(json_get_string(doc, strlen(doc), "s", s, 4), -ENOSPC);
	CHECK_INT(json_get_bool(doc, strlen(doc), "missing", &b), -ENOENT);
	CHECK_INT(json_get_bool(doc, strlen(doc), "target_mib", &b), -EINVAL);
	CHECK_INT(json_get_int(doc, strlen(doc), "autostart", 0, 1, &n), -EINVAL);
	return NULL;
}

static const char *test_reader_numbers(void)
{
	long long n;

	CHECK_INT(json_get_int("{\"a\":-9223372036854775808}", 26, "a", LLONG_MIN, LLONG_MAX, &n), 0);
	CHECK(n == LLONG_MIN);
	CHECK_INT(json_get_int("{\"a\":9223372036854775808}", 25, "a", LLONG_MIN, LLONG_MAX, &n), -ERANGE);
	CHECK_INT(json_get_int("{\"a\":99999999999999999999999999}", 32, "a", 0, 10, &n), -ERANGE);
	CHECK_INT(json_get_int("{\"a\":-1}", 8, "a", 0, 10, &n), -ERANGE);
	CHECK_INT(json_get_int("{\"a\":1.5}", 9, "a", 0, 10, &n), -EINVAL);
	CHECK_INT(json_get_int("{\"a\":1e2}", 9, "a", 0, 1000, &n), -EINVAL);
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
	char s[8];
	size_t i;
	int b;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (json_validate(bad[i], strlen(bad[i])) != -EINVAL)
			return check_fail(__FILE__, __LINE__, "accepted bad document %zu: %s", i, bad[i]);
	CHECK_INT(json_validate("[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", 33), 0);	/* exactly the depth cap */
	CHECK_INT(json_get_bool("{\"a\":true,\"a\":false}", 20, "a", &b), -EINVAL);
	CHECK_INT(json_get_bool("[true]", 6, "a", &b), -EINVAL);
	/* \u0000 is valid JSON but cannot be read into a C string */
	CHECK_INT(json_validate("{\"a\":\"\\u0000\"}", 14), 0);
	CHECK_INT(json_get_string("{\"a\":\"\\u0000\"}", 13, "a", s, sizeof(s)), -EINVAL);
	CHECK_INT(json_get_bool("{\"a\":true} {", 12, "a", &b), -EINVAL);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "json-writer", test_writer },
		{ "json-writer-utf8", test_writer_utf8 },
		{ "json-writer-overflow", test_writer_overflow },
		{ "json-reader", test_reader },
		{ "json-reader-numbers", test_reader_numbers },
		{ "json-reader-refuses", test_reader_refuses },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
