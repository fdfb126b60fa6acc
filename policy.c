/*
 * policy.c - address syntax and the envelope policy (SPEC.md "Address
 * policy").
 *
 * Pure: every check takes the configuration, the peer and the text and
 * returns NULL to accept or the complete reply line to send.  No syslog,
 * no I/O, no globals (only constant tables and string literals).  Each
 * validator is written "reject unless": every test returns on failure and
 * the last line is the only accept.  Character classes are explicit byte
 * ranges, never <ctype.h>.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "config.h"
#include "policy.h"
#include "smtpfe.h"
#include "utf8.h"

/* RFC 1035 2.3.4: a label is at most 63 octets. */
#define DNS_LABEL_MAX	63

/* Pick the sender (5.1.7) or the recipient (5.1.3) form of a reply. */
#define BY_ROLE(role, sender, rcpt)	((role) == ROLE_SENDER ? (sender) : (rcpt))

#define MAIL_SYNTAX	"501 5.5.4 Syntax: MAIL FROM:<address>"
#define RCPT_SYNTAX	"501 5.5.4 Syntax: RCPT TO:<address>"

/* is_alpha - ASCII letter */
static int
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* is_digit - ASCII digit */
static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* is_ldh - letter, digit or hyphen (RFC 5321 Ldh-str) */
static int
is_ldh(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '-';
}

/* is_atext - RFC 5322 atext, as RFC 5321 Atom uses it */
static int
is_atext(unsigned char c)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";

	return is_alpha(c) || is_digit(c) ||
	    (c != '\0' && memchr(specials, c, sizeof(specials) - 1) != NULL);
}

/* is_qtext - RFC 5321 qtextSMTP: printable ASCII but '"' and '\' */
static int
is_qtext(unsigned char c)
{
	return c == 32 || c == 33 || (c >= 35 && c <= 91) ||
	    (c >= 93 && c <= 126);
}

/*
 * is_utf8_octet - an octet of RFC 6531 UTF8-non-ascii, which extends
 * atext, qtextSMTP and sub-domain.  addr_parse lets such octets reach
 * the parsers only in an SMTPUTF8 transaction, and only once the whole
 * text has been found well-formed UTF-8.
 */
static int
is_utf8_octet(unsigned char c)
{
	return c >= 0x80;
}

/* ulabel_ok - a label with UTF-8: its A-label fits 63 octets */
static int
ulabel_ok(const char *s, size_t len)
{
	char ace[IDN_LABEL_MAX + 1];

	return idn_domain_ascii(s, len, ace, sizeof(ace)) > 0;
}

/*
 * domain_ok - RFC 5321 Domain: dot-separated labels of letters, digits
 * and hyphens, no hyphen at either end of a label, no empty label (so no
 * trailing dot), labels at most 63 octets, the whole at most 255.  With
 * UTF8, a label may also hold UTF-8 (RFC 6531 U-label; the text was
 * found well-formed already) and must then fit 63 octets in A-label
 * form; only '.' separates labels.
 */
static int
domain_ok(const char *s, size_t len, int utf8)
{
	size_t i, label = 0;
	int wide = 0;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-' ||
			    (wide && !ulabel_ok(s + i - label, label)))
				return 0;
			label = 0;
			wide = 0;
			continue;
		}
		if (utf8 && is_utf8_octet(c))
			wide = 1;
		else if (!is_ldh(c) || (label == 0 && c == '-'))
			return 0;
		if (++label > (wide ? SMTP_DOMAIN_MAX : DNS_LABEL_MAX))
			return 0;
	}
	return label > 0 && s[len - 1] != '-' &&
	    (!wide || ulabel_ok(s + len - label, label));
}

/*
 * literal_ok - RFC 5321 address-literal "[a.b.c.d]" or "[IPv6:...]"; the
 * general form (another tag) is refused.  inet_pton does no I/O.
 */
static int
literal_ok(const char *s, size_t len)
{
	char buf[SMTP_DOMAIN_MAX + 1];
	unsigned char bin[16];

	if (len < 3 || len > SMTP_DOMAIN_MAX)
		return 0;
	if (s[0] != '[' || s[len - 1] != ']')
		return 0;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (len - 2 > 5 && str_ncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, bin) == 1;
	return inet_pton(AF_INET, buf, bin) == 1;
}

/*
 * route_len - the length of a source route "@a,@b:" at the start of S
 * (0 when there is none), or -1 when it is malformed.  RFC 5321 At-domain
 * is "@" Domain: each route domain is checked, then dropped (Appendix C).
 */
