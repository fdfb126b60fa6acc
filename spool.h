/*
 * spool.h - the spool: durable writing (session side) and the hand-off to
 * the MTA (runner side, runner.c).
 *
 * Layout (SPEC.md "The spool"): SPOOL/tmp, SPOOL/new, SPOOL/failed.  Both
 * sides work with the spool directory as the current directory, so that
 * the same relative paths work inside and outside the chroot.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <time.h>

#include "config.h"
#include "policy.h"
#include "smtpfe.h"

/* Our choice: the hard ceiling on max_recipients, so the envelope is fixed. */
#define ENVELOPE_RCPT_MAX	1000

/*
 * The runner keeps a message's next try in its mtime (runner.c); -p
 * reads it back (queue.c).  Our choice: the longest back-off.  Our
 * choice: how far ahead of time() an mtime may be and the message still
 * due (file system clocks run ahead; far below the first back-off, so a
 * back-off is never cut short by it).  An mtime further ahead than both
 * was not set by the runner: due as well.
 */
#define SPOOL_RETRY_MAX		3600
#define SPOOL_CLOCK_SLACK	60

/* The envelope block of one spool file. */
struct envelope {
	char		 client[INET6_ADDRSTRLEN + 8];	/* address or "unknown" */
	char		 helo[SMTP_DOMAIN_MAX + 1];
	struct addr	 sender;
	size_t		 nrcpt;
	struct addr	 rcpt[ENVELOPE_RCPT_MAX];
	enum body	 body;
	int		 smtputf8;	/* MAIL carried SMTPUTF8 */
	int		 tls;		/* received after STARTTLS */
	time_t		 arrived;
};

/* A message being written into tmp/. */
struct spool_msg {
	int		 fd;			/* -1 when none is open */
	char		 id[SPOOL_ID_MAX];
	char		 tmp[SPOOL_ID_MAX + 8];	/* "tmp/ID" */
	int		 error;			/* errno of the first failure */
	unsigned long long bytes;		/* written so far */
	size_t		 blen;
	char		 buf[SPOOL_BUF];	/* write buffer */
};

/* spool_check_space - NULL, or the 452 reply when below min_free_space */
const char *spool_check_space(const struct config *, unsigned long long);
/* spool_open - create tmp/ID with O_EXCL, mode 0600; -1 on failure */
int	spool_open(struct spool_msg *);
/* spool_envelope - write the envelope block and the blank line */
int	spool_envelope(struct spool_msg *, const struct envelope *);
/* spool_received - our Received: header, first line of the message */
int	spool_received(struct spool_msg *, const struct envelope *,
	    const char *, int);
/* spool_write - buffered, checked write; -1 (and error set) on failure */
int	spool_write(struct spool_msg *, const char *, size_t);
/* spool_commit - flush, fsync, close, rename into new/, fsync new/ */
const char *spool_commit(struct spool_msg *);
/* spool_reply - the 451/452 reply for a spool failure with this errno */
const char *spool_reply(int);
/* spool_abort - close and unlink the temp file, if any */
void	spool_abort(struct spool_msg *);

/*
 * Runner side (runner.c).  spool_run hands every message in new/ to the
 * MTA once and returns 0, or 75 (EX_TEMPFAIL) when some message stays.
 */
int	spool_run(const struct config *);
/* spool_loop - spool_run every SECONDS until SIGTERM; returns 0 */
int	spool_loop(const struct config *, unsigned long long);
/*
 * envelope_parse - parse and re-validate the envelope block at the start
 * of BUF (LEN octets) with the session's validators; returns the offset of
 * the message part, or -1 with a reason in ERR.
 */
long	envelope_parse(const char *, size_t, struct envelope *, char *,
	    size_t);

#endif
