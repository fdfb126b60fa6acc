/*
 * runner.c - the spool runner (smtpfe -q, smtpfe -Q SECONDS): hand every
 * message in new/ to the MTA with execve, never through a shell.
 *
 * Assumptions.  main has loaded the configuration, opened syslog, dropped
 * root (to conf->user, without chroot) and made the spool directory the
 * current directory before calling spool_run or spool_loop: every path
 * here is relative ("new/ID", "failed/ID", "tmp/ID").
 *
 * Two runners at once (cron plus a -Q service) never hand off the same
 * message: a file is claimed with flock(LOCK_EX | LOCK_NB) on its open
 * descriptor, and a locked file is skipped.  After the lock is taken the
 * runner checks that new/ID still names the very inode it holds (fstat
 * against stat), because another runner may have handed it off and
 * unlinked or moved it between our readdir and our open, or between our
 * open and our lock; then it checks again that the file is due, because
 * the other runner may have deferred it meanwhile.
 *
 * Retry state lives in the spool file's own mtime, so the message is
 * never rewritten and no side file exists:
 *   - Arrived: in the envelope is the arrival time; it alone decides the
 *     delay that is logged and the retry_max_age deadline.
 *   - the mtime is the earliest time of the next attempt.  A message that
 *     was never tried has its write time there, so it is due at once.
 *   - after a temporary failure at NOW the mtime is set (futimens on the
 *     locked descriptor, atime untouched) to NOW + clamp(NOW - Arrived,
 *     RETRY_MIN, SPOOL_RETRY_MAX), but never past Arrived + retry_max_age, so
 *     that the last attempt happens at the deadline.  Because the wait
 *     equals the age, the intervals roughly double (5, 5, 10, 20, 40 min,
 *     then hourly) without an attempt counter.
 *   - a temporary failure at or after Arrived + retry_max_age moves the
 *     message to failed/.
 *   - a file whose mtime lies more than SPOOL_RETRY_MAX in the future was not
 *     set by us (or the clock went back): it is treated as due.
 *   - "due" allows SPOOL_CLOCK_SLACK: a file system may stamp a file we just
 *     wrote a second or more ahead of time() (measured here: 53 files in
 *     20000 under gVisor; NFS servers have clocks of their own), and a
 *     new message must not wait for the next run because of that.
 * "Oldest first" is by that mtime (then by name): the arrival time of a
 * message not yet tried, the time a deferred one became due again.
 */
#include <sys/file.h>
#include <sys/inotify.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "mta.h"
#include "policy.h"
#include "smtpfe.h"
#include "spool.h"

/* Our choice: the longest envelope line, LF included ("Recipient: " and a
 * 256-octet path need 268). */
#define ENVELOPE_LINE_MAX	512
/* The whole envelope block, every line at its longest. */
#define ENVELOPE_MAX		((ENVELOPE_RCPT_MAX + 8) * ENVELOPE_LINE_MAX)
/* Our choice (as Postfix's minimal_backoff_time): the first back-off. */
#define RETRY_MIN		300
/* Our choice: seconds sendmail may spend on one message before SIGTERM
 * (Postfix's command_time_limit is 1000 s; a local submission of the
 * largest message takes seconds); SIGKILL follows KILL_GRACE later. */
#define HANDOFF_TIMEOUT		1800
#define HANDOFF_KILL_GRACE	10
/* Our choice: octets of sendmail's stderr kept for the log line. */
#define STDERR_KEEP		1024
/* SPEC.md "The runner": files in tmp/ older than 36 hours are stale. */
#define TMP_STALE		(36 * 3600)
/* Our choice: octets of the recipient list in one log line. */
#define LOG_RCPT_MAX		900
/* The child's whole environment. */
#define HANDOFF_PATH		"PATH=/usr/bin:/bin:/usr/sbin:/sbin"

enum verdict {
	V_SENT,			/* exit 0: remove */
	V_DEFER,		/* 75, signal, cannot execute: retry */
	V_FAIL			/* anything else: failed/ */
};

enum outcome {
	O_DONE,			/* removed or moved to failed/ */
	O_STAYS,		/* still in new/, to be retried */
	O_SKIPPED		/* another runner has it */
};

struct entry {
	struct timespec	 due;
	char		*name;
};

struct handoff {
	int		 status;		/* from waitpid */
	int		 ran;			/* 0: fork failed */
	int		 timedout;
	int		 lost;			/* waitpid failed */
	size_t		 errlen;
	char		 err[STDERR_KEEP + 1];	/* sendmail's stderr */
	char		 what[64];		/* "exit 67", "signal 9" */
};

struct cursor {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	const char	*line;			/* current line, LF excluded */
	size_t		 llen;
	unsigned	 lineno;
};

static volatile sig_atomic_t runner_stop;
static int runner_looping;

/* Large and fixed: one message at a time. */
static char envbuf[ENVELOPE_MAX];
static struct envelope runner_env;
static char rcptarg[ENVELOPE_RCPT_MAX][SMTP_PATH_MAX];
static char *argvbuf[ENVELOPE_RCPT_MAX + 8];

/* runner_on_term - SIGTERM handler: only sets the flag */
static void
runner_on_term(int sig)
{
	(void)sig;
	runner_stop = 1;
}

