/*
 * utf8.c - UTF-8 validation (RFC 3629), Punycode (RFC 3492) and the
 * U-label / A-label equivalence of domains (RFC 5891), for SMTPUTF8
 * (RFC 6531; SPEC.md "Internationalized addresses").
 *
 * A new file, not part of policy.c, so that the algorithms are tested
 * against their RFCs' own vectors on their own (tests/check_utf8.c) and
 * so that the configuration loader can use them without the policy.
 * Pure: no locale, no <ctype.h>, no allocation, no I/O.  Validators are
 * "reject unless": each test returns on failure, the last line accepts.
 * Arithmetic is on uint32_t, with RFC 3492's overflow checks, so that the
 * limits are the same on every platform.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtpfe.h"
#include "utf8.h"

/* RFC 3492 5: the Bootstring parameters of Punycode. */
#define PC_BASE		36
#define PC_TMIN		1
#define PC_TMAX		26
#define PC_SKEW		38
#define PC_DAMP		700
#define PC_BIAS		72
#define PC_N		0x80
#define PC_DELIM	'-'
#define PC_MAXINT	UINT32_MAX

/* RFC 3629 3: the largest code point and the surrogate range. */
#define CP_MAX		0x10FFFF
#define CP_SUR_LO	0xD800
#define CP_SUR_HI	0xDFFF

/* is_cont - a UTF-8 continuation octet, 10xxxxxx */
static int
is_cont(unsigned char c)
{
	return c >= 0x80 && c <= 0xBF;
}

/* cp_ok - a Unicode scalar value: not a surrogate, not above U+10FFFF */
static int
cp_ok(uint32_t cp)
{
	return cp <= CP_MAX && (cp < CP_SUR_LO || cp > CP_SUR_HI);
}

/*
 * utf8_decode - one code point at S.  RFC 3629 4's table: the second
 * octet's range depends on the first, which refuses overlong forms
 * (C0, C1, E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and code points
 * above U+10FFFF (F4 90-BF, F5-FF) in one place.
 */
size_t
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (len == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] < 0xC2 || u[0] > 0xF4)
		return 0;
	n = u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
	if (u[0] == 0xE0)
		lo = 0xA0;
	else if (u[0] == 0xED)
		hi = 0x9F;
	else if (u[0] == 0xF0)
		lo = 0x90;
	else if (u[0] == 0xF4)
		hi = 0x8F;
	if (len < n || u[1] < lo || u[1] > hi)
		return 0;
	*cp = u[0] & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
	for (i = 1; i < n; i++) {
		if (!is_cont(u[i]))
			return 0;
		*cp = (*cp << 6) | (u[i] & 0x3F);
	}
	return n;
}

/* utf8_encode - CP as UTF-8 into OUT (room for 4): its length, 0 if bad */
size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *u = (unsigned char *)out;

	if (!cp_ok(cp))
		return 0;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	u[0] = (unsigned char)(0xF0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	u[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * utf8_check - the whole of S: UTF8_BAD at the first ill-formed or
 * truncated sequence, UTF8_C1 for a C1 control (SPEC refuses them in an
 * address as it refuses C0 controls), else UTF8_OK.
 */
int
utf8_check(const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return UTF8_BAD;
		if (cp >= 0x80 && cp <= 0x9F)
			return UTF8_C1;
		i += n;
	}
	return UTF8_OK;
}

/*
 * utf8_has_confusable - the fullwidth (U+FF01-U+FF5E) and small
 * (U+FE50-U+FE6B) forms of ASCII characters, which NFKC turns into
 * '%', '!', '@', '|', '/', '-' and the rest.  Ill-formed input counts as
 * confusable: the answer fails closed.
 */
int
utf8_has_confusable(const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return 1;
		if ((cp >= 0xFF01 && cp <= 0xFF5E) ||
		    (cp >= 0xFE50 && cp <= 0xFE6B))
			return 1;
		i += n;
	}
	return 0;
}

/* pc_adapt - RFC 3492 6.1: the bias after a delta */
static uint32_t
pc_adapt(uint32_t delta, uint32_t numpoints, int first)
{
	uint32_t k = 0;

	delta = first ? delta / PC_DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
		delta /= PC_BASE - PC_TMIN;
		k += PC_BASE;
	}
	return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

/* pc_threshold - RFC 3492 6.2/6.3: t for the digit at position K */
static uint32_t
pc_threshold(uint32_t k, uint32_t bias)
{
	if (k <= bias)
		return PC_TMIN;
	if (k >= bias + PC_TMAX)
		return PC_TMAX;
	return k - bias;
}

/* pc_digit - the octet for digit D (0-35): a-z then 0-9, lower case */
static char
pc_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* pc_value - the value of digit octet C in any case, or PC_BASE if none */
static uint32_t
pc_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (uint32_t)(c - '0') + 26;
	if (c >= 'A' && c <= 'Z')
		return (uint32_t)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (uint32_t)(c - 'a');
	return PC_BASE;
}

