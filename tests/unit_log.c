/*
 * The log's line formats, read back from a captured stderr: in JSON every
 * event is one write of one valid object whose keys and values come back
 * byte for byte; in text every event is one write of one line.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

static int capfd;

static void
setup(void)
{
	capfd = tu_capture_stderr();
	log_init(true, LOG_INFO);
}

static void
teardown(void)
{
	tu_cleanup();
}

/* The next record (one write), NUL-terminated; its length, 0 if none. */
static size_t
next_write(char *buf, size_t len)
{
	ssize_t n = recv(capfd, buf, len - 1, MSG_DONTWAIT);

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return n;
}

/* A write that is exactly one line: one newline, at its end. */
static void
assert_one_line(const char *rec, size_t n)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(rec[n - 1], '\n');
	ck_assert_ptr_eq(memchr(rec, '\n', n), rec + n - 1);
}

/*
 * A strict reader for what the log writes: one object on one line, keys
 * strings, values strings or integers. Strings must be valid UTF-8 without
 * raw control bytes; escapes are decoded (\u to UTF-8). Returns the number
 * of pairs, -1 if the line is not such an object.
 */
#define MAXKV 16
struct jkv {
	char key[64];
	char val[8192];
	size_t vlen;
	bool num;
};

static int
utf8_len(const unsigned char *p, size_t n)
{
	int k = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 :
	    p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;

	if (k == 0 || (size_t)k > n)
		return -1;
	for (int i = 1; i < k; i++)
		if ((p[i] & 0xc0) != 0x80)
			return -1;
	return k;
}

static const char *
jstring(const char *p, const char *end, char *out, size_t outlen, size_t *got)
{
	size_t at = 0;

	if (p >= end || *p++ != '"')
		return NULL;
	while (p < end && *p != '"') {
		unsigned char c = *p;
		if (at + 4 >= outlen || c < 0x20)
			return NULL;
		if (c == '\\') {
			if (++p >= end)
				return NULL;
			switch (*p) {
			case '"': case '\\': case '/': out[at++] = *p; break;
			case 'b': out[at++] = '\b'; break;
			case 'f': out[at++] = '\f'; break;
			case 'n': out[at++] = '\n'; break;
			case 'r': out[at++] = '\r'; break;
			case 't': out[at++] = '\t'; break;
			case 'u': {
				char hex[5] = { 0 };
				unsigned long u;
				if (end - p < 5)
					return NULL;
				memcpy(hex, p + 1, 4);
				if (strspn(hex, "0123456789abcdefABCDEF") != 4)
					return NULL;
				u = strtoul(hex, NULL, 16);
				/* The log escapes control bytes only. */
				if (u >= 0x80)
					return NULL;
				out[at++] = (char)u;
				p += 4;
				break;
			}
			default:
				return NULL;
			}
			p++;
		} else if (c >= 0x80) {
			int k = utf8_len((const unsigned char *)p, end - p);
			if (k < 0)
				return NULL;
			memcpy(out + at, p, k);
			at += k;
			p += k;
		} else
			out[at++] = *p++;
	}
	if (p >= end)
		return NULL;
	out[at] = '\0';
	*got = at;
	return p + 1;
}

static int
jobject(const char *p, size_t n, struct jkv *kv, int max)
{
	const char *end = p + n;
	int k = 0;

	if (n < 3 || p[n - 1] != '\n' || memchr(p, '\n', n - 1))
		return -1;
	end--;
	if (*p++ != '{')
		return -1;
	for (;;) {
		size_t len;
		if (k == max)
			return -1;
		if ((p = jstring(p, end, kv[k].key, sizeof(kv[k].key), &len)) == NULL)
			return -1;
		if (p >= end || *p++ != ':')
			return -1;
		if (p < end && *p == '"') {
			if ((p = jstring(p, end, kv[k].val, sizeof(kv[k].val),
			    &kv[k].vlen)) == NULL)
				return -1;
			kv[k].num = false;
		} else {
			size_t d = (p < end && *p == '-') ? 1 : 0;
			while (p + d < end && p[d] >= '0' && p[d] <= '9')
				d++;
			if (d == 0 || (d == 1 && *p == '-') || d >= sizeof(kv[k].val))
				return -1;
			memcpy(kv[k].val, p, d);
			kv[k].val[d] = '\0';
			kv[k].vlen = d;
			kv[k].num = true;
			p += d;
		}
		k++;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}' && p + 1 == end)
			return k;
		return -1;
	}
}

