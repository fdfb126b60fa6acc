/*
 * tls_floor.c - the TLS benchmark's floor: the launcher and the TLS
 * wrapper alone, answering from a canned script.
 *
 * usage: tls_floor WRAPPER CERT KEY FLOOR SPOOLDIR
 *        (the session on fd 0 and fd 1, as inetd gives it)
 *
 * Before TLS it checks nothing: a canned greeting, "250 STARTTLS" to
 * EHLO, and "220" to STARTTLS; then it becomes the wrapper (stunnel4 in
 * inetd mode, configured as smtpfe configures it) with bench/floor as
 * the program behind the TLS connection, which answers every command
 * with a canned reply and makes the message durable (write, fsync,
 * rename, fsync of new/) as smtpfe does.  No SMTP parser, no policy, no
 * sandbox, one process less than smtpfe: what any front end that
 * delegates TLS to a wrapper started per session pays.  Not a mail
 * server; a measuring stick.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char line[1024];

/* say - one reply; exit when the client is gone */
static void
say(const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t n = write(1, text + off, len - off);

		if (n <= 0 && !(n == -1 && errno == EINTR))
			_exit(0);
		if (n > 0)
			off += (size_t)n;
	}
}

/* getline1 - one line, a byte at a time (nothing read past it: the
 * wrapper must find the handshake in the socket); 0 at end of file */
static int
getline1(void)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(0, &c, 1);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if (n + 1 < sizeof(line))
			line[n++] = c;
		if (c == '\n') {
			line[n] = '\0';
			return 1;
		}
	}
}

int
main(int argc, char *argv[])
{
	static char conf[8192];
	char fdarg[16];
	int p[2], n;

	if (argc != 6) {
		(void)fprintf(stderr, "usage: tls_floor WRAPPER CERT KEY FLOOR "
		    "SPOOLDIR\n");
		return 64;
	}
	say("220 floor ESMTP\r\n");
	while (getline1()) {
		if (strncasecmp(line, "EHLO", 4) == 0)
			say("250-floor\r\n250 STARTTLS\r\n");
		else if (strncasecmp(line, "STARTTLS", 8) == 0)
			break;
		else if (strncasecmp(line, "QUIT", 4) == 0) {
			say("221 bye\r\n");
			return 0;
		} else
			say("250 ok\r\n");
	}
	n = snprintf(conf, sizeof(conf),
	    "foreground = yes\nsyslog = no\ndebug = 0\n"
	    "cert = %s\nkey = %s\nsslVersionMin = TLSv1.2\n"
	    "ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1\n"
	    "curves = X25519:P-256:P-384\noptions = NO_TICKET\n"
	    "renegotiation = no\nTIMEOUTclose = 0\n"
	    "exec = %s\nexecArgs = floor %s\n",
	    argv[2], argv[3], argv[4], argv[5]);
	if (n < 0 || (size_t)n >= sizeof(conf) || pipe(p) == -1 ||
	    write(p[1], conf, (size_t)n) != n)
		return 71;
	(void)close(p[1]);
	(void)snprintf(fdarg, sizeof(fdarg), "%d", p[0]);
	say("220 2.0.0 go\r\n");
	(void)execl(argv[1], "stunnel", "-fd", fdarg, (char *)NULL);
	return 127;
}
