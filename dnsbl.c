/*
 * dnsbl.c - DNS blocklist look-ups of our own (SPEC.md "DNS blocklists").
 *
 * A new file, not part of session.c or policy.c: it is the only code that
 * speaks DNS, and no resolver library could serve here (the program is
 * static and chrooted, and glibc's resolver would want NSS, files and
 * sockets the sandbox forbids).  The queries go out on one connected,
 * non-blocking UDP socket opened before the privilege drop; the answers
 * are read later with poll(2) and read(2) only, which the seccomp
 * allow-list already has.  Parsing is "reject unless" with every offset
 * checked against the datagram's length; anything that is not a
 * well-formed answer to one of our questions is ignored.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "dnsbl.h"

#define DNS_HEADER	12
#define DNS_QR		0x8000
#define DNS_TC		0x0200
#define DNS_RD		0x0100
#define DNS_TYPE_A	1
#define DNS_TYPE_CNAME	5
#define DNS_CLASS_IN	1
#define DNS_NXDOMAIN	3
/* Our choice: compression pointers followed for one name; each must
 * point backwards as well, so this only bounds the work. */
#define DNS_HOPS_MAX	64
/* Our choice: CNAMEs followed from the query name to its A record. */
#define DNS_CNAME_MAX	8

/* get16 - a big-endian 16-bit number at P */
static unsigned int
get16(const unsigned char *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* lower - ASCII lower case of one octet */
static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* is_ldh - letter, digit or hyphen */
static int
is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/*
 * dnsbl_zone_ok - a zone: dot-separated labels of letters, digits and
 * hyphens, 1 to 63 octets, no hyphen at either end, no empty label (so no
 * final dot), at most DNSBL_ZONE_MAX octets in all.
 */
int
dnsbl_zone_ok(const char *zone)
{
	size_t i, label = 0;

	for (i = 0; zone[i] != '\0'; i++) {
		unsigned char c = (unsigned char)zone[i];

		if (i >= DNSBL_ZONE_MAX)
			return 0;
		if (c == '.') {
			if (label == 0 || zone[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_ldh(c) || (label == 0 && c == '-') ||
		    ++label > DNSBL_LABEL_MAX)
			return 0;
	}
	return i > 0 && label > 0 && zone[i - 1] != '-';
}

/* resolver_port - ":PORT" at S (1-65535) into *PORT; 0 or -1 */
static int
resolver_port(const char *s, unsigned short *port)
{
	unsigned long long n;

	if (s[0] == '\0') {
		*port = 53;
		return 0;
	}
	if (s[0] != ':' || parse_number(s + 1, 65535, &n) == -1 || n == 0)
		return -1;
	*port = (unsigned short)n;
	return 0;
}

/* resolver_v6 - "[V6]" or "[V6]:PORT", or a bare IPv6 address */
static int
resolver_v6(const char *s, struct sockaddr_in6 *sin6)
{
	char host[DNSBL_RESOLVER_MAX];
	const char *end;
	unsigned short port = 53;
	size_t n;

	if (s[0] != '[') {
		if (inet_pton(AF_INET6, s, &sin6->sin6_addr) != 1)
			return -1;
	} else {
		if ((end = strchr(s, ']')) == NULL ||
		    (n = (size_t)(end - s - 1)) == 0 || n >= sizeof(host))
			return -1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1 ||
		    resolver_port(end + 1, &port) == -1)
			return -1;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return 0;
}

/* resolver_v4 - "ADDR" or "ADDR:PORT" */
static int
resolver_v4(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	unsigned short port;
	size_t n = strcspn(s, ":");

	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    resolver_port(s + n, &port) == -1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return 0;
}

/* dnsbl_resolver_parse - see dnsbl.h; a bare IPv6 address is port 53 */
int
dnsbl_resolver_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strlen(s) >= DNSBL_RESOLVER_MAX)
		return -1;
	if (s[0] == '[' || strchr(s, ':') != strrchr(s, ':')) {
		*len = sizeof(struct sockaddr_in6);
		return resolver_v6(s, (struct sockaddr_in6 *)ss);
	}
	*len = sizeof(struct sockaddr_in);
	return resolver_v4(s, (struct sockaddr_in *)ss);
}

/*
 * dnsbl_resolv_conf - the address of the first "nameserver" line of FILE
 * (resolv.conf(5)), copied into BUF whether or not it parses: the caller
 * judges it.  -1 when the file cannot be read or has no such line.
 */
int
dnsbl_resolv_conf(const char *file, char *buf, size_t size)
{
	char line[512], *p, *end;
	FILE *fp;
	int r = -1;

	if ((fp = fopen(file, "re")) == NULL)
		return -1;
	while (r == -1 && fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "nameserver", 10) != 0 ||
		    (line[10] != ' ' && line[10] != '\t'))
			continue;
		for (p = line + 10; *p == ' ' || *p == '\t'; p++)
			continue;
		end = p + strcspn(p, " \t\r\n#;");
		*end = '\0';
		if (*p != '\0')
			r = str_copy(buf, p, size);
	}
	(void)fclose(fp);
	return r;
}

