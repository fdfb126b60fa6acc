/*
 * check_dnsbl.c - unit tests for dnsbl.c: zone and resolver syntax, query
 * names (IPv4, IPv6 nibbles), the query packet, strict answer parsing
 * (hostile and malformed datagrams), the verdict table, the refusal text,
 * and when the wait may end.
 *
 * Every datagram is handed to dnsbl_parse in a heap buffer of exactly its
 * length, and so is every proper prefix of it, so that ASan catches a read
 * past the end (the one-octet-at-a-time idea).
 *
 * The "sandbox" cases prove what smtpfe(8) SECURITY says: the dnsbl wait
 * needs no system call the filter did not already allow (a real query
 * answered to a sandboxed child), and the pinned socket cannot be aimed
 * elsewhere (connect and sendto on it kill; on other descriptors they do
 * not).  Loopback UDP port 5318 on 127.0.0.57.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "config.h"
#include "dnsbl.h"
#include "policy.h"
#include "sandbox.h"

#define NCASES(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* rep - a string of N copies of C, in a static buffer per slot */
static const char *
rep(int slot, char c, size_t n)
{
	static char buf[4][300];

	memset(buf[slot], c, n);
	buf[slot][n] = '\0';
	return buf[slot];
}

/* == zones ================================================================ */

START_TEST(test_zone_limits)
{
	char z[1300];

	ck_assert(dnsbl_zone_ok("bl.test"));
	ck_assert(dnsbl_zone_ok("zen.spamhaus.org"));
	ck_assert(dnsbl_zone_ok("a"));
	ck_assert(dnsbl_zone_ok("1.2.3"));
	ck_assert(dnsbl_zone_ok("x-y.test"));
	/* label 63 and 64 */
	(void)snprintf(z, sizeof(z), "%s.test", rep(0, 'a', 63));
	ck_assert(dnsbl_zone_ok(z));
	(void)snprintf(z, sizeof(z), "%s.test", rep(0, 'a', 64));
	ck_assert(!dnsbl_zone_ok(z));
	/* zone 189 and 190 octets */
	(void)snprintf(z, sizeof(z), "%s.%s.%s", rep(0, 'a', 63),
	    rep(1, 'b', 63), rep(2, 'c', 61));
	ck_assert_uint_eq(strlen(z), DNSBL_ZONE_MAX);
	ck_assert(dnsbl_zone_ok(z));
	(void)snprintf(z, sizeof(z), "%s.%s.%s", rep(0, 'a', 63),
	    rep(1, 'b', 63), rep(2, 'c', 62));
	ck_assert(!dnsbl_zone_ok(z));
	ck_assert(!dnsbl_zone_ok(""));
	ck_assert(!dnsbl_zone_ok("."));
	ck_assert(!dnsbl_zone_ok("bl.test."));
	ck_assert(!dnsbl_zone_ok(".bl.test"));
	ck_assert(!dnsbl_zone_ok("bl..test"));
	ck_assert(!dnsbl_zone_ok("-bl.test"));
	ck_assert(!dnsbl_zone_ok("bl-.test"));
	ck_assert(!dnsbl_zone_ok("bl.test-"));
	ck_assert(!dnsbl_zone_ok("b_l.test"));
	ck_assert(!dnsbl_zone_ok("bl test"));
	ck_assert(!dnsbl_zone_ok("bl.t\xc3\xa9st"));
}
END_TEST

/* == resolver ============================================================== */

static const struct {
	const char	*text;
	int		 family;	/* 0: refused */
	unsigned short	 port;
} resolver_cases[] = {
	{ "127.0.0.53", AF_INET, 53 },
	{ "127.0.0.53:5300", AF_INET, 5300 },
	{ "10.0.0.1:1", AF_INET, 1 },
	{ "10.0.0.1:65535", AF_INET, 65535 },
	{ "::1", AF_INET6, 53 },
	{ "2001:db8::53", AF_INET6, 53 },
	{ "[::1]", AF_INET6, 53 },
	{ "[::1]:5301", AF_INET6, 5301 },
	{ "10.0.0.1:0", 0, 0 },
	{ "10.0.0.1:65536", 0, 0 },
	{ "10.0.0.1:", 0, 0 },
	{ "10.0.0.1:53x", 0, 0 },
	{ "10.0.0.1:-1", 0, 0 },
	{ "10.0.0", 0, 0 },
	{ "10.0.0.256", 0, 0 },
	{ "resolver.example", 0, 0 },
	{ "resolver.example:53", 0, 0 },
	{ "", 0, 0 },
	{ ":53", 0, 0 },
	{ "[::1", 0, 0 },
	{ "[]:53", 0, 0 },
	{ "[::1]53", 0, 0 },
	{ "[::1]:", 0, 0 },
	{ "[10.0.0.1]:53", 0, 0 },
	{ "fe80::1%eth0", 0, 0 },
	{ "::1:53:x", 0, 0 },
};