START_TEST(validator_rejects)
{
	struct jkv kv[MAXKV];
	static const char good[] = "{\"a\":\"\\u0001\xc3\xa9\",\"b\":-7}\n";
	static const char *const bad[] = {
		"{\"a\":\"x\"}", "{\"a\":\"x\"}\n{}\n", "{\"a\":\"\x01\"}\n",
		"{\"a\":\"\\q\"}\n", "{\"a\":\"\xc3\"}\n", "{\"a\":\"x\"\n",
		"{\"a\":\"x\"}}\n", "{\"a\":-}\n", "{\"a\":\"x\" }\n",
		"{\"a\":\"\\u00\"}\n",
	};

	ck_assert_int_eq(jobject(good, strlen(good),
	    kv, MAXKV), 2);
	ck_assert_str_eq(kv[0].val, "\x01\xc3\xa9");
	ck_assert_str_eq(kv[1].val, "-7");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(jobject(bad[i], strlen(bad[i]), kv, MAXKV) == -1,
		    "accepted %s", bad[i]);
}
END_TEST

static const char *const hostile[] = {
	"quote \" inside",
	"back\\slash \\\" \\\\",
	"new\nline and\ttab and\rreturn",
	"\x01\x02\x1b[31mred\x1f",
	"delete \x7f",
	"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e",
	"\"",
	"\\",
	"",
	"}\n{\"event\":\"forged\"}",
};

/* The whole log, for python3 if there is one. */
static char all[1 << 17];
static size_t allen;

static void
check_json(const char *rec, size_t n, const char *level, const char *event,
    const char *value, const char *msg)
{
	struct jkv kv[MAXKV];
	int k = jobject(rec, n, kv, MAXKV);

	ck_assert_msg(k == 7, "not one object of 7 keys (%d): %s", k, rec);
	ck_assert_str_eq(kv[0].key, "time");
	ck_assert_str_eq(kv[1].key, "level");
	ck_assert_str_eq(kv[1].val, level);
	ck_assert_str_eq(kv[2].key, "event");
	ck_assert_str_eq(kv[2].val, event);
	ck_assert_str_eq(kv[3].key, "service");
	ck_assert_uint_eq(kv[3].vlen, strlen(value));
	ck_assert_mem_eq(kv[3].val, value, kv[3].vlen);
	ck_assert_str_eq(kv[4].key, "pid");
	ck_assert(kv[4].num);
	ck_assert_str_eq(kv[4].val, "-42");
	ck_assert_str_eq(kv[5].key, "max");
	ck_assert_str_eq(kv[5].val, "9223372036854775807");
	ck_assert_str_eq(kv[6].key, "msg");
	ck_assert_uint_eq(kv[6].vlen, strlen(msg));
	ck_assert_mem_eq(kv[6].val, msg, kv[6].vlen);
	ck_assert_uint_lt(allen + n, sizeof(all));
	memcpy(all + allen, rec, n);
	allen += n;
}

START_TEST(json_escapes_round_trip)
{
	static char rec[16384];
	char msg[256];
	size_t n;

	log_configure(false, true, -1);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct log_kv kv[] = { KV_S("service", hostile[i]),
		    KV_I("pid", -42), KV_I("max", LLONG_MAX) };
		log_event(LOG_WARNING, "ev\"\n", kv, 3, "m %s", hostile[i]);
		n = next_write(rec, sizeof(rec));
		assert_one_line(rec, n);
		snprintf(msg, sizeof(msg), "m %s", hostile[i]);
		check_json(rec, n, "warning", "ev\"\n", hostile[i], msg);
	}
	ck_assert_uint_eq(next_write(rec, sizeof(rec)), 0);

	/* A second opinion on the same lines, when there is one to ask. */
	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		printf("log: no python3; JSON checked by the test's reader only\n");
		return;
	}
	{
		const char *path = tu_write("log.json", "%.*s", (int)allen, all);
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys\n"
		    "n=0\n"
		    "for l in sys.stdin.buffer:\n"
		    "  o=json.loads(l.decode(\"utf-8\"))\n"
		    "  assert isinstance(o,dict) and o[\"event\"]==\"ev\\\"\\n\"\n"
		    "  assert o[\"msg\"]==\"m \"+o[\"service\"] and o[\"pid\"]==-42\n"
		    "  n+=1\n"
		    "sys.exit(0 if n==%zu else 1)' < %s",
		    sizeof(hostile) / sizeof(hostile[0]), path);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