static long
route_len(const char *s, size_t len, int utf8)
{
	size_t i = 0, j;

	if (len == 0 || s[0] != '@')
		return 0;
	for (;;) {
		if (i >= len || s[i] != '@')
			return -1;
		for (j = i + 1; j < len && s[j] != ',' && s[j] != ':'; j++)
			continue;
		if (j >= len || !domain_ok(s + i + 1, j - i - 1, utf8))
			return -1;
		i = j + 1;
		if (s[j] == ':')
			return (long)i;
	}
}

/* quoted_len - length of the Quoted-string at S, or 0 if malformed */
static size_t
quoted_len(const char *s, size_t len, int utf8)
{
	size_t i;

	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			return i + 1;
		if (c == '\\') {
			/* quoted-pairSMTP: backslash, then %d32-126 */
			if (i + 1 >= len || (unsigned char)s[i + 1] < 32 ||
			    (unsigned char)s[i + 1] > 126)
				return 0;
			i++;
			continue;
		}
		if (!is_qtext(c) && !(utf8 && is_utf8_octet(c)))
			return 0;
	}
	return 0;
}

/* dotstring_len - length of the Dot-string at S, or 0 if malformed */
static size_t
dotstring_len(const char *s, size_t len, int utf8)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (i == 0 || s[i - 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i]) &&
		    !(utf8 && is_utf8_octet((unsigned char)s[i])))
			break;
	}
	if (i == 0 || s[i - 1] == '.')
		return 0;
	return i;
}

/* local_len - length of the Local-part at S, or 0 if malformed */
static size_t
local_len(const char *s, size_t len, int utf8)
{
	if (len == 0)
		return 0;
	if (s[0] == '"')
		return quoted_len(s, len, utf8);
	return dotstring_len(s, len, utf8);
}

/*
 * local_dequote - the local part as the MTA will see it: quotes removed
 * and quoted-pairs resolved.  OUT has room for SMTP_LOCAL_MAX + 1 octets,
 * which is enough because dequoting only shortens.  Returns the length.
 */
static size_t
local_dequote(const char *local, char *out)
{
	size_t i, n = 0;

	if (local[0] != '"') {
		for (i = 0; local[i] != '\0' && n < SMTP_LOCAL_MAX; i++)
			out[n++] = local[i];
		out[n] = '\0';
		return n;
	}
	for (i = 1; local[i] != '\0' && local[i] != '"' && n < SMTP_LOCAL_MAX;
	    i++) {
		if (local[i] == '\\' && local[i + 1] != '\0')
			i++;
		out[n++] = local[i];
	}
	out[n] = '\0';
	return n;
}

/* has_include - 1 when S contains ":include:" in any case */
static int
has_include(const char *s, size_t len)
{
	static const char tag[] = ":include:";
	size_t i, tlen = sizeof(tag) - 1;

	for (i = 0; i + tlen <= len; i++)
		if (str_ncasecmp(s + i, tag, tlen) == 0)
			return 1;
	return 0;
}

/*
 * addr_tricks - the forms refused in any address, whoever sends it:
 * programs, files, options and :include: lists (sendmail's aliases
 * syntax).  Judged on the dequoted local part; leading blanks are skipped
 * first, because an MTA may trim them before it looks at the first octet.
 * Control octets were refused on the raw text already.
 */
static const char *
addr_tricks(const struct addr *a, enum role role)
{
	char plain[SMTP_LOCAL_MAX + 1];
	size_t n, i;

	n = local_dequote(a->local, plain);
	if (n == 0)
		return BY_ROLE(role, "501 5.1.7 Empty local part",
		    "501 5.1.3 Empty local part");
	for (i = 0; i < n && plain[i] == ' '; i++)
		continue;
	if (plain[i] == '|')
		return BY_ROLE(role, "553 5.1.7 Program addresses are refused",
		    "553 5.1.3 Program addresses are refused");
	if (plain[i] == '/')
		return BY_ROLE(role, "553 5.1.7 File addresses are refused",
		    "553 5.1.3 File addresses are refused");
	if (plain[i] == '-')
		return BY_ROLE(role,
		    "553 5.1.7 Local part starting with '-' is refused",
		    "553 5.1.3 Local part starting with '-' is refused");
	if (has_include(plain, n))
		return BY_ROLE(role,
		    "553 5.1.7 :include: addresses are refused",
		    "553 5.1.3 :include: addresses are refused");
	if (utf8_has_confusable(plain, n))
		return BY_ROLE(role, "553 5.1.7 Fullwidth or small form of "
		    "an ASCII character in the local part is refused",
		    "553 5.1.3 Fullwidth or small form of "
		    "an ASCII character in the local part is refused");
	return NULL;
}

