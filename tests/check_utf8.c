/*
 * check_utf8.c - unit tests for utf8.c: the strict UTF-8 validator at
 * every boundary of RFC 3629's table, Punycode with RFC 3492 7.1's
 * samples both ways and its overflow checks, and the A-label form of a
 * domain at the 63-octet label limit.
 *
 * Every input is given in a heap buffer of exactly its length, so that
 * ASan (make check-san) catches a read past the end.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "smtpfe.h"
#include "utf8.h"
#include "utf8/punycode_vectors.h"

/* A literal with its length. */
#define S(x)	x, sizeof(x) - 1
#define NCASES(t)	((int)(sizeof(t) / sizeof((t)[0])))

struct v_case {
	const char	*in;
	size_t		 len;
	int		 expect;	/* UTF8_OK, UTF8_BAD, UTF8_C1 */
	uint32_t	 cp;		/* UTF8_OK/C1 of one code point */
	const char	*why;
};

static const struct v_case v_cases[] = {
	{ S("\x7f"), UTF8_OK, 0x7f, "U+007F, the last ASCII" },
	{ S("\xc2\x80"), UTF8_C1, 0x80, "U+0080, the first C1" },
	{ S("\xc2\x9f"), UTF8_C1, 0x9f, "U+009F, the last C1" },
	{ S("\xc2\xa0"), UTF8_OK, 0xa0, "U+00A0, past C1" },
	{ S("\xdf\xbf"), UTF8_OK, 0x7ff, "U+07FF, the last 2-octet" },
	{ S("\xe0\xa0\x80"), UTF8_OK, 0x800, "U+0800, the first 3-octet" },
	{ S("\xed\x9f\xbf"), UTF8_OK, 0xd7ff, "U+D7FF, before surrogates" },
	{ S("\xed\xa0\x80"), UTF8_BAD, 0, "U+D800, first surrogate" },
	{ S("\xed\xbf\xbf"), UTF8_BAD, 0, "U+DFFF, last surrogate" },
	{ S("\xee\x80\x80"), UTF8_OK, 0xe000, "U+E000, after surrogates" },
	{ S("\xef\xbf\xbf"), UTF8_OK, 0xffff, "U+FFFF, the last 3-octet" },
	{ S("\xf0\x90\x80\x80"), UTF8_OK, 0x10000, "U+10000, first 4-octet" },
	{ S("\xf4\x8f\xbf\xbf"), UTF8_OK, 0x10ffff, "U+10FFFF, the last" },
	{ S("\xf4\x90\x80\x80"), UTF8_BAD, 0, "U+110000, past the last" },
	{ S("\xf7\xbf\xbf\xbf"), UTF8_BAD, 0, "U+1FFFFF, 4-octet max" },
	{ S("\xf5\x80\x80\x80"), UTF8_BAD, 0, "F5 lead" },
	{ S("\xf8\x88\x80\x80\x80"), UTF8_BAD, 0, "5-octet form" },
	{ S("\xfc\x84\x80\x80\x80\x80"), UTF8_BAD, 0, "6-octet form" },
	{ S("\xfe"), UTF8_BAD, 0, "FE" },
	{ S("\xff"), UTF8_BAD, 0, "FF" },
	{ S("\xc0\x80"), UTF8_BAD, 0, "overlong NUL (2 octets)" },
	{ S("\xc0\xaf"), UTF8_BAD, 0, "overlong '/' (2 octets)" },
	{ S("\xc1\xbf"), UTF8_BAD, 0, "overlong U+007F (2 octets)" },
	{ S("\xe0\x80\x80"), UTF8_BAD, 0, "overlong NUL (3 octets)" },
	{ S("\xe0\x80\xaf"), UTF8_BAD, 0, "overlong '/' (3 octets)" },
	{ S("\xe0\x9f\xbf"), UTF8_BAD, 0, "overlong U+07FF (3 octets)" },
	{ S("\xf0\x80\x80\x80"), UTF8_BAD, 0, "overlong NUL (4 octets)" },
	{ S("\xf0\x80\x80\xaf"), UTF8_BAD, 0, "overlong '/' (4 octets)" },
	{ S("\xf0\x8f\xbf\xbf"), UTF8_BAD, 0, "overlong U+FFFF (4 octets)" },
	{ S("\x80"), UTF8_BAD, 0, "lone continuation 80" },
	{ S("\xbf"), UTF8_BAD, 0, "lone continuation BF" },
	{ S("\xc3\x41"), UTF8_BAD, 0, "2-octet, ASCII second" },
	{ S("\xc3\xc3"), UTF8_BAD, 0, "2-octet, lead second" },
	{ S("\xe2\x82\x41"), UTF8_BAD, 0, "3-octet, ASCII third" },
	{ S("\xe2\x41\x82"), UTF8_BAD, 0, "3-octet, ASCII second" },
	{ S("\xf0\x9f\x98\x41"), UTF8_BAD, 0, "4-octet, ASCII fourth" },
	{ S("\xed\xa0\x80\xed\xb0\x80"), UTF8_BAD, 0, "CESU-8 pair" },
	{ S("\x00"), UTF8_OK, 0, "NUL is ASCII (policy refuses controls)" },
};