/* A value too long for a line is cut, and the line stays valid JSON. */
START_TEST(json_long_values_stay_valid)
{
	static char value[6000], rec[16384];
	static const char *const fill[] = { "\xe2\x9c\x93", "\"", "\x01", "a" };
	struct jkv kv[MAXKV];

	log_configure(false, true, -1);
	for (size_t f = 0; f < sizeof(fill) / sizeof(fill[0]); f++) {
		/* Every offset, so a cut falls inside each kind of character. */
		for (size_t shift = 0; shift < 6; shift++) {
			size_t at = 0, n;
			int k;
			memset(value, 'x', shift);
			at = shift;
			while (at + strlen(fill[f]) < sizeof(value)) {
				memcpy(value + at, fill[f], strlen(fill[f]));
				at += strlen(fill[f]);
			}
			value[at] = '\0';
			struct log_kv kvs[] = { KV_S("service", value) };
			log_event(LOG_INFO, "ev", kvs, 1, "%s", value);
			n = next_write(rec, sizeof(rec));
			assert_one_line(rec, n);
			k = jobject(rec, n, kv, MAXKV);
			ck_assert_msg(k >= 3, "fill %zu shift %zu: invalid line ending: %s",
			    f, shift, rec + (n > 80 ? n - 80 : 0));
			ck_assert_str_eq(kv[2].key, "event");
		}
	}
}
END_TEST

START_TEST(json_levels)
{
	static char rec[4096];
	struct jkv kv[MAXKV];
	static const struct { int level; const char *name; } lv[] = {
		{ LOG_CRIT, "error" }, { LOG_ERR, "error" },
		{ LOG_WARNING, "warning" }, { LOG_INFO, "info" },
		{ LOG_DEBUG, "debug" },
	};

	log_configure(false, true, LOG_DEBUG);
	for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		size_t n;
		log_event(lv[i].level, "x", NULL, 0, "hi");
		n = next_write(rec, sizeof(rec));
		ck_assert_int_eq(jobject(rec, n, kv, MAXKV), 4);
		ck_assert_str_eq(kv[1].val, lv[i].name);
		ck_assert_str_eq(kv[3].val, "hi");
	}
	/* The shorthands are event "log"; log_warn appends strerror. */
	errno = ENOENT;
	log_warn("open %s", "f\"g");
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(jobject(rec, next_write(rec, sizeof(rec)), kv, MAXKV), 4);
	ck_assert_str_eq(kv[2].val, "log");
	ck_assert_str_eq(kv[3].val, "open f\"g: No such file or directory");
}
END_TEST

/*
 * Text: one write per event, one line, the message in it (the start of the
 * line is not asserted: time stamps may come), no keys.
 */
START_TEST(text_one_line_per_event)
{
	static char rec[8192], big[3000];
	size_t n;

	log_configure(false, false, LOG_INFO);
	log_event(LOG_WARNING, "ev", (struct log_kv[]){ KV_S("service", "svc"),
	    KV_I("pid", 7) }, 2, "hello %s", "world");
	n = next_write(rec, sizeof(rec));
	assert_one_line(rec, n);
	ck_assert_ptr_nonnull(strstr(rec, "hello world\n"));
	ck_assert_ptr_null(strstr(rec, "svc"));
	ck_assert_ptr_null(strstr(rec, "{"));

	/* Below the level: nothing; log_event_always: regardless. */
	log_event(LOG_DEBUG, "ev", NULL, 0, "quiet");
	log_debug("quiet");
	ck_assert_uint_eq(next_write(rec, sizeof(rec)), 0);
	log_event_always(LOG_DEBUG, "ready", NULL, 0, "ready: %d", 1);
	n = next_write(rec, sizeof(rec));
	assert_one_line(rec, n);
	ck_assert_ptr_nonnull(strstr(rec, "ready: 1\n"));

	/* Too long a message is cut, and still one line. */
	memset(big, 'b', sizeof(big) - 1);
	log_info("%s", big);
	n = next_write(rec, sizeof(rec));
	assert_one_line(rec, n);
	ck_assert_uint_lt(n, sizeof(big));
	ck_assert_ptr_nonnull(strstr(rec, "bbbb\n"));
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("formats");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, validator_rejects);
	tcase_add_test(tc, json_escapes_round_trip);
	tcase_add_test(tc, json_long_values_stay_valid);
	tcase_add_test(tc, json_levels);
	tcase_add_test(tc, text_one_line_per_event);
	suite_add_tcase(s, tc);
	return s;
}