/* env_next - take the next line; NULL, or why it is malformed */
static const char *
env_next(struct cursor *c)
{
	size_t i, max;

	if (c->pos >= c->len)
		return "no blank line after the envelope";
	max = c->len - c->pos;
	if (max > ENVELOPE_LINE_MAX)
		max = ENVELOPE_LINE_MAX;
	for (i = 0; i < max; i++) {
		unsigned char ch = (unsigned char)c->buf[c->pos + i];

		if (ch == '\n')
			break;
		if (ch == '\0')
			return "NUL octet";
		/* 8-bit octets: UTF-8 addresses, judged by addr_parse. */
		if (ch < 0x20 || ch == 0x7f)
			return "control octet";
	}
	if (i == max)
		return max == ENVELOPE_LINE_MAX ? "line too long" :
		    "line without LF";
	c->line = c->buf + c->pos;
	c->llen = i;
	c->pos += i + 1;
	c->lineno++;
	return NULL;
}

/* env_value - 1 when the current line is "KEY: value", value not empty */
static int
env_value(const struct cursor *c, const char *key, const char **val,
    size_t *vlen)
{
	size_t k = strlen(key);

	if (c->llen < k + 3 || memcmp(c->line, key, k) != 0 ||
	    c->line[k] != ':' || c->line[k + 1] != ' ')
		return 0;
	*val = c->line + k + 2;
	*vlen = c->llen - k - 2;
	return 1;
}

/* env_copy - copy a value into a NUL-terminated buffer; -1 if too long */
static int
env_copy(char *dst, size_t size, const char *val, size_t vlen)
{
	if (vlen >= size)
		return -1;
	memcpy(dst, val, vlen);
	dst[vlen] = '\0';
	return 0;
}

/* env_digits - N decimal digits at S; -1 if any is not a digit */
static int
env_digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* env_time - "YYYY-MM-DDTHH:MM:SSZ" (UTC) to a time_t; -1 if malformed */
static int
env_time(const char *s, size_t len, time_t *out)
{
	struct tm tm, back;
	time_t t;

	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = env_digits(s, 4) - 1900;
	tm.tm_mon = env_digits(s + 5, 2) - 1;
	tm.tm_mday = env_digits(s + 8, 2);
	tm.tm_hour = env_digits(s + 11, 2);
	tm.tm_min = env_digits(s + 14, 2);
	tm.tm_sec = env_digits(s + 17, 2);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mday < 1 ||
	    tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
		return -1;
	back = tm;
	if ((t = timegm(&back)) == (time_t)-1)
		return -1;
	/* timegm normalises 31 Feb to 3 Mar: only a round trip is valid. */
	if (back.tm_year != tm.tm_year || back.tm_mon != tm.tm_mon ||
	    back.tm_mday != tm.tm_mday || back.tm_hour != tm.tm_hour ||
	    back.tm_min != tm.tm_min || back.tm_sec != tm.tm_sec)
		return -1;
	*out = t;
	return 0;
}

/* env_client - "Client: IP" or "Client: unknown" */
static const char *
env_client(struct cursor *c, struct envelope *env)
{
	struct peer peer;
	const char *v;
	size_t n;

	if (!env_value(c, "Client", &v, &n))
		return "Client: expected";
	if (env_copy(env->client, sizeof(env->client), v, n) == -1)
		return "Client: too long";
	if (strcmp(env->client, "unknown") == 0)
		return NULL;
	memset(&peer, 0, sizeof(peer));
	if (peer_set_text(&peer, env->client) == -1)
		return "Client: not an IP address";
	return NULL;
}

/* env_helo - "Helo: NAME", checked as the session checked HELO */
static const char *
env_helo(struct cursor *c, struct envelope *env)
{
	const char *v;
	size_t n;

	if (!env_value(c, "Helo", &v, &n))
		return "Helo: expected";
	if (env_copy(env->helo, sizeof(env->helo), v, n) == -1)
		return "Helo: too long";
	if (policy_helo(env->helo) != NULL)
		return "Helo: refused by policy_helo";
	return NULL;
}

/* env_sender - "Sender: <path>", checked by addr_parse */
static const char *
env_sender(struct cursor *c, struct envelope *env)
{
	const char *v;
	size_t n;

	if (!env_value(c, "Sender", &v, &n))
		return "Sender: expected";
	memset(&env->sender, 0, sizeof(env->sender));
	if (addr_parse(v, n, ROLE_SENDER, 1, &env->sender) != NULL)
		return "Sender: refused by addr_parse";
	return NULL;
}

/* env_rcpts - one or more "Recipient: <path>"; leaves the next line */
static const char *
env_rcpts(struct cursor *c, struct envelope *env)
{
	const char *v, *why;
	size_t n;

	env->nrcpt = 0;
	while (env_value(c, "Recipient", &v, &n)) {
		struct addr *a;

		if (env->nrcpt == ENVELOPE_RCPT_MAX)
			return "Recipient: too many";
		a = &env->rcpt[env->nrcpt];
		memset(a, 0, sizeof(*a));
		if (addr_parse(v, n, ROLE_RCPT, 1, a) != NULL)
			return "Recipient: refused by addr_parse";
		if (a->null)
			return "Recipient: null path";
		env->nrcpt++;
		if ((why = env_next(c)) != NULL)
			return why;
	}
	if (env->nrcpt == 0)
		return "Recipient: expected";
	return NULL;
}