/* exact - a heap copy of exactly LEN octets (1 when empty) */
static char *
exact(const char *in, size_t len)
{
	char *b = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(b);
	memcpy(b, in, len);
	return b;
}

START_TEST(test_validator_table)
{
	const struct v_case *c = &v_cases[_i];
	char *b = exact(c->in, c->len);
	uint32_t cp = 0;
	size_t n;

	ck_assert_msg(utf8_check(b, c->len) == c->expect, "%s: got %d",
	    c->why, utf8_check(b, c->len));
	n = utf8_decode(b, c->len, &cp);
	if (c->expect == UTF8_BAD)
		ck_assert_msg(n == 0, "%s: decoded", c->why);
	else {
		ck_assert_msg(n == c->len, "%s: length %zu", c->why, n);
		ck_assert_msg(cp == c->cp, "%s: U+%04X", c->why,
		    (unsigned)cp);
	}
	free(b);
}
END_TEST

/*
 * test_truncated - every well-formed sequence of the table cut at every
 * position, alone and followed by 'a', is ill-formed; and each one
 * followed by 'a' or preceded by 'a' keeps its verdict.
 */
START_TEST(test_truncated)
{
	const struct v_case *c = &v_cases[_i];
	char buf[16];
	size_t k;

	if (c->expect == UTF8_BAD || c->len < 2)
		return;
	for (k = 1; k < c->len; k++) {
		char *b = exact(c->in, k);

		ck_assert_msg(utf8_check(b, k) == UTF8_BAD, "%s cut at %zu",
		    c->why, k);
		free(b);
		memcpy(buf, c->in, k);
		buf[k] = 'a';
		b = exact(buf, k + 1);
		ck_assert_msg(utf8_check(b, k + 1) == UTF8_BAD,
		    "%s cut at %zu + 'a'", c->why, k);
		free(b);
	}
	buf[0] = 'a';
	memcpy(buf + 1, c->in, c->len);
	buf[c->len + 1] = 'a';
	ck_assert_int_eq(utf8_check(buf, c->len + 2), c->expect);
}
END_TEST

/* ref_encode - an independent encoder: RFC 3629 section 3's table */
static size_t
ref_encode(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 + cp / 64);
		o[1] = (unsigned char)(0x80 + cp % 64);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 + cp / 4096);
		o[1] = (unsigned char)(0x80 + cp / 64 % 64);
		o[2] = (unsigned char)(0x80 + cp % 64);
		return 3;
	}
	o[0] = (unsigned char)(0xf0 + cp / 262144);
	o[1] = (unsigned char)(0x80 + cp / 4096 % 64);
	o[2] = (unsigned char)(0x80 + cp / 64 % 64);
	o[3] = (unsigned char)(0x80 + cp % 64);
	return 4;
}

