/*
 * session.c - the SMTP state machine.
 *
 * One enum of states, one command table, one function that changes state.
 * Every command line comes from netio_getline(); DATA goes through the
 * decoder straight into the spool file and the content scanner, so its
 * size never touches memory.  The session is one fixed-size static struct:
 * nothing here allocates.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "dnsbl.h"
#include "mime.h"
#include "netio.h"
#include "policy.h"
#include "session.h"
#include "spool.h"
#include "tls.h"
#include "utf8.h"

/* Our choice, after Postfix's error sleep: errors past the third are
 * answered 100 ms later each, up to a second, to slow down guessing. */
#define TARPIT_FREE		3
#define TARPIT_STEP_MS		100
#define TARPIT_MAX_MS		1000
/* Our choice: room for the recipients named in one summary log line. */
#define LOG_RCPT_MAX		2048

enum state {
	ST_START,		/* greeted; no HELO/EHLO yet */
	ST_HELO,		/* HELO/EHLO seen; no transaction */
	ST_MAIL,		/* MAIL accepted */
	ST_RCPT,		/* at least one RCPT accepted */
	ST_QUIT			/* closing */
};

static const char *const state_names[] = {
	"start", "helo", "mail", "rcpt", "quit"
};

struct session {
	const struct config	*conf;
	struct peer		 peer;
	enum session_mode	 mode;
	int			 relay;
	int			 esmtp;
	enum state		 state;
	unsigned long long	 nerrors;
	unsigned long long	 njunk;
	unsigned long long	 nmessages;
	struct envelope		 env;
	struct netio		 io;
	struct spool_msg	 msg;
	struct data_decoder	 dd;
	struct mime		 mime;
	struct dnsbl		*dns;		/* queries out, not yet awaited */
	char			 line[SMTP_LINE_MAX + 1];
};

struct command {
	const char	*name;
	int		 junk;		/* counts toward max_junk_commands */
	int		 group_end;	/* ends a pipelined group (RFC 2920) */
	const char	*(*check)(struct session *, const char *);
	void		 (*proceed)(struct session *, const char *);
};

/* Static: the envelope alone is large, and untouched pages cost nothing. */
static struct session sess;