/* env_body - the optional "Body: 7BIT" or "Body: 8BITMIME" */
static const char *
env_body(struct cursor *c, struct envelope *env)
{
	const char *v;
	size_t n;

	env->body = BODY_NONE;
	if (!env_value(c, "Body", &v, &n))
		return NULL;
	if (n == 4 && memcmp(v, "7BIT", 4) == 0)
		env->body = BODY_7BIT;
	else if (n == 8 && memcmp(v, "8BITMIME", 8) == 0)
		env->body = BODY_8BITMIME;
	else
		return "Body: neither 7BIT nor 8BITMIME";
	return env_next(c);
}

/* addr_ascii - 1 when the path holds no octet outside ASCII */
static int
addr_ascii(const struct addr *a)
{
	size_t i;

	for (i = 0; a->path[i] != '\0'; i++)
		if ((unsigned char)a->path[i] >= 0x80)
			return 0;
	return 1;
}

/*
 * env_smtputf8 - the optional "Smtputf8: yes".  The addresses were parsed
 * as UTF-8 (ASCII parses the same either way); without the line, an
 * address with a non-ASCII octet is refused, as the session refused it.
 */
static const char *
env_smtputf8(struct cursor *c, struct envelope *env)
{
	const char *v;
	size_t i, n;

	env->smtputf8 = 0;
	if (env_value(c, "Smtputf8", &v, &n)) {
		if (n != 3 || memcmp(v, "yes", 3) != 0)
			return "Smtputf8: not yes";
		env->smtputf8 = 1;
		return env_next(c);
	}
	for (i = 0; i < env->nrcpt; i++)
		if (!addr_ascii(&env->rcpt[i]))
			return "Recipient: non-ASCII without Smtputf8: yes";
	if (!addr_ascii(&env->sender))
		return "Sender: non-ASCII without Smtputf8: yes";
	return NULL;
}

/* env_arrived - "Arrived: YYYY-MM-DDTHH:MM:SSZ" */
static const char *
env_arrived(struct cursor *c, struct envelope *env)
{
	const char *v;
	size_t n;

	if (!env_value(c, "Arrived", &v, &n))
		return "Arrived: expected";
	if (env_time(v, n, &env->arrived) == -1)
		return "Arrived: not YYYY-MM-DDTHH:MM:SSZ";
	return NULL;
}

/* env_check - the envelope lines in SPEC.md order; NULL if valid */
static const char *
env_check(struct cursor *c, struct envelope *env)
{
	const char *why;

	if ((why = env_next(c)) != NULL)
		return why;
	if (c->llen != 15 || memcmp(c->line, "Smtpfe-Spool: 1", 15) != 0)
		return "not \"Smtpfe-Spool: 1\"";
	if ((why = env_next(c)) != NULL || (why = env_client(c, env)) != NULL)
		return why;
	if ((why = env_next(c)) != NULL || (why = env_helo(c, env)) != NULL)
		return why;
	if ((why = env_next(c)) != NULL || (why = env_sender(c, env)) != NULL)
		return why;
	if ((why = env_next(c)) != NULL || (why = env_rcpts(c, env)) != NULL)
		return why;
	if ((why = env_body(c, env)) != NULL ||
	    (why = env_smtputf8(c, env)) != NULL ||
	    (why = env_arrived(c, env)) != NULL)
		return why;
	if ((why = env_next(c)) != NULL)
		return why;
	if (c->llen != 0)
		return "no blank line after Arrived:";
	return NULL;
}

/*
 * envelope_parse - parse and re-validate the envelope block at the start
 * of BUF (LEN octets) with the session's validators; returns the offset of
 * the message part, or -1 with a reason in ERR.
 */
long
envelope_parse(const char *buf, size_t len, struct envelope *env,
    char *err, size_t errlen)
{
	struct cursor c;
	const char *why;

	memset(&c, 0, sizeof(c));
	c.buf = buf;
	c.len = len;
	env->nrcpt = 0;
	env->body = BODY_NONE;
	env->smtputf8 = 0;
	if ((why = env_check(&c, env)) != NULL) {
		if (errlen > 0 && snprintf(err, errlen, "envelope line %u: %s",
		    c.lineno + 1, why) < 0)
			err[0] = '\0';
		return -1;
	}
	return (long)c.pos;
}

/* mono_now - CLOCK_MONOTONIC in milliseconds */
static long long
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fd_high - move FD to 3 or above, so that dup2 onto 0..2 is safe */
static int
fd_high(int fd)
{
	return fcntl(fd, F_DUPFD, 3);
}

/* close_rest - close every descriptor from 3 up */
static void
close_rest(void)
{
#if (defined(__GLIBC__) && (__GLIBC__ > 2 || \
    (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))) || defined(__FreeBSD__) || \
    defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
	closefrom(3);
#else
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		(void)close(fd);
#endif
}

/* handoff_child - in the child: set up 0, 1, 2, exec sendmail */
static void
handoff_child(const char *path, int in, int errw)
{
	static char env_path[] = HANDOFF_PATH;
	char *envp[] = { env_path, NULL };
	const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD };
	struct sigaction sa;
	sigset_t none;
	size_t i;
	int out;
	char msg[256];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if ((in = fd_high(in)) == -1 || (errw = fd_high(errw)) == -1)
		_exit(127);
	if ((out = open("/dev/null", O_WRONLY)) == -1)
		out = errw;
	if ((out = fd_high(out)) == -1 || dup2(in, 0) == -1 ||
	    dup2(out, 1) == -1 || dup2(errw, 2) == -1)
		_exit(127);
	close_rest();
	execve(path, argvbuf, envp);
	if (snprintf(msg, sizeof(msg), "smtpfe: cannot execute %s: %s\n",
	    path, strerror(errno)) > 0)
		(void)write(2, msg, strlen(msg));
	_exit(127);
}

