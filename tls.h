/*
 * tls.h - STARTTLS without TLS code: the connection is handed to a TLS
 * program (tls_wrapper, stunnel4) and the plaintext side comes back.
 */
#ifndef TLS_H
#define TLS_H

#include "config.h"

/* argv[0] of smtpfe as the wrapper starts it after the handshake. */
#define TLS_HANDBACK_NAME	"smtpfe-tls-handback"
/* In the wrapper and the hand-back: the socketpair end to the session. */
#define TLS_HANDBACK_FD		3
/* The hand-back sends its fd 0 this many times: the session's 0, 1, 2. */
#define TLS_HANDBACK_NFD	3
/* In the wrapper: its configuration, read with "-fd 4". */
#define TLS_CONFIG_FD		4

/* tls_usable - 1 when STARTTLS can be offered; else 0, the cause in WHY */
int	tls_usable(const struct config *, char *, size_t);
/*
 * tls_split - fork the session off a thin TLS parent: 0 in the session
 * (the child), 1 in the parent, -1 with the reason in ERR (no fork).
 */
int	tls_split(char *, size_t);
/* tls_parent - the parent's whole life once dropped to user; exit status */
int	tls_parent(const struct config *);
/* tls_offered - in the session: STARTTLS may be offered (not yet used) */
int	tls_offered(void);
/* tls_control_fd - the session's end of the control socket, or -1 */
int	tls_control_fd(void);
/*
 * tls_start - in the session, after the 220: give up IN and OUT, let the
 * parent start the wrapper, wait up to MS for the plaintext descriptor.
 * The new descriptor, or -1 (the connection is then gone).
 */
int	tls_start(int, int, long long);
/* tls_handback - argv[0] TLS_HANDBACK_NAME: send fd 0 over fd 3; status */
int	tls_handback(void);
/* tls_explain - -b: would a real session offer STARTTLS, and why */
void	tls_explain(const struct config *);
/* tls_confcheck - -n: wrapper, certificate and key as UID/GID would use
 * them (uid -1: the caller's own); the number of problems reported */
int	tls_confcheck(const struct config *, long long, long long,
	    void (*)(void *, const char *), void *);

#endif
