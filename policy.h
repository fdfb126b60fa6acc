/*
 * policy.h - address syntax and the envelope policy.
 *
 * Everything here is pure: a check takes the configuration, the peer and
 * the text and returns NULL to accept, or the complete reply line (code,
 * enhanced code, text; no CRLF) to send.  No syslog, no I/O, no globals:
 * the session logs, and the tests drive these from tables.
 */
#ifndef POLICY_H
#define POLICY_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include "config.h"
#include "smtpfe.h"

/* The client.  IPv4-mapped IPv6 addresses are stored as AF_INET. */
struct peer {
	int		 known;
	int		 family;		/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	char		 text[INET6_ADDRSTRLEN];
	/* The dnsbl refusal when a blocklist lists the client, else "":
	 * what DNS said, handed to policy as data (dnsbl.c fills it). */
	char		 dnsbl[SMTP_REPLY_MAX];
};

enum role {
	ROLE_SENDER,
	ROLE_RCPT
};

/* A parsed path, source route stripped. */
struct addr {
	int	 null;				/* <> */
	int	 literal;			/* domain is [...] */
	char	 local[SMTP_LOCAL_MAX + 1];	/* as written, quotes kept */
	char	 domain[SMTP_DOMAIN_MAX + 1];	/* as written, case kept */
	char	 path[SMTP_PATH_MAX + 1];	/* "<local@domain>" or "<>" */
};

enum body {
	BODY_NONE,		/* no BODY parameter */
	BODY_7BIT,
	BODY_8BITMIME
};

struct mailargs {
	struct addr		 from;
	int			 size_given;
	unsigned long long	 size;
	enum body		 body;
	int			 smtputf8;	/* the SMTPUTF8 parameter */
};

/* peer_set_sockaddr - fill a peer from getpeername(); -1 if not IP */
int	peer_set_sockaddr(struct peer *, const struct sockaddr *, socklen_t);
/* peer_set_text - fill a peer from text (TCPREMOTEIP, -b); -1 if bad */
int	peer_set_text(struct peer *, const char *);
/* peer_is_relay - 1 when the peer is inside relay_networks */
int	peer_is_relay(const struct config *, const struct peer *);

/* cidr_parse - "192.0.2.0/24", "2001:db8::/32", or a bare address */
int	cidr_parse(const char *, struct cidr *);

/* domain_is_local - 1 when DOMAIN matches local_domains */
int	domain_is_local(const struct config *, const char *);

/*
 * addr_parse - parse "<...>" (brackets included, exactly LEN octets) as an
 * RFC 5321 Path: syntax, limits, source route stripped, then the trick
 * forms that hold for every address.  ROLE picks 5.1.7 or 5.1.3; the int
 * is the transaction's SMTPUTF8 flag (UTF-8 allowed, RFC 6531).
 */
const char *addr_parse(const char *, size_t, enum role, int, struct addr *);

/* policy_helo - check a HELO/EHLO argument (domain or address literal) */
const char *policy_helo(const char *);

/*
 * policy_mail - parse and check what follows "MAIL" (" FROM:<a> SIZE=n"):
 * path, parameters, SIZE against max_message_size.
 */
const char *policy_mail(const struct config *, const char *,
	    struct mailargs *);

/*
 * policy_rcpt - parse and check what follows "RCPT" (" TO:<a>"): path,
 * parameters, trick forms, relay check, recipients list; the int is the
 * transaction's SMTPUTF8 flag.
 */
const char *policy_rcpt(const struct config *, const struct peer *,
	    const char *, int, struct addr *);

/* rcptmap_has - 1 when the address (or "@domain") is in the list */
int	rcptmap_has(const struct rcptmap *, const struct addr *);

#endif
