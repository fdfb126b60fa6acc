/*
 * smtpfe.c - command line, privileges and the modes of smtpfe.
 *
 * Kept thin and apart from the session so that every module links into
 * the tests and fuzzers without a second main().  Order matters here:
 * openlog before chroot, configuration and the recipients map before
 * chroot, the privilege drop before a single byte is read from the client.
 */
#define _GNU_SOURCE	/* setresuid(2), getresuid(2) */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "confcheck.h"
#include "dnsbl.h"
#include "policy.h"
#include "queue.h"
#include "sandbox.h"
#include "session.h"
#include "spool.h"
#include "tls.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc/smtpfe"
#endif
#define DEFAULT_CONF	SYSCONFDIR "/smtpfe.conf"

static volatile sig_atomic_t got_term;

/* usage - the synopsis; smtpfe.8 must match it */
static void
usage(void)
{
	(void)fprintf(stderr, "usage: smtpfe [-f conf]\n"
	    "       smtpfe -q [-f conf]\n"
	    "       smtpfe -Q seconds [-f conf]\n"
	    "       smtpfe -n [-f conf]\n"
	    "       smtpfe -b ip [-f conf]\n"
	    "       smtpfe -l addr:port [-f conf]\n"
	    "       smtpfe -p [-f conf]\n"
	    "       smtpfe -r id... [-f conf]\n"
	    "       smtpfe -V\n");
	exit(EX_USAGE);
}

/* report_syslog - a configuration problem, in session mode */
static void
report_syslog(void *arg, const char *msg)
{
	(void)arg;
	syslog(LOG_ERR, "config: %s", msg);
}

/* report_stderr - a configuration problem, in the terminal modes */
static void
report_stderr(void *arg, const char *msg)
{
	(void)arg;
	(void)fprintf(stderr, "smtpfe: %s\n", msg);
}

/* load - the configuration and the recipients map; the problem count */
static int
load(struct config *conf, const char *path, config_report_fn *report)
{
	int n = config_load(conf, path, report, NULL);

	if (n == 0)
		n = config_map_recipients(conf, report, NULL);
	return n;
}

/* priv_error - format the reason for a failed drop; returns -1 */
static int
priv_error(char *err, size_t len, const char *what, const char *name)
{
	(void)snprintf(err, len, "%s %.200s: %s", what, name, strerror(errno));
	return -1;
}

/*
 * priv_drop - leave root for good: chdir to the spool, chroot there when
 * asked, then groups, gid and uid, and prove that root cannot come back.
 * Not root: just chdir.  0, or -1 with the reason in ERR.
 */
static int
priv_drop(const struct config *conf, int jail, char *err, size_t len)
{
	struct account acct;
	uid_t uid, ruid, euid, suid;
	gid_t gid, rgid, egid, sgid;

	if (geteuid() != 0)
		return chdir(conf->spool) == -1 ?
		    priv_error(err, len, "chdir", conf->spool) : 0;
	if (config_account(conf, &acct) == -1 || acct.uid == 0) {
		errno = ENOENT;
		return priv_error(err, len, "not in " PASSWD_FILE ", or root: user", conf->user);
	}
	uid = (uid_t)acct.uid;
	gid = (gid_t)acct.gid;
	tzset();	/* syslog's time stamps, before /etc goes away */
	if (chdir(conf->spool) == -1)
		return priv_error(err, len, "chdir", conf->spool);
	if (jail && conf->chroot && (chroot(".") == -1 || chdir("/") == -1))
		return priv_error(err, len, "chroot", conf->spool);
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return priv_error(err, len, "cannot become", conf->user);
	if (setuid(0) != -1 || getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 || ruid == 0 || euid == 0 ||
	    suid == 0 || rgid != gid || egid != gid || sgid != gid) {
		errno = EPERM;
		return priv_error(err, len, "root could be regained by",
		    conf->user);
	}
	return 0;
}

/* peer_find - the client: getpeername(0), else TCPREMOTEIP, else unknown */
static void
peer_find(struct peer *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *env;

	memset(peer, 0, sizeof(*peer));
	if (getpeername(0, (struct sockaddr *)&ss, &len) == 0 &&
	    peer_set_sockaddr(peer, (struct sockaddr *)&ss, len) == 0)
		return;
	memset(peer, 0, sizeof(*peer));
	if ((env = getenv("TCPREMOTEIP")) != NULL &&
	    peer_set_text(peer, env) == 0)
		return;
	memset(peer, 0, sizeof(*peer));
}

/* serve_fail - the one fatal path of session mode: log, 421, exit */
static int
serve_fail(const char *why, const char *reply, int code)
{
	syslog(LOG_ERR, "cannot serve: %s", why);
	(void)write(1, reply, strlen(reply));
	return code;
}

/*
 * send_dnsbl - with dnsbl set, the queries for a client that is not a
 * relay client go out now, while sockets may still be made; the session
 * awaits them at the first RCPT.  NULL when nothing is outstanding.
 * A failure is logged once and never blocks (fail-open).
 */