/*
 * test_exhaustive_short - every 2-octet and every 3-octet string: the
 * decoder takes it whole exactly when it is the reference encoding of a
 * scalar value of that length (16.8 million inputs, under a second).
 */
START_TEST(test_exhaustive_short)
{
	unsigned char *valid, o[4], s[3];
	uint32_t cp, got;
	unsigned long x, bad = 0;

	valid = calloc(1, 1UL << 24);
	ck_assert_ptr_nonnull(valid);
	for (cp = 0x80; cp < 0x10000; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (ref_encode(cp, o) == 2)
			valid[(unsigned long)o[0] << 8 | o[1]] = 1;
		else
			valid[(unsigned long)o[0] << 16 | o[1] << 8 | o[2]] = 2;
	}
	for (x = 0; x < (1UL << 16); x++) {
		s[0] = (unsigned char)(x >> 8);
		s[1] = (unsigned char)x;
		if (s[0] < 0x80 || s[0] >= 0xe0)
			continue;
		if ((utf8_decode((char *)s, 2, &got) == 2) != (valid[x] == 1))
			bad++;
	}
	for (x = 0; x < (1UL << 24); x++) {
		s[0] = (unsigned char)(x >> 16);
		s[1] = (unsigned char)(x >> 8);
		s[2] = (unsigned char)x;
		if (s[0] < 0xe0 || s[0] >= 0xf0)
			continue;
		if ((utf8_decode((char *)s, 3, &got) == 3) != (valid[x] == 2))
			bad++;
	}
	free(valid);
	ck_assert_uint_eq(bad, 0);
}
END_TEST

/*
 * test_roundtrip_all - every code point: utf8_encode agrees with the
 * reference, decodes back, and utf8_check says C1 exactly for
 * U+0080-U+009F; surrogates and U+110000 are not encoded.  Failures are
 * counted, not asserted one by one: each Check assertion costs a system
 * call, and there are 1.1 million code points.
 */
START_TEST(test_roundtrip_all)
{
	unsigned char ref[4];
	char out[4];
	uint32_t cp, back;
	unsigned long bad = 0;
	size_t n;

	for (cp = 0; cp <= 0x110000; cp++) {
		n = utf8_encode(cp, out);
		if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
			bad += n != 0;
			continue;
		}
		bad += n != ref_encode(cp, ref) || memcmp(out, ref, n) != 0 ||
		    utf8_decode(out, n, &back) != n || back != cp ||
		    utf8_check(out, n) != (cp >= 0x80 && cp <= 0x9f ?
		    UTF8_C1 : UTF8_OK);
	}
	ck_assert_uint_eq(bad, 0);
}
END_TEST

/* lower_eq - ASCII case-insensitive compare of LEN octets */
static int
lower_eq(const char *a, const char *b, size_t len)
{
	return str_ncasecmp(a, b, len) == 0;
}

/* test_rfc3492_encode - section 7.1's samples, code points to Punycode */
START_TEST(test_rfc3492_encode)
{
	const struct pc_vector *v = &pc_vectors[_i];
	char out[128];
	long n;

	n = punycode_encode(v->cp, v->n, out, sizeof(out));
	ck_assert_msg(n == (long)strlen(v->puny), "(%s): length %ld", v->tag,
	    n);
	ck_assert_msg(lower_eq(out, v->puny, (size_t)n), "(%s): %.*s", v->tag,
	    (int)n, out);
	/* One octet short of room is refused, never truncated. */
	ck_assert_int_eq(punycode_encode(v->cp, v->n, out, (size_t)n - 1), -1);
}
END_TEST

/* test_rfc3492_decode - section 7.1's samples, Punycode to code points */
START_TEST(test_rfc3492_decode)
{
	const struct pc_vector *v = &pc_vectors[_i];
	uint32_t out[128];
	char *b = exact(v->puny, strlen(v->puny));
	long n;

	n = punycode_decode(b, strlen(v->puny), out, 128);
	ck_assert_msg(n == (long)v->n, "(%s): count %ld", v->tag, n);
	ck_assert_msg(memcmp(out, v->cp, v->n * sizeof(uint32_t)) == 0,
	    "(%s): code points differ", v->tag);
	ck_assert_int_eq(punycode_decode(b, strlen(v->puny), out, v->n - 1),
	    -1);
	free(b);
}
END_TEST