/* addr_fill - copy the parts of a checked mailbox into A */
static void
addr_fill(struct addr *a, const char *local, size_t llen, const char *domain,
    size_t dlen)
{
	memcpy(a->local, local, llen);
	a->local[llen] = '\0';
	memcpy(a->domain, domain, dlen);
	a->domain[dlen] = '\0';
	a->path[0] = '<';
	memcpy(a->path + 1, local, llen);
	a->path[1 + llen] = '@';
	memcpy(a->path + 2 + llen, domain, dlen);
	a->path[2 + llen + dlen] = '>';
	a->path[3 + llen + dlen] = '\0';
}

/* domain_check - the domain of a mailbox: literal or RFC 5321 Domain */
static const char *
domain_check(const char *d, size_t dlen, enum role role, int utf8)
{
	int literal = dlen > 0 && d[0] == '[';

	if (dlen > SMTP_DOMAIN_MAX)
		return BY_ROLE(role, "501 5.1.7 Domain longer than 255 octets",
		    "501 5.1.3 Domain longer than 255 octets");
	if (literal && !literal_ok(d, dlen))
		return BY_ROLE(role,
		    "501 5.1.7 Address literal is not [IPv4] or [IPv6:...]",
		    "501 5.1.3 Address literal is not [IPv4] or [IPv6:...]");
	if (!literal && dlen > 0 && d[dlen - 1] == '.')
		return BY_ROLE(role, "501 5.1.7 Domain ends in a dot",
		    "501 5.1.3 Domain ends in a dot");
	if (!literal && !domain_ok(d, dlen, utf8))
		return BY_ROLE(role, "501 5.1.7 Bad domain syntax",
		    "501 5.1.3 Bad domain syntax");
	return NULL;
}

/*
 * mailbox_parse - RFC 5321 Mailbox (route already stripped): syntax,
 * limits, then the trick forms.  An unquoted second '@' is refused 553,
 * not 501, for every address and every client (SPEC: "a second @
 * anywhere is refused 553 5.1.3 whoever the client is").
 */
static const char *
mailbox_parse(const char *m, size_t mlen, enum role role, int utf8,
    struct addr *a)
{
	const char *d, *err;
	size_t llen, dlen;

	llen = local_len(m, mlen, utf8);
	if (llen == 0 || (llen < mlen && m[llen] != '@'))
		return BY_ROLE(role, "501 5.1.7 Bad local part syntax",
		    "501 5.1.3 Bad local part syntax");
	if (llen == mlen)
		return BY_ROLE(role, "501 5.1.7 Address needs @domain",
		    "501 5.1.3 Address needs @domain");
	if (llen > SMTP_LOCAL_MAX)
		return BY_ROLE(role, "501 5.1.7 Local part longer than 64 octets",
		    "501 5.1.3 Local part longer than 64 octets");
	d = m + llen + 1;
	dlen = mlen - llen - 1;
	if (memchr(d, '@', dlen) != NULL)
		return BY_ROLE(role, "553 5.1.7 A second @ is refused",
		    "553 5.1.3 A second @ is refused");
	if ((err = domain_check(d, dlen, role, utf8)) != NULL)
		return err;
	if (llen + dlen + 3 > SMTP_PATH_MAX)
		return BY_ROLE(role, "501 5.1.7 Path longer than 256 octets",
		    "501 5.1.3 Path longer than 256 octets");
	addr_fill(a, m, llen, d, dlen);
	a->literal = d[0] == '[';
	if ((err = addr_tricks(a, role)) != NULL)
		memset(a, 0, sizeof(*a));
	return err;
}

/* addr_null - the null path "<>": a sender only (RFC 5321 4.5.5) */
static const char *
addr_null(enum role role, struct addr *a)
{
	if (role != ROLE_SENDER)
		return "501 5.1.3 The null address <> is not a recipient";
	a->null = 1;
	memcpy(a->path, "<>", 3);
	return NULL;
}

/*
 * addr_utf8 - the octets of an SMTPUTF8 address: well-formed UTF-8 (RFC
 * 3629) without C1 controls, or 501 (SPEC "Internationalized addresses").
 */