static struct dnsbl *
send_dnsbl(const struct config *conf, const struct peer *peer)
{
	static struct dnsbl dns;

	if (conf->ndnsbl == 0 || !peer->known || peer_is_relay(conf, peer))
		return NULL;
	if (dnsbl_start(&dns, conf, peer) == -1) {
		syslog(LOG_WARNING, "dnsbl: %s; %s not looked up (fail-open)",
		    dns.error, peer->text);
		return NULL;
	}
	return &dns;
}

/*
 * serve_tls - with TLS configured, fork a thin parent off the session
 * (tls.c); 1 in that parent, 0 in the session or when TLS is not
 * configured (nothing forks), the cause logged when it cannot be offered.
 */
static int
serve_tls(const struct config *conf)
{
	char why[PATH_MAX + 128];
	int r;

	if (!tls_usable(conf, why, sizeof(why))) {
		if (why[0] != '\0')
			syslog(LOG_WARNING, "%s", why);
		return 0;
	}
	if ((r = tls_split(why, sizeof(why))) == -1) {
		syslog(LOG_ERR, "%s", why);
		return 0;
	}
	if (r == 0)
		sandbox_allow_recvmsg(tls_control_fd());
	return r;
}

/* serve - session mode, as inetd runs it; returns the exit status */
static int
serve(const char *path)
{
	static struct config conf;
	struct dnsbl *dns;
	struct peer peer;
	char err[256];

	err[0] = '\0';
	openlog("smtpfe", LOG_PID | LOG_NDELAY, LOG_MAIL);
	if (load(&conf, path, report_syslog) != 0)
		return serve_fail("configuration errors", "421 4.3.5 Server "
		    "configuration error, try again later\r\n", EX_CONFIG);
	peer_find(&peer);
	switch (serve_tls(&conf)) {
	case 1:		/* the TLS parent: dropped to user, no chroot */
		if (priv_drop(&conf, 0, err, sizeof(err)) == -1) {
			syslog(LOG_ERR, "cannot serve: %s", err);
			return EX_OSERR;
		}
		return tls_parent(&conf);
	case 0:		/* the session; TLS offered or not */
		break;
	}
	session_dnsbl(dns = send_dnsbl(&conf, &peer));
	sandbox_pin_fd(dns != NULL ? dns->fd : -1);
	if (priv_drop(&conf, 1, err, sizeof(err)) == -1 ||
	    getuid() == 0 || geteuid() == 0)
		return serve_fail(err[0] != '\0' ? err : "running as root",
		    "421 4.3.0 Server error, try again later\r\n", EX_OSERR);
	if (sandbox_enter(&conf, err, sizeof(err)) == -1)
		return serve_fail(err, "421 4.3.0 Server error, try again "
		    "later\r\n", EX_OSERR);
	session_run(&conf, &peer, 0, 1, SESSION_SERVE);
	return 0;
}

/* print_dnsbl - a dnsbl_explain line, for -b */
static void
print_dnsbl(void *arg, int prio, const char *line)
{
	(void)arg;
	(void)prio;
	(void)fprintf(stderr, ">>> %s\n", line);
}

/*
 * explain_dnsbl - -b: the look-ups done at once, each zone's verdict
 * said, and a listing handed to the session as in session mode.
 */
static void
explain_dnsbl(const struct config *conf, struct peer *peer)
{
	static struct dnsbl dns;
	const struct dnsbl_query *q;

	if (conf->ndnsbl == 0)
		return;
	if (peer_is_relay(conf, peer)) {
		(void)fprintf(stderr, ">>> dnsbl: a relay client is never "
		    "looked up\n");
		return;
	}
	if (dnsbl_start(&dns, conf, peer) == -1) {
		(void)fprintf(stderr, ">>> dnsbl: %s; not looked up "
		    "(fail-open: not listed)\n", dns.error);
		return;
	}
	(void)fprintf(stderr, ">>> dnsbl: asking %s about %s in %zu zone%s\n",
	    dns.resolver, peer->text, dns.nq, dns.nq == 1 ? "" : "s");
	dnsbl_wait(&dns, 1);
	dnsbl_close(&dns);
	dnsbl_explain(&dns, peer, 1, print_dnsbl, NULL);
	if ((q = dnsbl_listing(&dns)) == NULL) {
		(void)fprintf(stderr, ">>> dnsbl: %s is not listed: RCPT is "
		    "judged as usual\n", peer->text);
		return;
	}
	(void)dnsbl_refusal(peer->dnsbl, sizeof(peer->dnsbl), peer, q->zone);
	(void)fprintf(stderr, ">>> dnsbl: %s is listed in %s: every RCPT but "
	    "postmaster@ a local domain gets \"%s\"\n", peer->text, q->zone,
	    peer->dnsbl);
}