/* decode_text - punycode_decode of a literal in an exact buffer */
static long
decode_text(const char *s, uint32_t *out, size_t max)
{
	char *b = exact(s, strlen(s));
	long n = punycode_decode(b, strlen(s), out, max);

	free(b);
	return n;
}

/* test_punycode_edges - small cases, bad input, code point limits */
START_TEST(test_punycode_edges)
{
	static const uint32_t bach[] = { 'B', 'a', 'c', 'h' }, u[] = { 0xfc };
	static const uint32_t sur[] = { 0xd800 }, big[] = { 0x110000 };
	uint32_t out[64];
	char o[64];

	ck_assert_int_eq(punycode_encode(bach, 0, o, sizeof(o)), 0);
	ck_assert_int_eq(punycode_encode(bach, 4, o, sizeof(o)), 5);
	ck_assert(memcmp(o, "Bach-", 5) == 0);
	ck_assert_int_eq(punycode_encode(u, 1, o, sizeof(o)), 3);
	ck_assert(memcmp(o, "tda", 3) == 0);
	ck_assert_int_eq(punycode_encode(sur, 1, o, sizeof(o)), -1);
	ck_assert_int_eq(punycode_encode(big, 1, o, sizeof(o)), -1);
	/* Deltas that land on U+10FFFF, U+110000, U+D800, U+DFFF, U+E000. */
	ck_assert_int_eq(decode_text("dn32g", out, 64), 1);
	ck_assert_uint_eq(out[0], 0x10ffff);
	ck_assert_int_eq(decode_text("en32g", out, 64), -1);
	ck_assert_int_eq(decode_text("ib9b", out, 64), -1);
	ck_assert_int_eq(decode_text("zy0c", out, 64), -1);
	ck_assert_int_eq(decode_text("0y0c", out, 64), 1);
	ck_assert_uint_eq(out[0], 0xe000);
	/* Python's codec gives "a-rc4g" for "a" U+D800: refused here. */
	ck_assert_int_eq(decode_text("a-rc4g", out, 64), -1);
	ck_assert_int_eq(decode_text("", out, 64), 0);
	ck_assert_int_eq(decode_text("Bach-", out, 64), 4);
	ck_assert_int_eq(decode_text("TDA", out, 64), 1);
	ck_assert_uint_eq(out[0], 0xfc);
	ck_assert_int_eq(decode_text("9", out, 64), -1);	/* unfinished */
	ck_assert_int_eq(decode_text("ab!", out, 64), -1);	/* bad digit */
	ck_assert_int_eq(decode_text("-abc", out, 64), -1);	/* '-' digit */
	ck_assert_int_eq(decode_text("\xc3\xbc-tda", out, 64), -1);
	ck_assert_int_eq(decode_text("a\x80-tda", out, 64), -1);
}
END_TEST

/*
 * test_punycode_overflow - RFC 3492 6.4's checks.  Decoding: long runs
 * of the largest digit make the integer or its weight pass 2^32.
 * Encoding: (m - n) * (h + 1) passes 2^32 with 4000 basic code points
 * before U+10FFFF and not with 3000 (0x10FF7F * 3001 < 2^32).
 */
START_TEST(test_punycode_overflow)
{
	static uint32_t in[4001];
	static char big[8192];
	uint32_t out[4100];
	char nines[40];
	long n;
	size_t i;

	memset(nines, '9', sizeof(nines) - 1);
	nines[sizeof(nines) - 1] = '\0';
	ck_assert_int_eq(decode_text(nines, out, 64), -1);
	ck_assert_int_eq(decode_text("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzza", out,
	    64), -1);
	for (i = 0; i < 4000; i++)
		in[i] = 'a';
	in[4000] = 0x10ffff;
	ck_assert_int_eq(punycode_encode(in, 4001, big, sizeof(big)), -1);
	in[3000] = 0x10ffff;
	n = punycode_encode(in, 3001, big, sizeof(big));
	ck_assert_int_gt(n, 3001);
	ck_assert_int_eq(punycode_decode(big, (size_t)n, out, 4100), 3001);
	ck_assert_uint_eq(out[3000], 0x10ffff);
}
END_TEST