/*
 * dnsbl_qname - "d.c.b.a.ZONE" for IPv4, the 32 nibbles of an IPv6
 * address from the last to the first, then ZONE (RFC 5782 2.1 and 2.4).
 */
int
dnsbl_qname(const struct peer *peer, const char *zone, char *buf,
    size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *a = peer->addr;
	char rev[72];
	size_t off = 0;
	int i, n;

	if (!peer->known)
		return -1;
	if (peer->family == AF_INET)
		off = (size_t)snprintf(rev, sizeof(rev), "%u.%u.%u.%u.", a[3],
		    a[2], a[1], a[0]);
	else
		for (i = 15; i >= 0; i--) {
			rev[off++] = hex[a[i] & 0x0f];
			rev[off++] = '.';
			rev[off++] = hex[a[i] >> 4];
			rev[off++] = '.';
		}
	rev[off] = '\0';
	n = snprintf(buf, size, "%s%s", rev, zone);
	if (n < 0 || (size_t)n >= size || (size_t)n > DNSBL_NAME_MAX - 2)
		return -1;
	return 0;
}

/* dnsbl_name_wire - see dnsbl.h: labels of 1-63 octets, 255 in all */
size_t
dnsbl_name_wire(const char *name, unsigned char *out, size_t size)
{
	size_t off = 0, start, len;

	for (;;) {
		len = strcspn(name, ".");
		if (len == 0 || len > DNSBL_LABEL_MAX ||
		    off + 1 + len + 1 > size || off + 1 + len + 1 >
		    DNSBL_NAME_MAX)
			return 0;
		out[off++] = (unsigned char)len;
		for (start = off; off < start + len; off++)
			out[off] = lower((unsigned char)name[off - start]);
		name += len;
		if (*name == '\0')
			break;
		name++;
	}
	out[off++] = 0;
	return off;
}

/* dnsbl_encode - see dnsbl.h: header, one question, recursion desired */
size_t
dnsbl_encode(const unsigned char *qname, size_t qlen, unsigned short id,
    unsigned char *pkt, size_t size)
{
	if (qlen == 0 || qlen > DNSBL_NAME_MAX || size < DNS_HEADER + qlen + 4)
		return 0;
	memset(pkt, 0, DNS_HEADER);
	pkt[0] = (unsigned char)(id >> 8);
	pkt[1] = (unsigned char)id;
	pkt[2] = DNS_RD >> 8;
	pkt[5] = 1;				/* QDCOUNT */
	memcpy(pkt + DNS_HEADER, qname, qlen);
	pkt[DNS_HEADER + qlen] = 0;
	pkt[DNS_HEADER + qlen + 1] = DNS_TYPE_A;
	pkt[DNS_HEADER + qlen + 2] = 0;
	pkt[DNS_HEADER + qlen + 3] = DNS_CLASS_IN;
	return DNS_HEADER + qlen + 4;
}