START_TEST(test_resolver_table)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int r = dnsbl_resolver_parse(resolver_cases[_i].text, &ss, &len);

	if (resolver_cases[_i].family == 0) {
		ck_assert_msg(r == -1, "accepted %s", resolver_cases[_i].text);
		return;
	}
	ck_assert_msg(r == 0, "refused %s", resolver_cases[_i].text);
	ck_assert_int_eq(ss.ss_family, resolver_cases[_i].family);
	if (ss.ss_family == AF_INET)
		ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port),
		    resolver_cases[_i].port);
	else
		ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port),
		    resolver_cases[_i].port);
}
END_TEST

START_TEST(test_resolver_too_long)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char s[1300];

	(void)snprintf(s, sizeof(s), "[::1]:%s53", rep(0, '0', 60));
	ck_assert_int_eq(dnsbl_resolver_parse(s, &ss, &len), -1);
}
END_TEST

/* write_file - a temporary file holding TEXT; its name in PATH */
static void
write_file(char *path, size_t size, const char *text)
{
	int fd;

	(void)snprintf(path, size, "/tmp/check_dnsbl.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(test_resolv_conf)
{
	char path[64], ns[DNSBL_RESOLVER_MAX];

	write_file(path, sizeof(path), "# comment\nsearch example.org\n"
	    "nameserverx 1.1.1.1\noptions ndots:1\n"
	    "nameserver\t 10.255.255.53 # the first\nnameserver 10.0.0.2\n");
	ck_assert_int_eq(dnsbl_resolv_conf(path, ns, sizeof(ns)), 0);
	ck_assert_str_eq(ns, "10.255.255.53");
	(void)unlink(path);
	write_file(path, sizeof(path), "nameserver ::1\n");
	ck_assert_int_eq(dnsbl_resolv_conf(path, ns, sizeof(ns)), 0);
	ck_assert_str_eq(ns, "::1");
	(void)unlink(path);
	write_file(path, sizeof(path), "search example.org\nnameserver\n");
	ck_assert_int_eq(dnsbl_resolv_conf(path, ns, sizeof(ns)), -1);
	(void)unlink(path);
	ck_assert_int_eq(dnsbl_resolv_conf("/nonexistent/resolv.conf", ns,
	    sizeof(ns)), -1);
}
END_TEST

/* == query names ============================================================ */

/* peer_of - a peer from text */
static struct peer
peer_of(const char *ip)
{
	struct peer p;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(peer_set_text(&p, ip), 0);
	return p;
}

START_TEST(test_qname_v4)
{
	struct peer p = peer_of("192.0.2.1");
	char name[1300];

	ck_assert_int_eq(dnsbl_qname(&p, "bl.test", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "1.2.0.192.bl.test");
	p = peer_of("::ffff:198.51.100.7");	/* mapped: asked as IPv4 */
	ck_assert_int_eq(dnsbl_qname(&p, "bl.test", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "7.100.51.198.bl.test");
	memset(&p, 0, sizeof(p));		/* unknown client */
	ck_assert_int_eq(dnsbl_qname(&p, "bl.test", name, sizeof(name)), -1);
}
END_TEST

START_TEST(test_qname_v6)
{
	/* RFC 5782 2.4's example address */
	struct peer p = peer_of("2001:db8:1:2:3:4:567:89ab");
	char name[1300], zone[1300];

	ck_assert_int_eq(dnsbl_qname(&p, "ugly.example.com", name,
	    sizeof(name)), 0);
	ck_assert_str_eq(name, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0."
	    "0.0.8.b.d.0.1.0.0.2.ugly.example.com");
	/* a zone of DNSBL_ZONE_MAX octets fits exactly: 253 as text */
	(void)snprintf(zone, sizeof(zone), "%s.%s.%s", rep(0, 'a', 63),
	    rep(1, 'b', 63), rep(2, 'c', 61));
	ck_assert_int_eq(dnsbl_qname(&p, zone, name, sizeof(name)), 0);
	ck_assert_uint_eq(strlen(name), 253);
	(void)snprintf(zone, sizeof(zone), "%s.%s.%s", rep(0, 'a', 63),
	    rep(1, 'b', 63), rep(2, 'c', 62));
	ck_assert_int_eq(dnsbl_qname(&p, zone, name, sizeof(name)), -1);
	/* a small buffer is refused, not overrun */
	ck_assert_int_eq(dnsbl_qname(&p, "bl.test", name, 20), -1);
}
END_TEST

START_TEST(test_name_wire)
{
	unsigned char w[300];
	char name[1300];

	ck_assert_uint_eq(dnsbl_name_wire("A.Bc", w, sizeof(w)), 6);
	ck_assert(memcmp(w, "\001a\002bc\000", 6) == 0);
	(void)snprintf(name, sizeof(name), "%s.x", rep(0, 'a', 63));
	ck_assert_uint_eq(dnsbl_name_wire(name, w, sizeof(w)), 67);
	(void)snprintf(name, sizeof(name), "%s.x", rep(0, 'a', 64));
	ck_assert_uint_eq(dnsbl_name_wire(name, w, sizeof(w)), 0);
	ck_assert_uint_eq(dnsbl_name_wire("", w, sizeof(w)), 0);
	ck_assert_uint_eq(dnsbl_name_wire("a..b", w, sizeof(w)), 0);
	ck_assert_uint_eq(dnsbl_name_wire("a.", w, sizeof(w)), 0);
	/* 253 octets of text are 255 on the wire; 254 are too many */
	(void)snprintf(name, sizeof(name), "%s.%s.%s.%s", rep(0, 'a', 63),
	    rep(1, 'b', 63), rep(2, 'c', 63), rep(3, 'd', 61));
	ck_assert_uint_eq(dnsbl_name_wire(name, w, sizeof(w)), 255);
	(void)snprintf(name, sizeof(name), "%s.%s.%s.%s", rep(0, 'a', 63),
	    rep(1, 'b', 63), rep(2, 'c', 63), rep(3, 'd', 62));
	ck_assert_uint_eq(dnsbl_name_wire(name, w, sizeof(w)), 0);
	/* and the output buffer bounds it */
	ck_assert_uint_eq(dnsbl_name_wire("abc.def", w, 8), 0);
	ck_assert_uint_eq(dnsbl_name_wire("abc.def", w, 9), 9);
}
END_TEST

START_TEST(test_encode)
{
	static const unsigned char want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		1, '2', 1, '0', 1, '0', 3, '1', '2', '7', 2, 'b', 'l', 4,
		't', 'e', 's', 't', 0, 0, 1, 0, 1
	};
	unsigned char w[DNSBL_NAME_MAX], pkt[DNSBL_PACKET_MAX];
	size_t wl = dnsbl_name_wire("2.0.0.127.bl.test", w, sizeof(w));

	ck_assert_uint_eq(dnsbl_encode(w, wl, 0x1234, pkt, sizeof(pkt)),
	    sizeof(want));
	ck_assert(memcmp(pkt, want, sizeof(want)) == 0);
	ck_assert_uint_eq(dnsbl_encode(w, wl, 1, pkt, sizeof(want) - 1), 0);
	ck_assert_uint_eq(dnsbl_encode(w, 0, 1, pkt, sizeof(pkt)), 0);
}
END_TEST

/* == answers ================================================================= */

/* A datagram under construction. */
struct pkt {
	unsigned char	 b[1024];
	size_t		 n;
};

/* put - append LEN octets */
static void
put(struct pkt *p, const void *data, size_t len)
{
	ck_assert(p->n + len <= sizeof(p->b));
	memcpy(p->b + p->n, data, len);
	p->n += len;
}

/* put16 - append a 16-bit number */
static void
put16(struct pkt *p, unsigned int v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(p, b, 2);
}

/* put_rr - append one RR: OWNER (wire), type, class, TTL, RDATA */
static void
put_rr(struct pkt *p, const void *owner, size_t olen, unsigned int type,
    unsigned int class, const void *rd, size_t rdlen)
{
	put(p, owner, olen);
	put16(p, type);
	put16(p, class);
	put16(p, 0);
	put16(p, 300);
	put16(p, (unsigned int)rdlen);
	put(p, rd, rdlen);
}

#define QNAME	"2.0.0.127.bl.test"
#define PTR_Q	"\xc0\x0c"	/* a pointer to the question's name */

/* query_init - our query Q for QNAME with ID 0x4242 */
static void
query_init(struct dnsbl_query *q)
{
	memset(q, 0, sizeof(*q));
	q->zone = "bl.test";
	q->id = 0x4242;
	q->qlen = dnsbl_name_wire(QNAME, q->qname, sizeof(q->qname));
	ck_assert_uint_ne(q->qlen, 0);
}

/* answer_init - the header and question of an answer to Q */
static void
answer_init(struct pkt *p, const struct dnsbl_query *q, unsigned int flags,
    unsigned int ancount)
{
	p->n = 0;
	put16(p, q->id);
	put16(p, flags);
	put16(p, 1);
	put16(p, ancount);
	put16(p, 0);
	put16(p, 0);
	put(p, q->qname, q->qlen);
	put16(p, 1);
	put16(p, 1);
}

/* parse - dnsbl_parse on an exact-size heap copy */
static enum dnsbl_verdict
parse(const unsigned char *b, size_t n, struct dnsbl_query *q)
{
	unsigned char *copy = malloc(n > 0 ? n : 1);
	enum dnsbl_verdict v;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, b, n);
	v = dnsbl_parse(copy, n, q);
	free(copy);
	return v;
}

/* parse_all - the whole datagram, and every prefix must be ignored */
static enum dnsbl_verdict
parse_all(const struct pkt *p, struct dnsbl_query *q)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		ck_assert_msg(parse(p->b, i, q) == DNSBL_PENDING,
		    "a %zu-octet prefix of a %zu-octet answer was taken", i,
		    p->n);
	return parse(p->b, p->n, q);
}

/* a_answer - a NOERROR answer with one A record ADDR for the question */
static enum dnsbl_verdict
a_answer(const char *addr, struct dnsbl_query *q)
{
	struct pkt p;
	struct in_addr in;

	ck_assert_int_eq(inet_pton(AF_INET, addr, &in), 1);
	answer_init(&p, q, 0x8180, 1);
	put_rr(&p, PTR_Q, 2, 1, 1, &in, 4);
	return parse_all(&p, q);
}

static const struct {
	const char		*addr;
	enum dnsbl_verdict	 v;
} verdict_cases[] = {
	{ "127.0.0.2", DNSBL_LISTED },
	{ "127.0.0.0", DNSBL_LISTED },
	{ "127.0.0.10", DNSBL_LISTED },
	{ "127.1.2.3", DNSBL_LISTED },
	{ "127.255.254.255", DNSBL_LISTED },
	{ "127.254.255.1", DNSBL_LISTED },
	{ "127.255.255.0", DNSBL_REFUSED },
	{ "127.255.255.252", DNSBL_REFUSED },
	{ "127.255.255.254", DNSBL_REFUSED },
	{ "127.255.255.255", DNSBL_REFUSED },
	{ "126.255.255.255", DNSBL_OUTSIDE },
	{ "128.0.0.0", DNSBL_OUTSIDE },
	{ "10.0.0.2", DNSBL_OUTSIDE },
	{ "0.0.0.0", DNSBL_OUTSIDE },
	{ "255.255.255.255", DNSBL_OUTSIDE },
};

START_TEST(test_verdict_table)
{
	struct dnsbl_query q;
	struct in_addr in;

	query_init(&q);
	ck_assert_int_eq(inet_pton(AF_INET, verdict_cases[_i].addr, &in), 1);
	ck_assert_int_eq(dnsbl_verdict_a((unsigned char *)&in),
	    verdict_cases[_i].v);
	ck_assert_int_eq(a_answer(verdict_cases[_i].addr, &q),
	    verdict_cases[_i].v);
	ck_assert(memcmp(q.answer, &in, 4) == 0);
}
END_TEST

START_TEST(test_rcodes)
{
	struct dnsbl_query q;
	struct pkt p;

	query_init(&q);
	answer_init(&p, &q, 0x8183, 0);		/* NXDOMAIN */
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_CLEAN);
	ck_assert_int_eq(q.rcode, 3);
	answer_init(&p, &q, 0x8180, 0);		/* NOERROR, no data */
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_CLEAN);
	answer_init(&p, &q, 0x8182, 0);		/* SERVFAIL */
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_FAILED);
	answer_init(&p, &q, 0x8185, 0);		/* REFUSED */
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_FAILED);
	answer_init(&p, &q, 0x8380, 0);		/* TC */
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_FAILED);
	/* SERVFAIL with a listing attached is still an error */
	answer_init(&p, &q, 0x8182, 1);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_FAILED);
}
END_TEST