/* test_session - -b: a session on the terminal as if from IP */
static int
test_session(const char *path, const char *ip)
{
	static struct config conf;
	struct peer peer;

	if (load(&conf, path, report_stderr) != 0)
		return EX_CONFIG;
	memset(&peer, 0, sizeof(peer));
	if (peer_set_text(&peer, ip) == -1) {
		(void)fprintf(stderr, "smtpfe: -b %s: not an IP address\n", ip);
		return EX_USAGE;
	}
	(void)fprintf(stderr, ">>> test session as %s: %s; nothing is "
	    "queued\n", peer.text, peer_is_relay(&conf, &peer) ?
	    "a relay client (relay_networks), may send to any domain" :
	    "not a relay client, may send to local_domains only");
	explain_dnsbl(&conf, &peer);
	tls_explain(&conf);
	session_run(&conf, &peer, 0, 1, SESSION_TEST);
	return 0;
}

/* runner - -q and -Q: hand the spool to the MTA */
static int
runner(const char *path, int loop, unsigned long long seconds)
{
	static struct config conf;
	char err[256];

	openlog("smtpfe", LOG_PID | LOG_NDELAY |
	    (isatty(2) ? LOG_PERROR : 0), LOG_MAIL);
	if (load(&conf, path, report_stderr) != 0)
		return EX_CONFIG;
	err[0] = '\0';
	if (priv_drop(&conf, 0, err, sizeof(err)) == -1) {
		syslog(LOG_ERR, "runner: %s", err);
		return EX_OSERR;
	}
	return loop ? spool_loop(&conf, seconds) : spool_run(&conf);
}

/* queue - -p and -r: the spool listed, or messages requeued */
static int
queue(const char *path, int mode, const char *first, char **rest, int nrest)
{
	static struct config conf;
	char err[256];

	if (load(&conf, path, report_stderr) != 0)
		return EX_CONFIG;
	err[0] = '\0';
	if (priv_drop(&conf, 0, err, sizeof(err)) == -1) {
		(void)fprintf(stderr, "smtpfe: %s\n", err);
		return EX_OSERR;
	}
	if (mode == 'p')
		return queue_list(&conf);
	return queue_requeue(&conf, first, rest, nrest);
}

/* on_term - SIGTERM: only a flag; the loops look at it */
static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* listen_on - a listening socket for "ADDR:PORT" or "[V6]:PORT" */
static int
listen_on(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1;

	if (hostport_parse(spec, &ss, &sslen) == -1)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, 128) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* spawn - one child per connection, running exactly the inetd path */
static void
spawn(int lfd, int c, const char *path)
{
	pid_t pid = fork();

	if (pid != 0) {
		(void)close(c);
		return;
	}
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGINT, SIG_DFL);
	(void)close(lfd);
	if (dup2(c, 0) == -1 || dup2(c, 1) == -1 || dup2(c, 2) == -1)
		_exit(EX_OSERR);
	if (c > 2)
		(void)close(c);
	exit(serve(path));
}

/* listener - -l: accept, fork, never parse SMTP; 0 on SIGTERM */
static int
listener(const char *path, const char *spec)
{
	static struct config conf;
	struct sigaction sa;
	int lfd;

	/* Each child reads the configuration again, as under inetd; this
	 * early look only spares the user a listener that answers 421. */
	if (config_load(&conf, path, report_stderr, NULL) != 0)
		return EX_CONFIG;
	config_free(&conf);
	if ((lfd = listen_on(spec)) == -1) {
		(void)fprintf(stderr, "smtpfe: cannot listen on %s: %s\n", spec,
		    strerror(errno));
		return EX_OSERR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	while (!got_term) {
		struct pollfd pfd = { lfd, POLLIN, 0 };
		int c;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			continue;
		if (poll(&pfd, 1, 500) != 1)
			continue;
		if ((c = accept(lfd, NULL, NULL)) != -1)
			spawn(lfd, c, path);
	}
	(void)close(lfd);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *path = DEFAULT_CONF, *arg = NULL;
	unsigned long long seconds = 0;
	int ch, mode = 0;

	/* Started by tls_wrapper after a handshake (tls.c). */
	if (argc > 0 && strcmp(argv[0], TLS_HANDBACK_NAME) == 0)
		return tls_handback();
	(void)signal(SIGPIPE, SIG_IGN);
	(void)umask(077);
	while ((ch = getopt(argc, argv, "b:f:l:npqQ:r:V")) != -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 'b':
		case 'l':
		case 'Q':
		case 'r':
			arg = optarg;
			/* FALLTHROUGH */
		case 'n':
		case 'p':
		case 'q':
		case 'V':
			if (mode != 0)
				usage();
			mode = ch;
			break;
		default:
			usage();
		}
	}
	if (optind != argc && mode != 'r')
		usage();
	switch (mode) {
	case 0:
		return serve(path);
	case 'b':
		return test_session(path, arg);
	case 'l':
		return listener(path, arg);
	case 'n':
		return confcheck(path);
	case 'p':
		return queue(path, 'p', NULL, NULL, 0);
	case 'r':
		return queue(path, 'r', arg, argv + optind, argc - optind);
	case 'q':
		return runner(path, 0, 0);
	case 'Q':
		if (parse_number(arg, 31536000, &seconds) == -1 || seconds == 0)
			usage();
		return runner(path, 1, seconds);
	case 'V':
		(void)printf("smtpfe %s\n", SMTPFE_VERSION);
		return 0;
	}
	return EX_USAGE;
}
