/*
 * fuzz_utf8.c - arbitrary bytes through utf8.c (issue 12), with oracles.
 *
 * The first octet picks what the rest is:
 *   0  octets for utf8_check, judged again by an independent reference
 *      decoder written from RFC 3629's table of ranges;
 *   1  code points (three octets each, taken modulo 0x110000): Punycode
 *      encode, then decode, must give them back;
 *   2  Punycode text: whatever decodes must encode back to the same text
 *      (ASCII case aside: digits are case-insensitive);
 *   3  a domain: an accepted A-label form is ASCII, lower case, in labels
 *      of 1-63 octets, one per input label, and turns back into the input
 *      (ASCII-lower-cased) when the input had no "xn--" of its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpfe.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* ref_seq - RFC 3629 4's ranges: the length of the sequence at S, or 0 */
static size_t
ref_seq(const uint8_t *s, size_t len, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0)
		n = 2;
	else if ((s[0] & 0xF0) == 0xE0)
		n = 3;
	else if ((s[0] & 0xF8) == 0xF0)
		n = 4;
	else
		return 0;
	if (len < n)
		return 0;
	*cp = s[0] & (0x7F >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3F);
	}
	if (*cp < min[n] || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n;
}

/* run_check - utf8_check against the reference */
static void
run_check(const uint8_t *d, size_t size)
{
	char *s = malloc(size == 0 ? 1 : size);
	int want = UTF8_OK;
	size_t i = 0, n;
	uint32_t cp;

	if (s == NULL)
		abort();
	memcpy(s, d, size);
	while (i < size) {
		if ((n = ref_seq(d + i, size - i, &cp)) == 0) {
			want = UTF8_BAD;
			break;
		}
		if (cp >= 0x80 && cp <= 0x9F) {
			want = UTF8_C1;
			break;
		}
		i += n;
	}
	if (utf8_check(s, size) != want)
		abort();
	free(s);
}

/* run_points - Punycode round trip of arbitrary scalar values */
static void
run_points(const uint8_t *d, size_t size)
{
	uint32_t in[64], back[64];
	char enc[1024];
	size_t n = 0, i;
	long e;

	for (i = 0; i + 3 <= size && n < 64; i += 3) {
		in[n] = ((uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 |
		    d[i + 2]) % 0x110000;
		if (in[n] >= 0xD800 && in[n] <= 0xDFFF)
			in[n] -= 0x800;
		n++;
	}
	e = punycode_encode(in, n, enc, sizeof(enc));
	if (e < 0)
		abort();		/* 64 points fit; no overflow this small */
	if (punycode_decode(enc, (size_t)e, back, 64) != (long)n ||
	    memcmp(in, back, n * sizeof(in[0])) != 0)
		abort();
}

/* run_decode - what decodes must encode back, ASCII case aside */
static void
run_decode(const uint8_t *d, size_t size)
{
	uint32_t cp[512];
	char *s = malloc(size == 0 ? 1 : size), enc[1024];
	long n, e;

	if (s == NULL)
		abort();
	memcpy(s, d, size);
	n = punycode_decode(s, size, cp, 512);
	if (n >= 0 && size < sizeof(enc)) {
		e = punycode_encode(cp, (size_t)n, enc, sizeof(enc));
		if (e != (long)size || str_ncasecmp(enc, s, size) != 0)
			abort();
	}
	free(s);
}

/* has_ace - "xn--" anywhere, in any case */
static int
has_ace(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if (str_ncasecmp(s + i, "xn--", 4) == 0)
			return 1;
	return 0;
}

/* run_domain - the A-label form and back */
static void
run_domain(const uint8_t *d, size_t size)
{
	char *s = malloc(size == 0 ? 1 : size);
	char ace[IDN_DOMAIN_ACE_MAX + 1], back[4 * IDN_DOMAIN_ACE_MAX];
	size_t i, label = 0, dots = 0;
	long n, b;

	if (s == NULL)
		abort();
	memcpy(s, d, size);
	n = idn_domain_ascii(s, size, ace, sizeof(ace));
	if (n >= 0) {
		if ((size_t)n != strlen(ace) || n == 0)
			abort();
		for (i = 0; i <= (size_t)n; i++) {
			unsigned char c = (unsigned char)ace[i];

			if (c == '.' || c == '\0') {
				if (label == 0 || label > IDN_LABEL_MAX)
					abort();
				label = 0;
				dots += c == '.';
				continue;
			}
			if (c >= 0x80 || (c >= 'A' && c <= 'Z'))
				abort();
			label++;
		}
		for (i = 0; i < size; i++)
			dots -= s[i] == '.';
		if (dots != 0)
			abort();
		if (!has_ace(s, size)) {
			b = idn_domain_unicode(ace, (size_t)n, back,
			    sizeof(back));
			if (b != (long)size)
				abort();
			for (i = 0; i < size; i++)
				if (back[i] != (char)ascii_lower(
				    (unsigned char)s[i]))
					abort();
		}
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] & 3) {
	case 0:
		run_check(data + 1, size - 1);
		break;
	case 1:
		run_points(data + 1, size - 1);
		break;
	case 2:
		run_decode(data + 1, size - 1);
		break;
	default:
		run_domain(data + 1, size - 1);
		break;
	}
	return 0;
}