START_TEST(test_not_ours)
{
	struct dnsbl_query q, other;
	struct pkt p;

	query_init(&q);
	/* another ID */
	answer_init(&p, &q, 0x8180, 1);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02", 4);
	p.b[1] ^= 1;
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* a query, not a response (QR clear) */
	answer_init(&p, &q, 0x0180, 1);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* opcode not QUERY */
	answer_init(&p, &q, 0x8980, 1);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* QDCOUNT 0 and 2 */
	answer_init(&p, &q, 0x8180, 0);
	p.b[5] = 0;
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	p.b[5] = 2;
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* another question with our ID */
	other = q;
	other.qlen = dnsbl_name_wire("3.0.0.127.bl.test", other.qname,
	    sizeof(other.qname));
	answer_init(&p, &other, 0x8180, 1);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* our name, type TXT or class CH in the question */
	answer_init(&p, &q, 0x8180, 0);
	p.b[p.n - 3] = 16;
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	answer_init(&p, &q, 0x8180, 0);
	p.b[p.n - 1] = 3;
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* the question in another case is ours (0x20 mixing resolvers) */
	answer_init(&p, &q, 0x8183, 0);
	p.b[12 + 11] = 'B';
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_CLEAN);
}
END_TEST

START_TEST(test_other_records)
{
	struct dnsbl_query q;
	struct pkt p;
	unsigned char other[DNSBL_NAME_MAX];
	size_t olen = dnsbl_name_wire("x.test", other, sizeof(other));

	query_init(&q);
	/* A of class CH, TXT of 4 octets, A of 5 octets: none a listing */
	answer_init(&p, &q, 0x8180, 3);
	put_rr(&p, PTR_Q, 2, 1, 3, "\x7f\0\0\x02", 4);
	put_rr(&p, PTR_Q, 2, 16, 1, "\x03" "abc", 4);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02\x00", 5);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_CLEAN);
	/* an A record for another name */
	answer_init(&p, &q, 0x8180, 1);
	put_rr(&p, other, olen, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_CLEAN);
	/* a CNAME to x.test, then x.test's A: followed */
	answer_init(&p, &q, 0x8180, 2);
	put_rr(&p, PTR_Q, 2, 5, 1, other, olen);
	put_rr(&p, other, olen, 1, 1, "\x7f\0\0\x03", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_LISTED);
	ck_assert_uint_eq(q.answer[3], 3);
	/* refused and listed: listed wins; outside and refused: refused */
	answer_init(&p, &q, 0x8180, 2);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\xff\xff\xfe", 4);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x04", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_LISTED);
	ck_assert_uint_eq(q.answer[3], 4);
	answer_init(&p, &q, 0x8180, 2);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\xff\xff\xfe", 4);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x0a\0\0\x01", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_REFUSED);
	/* the owner written out in full, not compressed */
	answer_init(&p, &q, 0x8180, 1);
	put_rr(&p, q.qname, q.qlen, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_LISTED);
}
END_TEST