static const char *
addr_utf8(const char *s, size_t len, enum role role)
{
	int r = utf8_check(s, len);

	if (r == UTF8_C1)
		return BY_ROLE(role,
		    "501 5.1.7 C1 control characters in address are refused",
		    "501 5.1.3 C1 control characters in address are refused");
	if (r != UTF8_OK)
		return BY_ROLE(role,
		    "501 5.1.7 Address is not well-formed UTF-8",
		    "501 5.1.3 Address is not well-formed UTF-8");
	return NULL;
}

/*
 * addr_parse - parse "<...>" (brackets included, exactly LEN octets) as an
 * RFC 5321 Path.  Non-ASCII and control octets are judged before the
 * syntax, so that the client learns why (553 5.6.7, 553 5.1.x); a control
 * octet is refused anywhere in the text, not only in the local part.
 * UTF8 is the transaction's SMTPUTF8 flag: without it any non-ASCII octet
 * is 553 5.6.7; with it the text must be well-formed UTF-8.
 */
const char *
addr_parse(const char *s, size_t len, enum role role, int utf8,
    struct addr *a)
{
	const char *err;
	long rlen;

	memset(a, 0, sizeof(*a));
	if (len > SMTP_LINE_MAX)
		return BY_ROLE(role, "501 5.1.7 Path longer than 512 octets",
		    "501 5.1.3 Path longer than 512 octets");
	if (str_has_8bit(s, len) && !utf8)
		return "553 5.6.7 Non-ASCII address refused (no SMTPUTF8)";
	if (str_has_8bit(s, len) && (err = addr_utf8(s, len, role)) != NULL)
		return err;
	if (str_has_ctl(s, len))
		return BY_ROLE(role,
		    "553 5.1.7 Control characters in address are refused",
		    "553 5.1.3 Control characters in address are refused");
	if (len < 2 || s[0] != '<' || s[len - 1] != '>')
		return BY_ROLE(role, "501 5.1.7 Address must be in <>",
		    "501 5.1.3 Address must be in <>");
	if (len == 2)
		return addr_null(role, a);
	if ((rlen = route_len(s + 1, len - 2, utf8)) < 0)
		return BY_ROLE(role, "501 5.1.7 Bad source route syntax",
		    "501 5.1.3 Bad source route syntax");
	return mailbox_parse(s + 1 + rlen, len - 2 - (size_t)rlen, role, utf8,
	    a);
}

/* policy_helo - check a HELO/EHLO argument (domain or address literal) */
const char *
policy_helo(const char *arg)
{
	size_t len = strlen(arg);

	if (len == 0)
		return "501 5.5.4 HELO/EHLO requires a domain name";
	if (len > SMTP_DOMAIN_MAX)
		return "501 5.5.4 HELO/EHLO argument longer than 255 octets";
	if (arg[0] == '[' ? !literal_ok(arg, len) : !domain_ok(arg, len, 0))
		return "501 5.5.4 HELO/EHLO argument is not a domain name "
		    "or address literal";
	return NULL;
}

/*
 * path_span - the length of "<...>" at P: up to the first '>' outside a
 * quoted string, so that a quoted '>' does not end the path; 0 if none.
 */
static size_t
path_span(const char *p)
{
	size_t i;
	int quoted = 0;

	if (p[0] != '<')
		return 0;
	for (i = 1; p[i] != '\0'; i++) {
		if (quoted && p[i] == '\\' && p[i + 1] != '\0')
			i++;
		else if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && p[i] == '>')
			return i + 1;
	}
	return 0;
}

/* keyword_len - RFC 5321 esmtp-keyword at P: (ALPHA/DIGIT) *(... / "-") */
static size_t
keyword_len(const char *p)
{
	size_t i;

	if (!is_alpha((unsigned char)p[0]) && !is_digit((unsigned char)p[0]))
		return 0;
	for (i = 1; is_ldh((unsigned char)p[i]); i++)
		continue;
	return i;
}

/* value_len - RFC 5321 esmtp-value at P: 1*(%d33-60 / %d62-126) */
static size_t
value_len(const char *p)
{
	size_t i;

	for (i = 0; (unsigned char)p[i] >= 33 && (unsigned char)p[i] <= 126 &&
	    p[i] != '='; i++)
		continue;
	return i;
}