/*
 * name_read - the (possibly compressed) name at *POS of PKT, in lower-case
 * wire form into OUT (DNSBL_NAME_MAX octets); *POS moves past it where it
 * stands.  Each pointer must point before the start of the stretch it
 * ends (RFC 1035 4.1.4 "prior occurrence"), so the offsets fall and no
 * loop is possible; the hop count only bounds the work.  Length or 0.
 */
static size_t
name_read(const unsigned char *pkt, size_t len, size_t *pos,
    unsigned char *out)
{
	size_t p = *pos, limit = *pos, off = 0, i, n;
	int hops = 0, jumped = 0;

	for (;;) {
		if (p >= len)
			return 0;
		n = pkt[p];
		if ((n & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++hops > DNS_HOPS_MAX ||
			    (get16(pkt + p) & 0x3fff) >= limit)
				return 0;
			if (!jumped)
				*pos = p + 2;
			jumped = 1;
			p = limit = get16(pkt + p) & 0x3fff;
			continue;
		}
		if ((n & 0xc0) != 0)
			return 0;
		if (n == 0)
			break;
		if (p + 1 + n > len || off + 1 + n + 1 > DNSBL_NAME_MAX)
			return 0;
		out[off++] = (unsigned char)n;
		for (i = 1; i <= n; i++)
			out[off++] = lower(pkt[p + i]);
		p += 1 + n;
	}
	out[off++] = 0;
	if (!jumped)
		*pos = p + 1;
	return off;
}