/* pc_put_delta - DELTA as a generalized variable-length integer */
static int
pc_put_delta(uint32_t delta, uint32_t bias, char *out, size_t outmax,
    size_t *o)
{
	uint32_t q = delta, k, t;

	for (k = PC_BASE;; k += PC_BASE) {
		t = pc_threshold(k, bias);
		if (q < t)
			break;
		if (*o >= outmax)
			return -1;
		out[(*o)++] = pc_digit(t + (q - t) % (PC_BASE - t));
		q = (q - t) / (PC_BASE - t);
	}
	if (*o >= outmax)
		return -1;
	out[(*o)++] = pc_digit(q);
	return 0;
}

/* pc_basic - copy the basic code points; then the delimiter if any */
static long
pc_basic(const uint32_t *in, size_t n, char *out, size_t outmax)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (!cp_ok(in[i]))
			return -1;
		if (in[i] >= PC_N)
			continue;
		if (o >= outmax)
			return -1;
		out[o++] = (char)in[i];
	}
	if (o > 0) {
		if (o >= outmax)
			return -1;
		out[o++] = PC_DELIM;
	}
	return (long)o;
}

/* pc_next - the smallest code point of IN that is at least N */
static uint32_t
pc_next(const uint32_t *in, size_t len, uint32_t n)
{
	uint32_t m = PC_MAXINT;
	size_t i;

	for (i = 0; i < len; i++)
		if (in[i] >= n && in[i] < m)
			m = in[i];
	return m;
}

/*
 * punycode_encode - RFC 3492 6.3, with its overflow checks: the delta
 * grows by (m - n) * (h + 1) and by one per smaller code point, and both
 * are checked before they could wrap.
 */
