/*
 * fuzz_addr.c - arbitrary bytes through the address parser and the
 * envelope policy.
 *
 * The first octet picks the entry point and the client; the rest is the
 * text (or the bytes of a socket address), handed over in a buffer of exactly its length (plus the NUL the
 * string entry points need), so that ASan sees any read past it.
 *
 * Besides crashes, it checks what SPEC.md promises of every answer: a
 * refusal is one reply line with an enhanced code of its own class and
 * of the right role (5.1.7 sender, 5.1.3 recipient); an accepted address
 * has none of the trick forms, fits the RFC 5321 limits, and a recipient
 * accepted from a client outside relay_networks is in a local domain and
 * in the recipients list.  An SMTPUTF8 address (issue 12: a bit of the
 * first octet, or the MAIL parameter) may hold octets outside ASCII only
 * as well-formed UTF-8, and never a confusable form in its local part.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "smtpfe.h"
#include "utf8.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct config conf;
static struct peer peers[5];		/* relay, relay, stranger x2, unknown */

static char dom1[] = "example.org";
static char dom2[] = ".example.net";
static char dom3[] = "xn--exmple-cua.org";	/* exämple.org */
static char *domains[] = { dom1, dom2, dom3 };
static int smtputf8;			/* the transaction's flag */
static struct cidr relay[5];
/* Sorted, lower case: as LC_ALL=C sort -u writes it. */
static const char rcpts[] =
    "\"quoted user\"@example.org\n"
    "@sub.example.net\n"
    "alice@example.org\n"
    "bob.smith@example.org\n"
    "jos\xc3\xa9@xn--exmple-cua.org\n"
    "postmaster@example.org\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_defaults(&conf);
	conf.local_domains = domains;
	conf.nlocal = 3;
	if (cidr_parse("127.0.0.0/8", &relay[0]) != 0 ||
	    cidr_parse("::1/128", &relay[1]) != 0 ||
	    cidr_parse("198.51.100.0/24", &relay[2]) != 0 ||
	    cidr_parse("10.64.0.0/10", &relay[3]) != 0 ||
	    cidr_parse("2001:db8:8000::/33", &relay[4]) != 0)
		abort();
	conf.relay = relay;
	conf.nrelay = 5;
	conf.rcptmap.base = rcpts;
	conf.rcptmap.len = sizeof(rcpts) - 1;
	conf.max_message_size = 100000;
	if (peer_set_text(&peers[0], "127.0.0.1") != 0 ||
	    peer_set_text(&peers[1], "198.51.100.9") != 0 ||
	    peer_set_text(&peers[2], "192.0.2.7") != 0 ||
	    peer_set_text(&peers[3], "2001:db8::7") != 0)
		abort();
	memset(&peers[4], 0, sizeof(peers[4]));
	return 0;
}

/* is_digit - an ASCII digit */
static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* check_reply - "DDD C.D.D text": one line, the code's own class */
static void
check_reply(const char *r, enum role role)
{
	size_t len = strlen(r);

	if (len < 12 || len > SMTP_REPLY_MAX - 2 || strpbrk(r, "\r\n") != NULL)
		abort();
	if (r[0] < '4' || r[0] > '5' || !is_digit(r[1]) || !is_digit(r[2]) ||
	    r[3] != ' ' || r[4] != r[0] || r[5] != '.' || !is_digit(r[6]))
		abort();
	if (role == ROLE_SENDER && strstr(r, " 5.1.3 ") != NULL)
		abort();
	if (role == ROLE_RCPT && strstr(r, " 5.1.7 ") != NULL)
		abort();
}

/* dequote - the local part as an MTA sees it */
static size_t
dequote(const char *local, char *out)
{
	size_t i = 0, n = 0;

	if (local[0] != '"') {
		n = strlen(local);
		memcpy(out, local, n + 1);
		return n;
	}
	for (i = 1; local[i] != '\0' && local[i] != '"'; i++) {
		if (local[i] == '\\' && local[i + 1] != '\0')
			i++;
		out[n++] = local[i];
	}
	out[n] = '\0';
	return n;
}

/* has_ci - S contains TAG, ASCII case ignored */
static int
has_ci(const char *s, const char *tag)
{
	size_t tlen = strlen(tag);

	for (; *s != '\0'; s++)
		if (str_ncasecmp(s, tag, tlen) == 0)
			return 1;
	return 0;
}