/*
 * handoff_keep - read stderr once: keep the first STDERR_KEEP octets,
 * drop the rest; 1 after data, 0 at the end, -1 when nothing is there
 */
static int
handoff_keep(int fd, struct handoff *h)
{
	char junk[4096];
	ssize_t r;

	if (h->errlen < STDERR_KEEP)
		r = read(fd, h->err + h->errlen, STDERR_KEEP - h->errlen);
	else
		r = read(fd, junk, sizeof(junk));
	if (r > 0) {
		if (h->errlen < STDERR_KEEP)
			h->errlen += (size_t)r;
		return 1;
	}
	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return -1;
	return 0;
}

/* handoff_nap - sleep MS milliseconds (cut short by a signal) */
static void
handoff_nap(long long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	(void)nanosleep(&ts, NULL);
}

/*
 * handoff_wait - read the child's stderr and reap it, within the time
 * bound.  The pipe may outlive the child (a grandchild can hold it), so
 * the child's exit, not the pipe's end, ends the wait.
 */
static void
handoff_wait(pid_t pid, int errr, struct handoff *h)
{
	long long deadline = mono_now() + HANDOFF_TIMEOUT * 1000LL;
	long long nap = 1;
	int piped = 1, killed = 0;
	pid_t w;

	for (;;) {
		long long left;

		if ((w = waitpid(pid, &h->status, WNOHANG)) == pid)
			break;
		if (w == -1 && errno != EINTR) {
			h->lost = 1;
			break;
		}
		left = deadline - mono_now();
		if (left <= 0) {
			h->timedout = 1;
			(void)kill(pid, killed ? SIGKILL : SIGTERM);
			deadline = mono_now() + (killed ? 3600000LL :
			    HANDOFF_KILL_GRACE * 1000LL);
			killed = 1;
			continue;
		}
		if (piped) {
			struct pollfd pfd = { errr, POLLIN, 0 };

			if (poll(&pfd, 1, (int)(left < 100 ? left : 100)) > 0)
				piped = handoff_keep(errr, h) != 0;
		} else {
			handoff_nap(nap < left ? nap : left);
			if (nap < 100)
				nap *= 2;
		}
	}
	/* What the child wrote just before it exited is still there. */
	if (piped && fcntl(errr, F_SETFL, O_NONBLOCK) != -1) {
		int i;

		for (i = 0; i < 256 && handoff_keep(errr, h) == 1; i++)
			continue;
	}
	h->err[h->errlen] = '\0';
}

