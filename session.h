/*
 * session.h - one SMTP session, from the greeting to the close.
 */
#ifndef SESSION_H
#define SESSION_H

#include "config.h"
#include "policy.h"

struct dnsbl;

enum session_mode {
	SESSION_SERVE,		/* inetd: syslog, spool for real */
	SESSION_TEST,		/* -b: decisions explained on stderr, no spool */
	SESSION_QUIET		/* fuzzing: spool for real, log nothing */
};

/*
 * session_run - serve one session on IN/OUT for PEER; returns when the
 * client quits, closes, times out or is dropped.  The caller has already
 * dropped privileges and made the spool the current directory.
 */
void	session_run(const struct config *, const struct peer *, int, int,
	    enum session_mode);
/*
 * session_dnsbl - the dnsbl queries sent at start-up (dnsbl_start), for
 * the next session_run to await at its first RCPT; NULL for none.
 */
void	session_dnsbl(struct dnsbl *);

#endif