/* check_addr - an accepted address: limits and no trick form */
static void
check_addr(const struct addr *a, enum role role)
{
	char plain[SMTP_LOCAL_MAX + 1];
	const char *p;
	size_t i, n;

	if (strnlen(a->path, sizeof(a->path)) >= sizeof(a->path))
		abort();
	if (a->null) {
		if (role != ROLE_SENDER || strcmp(a->path, "<>") != 0)
			abort();
		return;
	}
	if (strnlen(a->local, sizeof(a->local)) > SMTP_LOCAL_MAX ||
	    strnlen(a->domain, sizeof(a->domain)) > SMTP_DOMAIN_MAX ||
	    a->local[0] == '\0' || a->domain[0] == '\0')
		abort();
	for (p = a->path; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f ||
		    ((unsigned char)*p >= 0x80 && !smtputf8))
			abort();
	if (utf8_check(a->path, strlen(a->path)) != UTF8_OK)
		abort();
	n = dequote(a->local, plain);
	if (utf8_has_confusable(plain, n))
		abort();
	for (i = 0; i < n && plain[i] == ' '; i++)
		continue;
	if (n == 0 || plain[i] == '|' || plain[i] == '/' || plain[i] == '-' ||
	    has_ci(plain, ":include:"))
		abort();
	if (strchr(a->domain, '@') != NULL || (a->literal) != (a->domain[0] == '['))
		abort();
}

/* check_rcpt - an accepted recipient: relay check and recipients list */
static void
check_rcpt(const struct peer *peer, const struct addr *a)
{
	char plain[SMTP_LOCAL_MAX + 1];
	int local = !a->literal && domain_is_local(&conf, a->domain);

	check_addr(a, ROLE_RCPT);
	if (a->null || (!local && !peer_is_relay(&conf, peer)))
		abort();
	if (!local)
		return;
	dequote(a->local, plain);
	if (strpbrk(plain, "%!@") != NULL || !rcptmap_has(&conf.rcptmap, a))
		abort();
}

/* copy - the input as a string of exactly its length */
static char *
copy(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* run_addr - addr_parse on exactly the input, both roles */
static void
run_addr(const uint8_t *data, size_t size)
{
	char *s = malloc(size == 0 ? 1 : size);
	struct addr a;
	const char *r;
	int role;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	for (role = ROLE_SENDER; role <= ROLE_RCPT; role++) {
		r = addr_parse(s, size, (enum role)role, smtputf8, &a);
		if (r != NULL)
			check_reply(r, (enum role)role);
		else
			check_addr(&a, (enum role)role);
	}
	free(s);
}

/* run_mail - policy_mail; an accepted SIZE is within the limit */
static void
run_mail(const char *s)
{
	struct mailargs m;
	const char *r = policy_mail(&conf, s, &m);

	if (r != NULL) {
		check_reply(r, ROLE_SENDER);
		return;
	}
	smtputf8 = m.smtputf8;
	check_addr(&m.from, ROLE_SENDER);
	if (m.size_given && m.size > conf.max_message_size)
		abort();
	if (m.body != BODY_NONE && m.body != BODY_7BIT &&
	    m.body != BODY_8BITMIME)
		abort();
}

/* run_rcpt - policy_rcpt from the client PEER */
static void
run_rcpt(const struct peer *peer, const char *s)
{
	struct addr a;
	const char *r = policy_rcpt(&conf, peer, s, smtputf8, &a);

	if (r != NULL)
		check_reply(r, ROLE_RCPT);
	else
		check_rcpt(peer, &a);
}

/* run_helo - policy_helo: an accepted name fits in a domain */
static void
run_helo(const char *s)
{
	const char *r = policy_helo(s);

	if (r != NULL)
		check_reply(r, ROLE_SENDER);
	else if (strlen(s) > SMTP_DOMAIN_MAX || s[0] == '\0')
		abort();
}

/* check_peer - a peer that was set is an IP client */
static void
check_peer(const struct peer *p)
{
	if (!p->known || (p->family != AF_INET && p->family != AF_INET6) ||
	    strnlen(p->text, sizeof(p->text)) >= sizeof(p->text))
		abort();
	(void)peer_is_relay(&conf, p);
}

/* run_sockaddr - the bytes as what getpeername() could return */
static void
run_sockaddr(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	struct peer p;
	size_t len = size > sizeof(ss) ? sizeof(ss) : size;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, data, len);
	ss.ss_family = (data[0] & 1) ? AF_INET6 : AF_INET;
	if (peer_set_sockaddr(&p, (struct sockaddr *)&ss, (socklen_t)len) == 0)
		check_peer(&p);
}

/* run_peer - peer_set_text and cidr_parse on the text */
static void
run_peer(const char *s)
{
	struct peer p;
	struct cidr c;

	if (peer_set_text(&p, s) == 0)
		check_peer(&p);
	if (cidr_parse(s, &c) == 0 &&
	    c.bits > (c.family == AF_INET ? 32u : 128u))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0)
		return 0;
	smtputf8 = (data[0] & 0x80) != 0;
	if ((data[0] & 7) == 0) {
		run_addr(data + 1, size - 1);
		return 0;
	}
	if ((data[0] & 0x3f) == 7 && size > 1) {
		run_sockaddr(data + 1, size - 1);
		return 0;
	}
	s = copy(data + 1, size - 1);
	switch (data[0] & 7) {
	case 1:
	case 2:
		run_mail(s);
		break;
	case 3:
	case 4:
	case 5:
		run_rcpt(&peers[(data[0] >> 3) % 5], s);
		break;
	case 6:
		run_helo(s);
		break;
	default:
		run_peer(s);
		break;
	}
	free(s);
	return 0;
}