/* test_punycode_roundtrip - mixed strings through encode and decode */
START_TEST(test_punycode_roundtrip)
{
	uint32_t in[40], back[40];
	char enc[400];
	uint32_t seed = 12345;
	unsigned long bad = 0;
	long n;
	int round, i, len;

	for (round = 0; round < 20000; round++) {
		seed = seed * 1103515245u + 12345u;
		len = 1 + (int)(seed >> 16) % 39;
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (seed >> 8) % 4 == 0 ? 'a' + (seed >> 12) % 26 :
			    0x80 + (seed >> 4) % 0x10ff80;
			if (in[i] >= 0xd800 && in[i] <= 0xdfff)
				in[i] = 0xe000;
		}
		n = punycode_encode(in, (size_t)len, enc, sizeof(enc));
		bad += n <= 0 ||
		    punycode_decode(enc, (size_t)n, back, 40) != len ||
		    memcmp(in, back, (size_t)len * sizeof(in[0])) != 0;
	}
	ck_assert_uint_eq(bad, 0);
}
END_TEST

struct d_case {
	const char	*in;
	const char	*ace;		/* NULL: refused */
};

static const struct d_case d_cases[] = {
	{ "example.org", "example.org" },
	{ "EXAMPLE.Org", "example.org" },
	{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
	{ "B\xc3\xbc" "cher.EXAMPLE", "xn--bcher-kva.example" },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
	{ "XN--BCHER-KVA.example", "xn--bcher-kva.example" },
	/* the example: 用户@例子.广告 */
	{ "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a",
	    "xn--fsqu00a.xn--4rr70v" },
	{ "ex\xc3\xa4mple.org", "xn--exmple-cua.org" },
	/* RFC 3492 (L) as a label */
	{ "3\xe5\xb9\xb4" "B\xe7\xb5\x84\xe9\x87\x91\xe5\x85\xab\xe5\x85\x88"
	    "\xe7\x94\x9f.jp", "xn--3b-ww4c5e180e575a65lsy2b.jp" },
	{ "", NULL },
	{ ".", NULL },
	{ "a..b", NULL },
	{ "a.", NULL },
	{ ".a", NULL },
	{ "\xc3.org", NULL },
	{ "\xed\xa0\x80.org", NULL },
	{ "a\tb.org", NULL },
	{ "\xc3\xbc\x7f.org", NULL },
	/* U+3002 IDEOGRAPHIC FULL STOP is not a dot: one label */
	{ "a\xe3\x80\x82" "b", "xn--ab-r13a" },
};

START_TEST(test_domain_ascii)
{
	const struct d_case *c = &d_cases[_i];
	char out[IDN_DOMAIN_ACE_MAX + 1], *b = exact(c->in, strlen(c->in));
	long n;

	n = idn_domain_ascii(b, strlen(c->in), out, sizeof(out));
	if (c->ace == NULL)
		ck_assert_msg(n == -1, "%s: %s", c->in, out);
	else {
		ck_assert_msg(n == (long)strlen(c->ace), "%s: %ld", c->in, n);
		ck_assert_str_eq(out, c->ace);
	}
	free(b);
}
END_TEST

/*
 * test_label_limit - a label of 55 'a' and one U+00FC is 63 octets in
 * A-label form (xn--aaa...a-8yf), 56 'a' make it 64: refused.  ASCII
 * labels: 63 kept, 64 refused.  The whole A-label form may pass 255
 * octets (SPEC counts the domain as sent).
 */
START_TEST(test_label_limit)
{
	char in[300], out[IDN_DOMAIN_ACE_MAX + 1];
	size_t i;

	memset(in, 'a', 55);
	memcpy(in + 55, "\xc3\xbc", 2);
	ck_assert_int_eq(idn_domain_ascii(in, 57, out, sizeof(out)), 63);
	ck_assert(strncmp(out + 55 + 4, "-8yf", 4) == 0);
	memset(in, 'a', 56);
	memcpy(in + 56, "\xc3\xbc", 2);
	ck_assert_int_eq(idn_domain_ascii(in, 58, out, sizeof(out)), -1);
	memset(in, 'a', 64);
	ck_assert_int_eq(idn_domain_ascii(in, 63, out, sizeof(out)), 63);
	ck_assert_int_eq(idn_domain_ascii(in, 64, out, sizeof(out)), -1);
	/* 85 labels "ü." (3 octets each as sent): 255 octets sent. */
	for (i = 0; i < 85; i++)
		memcpy(in + 3 * i, "\xc3\xbc.", 3);
	ck_assert_int_eq(idn_domain_ascii(in, 254, out, sizeof(out)),
	    85 * 8 - 1);
	ck_assert_int_eq(idn_domain_ascii(in, 254, out, 85 * 8 - 1), -1);
	ck_assert_int_eq(idn_domain_ascii(in, 254, out, 85 * 8), 85 * 8 - 1);
	memset(in, 'a', 256);
	ck_assert_int_eq(idn_domain_ascii(in, 256, out, sizeof(out)), -1);
}
END_TEST

/* test_domain_unicode - A-labels back to UTF-8, for -b */
START_TEST(test_domain_unicode)
{
	char out[512];

	ck_assert_int_eq(idn_domain_unicode(S("xn--bcher-kva.example"), out,
	    sizeof(out)), 15);
	ck_assert_str_eq(out, "b\xc3\xbc" "cher.example");
	ck_assert_int_gt(idn_domain_unicode(S("XN--FSQU00A.xn--4rr70v"), out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91"
	    "\x8a");
	ck_assert_int_eq(idn_domain_unicode(S("xn--999999999.org"), out,
	    sizeof(out)), -1);
	ck_assert_int_eq(idn_domain_unicode(S("xn--ib9b.org"), out,
	    sizeof(out)), -1);
	ck_assert_int_eq(idn_domain_unicode(S("plain.org"), out, 5), -1);
}
END_TEST

/* test_confusable - the two ranges at both ends, and their neighbours */
START_TEST(test_confusable)
{
	ck_assert_int_eq(utf8_has_confusable(S("plain")), 0);
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xbc\x80")), 0); /* FF00 */
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xbc\x81")), 1); /* FF01 */
	ck_assert_int_eq(utf8_has_confusable(S("a\xef\xbc\x85")), 1); /* FF05 */
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xbd\x9e")), 1); /* FF5E */
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xbd\x9f")), 0); /* FF5F */
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xb9\x8f")), 0); /* FE4F */
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xb9\x90")), 1); /* FE50 */
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xb9\xab")), 1); /* FE6B */
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xb9\xac")), 0); /* FE6C */
	ck_assert_int_eq(utf8_has_confusable(S("\xef\xbc")), 1); /* cut */
}
END_TEST

Suite *
utf8_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("utf8");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_validator_table, 0, NCASES(v_cases));
	tcase_add_loop_test(tc, test_truncated, 0, NCASES(v_cases));
	tcase_add_test(tc, test_exhaustive_short);
	tcase_add_test(tc, test_roundtrip_all);
	tcase_add_loop_test(tc, test_rfc3492_encode, 0, NCASES(pc_vectors));
	tcase_add_loop_test(tc, test_rfc3492_decode, 0, NCASES(pc_vectors));
	tcase_add_test(tc, test_punycode_edges);
	tcase_add_test(tc, test_punycode_overflow);
	tcase_add_test(tc, test_punycode_roundtrip);
	tcase_add_loop_test(tc, test_domain_ascii, 0, NCASES(d_cases));
	tcase_add_test(tc, test_label_limit);
	tcase_add_test(tc, test_domain_unicode);
	tcase_add_test(tc, test_confusable);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(utf8_suite)