/* handoff_run - fork and exec sendmail with FD (at the body) as stdin */
static void
handoff_run(const struct config *conf, int fd, struct handoff *h)
{
	sigset_t block, old;
	int p[2];
	pid_t pid;

	memset(h, 0, sizeof(*h));
	if (pipe(p) == -1) {
		snprintf(h->err, sizeof(h->err), "pipe: %s", strerror(errno));
		return;
	}
	(void)fcntl(p[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
	/*
	 * Until the child has reset its handlers, a SIGTERM for it would run
	 * our handler there and be lost: it stays pending until then.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &block, &old);
	if ((pid = fork()) == -1) {
		snprintf(h->err, sizeof(h->err), "fork: %s", strerror(errno));
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		(void)close(p[0]);
		(void)close(p[1]);
		return;
	}
	if (pid == 0) {
		(void)close(p[0]);
		handoff_child(conf->sendmail, fd, p[1]);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(p[1]);
	h->ran = 1;
	handoff_wait(pid, p[0], h);
	(void)close(p[0]);
}

/* handoff_verdict - SPEC.md's table of sendmail's results */
static enum verdict
handoff_verdict(struct handoff *h)
{
	int code;

	if (!h->ran) {
		snprintf(h->what, sizeof(h->what), "not run");
		return V_DEFER;
	}
	if (h->timedout) {
		snprintf(h->what, sizeof(h->what), "timed out after %d s",
		    HANDOFF_TIMEOUT);
		return V_DEFER;
	}
	if (WIFSIGNALED(h->status)) {
		snprintf(h->what, sizeof(h->what), "killed by signal %d",
		    WTERMSIG(h->status));
		return V_DEFER;
	}
	if (h->lost || !WIFEXITED(h->status)) {
		snprintf(h->what, sizeof(h->what), "lost");
		return V_DEFER;
	}
	code = WEXITSTATUS(h->status);
	snprintf(h->what, sizeof(h->what), "exit %d", code);
	if (code == 0)
		return V_SENT;
	/* 126 and 127: the program could not be executed. */
	if (code == EX_TEMPFAIL || code == 126 || code == 127)
		return V_DEFER;
	return V_FAIL;
}

/* handoff_argv - sendmail -i -f SENDER [-B 8BITMIME] -- RCPT... */
static int
handoff_argv(const struct config *conf, const struct envelope *env,
    char *sender, size_t size)
{
	static char a_i[] = "-i", a_f[] = "-f", a_b[] = "-B",
	    a_8[] = "8BITMIME", a_dd[] = "--";
	static char prog[PATH_MAX];
	size_t i, n = 0, len;

	if (str_copy(prog, conf->sendmail, sizeof(prog)) == -1)
		return -1;
	len = strlen(env->sender.path);
	if (len < 2 || len - 1 > size || env->sender.path[0] != '<' ||
	    env->sender.path[len - 1] != '>')
		return -1;
	if (env->sender.null)
		memcpy(sender, "<>", 3);
	else {
		memcpy(sender, env->sender.path + 1, len - 2);
		sender[len - 2] = '\0';
	}
	argvbuf[n++] = prog;
	argvbuf[n++] = a_i;
	argvbuf[n++] = a_f;
	argvbuf[n++] = sender;
	if (env->body == BODY_8BITMIME) {
		argvbuf[n++] = a_b;
		argvbuf[n++] = a_8;
	}
	argvbuf[n++] = a_dd;
	for (i = 0; i < env->nrcpt; i++) {
		const char *p = env->rcpt[i].path;

		len = strlen(p);
		if (len < 3 || p[0] != '<' || p[len - 1] != '>')
			return -1;
		memcpy(rcptarg[i], p + 1, len - 2);
		rcptarg[i][len - 2] = '\0';
		argvbuf[n++] = rcptarg[i];
	}
	argvbuf[n] = NULL;
	return 0;
}

/* log_rcpts - the recipient list for a log line, bounded */
static void
log_rcpts(const struct envelope *env, char *buf, size_t size)
{
	size_t i, used = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < env->nrcpt; i++) {
		n = snprintf(buf + used, size - used, "%s%s", i ? "," : "",
		    env->rcpt[i].path);
		if (n < 0 || (size_t)n >= size - used ||
		    used + (size_t)n > LOG_RCPT_MAX) {
			buf[used] = '\0';
			snprintf(buf + used, size - used, ",... (%zu more)",
			    env->nrcpt - i);
			return;
		}
		used += (size_t)n;
	}
}

/* log_stderr - sendmail's stderr on one line: trimmed, LF as "; " */
static void
log_stderr(char *dst, size_t size, const char *src, size_t len)
{
	size_t i, o = 0;

	while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == '\r' ||
	    src[len - 1] == ' ' || src[len - 1] == '\t'))
		len--;
	while (len > 0 && (src[0] == '\n' || src[0] == '\r' || src[0] == ' ')) {
		src++;
		len--;
	}
	for (i = 0; i < len && o + 3 < size; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\n') {
			dst[o++] = ';';
			dst[o++] = ' ';
		} else
			dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* runner_log - one line per hand-off: id, sender, rcpts, size, delay */
static void
runner_log(int pri, const char *id, const struct envelope *env,
    unsigned long long size, time_t now, const char *status,
    const char *detail)
{
	char rcpts[LOG_RCPT_MAX + 64];

	log_rcpts(env, rcpts, sizeof(rcpts));
	syslog(pri, "%s: sender=%s rcpt=%s nrcpt=%zu size=%llu delay=%llds "
	    "status=%s (%s)", id, env->sender.path, rcpts, env->nrcpt, size,
	    (long long)(now - env->arrived), status, detail);
}

/* sync_dir - fsync a directory so that a rename into it is durable */
static void
sync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if (fsync(fd) == -1)
		syslog(LOG_ERR, "fsync %s: %m", dir);
	(void)close(fd);
}

/* runner_fail - move new/NAME to failed/NAME; -1 if it stays */
static int
runner_fail(const char *name, const char *id)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (snprintf(from, sizeof(from), "new/%s", name) >= (int)sizeof(from) ||
	    snprintf(to, sizeof(to), "failed/%s", name) >= (int)sizeof(to))
		return -1;
	if (rename(from, to) == -1) {
		syslog(LOG_ERR, "%s: cannot move to failed/: %m", id);
		return -1;
	}
	sync_dir("failed");
	return 0;
}

/* runner_defer - set the next try time in the mtime; 1 = stays, 0 = moved */
static int
runner_defer(int fd, const char *name, const char *id,
    const struct config *conf, const struct envelope *env, time_t now)
{
	struct timespec ts[2];
	long long age = (long long)(now - env->arrived), wait, last;

	if (age < 0)
		age = 0;
	if ((unsigned long long)age >= conf->retry_max_age) {
		syslog(LOG_NOTICE, "%s: retry_max_age (%llu s) reached, "
		    "moved to failed/", id, conf->retry_max_age);
		return runner_fail(name, id) == -1;
	}
	wait = age < RETRY_MIN ? RETRY_MIN : age > SPOOL_RETRY_MAX ? SPOOL_RETRY_MAX : age;
	last = (long long)env->arrived + (long long)conf->retry_max_age;
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)(now + wait < last ? now + wait : last);
	ts[1].tv_nsec = 0;
	if (futimens(fd, ts) == -1)
		syslog(LOG_ERR, "%s: cannot set the next try time: %m", id);
	return 1;
}