long
punycode_encode(const uint32_t *in, size_t len, char *out, size_t outmax)
{
	uint32_t n = PC_N, delta = 0, bias = PC_BIAS, h, b, m;
	size_t i, o;
	long r;

	if (len >= PC_MAXINT || (r = pc_basic(in, len, out, outmax)) < 0)
		return -1;
	o = (size_t)r;
	h = b = (uint32_t)(o > 0 ? o - 1 : 0);
	while (h < len) {
		m = pc_next(in, len, n);
		if (m - n > (PC_MAXINT - delta) / (h + 1))
			return -1;
		delta += (m - n) * (h + 1);
		n = m;
		for (i = 0; i < len; i++) {
			if (in[i] < n && ++delta == 0)
				return -1;
			if (in[i] != n)
				continue;
			if (pc_put_delta(delta, bias, out, outmax, &o) == -1)
				return -1;
			bias = pc_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		n++;
	}
	return (long)o;
}

/* pc_get_delta - read one variable-length integer into *I; -1 if bad */
static int
pc_get_delta(const char *s, size_t len, size_t *p, uint32_t bias,
    uint32_t *i)
{
	uint32_t w = 1, k, t, d;

	for (k = PC_BASE;; k += PC_BASE) {
		if (*p >= len)
			return -1;
		if ((d = pc_value((unsigned char)s[(*p)++])) >= PC_BASE)
			return -1;
		if (d > (PC_MAXINT - *i) / w)
			return -1;
		*i += d * w;
		t = pc_threshold(k, bias);
		if (d < t)
			return 0;
		if (w > PC_MAXINT / (PC_BASE - t))
			return -1;
		w *= PC_BASE - t;
	}
}

/* pc_copy_basic - the octets before the last delimiter; where to go on */
static long
pc_copy_basic(const char *s, size_t len, uint32_t *out, size_t outmax,
    size_t *p)
{
	size_t b = 0, j;

	for (j = 0; j < len; j++)
		if (s[j] == PC_DELIM)
			b = j;
	if (b > outmax)
		return -1;
	for (j = 0; j < b; j++) {
		if ((unsigned char)s[j] >= 0x80)
			return -1;
		out[j] = (unsigned char)s[j];
	}
	*p = b > 0 ? b + 1 : 0;
	return (long)b;
}

/*
 * punycode_decode - RFC 3492 6.2, with its overflow checks.  Each delta
 * gives the next code point N and its position I; N must be a Unicode
 * scalar value, since it will be written as UTF-8.
 */
long
punycode_decode(const char *s, size_t len, uint32_t *out, size_t outmax)
{
	uint32_t n = PC_N, i = 0, bias = PC_BIAS, oldi;
	size_t p, o;
	long r;

	if (len >= PC_MAXINT ||
	    (r = pc_copy_basic(s, len, out, outmax, &p)) < 0)
		return -1;
	o = (size_t)r;
	while (p < len) {
		oldi = i;
		if (pc_get_delta(s, len, &p, bias, &i) == -1)
			return -1;
		bias = pc_adapt(i - oldi, (uint32_t)o + 1, oldi == 0);
		if (i / ((uint32_t)o + 1) > PC_MAXINT - n)
			return -1;
		n += i / ((uint32_t)o + 1);
		i %= (uint32_t)o + 1;
		if (!cp_ok(n) || o >= outmax)
			return -1;
		memmove(out + i + 1, out + i, (o - i) * sizeof(out[0]));
		out[i++] = n;
		o++;
	}
	return (long)o;
}

/* to_points - decode a well-formed UTF-8 label into code points */
static long
to_points(const char *s, size_t len, uint32_t *cp, size_t max)
{
	size_t i = 0, n, k = 0;

	while (i < len) {
		if (k >= max || (n = utf8_decode(s + i, len - i, &cp[k])) == 0)
			return -1;
		i += n;
		k++;
	}
	return (long)k;
}

/*
 * label_ascii - one label in A-label form at OUT (room for OUTMAX): ASCII
 * as it is, else "xn--" and the Punycode of its code points; at most 63
 * octets either way (SPEC: "every label must also fit 63 octets in
 * A-label form").  ASCII letters are lower-cased.
 */
static long
label_ascii(const char *s, size_t len, char *out, size_t outmax)
{
	uint32_t cp[SMTP_DOMAIN_MAX];
	size_t i, room = outmax < IDN_LABEL_MAX ? outmax : IDN_LABEL_MAX;
	long n, r;

	if (len == 0 || str_has_ctl(s, len))
		return -1;
	if (!str_has_8bit(s, len)) {
		if (len > room)
			return -1;
		memcpy(out, s, len);
		n = (long)len;
	} else {
		if (room <= IDN_ACE_PREFIX_LEN ||
		    (n = to_points(s, len, cp, SMTP_DOMAIN_MAX)) < 0)
			return -1;
		memcpy(out, IDN_ACE_PREFIX, IDN_ACE_PREFIX_LEN);
		r = punycode_encode(cp, (size_t)n, out + IDN_ACE_PREFIX_LEN,
		    room - IDN_ACE_PREFIX_LEN);
		if (r < 0)
			return -1;
		n = r + IDN_ACE_PREFIX_LEN;
	}
	for (i = 0; i < (size_t)n; i++)
		out[i] = (char)ascii_lower((unsigned char)out[i]);
	return n;
}

/* is_ace - 1 when the label starts with "xn--" in any case */
static int
is_ace(const char *s, size_t len)
{
	return len > IDN_ACE_PREFIX_LEN &&
	    str_ncasecmp(s, IDN_ACE_PREFIX, IDN_ACE_PREFIX_LEN) == 0;
}

/* label_unicode - one label in U-label form at OUT, for display */
static long
label_unicode(const char *s, size_t len, char *out, size_t outmax)
{
	uint32_t cp[SMTP_DOMAIN_MAX];
	size_t o = 0, k, n;
	long cnt;

	if (!is_ace(s, len)) {
		if (len > outmax)
			return -1;
		memcpy(out, s, len);
		return (long)len;
	}
	cnt = punycode_decode(s + IDN_ACE_PREFIX_LEN,
	    len - IDN_ACE_PREFIX_LEN, cp, SMTP_DOMAIN_MAX);
	if (cnt < 0)
		return -1;
	for (k = 0; k < (size_t)cnt; k++) {
		if (outmax - o < 4 || (n = utf8_encode(cp[k], out + o)) == 0)
			return -1;
		o += n;
	}
	return (long)o;
}

typedef long	label_fn(const char *, size_t, char *, size_t);

/* domain_map - apply FN to every '.'-separated label; terminate OUT */
static long
domain_map(const char *s, size_t len, char *out, size_t outmax,
    label_fn *fn)
{
	size_t i = 0, o = 0, j;
	long n;

	if (outmax == 0)
		return -1;
	for (;;) {
		for (j = i; j < len && s[j] != '.'; j++)
			continue;
		if (j == i || (n = fn(s + i, j - i, out + o,
		    outmax - 1 - o)) < 0)
			return -1;
		o += (size_t)n;
		if (j >= len)
			break;
		if (o + 1 >= outmax)
			return -1;
		out[o++] = '.';
		i = j + 1;
	}
	out[o] = '\0';
	return (long)o;
}

/* idn_domain_ascii - the A-label form of a domain (RFC 5891 4.4) */
long
idn_domain_ascii(const char *s, size_t len, char *out, size_t outmax)
{
	if (len > SMTP_DOMAIN_MAX)
		return -1;
	return domain_map(s, len, out, outmax, label_ascii);
}

/* idn_domain_unicode - the U-label form of a domain, for display */
long
idn_domain_unicode(const char *s, size_t len, char *out, size_t outmax)
{
	return domain_map(s, len, out, outmax, label_unicode);
}
