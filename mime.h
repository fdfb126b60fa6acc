/*
 * mime.h - the streaming content scanner (SPEC.md mime_partial,
 * external_body, max_received).
 *
 * It is fed the message as it will be spooled (dot-unstuffed, LF line
 * ends) in pieces of any size, keeps a fixed-size state, and gives its
 * verdict at the end.
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

struct mime_policy {
	int			 accept_partial;
	int			 accept_external;
	unsigned long long	 max_received;
};

/* Fixed size: the session holds one; the scanner never allocates. */
struct mime {
	struct mime_policy	 pol;
	const char		*verdict;	/* first refusal, or NULL */
	/* the scanner's state follows */
};

/* mime_init - start a new message */
void	mime_init(struct mime *, const struct mime_policy *);
/* mime_feed - scan the next LEN octets of the message */
void	mime_feed(struct mime *, const char *, size_t);
/* mime_verdict - at the end: NULL to accept, or the reply line */
const char *mime_verdict(struct mime *);

#endif