/* name_eq - two wire names (both lower case) */
static int
name_eq(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* dnsbl_verdict_a - 127.0.0.0/8 listed, but 127.255.255.0/24 refused */
enum dnsbl_verdict
dnsbl_verdict_a(const unsigned char *a)
{
	if (a[0] != 127)
		return DNSBL_OUTSIDE;
	if (a[1] == 255 && a[2] == 255)
		return DNSBL_REFUSED;
	return DNSBL_LISTED;
}

/* The state of one answer section walk. */
struct walk {
	unsigned char	 name[DNSBL_NAME_MAX];	/* the name being followed */
	size_t		 nlen;
	int		 cnames;
	enum dnsbl_verdict verdict;
	unsigned char	 a[4];
};

/* walk_better - keep the strongest verdict: listed, refused, outside */
static void
walk_better(struct walk *w, const unsigned char *a)
{
	enum dnsbl_verdict v = dnsbl_verdict_a(a);

	if (w->verdict == DNSBL_LISTED || (w->verdict == DNSBL_REFUSED &&
	    v == DNSBL_OUTSIDE))
		return;
	w->verdict = v;
	memcpy(w->a, a, 4);
}

/*
 * walk_rr - one resource record at *POS: A records of the name followed
 * count, a CNAME of it moves the name on; other types and classes are
 * skipped.  -1 when the record runs past the datagram.
 */
static int
walk_rr(const unsigned char *pkt, size_t len, size_t *pos, struct walk *w)
{
	unsigned char owner[DNSBL_NAME_MAX];
	size_t olen, type, class, rdlen, rd;

	if ((olen = name_read(pkt, len, pos, owner)) == 0 ||
	    *pos + 10 > len)
		return -1;
	type = get16(pkt + *pos);
	class = get16(pkt + *pos + 2);
	rdlen = get16(pkt + *pos + 8);
	rd = *pos + 10;
	if (rd + rdlen > len)
		return -1;
	*pos = rd + rdlen;
	if (class != DNS_CLASS_IN || !name_eq(owner, olen, w->name, w->nlen))
		return 0;
	if (type == DNS_TYPE_A && rdlen == 4)
		walk_better(w, pkt + rd);
	else if (type == DNS_TYPE_CNAME && w->cnames++ < DNS_CNAME_MAX) {
		size_t p = rd;

		if ((w->nlen = name_read(pkt, rd + rdlen, &p, w->name)) == 0 ||
		    p != rd + rdlen)
			return -1;
	}
	return 0;
}

/* question_ok - exactly our question, and where the answers start */
static int
question_ok(const unsigned char *pkt, size_t len, const struct dnsbl_query *q,
    size_t *pos)
{
	unsigned char name[DNSBL_NAME_MAX];
	size_t nlen;

	*pos = DNS_HEADER;
	if (get16(pkt + 4) != 1 ||
	    (nlen = name_read(pkt, len, pos, name)) == 0 ||
	    !name_eq(name, nlen, q->qname, q->qlen) || *pos + 4 > len ||
	    get16(pkt + *pos) != DNS_TYPE_A ||
	    get16(pkt + *pos + 2) != DNS_CLASS_IN)
		return 0;
	*pos += 4;
	return 1;
}

/* dnsbl_parse - see dnsbl.h */
enum dnsbl_verdict
dnsbl_parse(const unsigned char *pkt, size_t len, struct dnsbl_query *q)
{
	struct walk w;
	unsigned int flags, i, ancount;
	size_t pos;

	if (len < DNS_HEADER || get16(pkt) != q->id)
		return DNSBL_PENDING;
	flags = get16(pkt + 2);
	if ((flags & DNS_QR) == 0 || (flags & 0x7800) != 0 ||
	    !question_ok(pkt, len, q, &pos))
		return DNSBL_PENDING;
	/* A truncated answer may stop anywhere: it says "error" as it is. */
	if (flags & DNS_TC) {
		q->rcode = (int)(flags & 0x000f);
		return DNSBL_FAILED;
	}
	memset(&w, 0, sizeof(w));
	memcpy(w.name, q->qname, q->qlen);
	w.nlen = q->qlen;
	w.verdict = DNSBL_CLEAN;
	ancount = get16(pkt + 6);
	for (i = 0; i < ancount; i++)
		if (walk_rr(pkt, len, &pos, &w) == -1)
			return DNSBL_PENDING;
	q->rcode = (int)(flags & 0x000f);
	if (q->rcode == DNS_NXDOMAIN)
		return DNSBL_CLEAN;
	if (q->rcode != 0)
		return DNSBL_FAILED;
	memcpy(q->answer, w.a, 4);
	return w.verdict;
}

/* dnsbl_verdict_name - see dnsbl.h */
const char *
dnsbl_verdict_name(enum dnsbl_verdict v)
{
	switch (v) {
	case DNSBL_PENDING:
		return "pending";
	case DNSBL_LISTED:
		return "listed";
	case DNSBL_CLEAN:
		return "not listed";
	case DNSBL_REFUSED:
		return "query refused by the zone (127.255.255.x), not listed";
	case DNSBL_OUTSIDE:
		return "answer outside 127.0.0.0/8, not listed";
	case DNSBL_FAILED:
		return "DNS error, not listed";
	case DNSBL_TIMEOUT:
		return "no answer within 3 s, not listed";
	}
	return "?";
}

/* dnsbl_refusal - see dnsbl.h; the SPEC's words */
int
dnsbl_refusal(char *buf, size_t size, const struct peer *peer,
    const char *zone)
{
	int n = snprintf(buf, size, "554 5.7.1 Service unavailable; client "
	    "[%s] blocked using %s", peer->text, zone);

	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static long long
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* start_error - record why nothing is outstanding; returns -1 */
static int
start_error(struct dnsbl *d, const char *what, int e)
{
	if (e != 0)
		(void)snprintf(d->error, sizeof(d->error), "%s: %s", what,
		    strerror(e));
	else
		(void)snprintf(d->error, sizeof(d->error), "%s", what);
	if (d->fd != -1)
		(void)close(d->fd);
	d->fd = -1;
	d->nq = 0;
	return -1;
}

/* start_resolver - dns_resolver, or the first nameserver of resolv.conf */
static int
start_resolver(struct dnsbl *d, const struct config *conf,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	if (conf->dns_resolver[0] != '\0')
		(void)str_copy(d->resolver, conf->dns_resolver,
		    sizeof(d->resolver));
	else if (dnsbl_resolv_conf(DNSBL_RESOLV_CONF, d->resolver,
	    sizeof(d->resolver)) == -1)
		return start_error(d, "no nameserver in " DNSBL_RESOLV_CONF,
		    errno == ENOENT ? ENOENT : 0);
	if (dnsbl_resolver_parse(d->resolver, ss, sslen) == -1)
		return start_error(d, "dns_resolver is not an address", 0);
	return 0;
}

/* start_query - build zone I's query and send it */
static int
start_query(struct dnsbl *d, const struct peer *peer, const char *zone)
{
	struct dnsbl_query *q = &d->q[d->nq];
	unsigned char pkt[DNSBL_PACKET_MAX];
	char name[DNSBL_NAME_MAX + 1];
	size_t len;

	memset(q, 0, sizeof(*q));
	q->zone = zone;
	if (getrandom(&q->id, sizeof(q->id), 0) != (ssize_t)sizeof(q->id))
		return start_error(d, "getrandom", errno);
	if (dnsbl_qname(peer, zone, name, sizeof(name)) == -1 ||
	    (q->qlen = dnsbl_name_wire(name, q->qname, sizeof(q->qname))) == 0 ||
	    (len = dnsbl_encode(q->qname, q->qlen, q->id, pkt,
	    sizeof(pkt))) == 0)
		return start_error(d, "query name too long", 0);
	if (send(d->fd, pkt, len, 0) != (ssize_t)len)
		return start_error(d, "send", errno);
	d->nq++;
	return 0;
}

/* dnsbl_start - see dnsbl.h */
int
dnsbl_start(struct dnsbl *d, const struct config *conf, const struct peer *peer)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	size_t i;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (start_resolver(d, conf, &ss, &sslen) == -1)
		return -1;
	d->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (d->fd == -1)
		return start_error(d, "socket", errno);
	if (connect(d->fd, (struct sockaddr *)&ss, sslen) == -1)
		return start_error(d, "connect", errno);
	d->deadline = now_ms() + DNSBL_TIMEOUT_MS;
	for (i = 0; i < conf->ndnsbl; i++)
		if (start_query(d, peer, conf->dnsbl[i]) == -1)
			return -1;
	return 0;
}

/* dnsbl_take - see dnsbl.h */
int
dnsbl_take(struct dnsbl *d, const unsigned char *pkt, size_t len)
{
	enum dnsbl_verdict v;
	size_t i;

	for (i = 0; i < d->nq; i++) {
		if (d->q[i].verdict != DNSBL_PENDING)
			continue;
		if ((v = dnsbl_parse(pkt, len, &d->q[i])) != DNSBL_PENDING) {
			d->q[i].verdict = v;
			return 1;
		}
	}
	return 0;
}

/* dnsbl_done - see dnsbl.h: all answered, or a listing with all before */
int
dnsbl_done(const struct dnsbl *d)
{
	size_t i;

	for (i = 0; i < d->nq; i++) {
		if (d->q[i].verdict == DNSBL_PENDING)
			return 0;
		if (d->q[i].verdict == DNSBL_LISTED)
			return 1;
	}
	return 1;
}

/* dnsbl_answered - 1 when no query is left without an answer */
static int
dnsbl_answered(const struct dnsbl *d)
{
	size_t i;

	for (i = 0; i < d->nq; i++)
		if (d->q[i].verdict == DNSBL_PENDING)
			return 0;
	return 1;
}

/*
 * wait_end - give up on what is left: timeouts, or failures on ERR.  When
 * a listing is already certain (and not ALL), the zones after it stay
 * unanswered.
 */
static void
wait_end(struct dnsbl *d, int all, int err)
{
	size_t i;
	int done = !all && dnsbl_done(d);

	for (i = 0; i < d->nq; i++)
		if (!done && d->q[i].verdict == DNSBL_PENDING)
			d->q[i].verdict = err != 0 ? DNSBL_FAILED :
			    DNSBL_TIMEOUT;
	if (err != 0)
		(void)snprintf(d->error, sizeof(d->error), "read: %s",
		    strerror(err));
	d->waited = 1;
}

/* dnsbl_close - close the socket (-b; a session keeps it to the end) */
void
dnsbl_close(struct dnsbl *d)
{
	if (d->fd != -1)
		(void)close(d->fd);
	d->fd = -1;
}

/* dnsbl_wait - see dnsbl.h */
void
dnsbl_wait(struct dnsbl *d, int all)
{
	unsigned char pkt[DNSBL_PACKET_MAX];
	long long left;
	ssize_t n;

	while (d->fd != -1 && !d->waited &&
	    !(all ? dnsbl_answered(d) : dnsbl_done(d)) &&
	    (left = d->deadline - now_ms()) > 0) {
		struct pollfd pfd = { d->fd, POLLIN, 0 };

		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			break;
		if ((n = read(d->fd, pkt, sizeof(pkt))) >= 0)
			(void)dnsbl_take(d, pkt, (size_t)n);
		else if (errno != EAGAIN && errno != EINTR) {
			/* ICMP port unreachable comes back as ECONNREFUSED. */
			wait_end(d, all, errno);
			return;
		}
	}
	wait_end(d, all, 0);
}

/* dnsbl_listing - see dnsbl.h */
const struct dnsbl_query *
dnsbl_listing(const struct dnsbl *d)
{
	size_t i;

	for (i = 0; i < d->nq; i++)
		if (d->q[i].verdict == DNSBL_LISTED)
			return &d->q[i];
	return NULL;
}

/* explain_failures - one line for every zone that had no usable answer */
static void
explain_failures(const struct dnsbl *d, dnsbl_say_fn *say, void *arg)
{
	char line[512], zones[256];
	size_t i, off = 0;
	int n;

	zones[0] = '\0';
	for (i = 0; i < d->nq; i++) {
		if (d->q[i].verdict != DNSBL_TIMEOUT &&
		    d->q[i].verdict != DNSBL_FAILED)
			continue;
		n = snprintf(zones + off, sizeof(zones) - off, "%s%s%s",
		    off > 0 ? ", " : "", d->q[i].zone, d->q[i].verdict ==
		    DNSBL_TIMEOUT ? " (no answer within 3 s)" : " (error)");
		if (n < 0 || (size_t)n >= sizeof(zones) - off)
			break;
		off += (size_t)n;
	}
	if (off == 0)
		return;
	(void)snprintf(line, sizeof(line), "dnsbl: resolver %s: %s%s%s; "
	    "not listed there (fail-open)", d->resolver, zones,
	    d->error[0] != '\0' ? "; " : "", d->error);
	say(arg, LOG_WARNING, line);
}

/* dnsbl_explain - see dnsbl.h */
void
dnsbl_explain(const struct dnsbl *d, const struct peer *peer, int verbose,
    dnsbl_say_fn *say, void *arg)
{
	char line[512];
	size_t i;

	for (i = 0; i < d->nq; i++) {
		const struct dnsbl_query *q = &d->q[i];
		const unsigned char *a = q->answer;

		if (q->verdict == DNSBL_LISTED || q->verdict == DNSBL_REFUSED ||
		    q->verdict == DNSBL_OUTSIDE)
			(void)snprintf(line, sizeof(line), "dnsbl: %s %s %s "
			    "(answer %u.%u.%u.%u)", peer->text,
			    q->verdict == DNSBL_LISTED ? "listed in" : "in",
			    q->zone, a[0], a[1], a[2], a[3]);
		else if (verbose && q->verdict == DNSBL_CLEAN)
			(void)snprintf(line, sizeof(line), "dnsbl: %s not "
			    "listed in %s (%s)", peer->text, q->zone,
			    q->rcode == DNS_NXDOMAIN ? "NXDOMAIN" :
			    "no A record");
		else if (verbose && q->verdict == DNSBL_PENDING)
			(void)snprintf(line, sizeof(line), "dnsbl: %s: not "
			    "awaited (an earlier zone lists the client)",
			    q->zone);
		else
			continue;
		if (q->verdict == DNSBL_REFUSED || q->verdict == DNSBL_OUTSIDE)
			(void)snprintf(line + strlen(line), sizeof(line) -
			    strlen(line), ": %s", dnsbl_verdict_name(q->verdict));
		say(arg, q->verdict == DNSBL_LISTED ? LOG_NOTICE :
		    q->verdict == DNSBL_CLEAN ? LOG_INFO : LOG_WARNING, line);
	}
	explain_failures(d, say, arg);
}