START_TEST(test_hostile)
{
	struct dnsbl_query q;
	struct pkt p;
	size_t at;

	query_init(&q);
	/* ANCOUNT says 2, one is there */
	answer_init(&p, &q, 0x8180, 2);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* RDLENGTH past the end */
	answer_init(&p, &q, 0x8180, 1);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02", 4);
	p.b[p.n - 5] = 5;
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* a pointer to itself */
	answer_init(&p, &q, 0x8180, 1);
	at = p.n;
	put(&p, "\xc0", 1);
	put(&p, (unsigned char[]){ (unsigned char)at }, 1);
	put16(&p, 1); put16(&p, 1); put16(&p, 0); put16(&p, 9); put16(&p, 4);
	put(&p, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* a pointer forward */
	answer_init(&p, &q, 0x8180, 1);
	at = p.n;
	put(&p, "\xc0", 1);
	put(&p, (unsigned char[]){ (unsigned char)(at + 2) }, 1);
	put16(&p, 1); put16(&p, 1); put16(&p, 0); put16(&p, 9); put16(&p, 4);
	put(&p, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* a loop through a label: "x" then a pointer back to the "x" */
	answer_init(&p, &q, 0x8180, 1);
	at = p.n;
	put(&p, "\x01x\xc0", 3);
	put(&p, (unsigned char[]){ (unsigned char)at }, 1);
	put16(&p, 1); put16(&p, 1); put16(&p, 0); put16(&p, 9); put16(&p, 4);
	put(&p, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* the reserved label types 01 and 10 */
	answer_init(&p, &q, 0x8180, 1);
	put_rr(&p, "\x41x\0", 3, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	answer_init(&p, &q, 0x8180, 1);
	put_rr(&p, "\x81x\0", 3, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* a pointer to an offset past the end */
	answer_init(&p, &q, 0x8180, 1);
	put_rr(&p, "\xc3\xff", 2, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* a CNAME whose target runs out of its RDATA */
	answer_init(&p, &q, 0x8180, 1);
	put_rr(&p, PTR_Q, 2, 5, 1, "\x05" "ab", 3);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* the header alone, and less */
	ck_assert_int_eq(parse((const unsigned char *)"\x42\x42\x81\x80", 4,
	    &q), DNSBL_PENDING);
	ck_assert_int_eq(parse((const unsigned char *)"", 0, &q),
	    DNSBL_PENDING);
}
END_TEST

START_TEST(test_long_names)
{
	struct dnsbl_query q;
	struct pkt p;
	unsigned char lab[64];
	size_t i, start;

	query_init(&q);
	/* an owner of 255 octets is read (and is not ours) ... */
	answer_init(&p, &q, 0x8180, 1);
	lab[0] = 63;
	memset(lab + 1, 'a', 63);
	for (i = 0; i < 3; i++)
		put(&p, lab, 64);
	put(&p, "\x3d", 1);
	for (i = 0; i < 61; i++)
		put(&p, "b", 1);
	put(&p, "", 1);
	put16(&p, 1); put16(&p, 1); put16(&p, 0); put16(&p, 9); put16(&p, 4);
	put(&p, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_CLEAN);
	/* ... one of 256 is refused */
	answer_init(&p, &q, 0x8180, 1);
	for (i = 0; i < 3; i++)
		put(&p, lab, 64);
	put(&p, "\x3e", 1);
	for (i = 0; i < 62; i++)
		put(&p, "b", 1);
	put(&p, "", 1);
	put16(&p, 1); put16(&p, 1); put16(&p, 0); put16(&p, 9); put16(&p, 4);
	put(&p, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
	/* a name grown past 255 octets through a chain of pointers */
	answer_init(&p, &q, 0x8180, 1);
	start = p.n;
	put(&p, lab, 64);
	put(&p, "", 1);
	for (i = 0; i < 4; i++) {
		size_t prev = i == 0 ? start : p.n - 66;

		put(&p, lab, 64);
		put(&p, "\xc0", 1);
		put(&p, (unsigned char[]){ (unsigned char)prev }, 1);
	}
	put(&p, "\xc0", 1);
	put(&p, (unsigned char[]){ (unsigned char)(p.n - 67) }, 1);
	put16(&p, 1); put16(&p, 1); put16(&p, 0); put16(&p, 9); put16(&p, 4);
	put(&p, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(parse_all(&p, &q), DNSBL_PENDING);
}
END_TEST

/* == the session's view ====================================================== */

START_TEST(test_refusal)
{
	struct peer p = peer_of("192.0.2.1");
	char buf[SMTP_REPLY_MAX];

	ck_assert_int_eq(dnsbl_refusal(buf, sizeof(buf), &p, "bl.test"), 0);
	ck_assert_str_eq(buf, "554 5.7.1 Service unavailable; client "
	    "[192.0.2.1] blocked using bl.test");
	p = peer_of("2001:db8::1");
	ck_assert_int_eq(dnsbl_refusal(buf, sizeof(buf), &p, "bl.test"), 0);
	ck_assert_str_eq(buf, "554 5.7.1 Service unavailable; client "
	    "[2001:db8::1] blocked using bl.test");
	ck_assert_int_eq(dnsbl_refusal(buf, 20, &p, "bl.test"), -1);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* verdicts - a dnsbl with N queries in the given states */
static void
verdicts(struct dnsbl *d, size_t n, const enum dnsbl_verdict *v)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->nq = n;
	for (i = 0; i < n; i++) {
		d->q[i].zone = i == 0 ? "first.test" : "second.test";
		d->q[i].verdict = v[i];
	}
}

START_TEST(test_done_and_listing)
{
	struct dnsbl d;

	verdicts(&d, 2, (enum dnsbl_verdict[]){ DNSBL_PENDING, DNSBL_LISTED });
	ck_assert(!dnsbl_done(&d));
	verdicts(&d, 2, (enum dnsbl_verdict[]){ DNSBL_CLEAN, DNSBL_LISTED });
	ck_assert(dnsbl_done(&d));
	ck_assert_str_eq(dnsbl_listing(&d)->zone, "second.test");
	verdicts(&d, 2, (enum dnsbl_verdict[]){ DNSBL_LISTED, DNSBL_PENDING });
	ck_assert(dnsbl_done(&d));
	ck_assert_str_eq(dnsbl_listing(&d)->zone, "first.test");
	verdicts(&d, 2, (enum dnsbl_verdict[]){ DNSBL_LISTED, DNSBL_LISTED });
	ck_assert_str_eq(dnsbl_listing(&d)->zone, "first.test");
	verdicts(&d, 2, (enum dnsbl_verdict[]){ DNSBL_TIMEOUT, DNSBL_REFUSED });
	ck_assert(dnsbl_done(&d));
	ck_assert_ptr_null(dnsbl_listing(&d));
	verdicts(&d, 0, NULL);
	ck_assert(dnsbl_done(&d));
	ck_assert_ptr_null(dnsbl_listing(&d));
}
END_TEST

START_TEST(test_take)
{
	struct dnsbl d;
	struct pkt p;

	verdicts(&d, 2, (enum dnsbl_verdict[]){ DNSBL_PENDING, DNSBL_PENDING });
	query_init(&d.q[0]);
	query_init(&d.q[1]);
	d.q[0].zone = "first.test";
	d.q[1].zone = "second.test";
	d.q[1].id = 0x4343;
	answer_init(&p, &d.q[1], 0x8180, 1);
	put_rr(&p, PTR_Q, 2, 1, 1, "\x7f\0\0\x02", 4);
	ck_assert_int_eq(dnsbl_take(&d, p.b, p.n), 1);
	ck_assert_int_eq(d.q[0].verdict, DNSBL_PENDING);
	ck_assert_int_eq(d.q[1].verdict, DNSBL_LISTED);
	ck_assert(!dnsbl_done(&d));
	/* a repeat of a settled answer changes nothing */
	ck_assert_int_eq(dnsbl_take(&d, p.b, p.n), 0);
	answer_init(&p, &d.q[0], 0x8183, 0);
	ck_assert_int_eq(dnsbl_take(&d, p.b, p.n), 1);
	ck_assert(dnsbl_done(&d));
	ck_assert_str_eq(dnsbl_listing(&d)->zone, "second.test");
}
END_TEST

/* == policy: where the verdict sits in the RCPT order ======================= */

static const struct {
	const char	*arg;
	const char	*reply;		/* prefix; NULL: accepted */
} order_cases[] = {
	{ " TO:<user@example.org>", "554 5.7.1 Service unavailable" },
	{ " TO:<user@sub.example.com>", "554 5.7.1 Service unavailable" },
	{ " TO:<user@elsewhere.example>", "554 5.7.1 Service unavailable" },
	{ " TO:<user@[192.0.2.1]>", "554 5.7.1 Service unavailable" },
	/* postmaster@ a local domain, in any case, is judged as usual */
	{ " TO:<postmaster@example.org>", NULL },
	{ " TO:<PostMaster@EXAMPLE.ORG>", NULL },
	{ " TO:<postmaster@sub.example.com>", NULL },
	{ " TO:<\"postmaster\"@example.org>", NULL },
	{ " TO:<@relay.example:postmaster@example.org>", NULL },
	/* ... but not postmaster@ elsewhere, nor look-alikes */
	{ " TO:<postmaster@elsewhere.example>", "554 5.7.1 Service unavailable" },
	{ " TO:<postmaster@[192.0.2.1]>", "554 5.7.1 Service unavailable" },
	{ " TO:<postmasters@example.org>", "554 5.7.1 Service unavailable" },
	{ " TO:<postmaste@example.org>", "554 5.7.1 Service unavailable" },
	{ " TO:<postmaster+x@example.org>", "554 5.7.1 Service unavailable" },
	/* syntax and the trick forms come first */
	{ " TO:<user example.org>", "501 " },
	{ " TO:<user@example.org> NOTIFY=NEVER", "555 5.5.4" },
	{ " TO:<|prog@example.org>", "553 5.1.3" },
	{ " TO:<user%elsewhere@example.org>", "553 5.1.3" },
	{ " TO:<postmaster%elsewhere@example.org>", "553 5.1.3" },
	{ " TO:<>", "5" },
};

START_TEST(test_policy_order)
{
	static char *domains[] = { "example.org", ".example.com" };
	static struct config conf;
	struct peer p = peer_of("192.0.2.1");
	struct addr a;
	const char *r;

	config_defaults(&conf);
	conf.local_domains = domains;
	conf.nlocal = 2;
	conf.relay = NULL;
	conf.nrelay = 0;
	ck_assert_int_eq(dnsbl_refusal(p.dnsbl, sizeof(p.dnsbl), &p,
	    "bl.test"), 0);
	r = policy_rcpt(&conf, &p, order_cases[_i].arg, 0, &a);
	if (order_cases[_i].reply == NULL)
		ck_assert_msg(r == NULL, "%s: refused: %s", order_cases[_i].arg,
		    r);
	else {
		ck_assert_msg(r != NULL, "%s: accepted", order_cases[_i].arg);
		ck_assert_msg(strncmp(r, order_cases[_i].reply,
		    strlen(order_cases[_i].reply)) == 0, "%s: %s",
		    order_cases[_i].arg, r);
		if (strncmp(order_cases[_i].reply, "554 5.7.1 S", 11) == 0)
			ck_assert_str_eq(r, p.dnsbl);
	}
	/* not listed: the same address is judged as usual */
	p.dnsbl[0] = '\0';
	r = policy_rcpt(&conf, &p, order_cases[_i].arg, 0, &a);
	ck_assert(r == NULL || strncmp(r, "554 5.7.1 Service", 17) != 0);
}
END_TEST

/* == the sandbox ============================================================ */

#if defined(__linux__) && defined(__x86_64__)
#define SB_ADDR		"127.0.0.57"
#define SB_PORT		5318

static struct config sbconf;
static char sbdir[64];

/* sb_setup - a spool as the current directory, the sandbox on */
static void
sb_setup(void)
{
	config_defaults(&sbconf);
	sbconf.min_free_space = 0;
	(void)strcpy(sbdir, "/tmp/check_dnsbl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sbdir));
	ck_assert_int_eq(chdir(sbdir), 0);
	ck_assert_int_eq(unsetenv(SANDBOX_ENV), 0);
}

static void
sb_teardown(void)
{
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(rmdir(sbdir), 0);
}

/* sb_addr - 127.0.0.57:PORT */
static struct sockaddr_in
sb_addr(unsigned short port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, SB_ADDR, &sin.sin_addr), 1);
	return sin;
}

/* sb_udp - a UDP socket connected as dnsbl_start makes it */
static int
sb_udp(void)
{
	struct sockaddr_in sin = sb_addr(SB_PORT);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* sb_enter - in the child: pin FD, enter the sandbox, or exit 70 */
static void
sb_enter(int fd)
{
	char err[256];

	sandbox_pin_fd(fd);
	if (sandbox_enter(&sbconf, err, sizeof(err)) == -1)
		_exit(70);
}

/* sb_status - the wait status of PID */
static int
sb_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	return st;
}

/* Re-aiming the pinned socket: each of these must kill. */
static const char *const reaim[] = { "connect", "sendto" };

START_TEST(test_pinned_reaim_kills)
{
	pid_t pid;
	int fd = sb_udp(), st;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct sockaddr_in other = sb_addr(53);

		sb_enter(fd);
		if (_i == 0)
			(void)connect(fd, (struct sockaddr *)&other,
			    sizeof(other));
		else
			(void)sendto(fd, "x", 1, 0, (struct sockaddr *)&other,
			    sizeof(other));
		_exit(71);
	}
	st = sb_status(pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "%s on the pinned socket: expected death by SIGSYS, got status "
	    "0x%x", reaim[_i], st);
	(void)close(fd);
}
END_TEST

/*
 * test_pinned_rest_allowed - on the pinned socket, write, poll and read
 * (what the wait does) go on; on another descriptor, connect and sendto
 * (syslog's) still work; and without a pin the same connect is allowed,
 * so it is the pin that kills above.
 */
START_TEST(test_pinned_rest_allowed)
{
	pid_t pid;
	int fd = sb_udp(), pair[2], st;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct sockaddr_un sun;
		struct pollfd pfd = { fd, POLLIN, 0 };
		char buf[16];
		int u;

		sb_enter(_i == 0 ? fd : -1);
		(void)write(fd, "x", 1);
		(void)poll(&pfd, 1, 10);
		(void)read(fd, buf, sizeof(buf));
		if (sendto(pair[0], "x", 1, 0, NULL, 0) != 1)
			_exit(72);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		(void)strcpy(sun.sun_path, "/nonexistent/log");
		if ((u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
			_exit(73);
		(void)connect(u, (struct sockaddr *)&sun, sizeof(sun));
		if (_i == 1) {
			struct sockaddr_in other = sb_addr(53);

			if (connect(fd, (struct sockaddr *)&other,
			    sizeof(other)) != 0)
				_exit(74);
		}
		_exit(0);
	}
	st = sb_status(pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "pinned %s: expected exit 0, got status 0x%x", _i == 0 ? "yes" :
	    "no", st);
	(void)close(fd);
	(void)close(pair[0]);
	(void)close(pair[1]);
}
END_TEST

/* sb_answer - answer the query in Q (LEN octets) with A 127.0.0.2 */
static size_t
sb_answer(unsigned char *q, size_t len, size_t size)
{
	static const unsigned char rr[] = {
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2
	};

	ck_assert_uint_ge(size, len + sizeof(rr));
	q[2] = 0x81;
	q[3] = 0x80;
	q[7] = 1;
	memcpy(q + len, rr, sizeof(rr));
	return len + sizeof(rr);
}

/*
 * test_wait_sandboxed - the real thing: dnsbl_start before the sandbox,
 * the answer read by dnsbl_wait inside it.  The child exits 0 only when
 * it saw the listing; death by SIGSYS would mean the wait needs a call
 * the filter does not allow.
 */
START_TEST(test_wait_sandboxed)
{
	struct sockaddr_in sin = sb_addr(SB_PORT), from;
	socklen_t flen = sizeof(from);
	unsigned char pkt[DNSBL_PACKET_MAX];
	struct dnsbl d;
	struct peer p = peer_of("192.0.2.1");
	ssize_t n;
	pid_t pid;
	int srv, st;

	srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(srv, -1);
	ck_assert_int_eq(bind(srv, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sbconf.ndnsbl = 1;
	(void)strcpy(sbconf.dnsbl[0], "bl.test");
	(void)strcpy(sbconf.dns_resolver, SB_ADDR ":5318");
	ck_assert_int_eq(dnsbl_start(&d, &sbconf, &p), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		sb_enter(d.fd);
		dnsbl_wait(&d, 0);
		_exit(dnsbl_listing(&d) != NULL ? 0 : 75);
	}
	n = recvfrom(srv, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &flen);
	ck_assert_int_gt(n, 12);
	n = (ssize_t)sb_answer(pkt, (size_t)n, sizeof(pkt));
	ck_assert_int_eq(sendto(srv, pkt, (size_t)n, 0,
	    (struct sockaddr *)&from, flen), n);
	st = sb_status(pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "sandboxed dnsbl_wait: expected exit 0 (listed), got status 0x%x",
	    st);
	dnsbl_close(&d);
	(void)close(srv);
}
END_TEST
#endif

static Suite *
dnsbl_suite(void)
{
	Suite *s = suite_create("dnsbl");
	TCase *tc;

	tc = tcase_create("syntax");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_zone_limits);
	tcase_add_loop_test(tc, test_resolver_table, 0, NCASES(resolver_cases));
	tcase_add_test(tc, test_resolver_too_long);
	tcase_add_test(tc, test_resolv_conf);
	suite_add_tcase(s, tc);
	tc = tcase_create("query");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_qname_v4);
	tcase_add_test(tc, test_qname_v6);
	tcase_add_test(tc, test_name_wire);
	tcase_add_test(tc, test_encode);
	suite_add_tcase(s, tc);
	tc = tcase_create("answer");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_verdict_table, 0, NCASES(verdict_cases));
	tcase_add_test(tc, test_rcodes);
	tcase_add_test(tc, test_not_ours);
	tcase_add_test(tc, test_other_records);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_long_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("session");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_refusal);
	tcase_add_test(tc, test_done_and_listing);
	tcase_add_test(tc, test_take);
	tcase_add_loop_test(tc, test_policy_order, 0, NCASES(order_cases));
	suite_add_tcase(s, tc);
#if defined(__linux__) && defined(__x86_64__)
	tc = tcase_create("sandbox");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, sb_setup, sb_teardown);
	tcase_add_loop_test(tc, test_pinned_reaim_kills, 0, 2);
	tcase_add_loop_test(tc, test_pinned_rest_allowed, 0, 2);
	tcase_add_test(tc, test_wait_sandboxed);
	suite_add_tcase(s, tc);
#endif
	return s;
}

CHECK_MAIN(dnsbl_suite)