/*
 * mail_size - SIZE=n (RFC 1870): digits only; over max_message_size is
 * 552.  Leading zeros are skipped so that the bounded copy for
 * parse_number never refuses a small number written long.
 */
static const char *
mail_size(const struct config *conf, const char *v, size_t vlen,
    struct mailargs *m)
{
	char buf[24];
	size_t i;

	if (m->size_given)
		return "501 5.5.4 Duplicate SIZE parameter";
	if (vlen == 0)
		return "501 5.5.4 SIZE needs a number";
	for (i = 0; i < vlen; i++)
		if (!is_digit((unsigned char)v[i]))
			return "501 5.5.4 SIZE needs a number";
	while (vlen > 1 && v[0] == '0') {
		v++;
		vlen--;
	}
	if (vlen >= sizeof(buf))
		return "552 5.3.4 Message size exceeds max_message_size";
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	if (parse_number(buf, conf->max_message_size, &m->size) != 0)
		return "552 5.3.4 Message size exceeds max_message_size";
	m->size_given = 1;
	return NULL;
}

/* mail_body - BODY=7BIT or BODY=8BITMIME (RFC 6152), any case */
static const char *
mail_body(const char *v, size_t vlen, struct mailargs *m)
{
	if (m->body != BODY_NONE)
		return "501 5.5.4 Duplicate BODY parameter";
	if (vlen == 4 && str_ncasecmp(v, "7BIT", 4) == 0)
		m->body = BODY_7BIT;
	else if (vlen == 8 && str_ncasecmp(v, "8BITMIME", 8) == 0)
		m->body = BODY_8BITMIME;
	else
		return "501 5.5.4 BODY must be 7BIT or 8BITMIME";
	return NULL;
}

/* is_smtputf8 - the keyword is SMTPUTF8, in any case */
static int
is_smtputf8(const char *k, size_t klen)
{
	return klen == 8 && str_ncasecmp(k, "SMTPUTF8", 8) == 0;
}

/*
 * mail_smtputf8 - SMTPUTF8 (RFC 6531 3.4): no value; 555 when
 * smtputf8 = no, as for any parameter the server does not offer.
 */
static const char *
mail_smtputf8(const struct config *conf, const char *v, struct mailargs *m)
{
	if (!conf->smtputf8)
		return "555 5.5.4 SMTPUTF8 is not offered here (smtputf8 = no)";
	if (v != NULL)
		return "501 5.5.4 SMTPUTF8 takes no value";
	if (m->smtputf8)
		return "501 5.5.4 Duplicate SMTPUTF8 parameter";
	m->smtputf8 = 1;
	return NULL;
}

/* mail_param - one MAIL parameter: SIZE, BODY, SMTPUTF8; the rest is 555 */
static const char *
mail_param(const struct config *conf, const char *k, size_t klen,
    const char *v, size_t vlen, struct mailargs *m)
{
	if (klen == 4 && str_ncasecmp(k, "SIZE", 4) == 0)
		return mail_size(conf, v, vlen, m);
	if (klen == 4 && str_ncasecmp(k, "BODY", 4) == 0)
		return mail_body(v, vlen, m);
	if (is_smtputf8(k, klen))
		return mail_smtputf8(conf, v, m);
	return "555 5.5.4 Unsupported MAIL parameter "
	    "(only SIZE, BODY and SMTPUTF8)";
}

/*
 * param_split - the next " KEY[=VALUE]" at *PP: 1 with the parts set and
 * *PP moved past it, 0 at the end (trailing blanks tolerated), or -1 on
 * bad syntax.  A keyword without a value gets V = NULL, VLEN = 0.
 */
