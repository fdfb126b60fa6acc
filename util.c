/*
 * util.c - the few string and number helpers every module needs.
 *
 * Kept apart so that the pure modules (policy, mime) and the I/O modules
 * share one bounded number parser and one truncation-checked copy.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "smtpfe.h"

/* parse_number - parse a decimal in [0, max]; 0 on success, -1 otherwise */
int
parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return 0;
}

/* str_copy - bounded copy; 0 on success, -1 on truncation (dst then "") */
int
str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size == 0)
		return -1;
	if (len >= size) {
		dst[0] = '\0';
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

/* str_printable - copy peer text for a log line: unprintables become '?' */
void
str_printable(char *dst, size_t size, const char *src, size_t len)
{
	size_t i;

	if (size == 0)
		return;
	for (i = 0; i < len && i + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[i] = '\0';
}

/* escape_one - the escaped form of octet C in E; its length */
static size_t
escape_one(unsigned char c, char e[4])
{
	static const char hex[] = "0123456789abcdef";

	if (c >= 0x20 && c < 0x7f && c != '\\') {
		e[0] = (char)c;
		return 1;
	}
	e[0] = '\\';
	switch (c) {
	case '\r':
		e[1] = 'r';
		return 2;
	case '\n':
		e[1] = 'n';
		return 2;
	case '\t':
		e[1] = 't';
		return 2;
	case '\\':
		e[1] = '\\';
		return 2;
	}
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	return 4;
}

/*
 * str_escape - copy peer text for a log line with its control octets
 * visible: CR, LF and TAB as \r \n \t, other unprintables as \xHH, a
 * backslash doubled.  An escape that would not fit is left out whole.
 */
void
str_escape(char *dst, size_t size, const char *src, size_t len)
{
	size_t i, n, o = 0;
	char e[4];

	if (size == 0)
		return;
	for (i = 0; i < len; i++) {
		n = escape_one((unsigned char)src[i], e);
		if (o + n + 1 > size)
			break;
		memcpy(dst + o, e, n);
		o += n;
	}
	dst[o] = '\0';
}

/* str_has_8bit - 1 when an octet of S (LEN octets) is outside ASCII */
int
str_has_8bit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* str_has_ctl - 1 when S holds a C0 control octet (NUL included) or DEL */
int
str_has_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 1;
	return 0;
}

/*
 * hostport_parse - "ADDR:PORT" or "[V6ADDR]:PORT", numeric only, port
 * 1-65535: the -l listener and the SMTP hand-off's target.  0, or -1.
 */
int
hostport_parse(const char *spec, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(spec, ':');
	unsigned long long port;
	size_t hlen;

	if (colon == NULL || (hlen = (size_t)(colon - spec)) < 2 ||
	    hlen >= sizeof(host) || parse_number(colon + 1, 65535, &port) == -1 ||
	    port == 0)
		return -1;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*sin6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)port);
	*len = sizeof(*sin);
	return 0;
}

/* ascii_lower - ASCII-only lower case, never locale-dependent */
int
ascii_lower(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

/* str_ncasecmp - ASCII-only case-insensitive compare of at most n octets */
int
str_ncasecmp(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int ca = ascii_lower((unsigned char)a[i]);
		int cb = ascii_lower((unsigned char)b[i]);

		if (ca != cb)
			return ca - cb;
		if (ca == '\0')
			return 0;
	}
	return 0;
}

/* str_casecmp - ASCII-only case-insensitive compare */
int
str_casecmp(const char *a, const char *b)
{
	return str_ncasecmp(a, b, (size_t)-1);
}