/* runner_head - read from the start of FD to the blank line (or bound) */
static ssize_t
runner_head(int fd)
{
	size_t n = 0, i;
	ssize_t r;

	while (n < sizeof(envbuf)) {
		size_t want = sizeof(envbuf) - n;

		if (want > 65536)
			want = 65536;
		if ((r = pread(fd, envbuf + n, want, (off_t)n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		for (i = n > 0 ? n - 1 : 0; i + 1 < n + (size_t)r; i++)
			if (envbuf[i] == '\n' && envbuf[i + 1] == '\n')
				return (ssize_t)(n + (size_t)r);
		n += (size_t)r;
	}
	return (ssize_t)n;
}

/* runner_due - 1 when a file with this mtime is to be tried now */
static int
runner_due(time_t mtime, time_t now)
{
	return mtime <= now + SPOOL_CLOCK_SLACK ||
	    mtime > now + SPOOL_RETRY_MAX + SPOOL_CLOCK_SLACK;
}

/* runner_claim - lock new/NAME and check it is still ours and due */
static enum outcome
runner_claim(const char *path, const char *id, int *fdp, struct stat *st,
    time_t now)
{
	struct stat cur;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return O_SKIPPED;
		syslog(LOG_ERR, "%s: open: %m", id);
		return O_STAYS;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int busy = errno == EWOULDBLOCK;

		if (!busy)
			syslog(LOG_ERR, "%s: flock: %m", id);
		(void)close(fd);
		return busy ? O_SKIPPED : O_STAYS;
	}
	/* Another runner may have finished with it before our lock. */
	if (fstat(fd, st) == -1 || stat(path, &cur) == -1 ||
	    st->st_dev != cur.st_dev || st->st_ino != cur.st_ino ||
	    st->st_nlink == 0 || !S_ISREG(st->st_mode)) {
		(void)close(fd);
		return O_SKIPPED;
	}
	if (!runner_due(st->st_mtime, now)) {
		(void)close(fd);
		return O_STAYS;
	}
	(void)fcntl(fd, F_SETFL, 0);
	*fdp = fd;
	return O_DONE;
}

/* handoff_detail - "sendmail exit 67: its stderr" for the log line */
static void
handoff_detail(const struct handoff *h, char *detail, size_t size)
{
	char err[2 * STDERR_KEEP + 1];

	log_stderr(err, sizeof(err), h->err, h->errlen);
	snprintf(detail, size, "sendmail %s%s%s", h->what,
	    err[0] != '\0' ? ": " : "", err);
}

/* runner_settle - act on the verdict; the file is still locked */
static enum outcome
runner_settle(const struct config *conf, int fd, const char *name,
    const char *id, enum verdict v, const char *detail,
    unsigned long long size)
{
	const struct envelope *env = &runner_env;
	time_t now = time(NULL);
	char path[PATH_MAX];

	if (v == V_SENT) {
		runner_log(LOG_INFO, id, env, size, now, "sent", detail);
		if (snprintf(path, sizeof(path), "new/%s", name) >=
		    (int)sizeof(path) || unlink(path) == -1) {
			syslog(LOG_CRIT, "%s: delivered but cannot be removed; "
			    "it will be handed off again: %m", id);
			return O_STAYS;
		}
		return O_DONE;
	}
	if (v == V_FAIL) {
		runner_log(LOG_WARNING, id, env, size, now, "failed", detail);
		return runner_fail(name, id) == 0 ? O_DONE : O_STAYS;
	}
	runner_log(LOG_NOTICE, id, env, size, now, "deferred", detail);
	return runner_defer(fd, name, id, conf, env, now) ? O_STAYS : O_DONE;
}

/* runner_smtp - handoff = smtp:...: the SMTP table's verdict */
static enum verdict
runner_smtp(const struct config *conf, int fd, char *detail, size_t size)
{
	switch (mta_send(conf, &runner_env, fd, detail, size)) {
	case MTA_SENT:
		return V_SENT;
	case MTA_FAIL:
		return V_FAIL;
	case MTA_DEFER:
		break;
	}
	return V_DEFER;
}

/* runner_one - claim, validate and hand off one message */
static enum outcome
runner_one(const struct config *conf, const char *name, time_t now)
{
	char path[PATH_MAX], id[SPOOL_ID_MAX + 8], why[256], sender[SMTP_PATH_MAX];
	char detail[2 * STDERR_KEEP + 128];
	struct handoff h;
	enum verdict v;
	struct stat st;
	enum outcome o;
	ssize_t n;
	long off;
	int fd = -1;

	str_printable(id, sizeof(id), name, strlen(name));
	if (snprintf(path, sizeof(path), "new/%s", name) >= (int)sizeof(path))
		return O_SKIPPED;
	if ((o = runner_claim(path, id, &fd, &st, now)) != O_DONE)
		return o;
	if ((n = runner_head(fd)) == -1) {
		syslog(LOG_ERR, "%s: read: %m", id);
		(void)close(fd);
		return O_STAYS;
	}
	if ((off = envelope_parse(envbuf, (size_t)n, &runner_env, why,
	    sizeof(why))) == -1 || handoff_argv(conf, &runner_env, sender,
	    sizeof(sender)) == -1) {
		syslog(LOG_WARNING, "%s: invalid spool file (%s), moved to "
		    "failed/, never handed off", id, off == -1 ? why :
		    "malformed path");
		o = runner_fail(name, id) == 0 ? O_DONE : O_STAYS;
		(void)close(fd);
		return o;
	}
	if (lseek(fd, (off_t)off, SEEK_SET) == -1) {
		syslog(LOG_ERR, "%s: lseek: %m", id);
		(void)close(fd);
		return O_STAYS;
	}
	if (strcmp(conf->handoff, "sendmail") == 0) {
		handoff_run(conf, fd, &h);
		v = handoff_verdict(&h);
		handoff_detail(&h, detail, sizeof(detail));
	} else
		v = runner_smtp(conf, fd, detail, sizeof(detail));
	o = runner_settle(conf, fd, name, id, v, detail,
	    (unsigned long long)(st.st_size - off));
	(void)close(fd);
	return o;
}

/* entry_cmp - oldest due time first, then by name */
static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->due.tv_sec != y->due.tv_sec)
		return x->due.tv_sec < y->due.tv_sec ? -1 : 1;
	if (x->due.tv_nsec != y->due.tv_nsec)
		return x->due.tv_nsec < y->due.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* entry_add - append to a growing array; -1 when out of memory */
static int
entry_add(struct entry **v, size_t *n, size_t *cap, const char *name,
    const struct timespec *due)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct entry *nv;

		if ((nv = realloc(*v, ncap * sizeof(*nv))) == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	if (((*v)[*n].name = strdup(name)) == NULL)
		return -1;
	(*v)[*n].due = *due;
	(*n)++;
	return 0;
}

/* runner_list - the due messages of new/; WAITING counts the others */
static int
runner_list(time_t now, struct entry **v, size_t *n, size_t *waiting)
{
	struct dirent *de;
	struct stat st;
	size_t cap = 0;
	DIR *d;

	*v = NULL;
	*n = 0;
	if ((d = opendir("new")) == NULL) {
		syslog(LOG_ERR, "cannot open new/: %m");
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(st.st_mode))
			continue;
		if (!runner_due(st.st_mtime, now)) {
			(*waiting)++;
			continue;
		}
		if (entry_add(v, n, &cap, de->d_name, &st.st_mtim) == -1) {
			syslog(LOG_ERR, "runner: out of memory");
			break;
		}
	}
	(void)closedir(d);
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), entry_cmp);
	return 0;
}