static int
param_split(const char **pp, const char **k, size_t *klen, const char **v,
    size_t *vlen)
{
	const char *p = *pp;

	if (*p == '\0')
		return 0;
	if (*p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	if ((*klen = keyword_len(p)) == 0)
		return -1;
	*k = p;
	p += *klen;
	*v = NULL;
	*vlen = 0;
	if (*p == '=') {
		*v = ++p;
		if ((*vlen = value_len(p)) == 0)
			return -1;
		p += *vlen;
	}
	if (*p != ' ' && *p != '\0')
		return -1;
	*pp = p;
	return 1;
}

/*
 * mail_wants_utf8 - 1 when the parameters after the path at P hold a
 * well-formed SMTPUTF8 and smtputf8 = yes: the address is then judged
 * as UTF-8.  Only a look ahead; mail_param judges each parameter after
 * the address, in order.
 */
static int
mail_wants_utf8(const struct config *conf, const char *p)
{
	const char *k, *v;
	size_t klen, vlen;

	if (!conf->smtputf8)
		return 0;
	while (param_split(&p, &k, &klen, &v, &vlen) == 1)
		if (is_smtputf8(k, klen) && v == NULL)
			return 1;
	return 0;
}

/*
 * policy_mail - parse and check what follows "MAIL": exactly " FROM:" in
 * any case, blanks tolerated after the colon (many clients send one),
 * the path, then parameters.
 */
const char *
policy_mail(const struct config *conf, const char *arg, struct mailargs *m)
{
	const char *p, *k, *v, *err;
	size_t plen, klen, vlen;
	int r;

	memset(m, 0, sizeof(*m));
	m->body = BODY_NONE;
	if (str_ncasecmp(arg, " FROM:", 6) != 0)
		return MAIL_SYNTAX;
	for (p = arg + 6; *p == ' '; p++)
		continue;
	/* No <...> after FROM: is a bad address, not a bad command. */
	if ((plen = path_span(p)) == 0)
		return "501 5.1.7 Bad sender address syntax: use "
		    "MAIL FROM:<address>";
	if ((err = addr_parse(p, plen, ROLE_SENDER,
	    mail_wants_utf8(conf, p + plen), &m->from)) != NULL)
		return err;
	p += plen;
	while ((r = param_split(&p, &k, &klen, &v, &vlen)) == 1)
		if ((err = mail_param(conf, k, klen, v, vlen, m)) != NULL)
			return err;
	if (r < 0)
		return "501 5.5.4 Bad MAIL parameter syntax";
	return NULL;
}

/*
 * rcpt_local_tricks - the relay tricks refused for a local domain (SPEC:
 * "whoever the client is"): the percent hack, bang paths, and a quoted
 * '@', all judged on the dequoted local part.
 */
static const char *
rcpt_local_tricks(const struct addr *a)
{
	char plain[SMTP_LOCAL_MAX + 1];
	size_t n;

	n = local_dequote(a->local, plain);
	if (memchr(plain, '%', n) != NULL)
		return "553 5.1.3 '%' in a local address is refused "
		    "(percent hack)";
	if (memchr(plain, '!', n) != NULL)
		return "553 5.1.3 '!' in a local address is refused (bang path)";
	if (memchr(plain, '@', n) != NULL)
		return "553 5.1.3 '@' in a local part is refused";
	return NULL;
}

/*
 * rcpt_is_postmaster - "postmaster" in any case (RFC 5321 4.5.1), the
 * local part compared after dequoting.
 */
static int
rcpt_is_postmaster(const struct addr *a)
{
	char plain[SMTP_LOCAL_MAX + 1];

	return local_dequote(a->local, plain) == 10 &&
	    str_ncasecmp(plain, "postmaster", 10) == 0;
}

/*
 * rcpt_policy - after the syntax and the trick forms: local-domain
 * tricks, the blocklist verdict (postmaster@ a local domain exempt), the
 * relay check, the recipients list (SPEC order).
 * Non-local recipients from relay clients are not looked up.
 */
static const char *
rcpt_policy(const struct config *conf, const struct peer *peer,
    const struct addr *a)
{
	const char *err;
	int local;

	local = !a->literal && domain_is_local(conf, a->domain);
	if (local && (err = rcpt_local_tricks(a)) != NULL)
		return err;
	if (peer->dnsbl[0] != '\0' && !(local && rcpt_is_postmaster(a)))
		return peer->dnsbl;
	if (!local && !peer_is_relay(conf, peer))
		return a->literal ?
		    "554 5.7.1 Relaying denied: address literals are not local" :
		    "554 5.7.1 Relaying denied: domain is not local";
	if (local && conf->rcptmap.base != NULL &&
	    !rcptmap_has(&conf->rcptmap, a))
		return "550 5.1.1 No such user here";
	return NULL;
}

/*
 * policy_rcpt - parse and check what follows "RCPT": exactly " TO:" in any
 * case, blanks tolerated after the colon, the path; no parameter is
 * offered (NOTIFY and ORCPT are deliberately not), so any is 555.  UTF8
 * is the transaction's SMTPUTF8 flag.
 */
const char *
policy_rcpt(const struct config *conf, const struct peer *peer,
    const char *arg, int utf8, struct addr *a)
{
	const char *p, *k, *v, *err;
	size_t plen, klen, vlen;
	int r;

	memset(a, 0, sizeof(*a));
	if (str_ncasecmp(arg, " TO:", 4) != 0)
		return RCPT_SYNTAX;
	for (p = arg + 4; *p == ' '; p++)
		continue;
	if ((plen = path_span(p)) == 0)
		return "501 5.1.3 Bad recipient address syntax: use "
		    "RCPT TO:<address>";
	if ((err = addr_parse(p, plen, ROLE_RCPT, utf8, a)) != NULL)
		return err;
	p += plen;
	if ((r = param_split(&p, &k, &klen, &v, &vlen)) < 0)
		return "501 5.5.4 Bad RCPT parameter syntax";
	if (r > 0)
		return "555 5.5.4 RCPT parameters are not supported";
	return rcpt_policy(conf, peer, a);
}

/*
 * domain_is_local - 1 when DOMAIN matches local_domains, in any case:
 * "example.org" matches itself only, ".example.org" every subdomain but
 * not example.org itself.  An address literal never matches.  A domain
 * with UTF-8 is compared in A-label form, as local_domains is stored.
 */
int
domain_is_local(const struct config *conf, const char *domain)
{
	char ace[IDN_DOMAIN_ACE_MAX + 1];
	size_t i, dlen, elen;
	long n;

	dlen = strlen(domain);
	if (dlen == 0 || domain[0] == '[')
		return 0;
	if (str_has_8bit(domain, dlen)) {
		if ((n = idn_domain_ascii(domain, dlen, ace, sizeof(ace))) < 0)
			return 0;
		domain = ace;
		dlen = (size_t)n;
	}
	for (i = 0; i < conf->nlocal; i++) {
		const char *e = conf->local_domains[i];

		elen = strlen(e);
		if (e[0] == '.' && dlen > elen &&
		    str_casecmp(domain + dlen - elen, e) == 0)
			return 1;
		if (e[0] != '.' && str_casecmp(domain, e) == 0)
			return 1;
	}
	return 0;
}

/* prefix_match - 1 when the first BITS bits of A and B agree */
static int
prefix_match(const unsigned char *a, const unsigned char *b,
    unsigned int bits)
{
	unsigned int bytes = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

/* peer_is_relay - 1 when the peer is inside relay_networks */
int
peer_is_relay(const struct config *conf, const struct peer *peer)
{
	size_t i;

	if (!peer->known)
		return 0;
	for (i = 0; i < conf->nrelay; i++)
		if (conf->relay[i].family == peer->family &&
		    prefix_match(conf->relay[i].addr, peer->addr,
		    conf->relay[i].bits))
			return 1;
	return 0;
}

/* v4mapped - 1 when the 16 octets are an IPv4-mapped IPv6 address */
static int
v4mapped(const unsigned char *a)
{
	static const unsigned char prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* peer_unknown - mark the peer unknown; returns -1 for the callers */
static int
peer_unknown(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->text, "unknown", sizeof("unknown"));
	return -1;
}

/* peer_fill - set the address, IPv4-mapped IPv6 turned into IPv4 */
static int
peer_fill(struct peer *p, int family, const unsigned char *bin)
{
	memset(p, 0, sizeof(*p));
	if (family == AF_INET6 && v4mapped(bin)) {
		family = AF_INET;
		bin += 12;
	}
	p->family = family;
	memcpy(p->addr, bin, family == AF_INET ? 4 : 16);
	if (inet_ntop(family, p->addr, p->text, sizeof(p->text)) == NULL)
		return peer_unknown(p);
	p->known = 1;
	return 0;
}

/* peer_set_sockaddr - fill a peer from getpeername(); -1 if not IP */
int
peer_set_sockaddr(struct peer *p, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (sa == NULL)
		return peer_unknown(p);
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(sin)) {
		memcpy(&sin, sa, sizeof(sin));
		return peer_fill(p, AF_INET,
		    (const unsigned char *)&sin.sin_addr);
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(sin6)) {
		memcpy(&sin6, sa, sizeof(sin6));
		return peer_fill(p, AF_INET6,
		    (const unsigned char *)&sin6.sin6_addr);
	}
	return peer_unknown(p);
}

/* peer_set_text - fill a peer from text (TCPREMOTEIP, -b); -1 if bad */
int
peer_set_text(struct peer *p, const char *s)
{
	unsigned char bin[16];

	if (s == NULL)
		return peer_unknown(p);
	if (inet_pton(AF_INET, s, bin) == 1)
		return peer_fill(p, AF_INET, bin);
	if (inet_pton(AF_INET6, s, bin) == 1)
		return peer_fill(p, AF_INET6, bin);
	return peer_unknown(p);
}

/* cidr_host_bits - 1 when ADDR has a bit set past the first BITS */
static int
cidr_host_bits(const unsigned char *addr, unsigned int bits,
    unsigned int total)
{
	unsigned int i;

	for (i = bits; i < total; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return 1;
	return 0;
}

/*
 * cidr_parse - "192.0.2.0/24", "2001:db8::/32", or a bare address (the
 * full length).  Host bits set past the prefix ("10.1.2.3/8") are refused
 * rather than masked: such an entry is usually a typo, and guessing which
 * network was meant would widen the relay set silently.  An IPv4-mapped
 * IPv6 network of /96 or longer is stored as IPv4, as peers are.
 */
int
cidr_parse(const char *s, struct cidr *c)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash;
	unsigned long long bits;
	size_t alen;
	unsigned int total;

	memset(c, 0, sizeof(*c));
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	c->family = memchr(buf, ':', alen) != NULL ? AF_INET6 : AF_INET;
	total = c->family == AF_INET ? 32 : 128;
	if (inet_pton(c->family, buf, c->addr) != 1)
		return -1;
	bits = total;
	if (slash != NULL && parse_number(slash + 1, total, &bits) != 0)
		return -1;
	c->bits = (unsigned int)bits;
	if (cidr_host_bits(c->addr, c->bits, total))
		return -1;
	if (c->family == AF_INET6 && c->bits >= 96 && v4mapped(c->addr)) {
		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, 12);
		c->family = AF_INET;
		c->bits -= 96;
	}
	return 0;
}

