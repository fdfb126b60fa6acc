/*
 * mime.h - the streaming content scanner (SPEC.md mime_partial,
 * external_body, max_received).
 *
 * It is fed the message as it will be spooled (dot-unstuffed, LF line
 * ends) in pieces of any size, keeps a fixed-size state, and gives its
 * verdict at the end.  The verdict does not depend on how the message
 * was split into pieces.
 *
 * What it follows: the top-level header section (Received: fields are
 * counted there), every Content-Type field, the bodies of multiparts by their
 * boundaries (a delimiter of any enclosing multipart ends the inner
 * parts, as a splitting MUA would see it), and the message inside a
 * message/rfc822 or message/global part (or a part of a multipart/digest
 * without Content-Type).  A structure it cannot follow could hide a
 * message/partial from it, so when a content rule is in force (either
 * kind is refused) such a structure is refused as well; see mime.c.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

/* Our choice: header line kept for parsing (folded lines joined). */
#define MIME_HDR_MAX		1024
/* Our choice: multipart nesting we follow; deeper is refused. */
#define MIME_DEPTH_MAX		16
/* RFC 2046 5.1.1: a boundary is at most 70 octets. */
#define MIME_BOUNDARY_MAX	70
/* Our choice: octets of one header section (LFs included, the empty
 * line that ends it not); beyond it the message is refused. */
#define MIME_SECTION_MAX	1048576
/* RFC 2046 5.1.1: "--" boundary "--" is all of a delimiter line that
 * matters; the rest may only be white space (transport padding). */
#define MIME_LINE_KEEP		(2 + MIME_BOUNDARY_MAX + 2)

struct mime_policy {
	int			 accept_partial;
	int			 accept_external;
	unsigned long long	 max_received;
};

/* The first octets of the physical line, for boundary matching. */
struct mime_line {
	int			 cand;		/* may be a delimiter line */
	int			 junk;		/* non-blank octet past buf */
	size_t			 len;
	char			 buf[MIME_LINE_KEEP];
};

/* The header field being gathered (folded lines joined). */
struct mime_field {
	int			 pending;
	int			 trunc;		/* longer than buf */
	size_t			 len;
	char			 buf[MIME_HDR_MAX];
};

/* What the current header section says about its body. */
struct mime_sect {
	unsigned long long	 len;		/* octets so far */
	int			 ctseen;	/* a Content-Type was seen */
	int			 kind;		/* MIME_K_* in mime.c */
	int			 digest;	/* multipart/digest */
	int			 usable;	/* boundary usable */
	int			 encoded;	/* base64 or quoted-printable */
	size_t			 blen;
	char			 bnd[MIME_BOUNDARY_MAX + 1];
};

/* Fixed size: the session holds one; the scanner never allocates. */
struct mime {
	struct mime_policy	 pol;
	const char		*verdict;	/* first refusal, or NULL */
	int			 head;		/* in a header section */
	int			 bol;		/* at the start of a line */
	int			 done;		/* mime_verdict was called */
	unsigned long long	 received;	/* top-level Received: */
	struct mime_line	 line;
	struct mime_field	 field;
	struct mime_sect	 sect;
	/* the frames we are inside: a multipart (blen > 0) or a message */
	size_t			 depth;
	size_t			 nmulti;	/* multipart frames */
	int			 digest[MIME_DEPTH_MAX];
	size_t			 blen[MIME_DEPTH_MAX];
	char			 bnd[MIME_DEPTH_MAX][MIME_BOUNDARY_MAX + 1];
};

/* mime_init - start a new message */
void	mime_init(struct mime *, const struct mime_policy *);
/* mime_feed - scan the next LEN octets of the message */
void	mime_feed(struct mime *, const char *, size_t);
/* mime_verdict - at the end: NULL to accept, or the reply line */
const char *mime_verdict(struct mime *);

#endif