/* runner_clean_tmp - remove files in tmp/ older than 36 hours */
static void
runner_clean_tmp(time_t now)
{
	struct dirent *de;
	struct stat st;
	char id[SPOOL_ID_MAX + 8];
	DIR *d;

	if ((d = opendir("tmp")) == NULL) {
		syslog(LOG_ERR, "cannot open tmp/: %m");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(st.st_mode) ||
		    st.st_mtime >= now - TMP_STALE)
			continue;
		str_printable(id, sizeof(id), de->d_name, strlen(de->d_name));
		if (unlinkat(dirfd(d), de->d_name, 0) == -1) {
			/* Another worker of -Q may have been first. */
			if (errno != ENOENT)
				syslog(LOG_ERR, "tmp/%s: cannot remove stale "
				    "file: %m", id);
		}
		else
			syslog(LOG_NOTICE, "tmp/%s: stale (over 36 hours), "
			    "removed", id);
	}
	(void)closedir(d);
}

/* runner_catch - catch SIGTERM and SIGINT: finish the hand-off, stop */
static void
runner_catch(struct sigaction *old_term, struct sigaction *old_int)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = runner_on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: sleeps end early */
	(void)sigaction(SIGTERM, &sa, old_term);
	(void)sigaction(SIGINT, &sa, old_int);
}

/*
 * spool_run - hand every due message in new/ to the MTA once; 0, or 75
 * (EX_TEMPFAIL) when some message stays in new/ for a later run.
 */
int
spool_run(const struct config *conf)
{
	struct sigaction old_term, old_int;
	struct entry *v;
	size_t n, i, stays = 0;
	time_t now = time(NULL);

	if (!runner_looping) {
		runner_stop = 0;
		runner_catch(&old_term, &old_int);
	}
	runner_clean_tmp(now);
	if (runner_list(now, &v, &n, &stays) == -1)
		stays++;
	for (i = 0; i < n; i++) {
		if (runner_stop)
			stays++;
		else if (runner_one(conf, v[i].name, now) == O_STAYS)
			stays++;
		free(v[i].name);
	}
	free(v);
	if (!runner_looping) {
		mta_close();
		(void)sigaction(SIGTERM, &old_term, NULL);
		(void)sigaction(SIGINT, &old_int, NULL);
	}
	return stays > 0 ? EX_TEMPFAIL : 0;
}

/* loop_wait - sleep until MS pass, FD is readable or SIGTERM; 1 = FD */
static int
loop_wait(int fd, long long ms, const sigset_t *orig)
{
	struct timespec ts;
	fd_set rfds;

	if (ms < 0)
		ms = 0;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	FD_ZERO(&rfds);
	if (fd != -1)
		FD_SET(fd, &rfds);
	if (runner_stop)
		return 0;
	return pselect(fd + 1, fd != -1 ? &rfds : NULL, NULL, NULL, &ts,
	    orig) > 0 && fd != -1 && FD_ISSET(fd, &rfds);
}

/*
 * loop_events - hand off the messages inotify named; 1 when a full scan
 * is needed (the kernel's queue overflowed), else 0.  SIGTERM stops it
 * between messages.
 */
static int
loop_events(const struct config *conf, int ifd)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	size_t off;
	int rescan = 0;

	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->mask & IN_Q_OVERFLOW)
				rescan = 1;
			if (runner_stop || ev->len == 0 || ev->name[0] == '.' ||
			    memchr(ev->name, '\0', ev->len) == NULL)
				continue;
			(void)runner_one(conf, ev->name, time(NULL));
		}
	}
	return rescan;
}

