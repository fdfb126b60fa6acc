/*
 * dnsbl.h - DNS blocklist look-ups (SPEC.md "DNS blocklists").
 *
 * A file of its own: a tiny DNS client (one connected UDP socket, type A
 * queries, strict answer parsing) that the session uses and policy never
 * sees.  What it learnt reaches policy as data: the refusal text put in
 * struct peer.  The pure parts (names, packets, verdicts) are exported
 * for tests/check_dnsbl.c.
 */
#ifndef DNSBL_H
#define DNSBL_H

#include <sys/types.h>
#include <sys/socket.h>

#include "config.h"
#include "policy.h"
#include "smtpfe.h"

/* SPEC.md: no answer within 3 seconds of the query never blocks. */
#define DNSBL_TIMEOUT_MS	3000
/* RFC 1035 4.2.1: a UDP message without EDNS is at most 512 octets. */
#define DNSBL_PACKET_MAX	512
/* RFC 1035 3.1: a name is at most 255 octets on the wire. */
#define DNSBL_NAME_MAX		255
/* RFC 1035 2.3.4: a label is at most 63 octets. */
#define DNSBL_LABEL_MAX		63
/* Where dns_resolver comes from when it is not set. */
#define DNSBL_RESOLV_CONF	"/etc/resolv.conf"

enum dnsbl_verdict {
	DNSBL_PENDING,		/* no answer yet */
	DNSBL_LISTED,		/* A in 127.0.0.0/8: listed */
	DNSBL_CLEAN,		/* NXDOMAIN, or no A record */
	DNSBL_REFUSED,		/* A in 127.255.255.0/24: the zone refused us */
	DNSBL_OUTSIDE,		/* A outside 127.0.0.0/8: not a listing */
	DNSBL_FAILED,		/* SERVFAIL, REFUSED, truncated, socket error */
	DNSBL_TIMEOUT		/* nothing within DNSBL_TIMEOUT_MS */
};

/* One zone's query and what came back. */
struct dnsbl_query {
	const char		*zone;
	unsigned short		 id;
	size_t			 qlen;			/* wire name length */
	unsigned char		 qname[DNSBL_NAME_MAX];	/* wire, lower case */
	enum dnsbl_verdict	 verdict;
	unsigned char		 answer[4];		/* the A record */
	int			 rcode;
};

/* The look-ups of one session. */
struct dnsbl {
	int			 fd;		/* -1: nothing outstanding */
	int			 waited;	/* dnsbl_wait is over */
	long long		 deadline;	/* CLOCK_MONOTONIC, ms */
	size_t			 nq;
	struct dnsbl_query	 q[DNSBL_ZONES_MAX];
	char			 resolver[DNSBL_RESOLVER_MAX];
	char			 error[128];	/* why the wait ended early */
};

/* dnsbl_zone_ok - 1 when ZONE is a name a query can be built on */
int	dnsbl_zone_ok(const char *);
/* dnsbl_resolver_parse - "ADDR", "ADDR:PORT", "[V6]:PORT"; 0 or -1 */
int	dnsbl_resolver_parse(const char *, struct sockaddr_storage *,
	    socklen_t *);
/* dnsbl_resolv_conf - the first nameserver of FILE into BUF; 0 or -1 */
int	dnsbl_resolv_conf(const char *, char *, size_t);
/* dnsbl_qname - the query name of PEER in ZONE (text, no final dot) */
int	dnsbl_qname(const struct peer *, const char *, char *, size_t);
/* dnsbl_name_wire - text name to lower-case wire form; the length or 0 */
size_t	dnsbl_name_wire(const char *, unsigned char *, size_t);
/* dnsbl_encode - a type A query for wire name QNAME with ID; its length */
size_t	dnsbl_encode(const unsigned char *, size_t, unsigned short,
	    unsigned char *, size_t);
/*
 * dnsbl_parse - judge one datagram against query Q: DNSBL_PENDING when it
 * is not a well-formed answer to Q (ignored), else the verdict, with the
 * A record in Q->answer and the RCODE in Q->rcode.
 */
enum dnsbl_verdict dnsbl_parse(const unsigned char *, size_t,
	    struct dnsbl_query *);
/* dnsbl_verdict_a - what one A record says */
enum dnsbl_verdict dnsbl_verdict_a(const unsigned char *);
/* dnsbl_verdict_name - a word for the logs */
const char *dnsbl_verdict_name(enum dnsbl_verdict);
/* dnsbl_refusal - the RCPT refusal naming ZONE; 0, or -1 if truncated */
int	dnsbl_refusal(char *, size_t, const struct peer *, const char *);

/*
 * dnsbl_start - send one query per zone to the resolver for PEER, on one
 * connected UDP socket; before the privilege drop and the sandbox.
 * 0, or -1 with the reason in D->error (nothing outstanding then).
 */
int	dnsbl_start(struct dnsbl *, const struct config *, const struct peer *);
/* dnsbl_take - match one datagram to its query; 1 when it settled one */
int	dnsbl_take(struct dnsbl *, const unsigned char *, size_t);
/* dnsbl_done - 1 when the verdict cannot change any more */
int	dnsbl_done(const struct dnsbl *);
/*
 * dnsbl_wait - read answers until the verdict is known (with ALL, until
 * every zone answered: -b explains them all) or the deadline passed
 * (poll and read only: the sandbox allows nothing else); unanswered
 * queries become DNSBL_TIMEOUT.  The socket stays open: the sandbox
 * pins its number (sandbox_pin_fd), which must never be reused.
 */
void	dnsbl_wait(struct dnsbl *, int);
/* dnsbl_close - close the socket, where no sandbox pins it (-b, tests) */
void	dnsbl_close(struct dnsbl *);
/* dnsbl_listing - the first zone, in configured order, that lists PEER */
const struct dnsbl_query *dnsbl_listing(const struct dnsbl *);

/* How dnsbl_explain says things: a priority and one line. */
typedef void	dnsbl_say_fn(void *, int, const char *);
/*
 * dnsbl_explain - the outcome in words: listings, refusals and one line
 * for all failures; with VERBOSE (-b) every zone's verdict too.
 */
void	dnsbl_explain(const struct dnsbl *, const struct peer *, int,
	    dnsbl_say_fn *, void *);

#endif
