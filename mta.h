/*
 * mta.h - the runner's SMTP client (handoff = smtp:ADDR:PORT): one
 * kept-open connection to the MTA's local listener, SPEC.md "The runner".
 */
#ifndef MTA_H
#define MTA_H

#include <sys/socket.h>

#include <stddef.h>

#include "config.h"
#include "spool.h"

enum mta_verdict {
	MTA_SENT,		/* 250 to the end of DATA: remove */
	MTA_FAIL,		/* 5xx, or SMTPUTF8 needed and not offered */
	MTA_DEFER		/* 4xx, no connection, timeout, drop */
};

/* mta_target - parse "smtp:ADDR:PORT" or "smtp:[V6]:PORT"; 0, or -1 */
int	mta_target(const char *, struct sockaddr_storage *, socklen_t *);
/*
 * mta_send - hand one message to the MTA: ENV, the body read from FD
 * (positioned at the message part); DETAIL gets the reply for the log.
 */
enum mta_verdict mta_send(const struct config *, const struct envelope *,
	    int, char *, size_t);
/* mta_probe - smtpfe -n: does the listener greet with 220?  0, or -1 */
int	mta_probe(const struct config *, char *, size_t);
/* mta_idle - close the kept connection when it has been idle too long */
void	mta_idle(void);
/* mta_close - QUIT and close the kept connection, if any */
void	mta_close(void);

/* For the tests: when non-zero, every timeout in milliseconds. */
extern long mta_test_timeout_ms;

#endif