/* line_cmp - bytewise compare of KEY with a line, as LC_ALL=C sort does */
static int
line_cmp(const char *key, size_t klen, const char *line, size_t llen)
{
	int c;

	c = memcmp(key, line, klen < llen ? klen : llen);
	if (c != 0)
		return c;
	return (klen > llen) - (klen < llen);
}

/*
 * map_find - binary search for the line KEY in the sorted map, in place.
 * [lo, hi) always starts at a line start and ends at a line start or at
 * the end of the map; each probe backs up from the middle byte to the
 * start of its line, so a look-up costs O(log n) line compares.
 */
static int
map_find(const struct rcptmap *map, const char *key, size_t klen)
{
	const char *b = map->base, *nl;
	size_t lo = 0, hi = map->len, mid, s, e;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		for (s = mid; s > lo && b[s - 1] != '\n'; s--)
			continue;
		nl = memchr(b + s, '\n', hi - s);
		e = nl != NULL ? (size_t)(nl - b) : hi;
		c = line_cmp(key, klen, b + s, e - s);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = s;
		else
			lo = e + 1;
	}
	return 0;
}

/*
 * rcptmap_has - 1 when "local@domain" or the catch-all "@domain" is in
 * the list.  The key is lower-cased (ASCII only) with the local part as
 * written: a quoted local part matches only a line that spells it with
 * the same quotes.
 */
int
rcptmap_has(const struct rcptmap *map, const struct addr *a)
{
	char key[SMTP_LOCAL_MAX + 1 + IDN_DOMAIN_ACE_MAX + 1];
	size_t llen, dlen, i;
	long n;

	if (map->base == NULL || a->null)
		return 0;
	llen = strnlen(a->local, sizeof(a->local));
	dlen = strnlen(a->domain, sizeof(a->domain));
	if (llen >= sizeof(a->local) || dlen >= sizeof(a->domain))
		return 0;
	for (i = 0; i < llen; i++)
		key[i] = (char)ascii_lower((unsigned char)a->local[i]);
	key[llen] = '@';
	if (str_has_8bit(a->domain, dlen)) {
		/* The file lists domains in A-label form (SPEC). */
		n = idn_domain_ascii(a->domain, dlen, key + llen + 1,
		    sizeof(key) - llen - 1);
		if (n < 0)
			return 0;
		dlen = (size_t)n;
	} else
		for (i = 0; i < dlen; i++)
			key[llen + 1 + i] =
			    (char)ascii_lower((unsigned char)a->domain[i]);
	if (map_find(map, key, llen + 1 + dlen))
		return 1;
	return map_find(map, key + llen, 1 + dlen);
}