static void	session_log(struct session *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* session_log - one log line: syslog, or stderr in test mode */
static void
session_log(struct session *s, int prio, const char *fmt, ...)
{
	char buf[1024 + LOG_RCPT_MAX];
	va_list ap;

	if (s->mode == SESSION_QUIET)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (s->mode == SESSION_TEST) {
		(void)netio_flush(&s->io);
		(void)fprintf(stderr, ">>> %s\n", buf);
		(void)fflush(stderr);
	} else
		syslog(prio, "%s", buf);
}

/* session_enter - the one place where the state changes */
static void
session_enter(struct session *s, enum state next)
{
	if (s->state != next && s->mode == SESSION_TEST)
		session_log(s, LOG_DEBUG, "state %s -> %s",
		    state_names[s->state], state_names[next]);
	s->state = next;
}

/* session_reset - forget the transaction (RSET, HELO, end of DATA) */
static void
session_reset(struct session *s)
{
	s->env.nrcpt = 0;
	s->env.body = BODY_NONE;
	s->env.smtputf8 = 0;
	s->env.sender.path[0] = '\0';
	if (s->state > ST_HELO && s->state != ST_QUIT)
		session_enter(s, ST_HELO);
}

/* tarpit - delay the reply to an error once errors pile up */
static void
tarpit(struct session *s)
{
	long long ms;
	struct timespec ts;

	if (s->nerrors <= TARPIT_FREE)
		return;
	ms = (long long)(s->nerrors - TARPIT_FREE) * TARPIT_STEP_MS;
	if (ms > TARPIT_MAX_MS)
		ms = TARPIT_MAX_MS;
	(void)netio_flush(&s->io);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* timeout_reply - the 421 for a timeout, naming the limit that ran out */
static const char *
timeout_reply(const struct session *s)
{
	if (now_ms() >= s->io.session_end)
		return "421 4.4.2 Session too long (session_timeout), closing "
		    "connection";
	return "421 4.4.2 Timeout waiting for the client (timeout), closing "
	    "connection";
}

/*
 * reply - answer a command.  Every 5xx answer to a command is a client
 * error: it counts toward max_errors and is tarpitted; reaching the limit
 * ends the session.
 */
static void
reply(struct session *s, const char *text)
{
	if (text[0] == '5') {
		s->nerrors++;
		tarpit(s);
	}
	netio_reply(&s->io, text);
	if (text[0] == '5' && s->nerrors >= s->conf->max_errors) {
		session_log(s, LOG_NOTICE, "too many errors from %s (%llu, "
		    "max_errors)", s->peer.text, s->nerrors);
		netio_reply(&s->io, "421 4.7.0 Too many errors (max_errors), "
		    "closing connection");
		session_enter(s, ST_QUIT);
	}
}

/* refuse - answer with a refusal and log why, naming the client */
static void
refuse(struct session *s, const char *what, const char *text)
{
	session_log(s, LOG_NOTICE, "refused %s from %s: %s", what,
	    s->peer.text, text);
	reply(s, text);
}

/* need_helo - MAIL needs HELO/EHLO first and no open transaction */
static const char *
need_helo(struct session *s, const char *arg)
{
	(void)arg;
	if (s->state == ST_START)
		return "503 5.5.1 Send HELO or EHLO first";
	if (s->state != ST_HELO)
		return "503 5.5.1 Nested MAIL command";
	return NULL;
}

/* need_mail - RCPT needs a MAIL */
static const char *
need_mail(struct session *s, const char *arg)
{
	(void)arg;
	if (s->state != ST_MAIL && s->state != ST_RCPT)
		return "503 5.5.1 Send MAIL first";
	return NULL;
}

/* need_rcpt - DATA needs an accepted RCPT and no argument */
static const char *
need_rcpt(struct session *s, const char *arg)
{
	if (s->state == ST_MAIL)
		return "503 5.5.1 No valid recipients";
	if (s->state != ST_RCPT)
		return "503 5.5.1 Send MAIL and RCPT first";
	if (arg[0] != '\0')
		return "501 5.5.4 DATA takes no arguments";
	return NULL;
}

/* no_arg - RSET and QUIT take no argument */
static const char *
no_arg(struct session *s, const char *arg)
{
	(void)s;
	return arg[0] == '\0' ? NULL : "501 5.5.4 No arguments allowed";
}

/* greet_helo - HELO and EHLO share everything but the reply */
static int
greet_helo(struct session *s, const char *arg, int esmtp)
{
	const char *r;

	if (*arg == ' ')
		arg++;
	if ((r = policy_helo(arg)) != NULL) {
		refuse(s, esmtp ? "EHLO" : "HELO", r);
		return -1;
	}
	session_reset(s);
	(void)str_copy(s->env.helo, arg, sizeof(s->env.helo));
	s->esmtp = esmtp;
	if (s->state == ST_START)
		session_enter(s, ST_HELO);
	return 0;
}

/* cmd_helo - HELO name */
static void
cmd_helo(struct session *s, const char *arg)
{
	char buf[SMTP_REPLY_MAX];

	if (greet_helo(s, arg, 0) == -1)
		return;
	(void)snprintf(buf, sizeof(buf), "250 %s", s->conf->hostname);
	netio_reply(&s->io, buf);
}

/* cmd_ehlo - EHLO name: only what the server really does */
static void
cmd_ehlo(struct session *s, const char *arg)
{
	char buf[SMTP_REPLY_MAX];

	if (greet_helo(s, arg, 1) == -1)
		return;
	(void)snprintf(buf, sizeof(buf), "250-%s", s->conf->hostname);
	netio_reply(&s->io, buf);
	netio_reply(&s->io, "250-PIPELINING");
	(void)snprintf(buf, sizeof(buf), "250-SIZE %llu",
	    s->conf->max_message_size);
	netio_reply(&s->io, buf);
	netio_reply(&s->io, "250-8BITMIME");
	if (s->conf->smtputf8)
		netio_reply(&s->io, "250-SMTPUTF8");
	netio_reply(&s->io, "250-ENHANCEDSTATUSCODES");
	/* SPEC's order: STARTTLS last, when it is offered. */
	if (tls_offered() && !s->env.tls) {
		netio_reply(&s->io, "250-HELP");
		netio_reply(&s->io, "250 STARTTLS");
	} else
		netio_reply(&s->io, "250 HELP");
}

/* cmd_mail - MAIL FROM:<addr> [SIZE=n] [BODY=...] */
static void
cmd_mail(struct session *s, const char *arg)
{
	struct mailargs ma;
	const char *r;

	if ((r = policy_mail(s->conf, arg, &ma)) != NULL) {
		refuse(s, "MAIL", r);
		return;
	}
	if (s->nmessages >= s->conf->max_messages) {
		refuse(s, "MAIL", "452 4.5.3 Too many messages in one session "
		    "(max_messages)");
		return;
	}
	if (s->mode != SESSION_TEST && (r = spool_check_space(s->conf,
	    ma.size_given ? ma.size : 0)) != NULL) {
		session_log(s, LOG_WARNING, "spool short of space "
		    "(min_free_space) for %s", s->peer.text);
		reply(s, r);
		return;
	}
	s->env.sender = ma.from;
	s->env.body = ma.body;
	s->env.smtputf8 = ma.smtputf8;
	s->env.nrcpt = 0;
	if (s->mode == SESSION_TEST && ma.smtputf8)
		session_log(s, LOG_DEBUG, "SMTPUTF8 transaction: the addresses "
		    "may hold UTF-8 (RFC 6531); the spool says Smtputf8: yes");
	session_enter(s, ST_MAIL);
	netio_reply(&s->io, "250 2.1.0 Sender ok");
}

/* say_dnsbl - a dnsbl_explain line, as a session log line */
static void
say_dnsbl(void *arg, int prio, const char *line)
{
	session_log(arg, prio, "%s", line);
}

/*
 * await_dnsbl - at the first RCPT: wait for what is left of the queries'
 * 3 seconds (nothing before RCPT ever waits), log the outcome, and hand
 * the listing to policy in the peer.
 */
static void
await_dnsbl(struct session *s)
{
	const struct dnsbl_query *q;

	if (s->dns == NULL)
		return;
	dnsbl_wait(s->dns, 0);
	dnsbl_explain(s->dns, &s->peer, 0, say_dnsbl, s);
	if ((q = dnsbl_listing(s->dns)) != NULL)
		(void)dnsbl_refusal(s->peer.dnsbl, sizeof(s->peer.dnsbl),
		    &s->peer, q->zone);
	s->dns = NULL;
}

/* session_dnsbl - see session.h */
void
session_dnsbl(struct dnsbl *d)
{
	sess.dns = d;
}

/* explain_idn - for -b: the A-label form policy compared a U-label in */
static void
explain_idn(struct session *s, const char *domain)
{
	char ace[IDN_DOMAIN_ACE_MAX + 1];
	size_t len = strlen(domain);

	if (!str_has_8bit(domain, len) ||
	    idn_domain_ascii(domain, len, ace, sizeof(ace)) < 0)
		return;
	session_log(s, LOG_DEBUG, "domain %.255s is %.300s in A-label form "
	    "(compared so with local_domains and recipients)", domain, ace);
}

/* cmd_rcpt - RCPT TO:<addr> */
static void
cmd_rcpt(struct session *s, const char *arg)
{
	struct addr a;
	const char *r;

	if (s->env.nrcpt >= s->conf->max_recipients ||
	    s->env.nrcpt >= ENVELOPE_RCPT_MAX) {
		refuse(s, "RCPT", "452 4.5.3 Too many recipients "
		    "(max_recipients)");
		return;
	}
	await_dnsbl(s);
	if ((r = policy_rcpt(s->conf, &s->peer, arg, s->env.smtputf8,
	    &a)) != NULL) {
		char what[SMTP_LINE_MAX];

		str_printable(what, sizeof(what), arg, strlen(arg));
		session_log(s, LOG_NOTICE, "refused RCPT%s from %s (sender %s):"
		    " %s", what, s->peer.text, s->env.sender.path, r);
		reply(s, r);
		return;
	}
	s->env.rcpt[s->env.nrcpt++] = a;
	if (s->mode == SESSION_TEST) {
		explain_idn(s, a.domain);
		session_log(s, LOG_DEBUG, "recipient %s accepted: %s", a.path,
		    a.literal || !domain_is_local(s->conf, a.domain) ?
		    "relay client (relay_networks)" : "local domain "
		    "(local_domains)");
	}
	session_enter(s, ST_RCPT);
	netio_reply(&s->io, "250 2.1.5 Recipient ok");
}

/* data_sink - decoded message octets: to the scanner and the spool */
static void
data_sink(struct session *s, const char *p, size_t len)
{
	if (len == 0)
		return;
	mime_feed(&s->mime, p, len);
	if (s->mode != SESSION_TEST && s->dd.size <= s->conf->max_message_size)
		(void)spool_write(&s->msg, p, len);
}

/* data_read - stream DATA to its end; 0 at the end, -1 EOF, -2 timeout */
static int
data_read(struct session *s)
{
	struct netio *io = &s->io;

	for (;;) {
		char *p = io->ibuf + io->ipos;
		size_t used, outlen;
		int r;

		if (io->ipos == io->ilen) {
			if ((r = netio_fill(io, io->session_end)) != 1)
				return r == 0 ? -1 : -2;
			continue;
		}
		used = data_decode(&s->dd, p, io->ilen - io->ipos, p, &outlen);
		io->ipos += used;
		data_sink(s, p, outlen);
		if (s->dd.state == DATA_END)
			return 0;
	}
}

/* data_open - start the spool file: envelope and our Received: header */
static const char *
data_open(struct session *s)
{
	struct mime_policy mp;

	mp.accept_partial = s->conf->mime_partial_accept;
	mp.accept_external = s->conf->external_body_accept;
	mp.max_received = s->conf->max_received;
	mime_init(&s->mime, &mp);
	data_init(&s->dd);
	s->env.arrived = time(NULL);
	s->msg.fd = -1;
	s->msg.tmp[0] = '\0';
	if (s->mode == SESSION_TEST)
		return NULL;
	if (spool_open(&s->msg) == -1) {
		session_log(s, LOG_ERR, "cannot create a spool file: %s",
		    strerror(s->msg.error));
		return spool_reply(s->msg.error);
	}
	/* Write errors are kept in msg.error and answered after the data. */
	if (spool_envelope(&s->msg, &s->env) == 0)
		(void)spool_received(&s->msg, &s->env, s->conf->hostname,
		    s->esmtp);
	return NULL;
}

/* data_verdict - after CRLF.CRLF: refuse, or make it durable */
static const char *
data_verdict(struct session *s)
{
	const char *r;

	if (s->dd.bad_eol)
		r = "550 5.6.0 Bare CR or LF in message; lines must end with "
		    "CRLF";
	else if (s->dd.nul)
		r = "550 5.6.0 NUL octet in message";
	else if (s->dd.size > s->conf->max_message_size)
		r = "552 5.3.4 Message exceeds max_message_size";
	else if ((r = mime_verdict(&s->mime)) != NULL)
		;
	else if (s->mode == SESSION_TEST)
		return "250 2.0.0 Message accepted (test mode: not queued)";
	else
		return spool_commit(&s->msg);
	spool_abort(&s->msg);
	return r;
}

/* log_summary - one line per transaction that reached the end of DATA */
static void
log_summary(struct session *s, const char *verdict)
{
	char rcpts[LOG_RCPT_MAX];
	size_t i, off = 0;

	rcpts[0] = '\0';
	for (i = 0; i < s->env.nrcpt; i++) {
		int n = snprintf(rcpts + off, sizeof(rcpts) - off, "%s%s",
		    i > 0 ? "," : "", s->env.rcpt[i].path);

		if (n < 0 || (size_t)n >= sizeof(rcpts) - off) {
			rcpts[off] = '\0';
			(void)snprintf(rcpts + off, sizeof(rcpts) - off,
			    ",...(%zu in all)", s->env.nrcpt);
			break;
		}
		off += (size_t)n;
	}
	session_log(s, verdict[0] == '2' ? LOG_INFO : LOG_NOTICE,
	    "client=%s helo=%s from=%s to=%s size=%llu id=%s verdict=\"%s\"%s",
	    s->peer.text, s->env.helo, s->env.sender.path, rcpts, s->dd.size,
	    verdict[0] == '2' && s->mode != SESSION_TEST ? s->msg.id : "-",
	    verdict, s->env.tls ? " tls=yes" : "");
}

/* cmd_data - DATA: 354, the message, then the verdict */
static void
cmd_data(struct session *s, const char *arg)
{
	char buf[SMTP_REPLY_MAX];
	const char *r;
	int end;

	(void)arg;
	if ((r = data_open(s)) != NULL) {
		reply(s, r);
		return;
	}
	netio_reply(&s->io, "354 End data with <CR><LF>.<CR><LF>");
	if ((end = data_read(s)) != 0) {
		spool_abort(&s->msg);
		session_log(s, LOG_NOTICE, "%s from %s during DATA, nothing "
		    "queued", end == -1 ? "lost connection" : "timeout",
		    s->peer.text);
		if (end == -2)
			netio_reply(&s->io, timeout_reply(s));
		session_enter(s, ST_QUIT);
		return;
	}
	/* max_messages counts messages, whatever their verdict. */
	s->nmessages++;
	r = data_verdict(s);
	if (r == NULL) {
		(void)snprintf(buf, sizeof(buf), "250 2.0.0 queued as %s",
		    s->msg.id);
		r = buf;
		/* max_errors counts errors since the last accepted message. */
		s->nerrors = 0;
	}
	log_summary(s, r);
	netio_reply(&s->io, r);
	session_reset(s);
}

/* cmd_rset - RSET */
static void
cmd_rset(struct session *s, const char *arg)
{
	(void)arg;
	session_reset(s);
	netio_reply(&s->io, "250 2.0.0 Reset");
}

/* cmd_noop - NOOP (an argument is allowed, RFC 5321 4.1.1.9) */
static void
cmd_noop(struct session *s, const char *arg)
{
	(void)arg;
	netio_reply(&s->io, "250 2.0.0 OK");
}

/* cmd_vrfy - VRFY tells nothing about any address */
static void
cmd_vrfy(struct session *s, const char *arg)
{
	(void)arg;
	netio_reply(&s->io, "252 2.5.2 Cannot verify; send mail and it will "
	    "be delivered if possible");
}

/* cmd_expn - EXPN tells nothing either */
static void
cmd_expn(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, "502 5.5.1 EXPN is not offered");
}

/* cmd_help - HELP */
static void
cmd_help(struct session *s, const char *arg)
{
	(void)arg;
	netio_reply(&s->io, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA");
	netio_reply(&s->io, "214-2.0.0 RSET NOOP VRFY HELP QUIT");
	netio_reply(&s->io, "214 2.0.0 End of HELP");
}

/* cmd_quit - QUIT */
static void
cmd_quit(struct session *s, const char *arg)
{
	(void)arg;
	netio_reply(&s->io, "221 2.0.0 Bye");
	session_enter(s, ST_QUIT);
}

/* need_starttls - STARTTLS: offered, no argument, after EHLO, no MAIL */
static const char *
need_starttls(struct session *s, const char *arg)
{
	if (s->env.tls)
		return "503 5.5.1 TLS already active";
	if (!tls_offered())
		return "502 5.5.1 STARTTLS not offered";
	if (arg[0] != '\0')
		return "501 5.5.4 STARTTLS takes no arguments";
	if (s->state == ST_START || !s->esmtp)
		return "503 5.5.1 Send EHLO first";
	if (s->state != ST_HELO)
		return "503 5.5.1 STARTTLS not allowed during a mail transaction";
	return NULL;
}

/*
 * session_tls_restart - the handshake is done: the session starts over
 * on FD (RFC 3207 4.2), with nothing learnt from the client kept; the
 * session deadline and the error counts are not the client's to reset.
 */
static void
session_tls_restart(struct session *s, int fd)
{
	long long end = s->io.session_end;

	netio_init(&s->io, fd, fd, s->conf->timeout, s->conf->session_timeout);
	s->io.session_end = s->io.read_end = end;
	session_reset(s);
	session_enter(s, ST_START);
	s->esmtp = 0;
	s->env.helo[0] = '\0';
	s->env.tls = 1;
	session_log(s, LOG_INFO, "TLS started with %s", s->peer.text);
}

/*
 * cmd_starttls - STARTTLS.  Input already there when the 220 would go
 * out was sent before TLS and would run inside it (CVE-2011-0411): 554
 * and close, whoever the client is.  After the 220 the plaintext
 * connection belongs to the wrapper; a failure there ends the session.
 */
static void
cmd_starttls(struct session *s, const char *arg)
{
	char what[PIPELINE_LOG_MAX * 4 + 1];
	size_t n;
	int fd;

	(void)arg;
	if (netio_pending(&s->io)) {
		n = s->io.ilen - s->io.ipos;
		str_escape(what, sizeof(what), s->io.ibuf + s->io.ipos,
		    n < PIPELINE_LOG_MAX ? n : PIPELINE_LOG_MAX);
		session_log(s, LOG_NOTICE, "input after STARTTLS before its "
		    "reply from %s (plaintext injection): \"%s\"",
		    s->peer.text, what);
		netio_reply(&s->io, "554 5.5.0 Input after STARTTLS before "
		    "its reply; closing connection");
		session_enter(s, ST_QUIT);
		return;
	}
	netio_reply(&s->io, "220 2.0.0 Ready to start TLS");
	if (netio_flush(&s->io) == -1 ||
	    (fd = tls_start(s->io.in, s->io.out, s->io.idle_ms)) == -1) {
		session_log(s, LOG_NOTICE, "TLS handshake with %s failed or "
		    "timed out", s->peer.text);
		/* Nothing is left to do: no transaction is open (STARTTLS
		 * needs none), and the client's descriptors are gone. */
		_exit(0);
	}
	session_tls_restart(s, fd);
}

/* cmd_backdoor - sendmail's old debug commands: refuse loudly */
static void
cmd_backdoor(struct session *s, const char *arg)
{
	char what[LOG_TEXT_MAX];

	(void)arg;
	str_printable(what, sizeof(what), s->line, strlen(s->line));
	session_log(s, LOG_ALERT, "back-door command \"%s\" from %s", what,
	    s->peer.text);
	reply(s, "502 5.5.1 Command not implemented");
}

/* cmd_notoffered - known extensions this server deliberately lacks */
static void
cmd_notoffered(struct session *s, const char *arg)
{
	(void)arg;
	refuse(s, "command", "502 5.5.1 Command not implemented");
}

static const struct command commands[] = {
	{ "HELO",	0, 1, NULL,		cmd_helo },
	{ "EHLO",	0, 1, NULL,		cmd_ehlo },
	{ "MAIL",	0, 0, need_helo,	cmd_mail },
	{ "RCPT",	0, 0, need_mail,	cmd_rcpt },
	{ "DATA",	0, 1, need_rcpt,	cmd_data },
	{ "RSET",	1, 0, no_arg,		cmd_rset },
	{ "NOOP",	1, 1, NULL,		cmd_noop },
	{ "VRFY",	1, 1, NULL,		cmd_vrfy },
	{ "EXPN",	0, 1, NULL,		cmd_expn },
	{ "HELP",	1, 0, NULL,		cmd_help },
	{ "QUIT",	0, 0, no_arg,		cmd_quit },
	{ "DEBUG",	0, 0, NULL,		cmd_backdoor },
	{ "WIZ",	0, 0, NULL,		cmd_backdoor },
	{ "SHELL",	0, 0, NULL,		cmd_backdoor },
	{ "STARTTLS",	0, 0, need_starttls,	cmd_starttls },
	{ "AUTH",	0, 0, NULL,		cmd_notoffered },
	{ "BDAT",	0, 0, NULL,		cmd_notoffered },
	{ "TURN",	0, 0, NULL,		cmd_notoffered },
	{ "ATRN",	0, 0, NULL,		cmd_notoffered },
	{ "ETRN",	0, 0, NULL,		cmd_notoffered },
	{ "SEND",	0, 0, NULL,		cmd_notoffered },
	{ "SOML",	0, 0, NULL,		cmd_notoffered },
	{ "SAML",	0, 0, NULL,		cmd_notoffered },
	{ "XCLIENT",	0, 0, NULL,		cmd_notoffered },
	{ "XFORWARD",	0, 0, NULL,		cmd_notoffered },
	{ NULL,		0, 0, NULL,		NULL }
};

/* command_find - the table row for the verb that starts LINE */
static const struct command *
command_find(const char *line, const char **arg)
{
	const struct command *c;
	size_t n = strcspn(line, " ");

	*arg = line + n;
	for (c = commands; c->name != NULL; c++)
		if (strlen(c->name) == n && str_ncasecmp(line, c->name, n) == 0)
			return c;
	return NULL;
}

/*
 * pipelining_refused - RFC 2920 section 3.1: a command that ends a group
 * (EHLO, HELO, DATA, VRFY, EXPN, NOOP) must be the last one before the
 * client waits; a client that was not offered PIPELINING (HELO, or no
 * greeting yet) must wait after every command.  Input already there when its reply is about to go out
 * was sent before the client saw that reply; from a client that is not a
 * relay client it gets 554 instead, and the session ends (Postfix's
 * smtpd_forbid_unauth_pipelining).  A client that waited has sent nothing
 * yet, so this can never fire on it.  -b reads a pipe: never applied.
 */
static int
pipelining_refused(struct session *s, const struct command *c)
{
	char what[PIPELINE_LOG_MAX * 4 + 1];
	struct netio *io = &s->io;
	size_t n;

	/* Without EHLO's PIPELINING (HELO, or no greeting yet) every
	 * command ends a group. */
	if ((!c->group_end && s->esmtp) || s->relay ||
	    s->mode == SESSION_TEST || !netio_pending(io))
		return 0;
	n = io->ilen - io->ipos;
	str_escape(what, sizeof(what), io->ibuf + io->ipos,
	    n < PIPELINE_LOG_MAX ? n : PIPELINE_LOG_MAX);
	session_log(s, LOG_NOTICE, "improper pipelining from %s after %s: "
	    "\"%s\"", s->peer.text, c->name, what);
	netio_reply(io, "554 5.5.0 Protocol error: commands sent before the "
	    "reply to the last one (RFC 2920)");
	session_enter(s, ST_QUIT);
	return 1;
}

/* session_command - run one command line */
static void
session_command(struct session *s)
{
	const struct command *c;
	const char *arg, *r;

	if ((c = command_find(s->line, &arg)) == NULL) {
		char what[LOG_TEXT_MAX];

		str_printable(what, sizeof(what), s->line, strlen(s->line));
		session_log(s, LOG_NOTICE, "unknown command from %s: %s",
		    s->peer.text, what);
		reply(s, "500 5.5.2 Command unrecognized");
		return;
	}
	if (pipelining_refused(s, c))
		return;
	if (c->junk && ++s->njunk > s->conf->max_junk_commands) {
		session_log(s, LOG_NOTICE, "too many NOOP/RSET/VRFY/HELP from "
		    "%s (max_junk_commands)", s->peer.text);
		netio_reply(&s->io, "421 4.7.0 Too many commands without mail "
		    "(max_junk_commands), closing connection");
		session_enter(s, ST_QUIT);
		return;
	}
	if (c->check != NULL && (r = c->check(s, arg)) != NULL) {
		refuse(s, c->name, r);
		return;
	}
	c->proceed(s, arg);
}

/* session_line - read the next command line and dispatch it */
static void
session_line(struct session *s)
{
	size_t len;

	switch (netio_getline(&s->io, s->line, sizeof(s->line), &len)) {
	case LINE_OK:
		if (memchr(s->line, '\0', len) != NULL) {
			refuse(s, "command", "500 5.5.2 NUL octet in command");
			return;
		}
		session_command(s);
		return;
	case LINE_TOOLONG:
		refuse(s, "command", "500 5.5.2 Command line too long (512 "
		    "octets at most)");
		return;
	case LINE_BADEOL:
		refuse(s, "command", "500 5.5.2 Bare CR in command line");
		return;
	case LINE_EOF:
		session_log(s, LOG_INFO, "lost connection from %s",
		    s->peer.text);
		break;
	case LINE_TIMEOUT:
		session_log(s, LOG_NOTICE, "timeout from %s", s->peer.text);
		netio_reply(&s->io, timeout_reply(s));
		break;
	}
	session_enter(s, ST_QUIT);
}

/*
 * session_greet - the greeting.  A client that is not a relay client is
 * made to wait between the first and the last line: one that talks before
 * the last line is a bot that does not wait for replies.
 */
static int
session_greet(struct session *s)
{
	char buf[SMTP_REPLY_MAX];
	int r;

	if (s->conf->greet_pause > 0 && !s->relay && s->mode == SESSION_TEST)
		session_log(s, LOG_DEBUG, "greet_pause: a client like this "
		    "one waits %llu ms for the greeting (not in test mode)",
		    s->conf->greet_pause);
	else if (s->conf->greet_pause > 0 && !s->relay) {
		(void)snprintf(buf, sizeof(buf), "220-%s", s->conf->hostname);
		netio_reply(&s->io, buf);
		r = netio_wait_input(&s->io, (long long)s->conf->greet_pause);
		if (r == -1)
			return -1;
		if (r == 1) {
			session_log(s, LOG_NOTICE, "early talker %s: sent data "
			    "before the greeting", s->peer.text);
			netio_reply(&s->io, "554 5.5.1 Protocol error: data "
			    "sent before the greeting");
			return -1;
		}
	}
	(void)snprintf(buf, sizeof(buf), "220 %s ESMTP", s->conf->hostname);
	netio_reply(&s->io, buf);
	return 0;
}

/* session_run - serve one session; see session.h */
void
session_run(const struct config *conf, const struct peer *peer, int in,
    int out, enum session_mode mode)
{
	struct session *s = &sess;

	s->conf = conf;
	s->peer = *peer;
	if (!s->peer.known)
		(void)str_copy(s->peer.text, "unknown", sizeof(s->peer.text));
	s->mode = mode;
	s->relay = peer_is_relay(conf, peer);
	s->esmtp = 0;
	s->state = ST_START;
	s->nerrors = s->njunk = s->nmessages = 0;
	s->msg.fd = -1;
	s->msg.tmp[0] = '\0';
	s->env.helo[0] = '\0';
	s->env.tls = 0;
	(void)str_copy(s->env.client, s->peer.text, sizeof(s->env.client));
	session_reset(s);
	netio_init(&s->io, in, out, conf->timeout, conf->session_timeout);
	session_log(s, LOG_INFO, "connect from %s%s", s->peer.text,
	    s->relay ? " (relay client)" : "");
	if (session_greet(s) == 0)
		while (s->state != ST_QUIT)
			session_line(s);
	spool_abort(&s->msg);
	(void)netio_flush(&s->io);
}