/* loop_watch - an inotify descriptor for new/, or -1 (scan instead) */
static int
loop_watch(void)
{
	int fd;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		syslog(LOG_NOTICE, "runner: inotify: %m; new/ is scanned "
		    "every second instead");
		return -1;
	}
	if (inotify_add_watch(fd, "new", IN_MOVED_TO | IN_ONLYDIR) == -1) {
		syslog(LOG_NOTICE, "runner: inotify on new/: %m; new/ is "
		    "scanned every second instead");
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* loop_changed - without inotify: 1 when new/ changed since last time */
static int
loop_changed(struct timespec *last)
{
	struct stat st;
	int changed;

	if (stat("new", &st) == -1)
		return 1;
	changed = st.st_mtim.tv_sec != last->tv_sec ||
	    st.st_mtim.tv_nsec != last->tv_nsec;
	*last = st.st_mtim;
	return changed;
}

/*
 * loop_worker - the -Q loop of one process: a full pass every SECONDS,
 * and in between each message as soon as it is renamed into new/
 * (inotify), or, without inotify, a pass whenever new/ changed (looked
 * at every second).  The signals are blocked except inside pselect, so
 * one that arrives between the check and the sleep still ends the sleep.
 */
static void
loop_worker(const struct config *conf, unsigned long long seconds)
{
	long long period = (long long)(seconds > 86400 * 365 ? 86400 * 365 :
	    seconds) * 1000, next = 0;
	struct timespec last = { 0, 0 };
	sigset_t block, orig;
	int ifd, scan = 1;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	ifd = loop_watch();
	(void)loop_changed(&last);
	while (!runner_stop) {
		long long now = mono_now(), wait;

		if (scan || now >= next) {
			(void)spool_run(conf);
			next = mono_now() + period;
			scan = 0;
		}
		mta_idle();
		wait = next - mono_now();
		if (ifd == -1 && wait > 1000)
			wait = 1000;
		/* Once a minute at least, so an idle connection is closed. */
		if (wait > 60000)
			wait = 60000;
		(void)sigprocmask(SIG_BLOCK, &block, &orig);
		if (loop_wait(ifd, wait, &orig))
			scan = loop_events(conf, ifd);
		else if (ifd == -1)
			scan = loop_changed(&last);
		(void)sigprocmask(SIG_SETMASK, &orig, NULL);
	}
	mta_close();
	if (ifd != -1)
		(void)close(ifd);
}

/* loop_spawn - start a worker with the signal mask ORIG; its pid, or -1 */
static pid_t
loop_spawn(const struct config *conf, unsigned long long seconds,
    const sigset_t *orig)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		syslog(LOG_ERR, "runner: fork: %m");
		return -1;
	}
	if (pid == 0) {
#ifdef __linux__
		/* A parent killed with -9 takes its workers along. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
#endif
		(void)sigprocmask(SIG_SETMASK, orig, NULL);
		loop_worker(conf, seconds);
		_exit(0);
	}
	return pid;
}

/*
 * loop_parent - handoff_processes workers, each a loop_worker with a
 * connection of its own; the flock on each file keeps them apart.  A
 * worker that dies is started again a second later; SIGTERM is passed
 * on, and each worker finishes its hand-off before it exits.
 */
static void
loop_parent(const struct config *conf, unsigned long long seconds)
{
	pid_t pids[64];
	size_t i, n = conf->handoff_processes;
	sigset_t block, orig;
	int st;

	if (n > sizeof(pids) / sizeof(pids[0]))
		n = sizeof(pids) / sizeof(pids[0]);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &block, &orig);
	for (i = 0; i < n; i++)
		pids[i] = loop_spawn(conf, seconds, &orig);
	while (!runner_stop) {
		(void)loop_wait(-1, 1000, &orig);
		for (i = 0; i < n && !runner_stop; i++) {
			if (pids[i] != -1 &&
			    waitpid(pids[i], &st, WNOHANG) != pids[i])
				continue;
			if (pids[i] != -1)
				syslog(LOG_ERR, "runner: worker %ld died, "
				    "started again", (long)pids[i]);
			pids[i] = loop_spawn(conf, seconds, &orig);
		}
	}
	for (i = 0; i < n; i++)
		if (pids[i] != -1)
			(void)kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++)
		while (pids[i] != -1 && waitpid(pids[i], &st, 0) == -1 &&
		    errno == EINTR)
			continue;
	(void)sigprocmask(SIG_SETMASK, &orig, NULL);
}

/*
 * spool_loop - hand off until SIGTERM (smtpfe -Q SECONDS); returns 0.
 * With handoff_processes above 1, in that many worker processes.
 */
int
spool_loop(const struct config *conf, unsigned long long seconds)
{
	struct sigaction old_term, old_int;

	runner_stop = 0;
	runner_looping = 1;
	runner_catch(&old_term, &old_int);
	syslog(LOG_INFO, "runner: started, every %llu s, %llu at once, "
	    "handoff %s", seconds, conf->handoff_processes, conf->handoff);
	if (conf->handoff_processes > 1)
		loop_parent(conf, seconds);
	else
		loop_worker(conf, seconds);
	syslog(LOG_INFO, "runner: SIGTERM, stopped");
	(void)sigaction(SIGTERM, &old_term, NULL);
	(void)sigaction(SIGINT, &old_int, NULL);
	runner_looping = 0;
	return 0;
}
