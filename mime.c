/*
 * mime.c - the streaming content scanner.
 *
 * The message arrives in pieces of any size.  Only two things are ever
 * kept of it: the header field being gathered (at most MIME_HDR_MAX
 * octets, folded lines joined) and the first MIME_LINE_KEEP octets of a
 * line that could be a multipart delimiter.  Every other octet is looked
 * at once, so the time is linear and the memory is struct mime.
 *
 * A message/partial or message/external-body is refused wherever its
 * Content-Type appears: the top-level header section, the header section
 * of any part, or the header section of a message inside a
 * message/rfc822 or message/global part.  To reach those, the scanner
 * follows the structure the way a MUA that splits multiparts on their
 * delimiter lines would.  Where that structure cannot be followed, a
 * message/partial could hide behind it, so while a content rule is in
 * force (either kind is refused) these are refused as well, all with
 * 554 5.6.0 (RFC 3463: other or undefined media error):
 *
 *  - nesting deeper than MIME_DEPTH_MAX frames (multiparts and embedded
 *    messages both count);
 *  - a multipart whose boundary is missing, empty, longer than 70
 *    octets, ends in white space, is given twice with different values,
 *    or is given in RFC 2231 form (boundary*=, boundary*0=): no
 *    legitimate mailer writes those, and a MUA that decodes them could
 *    see parts we would not;
 *  - a multipart or message part in base64 or quoted-printable, which
 *    some MUAs decode and show although RFC 2046 forbids it;
 *  - a Content-Type field whose type/subtype does not fit in the
 *    MIME_HDR_MAX octets kept (only hostile mail does that).
 *
 * When both kinds are accepted, such a structure is simply not followed.
 * Whatever the policy, a header section (top-level or any part's) over
 * MIME_SECTION_MAX octets is refused 554 5.6.0, and more than
 * max_received Received: fields in the top-level section 554 5.4.6.
 *
 * Several Content-Type fields in one section: each is checked for
 * message/partial and message/external-body, and the one that gives the
 * body the most structure (multipart, then message) is followed, so that
 * a second field cannot hide parts from us.  A delimiter line is
 * "--" boundary, or "--" boundary "--" for the last one, followed by
 * nothing but blanks; it is matched against every enclosing multipart,
 * innermost first, and ends whatever was inside.
 */
#include <string.h>

#include "mime.h"
#include "smtpfe.h"

#define MIME_STR2(x)	#x
#define MIME_STR(x)	MIME_STR2(x)

/* What a header section says its body is, by increasing structure. */
enum {
	MIME_K_LEAF,
	MIME_K_MESSAGE,
	MIME_K_MULTI
};

static const char mime_r_partial[] =
    "554 5.6.0 message/partial is refused";
static const char mime_r_external[] =
    "554 5.6.0 message/external-body is refused";
static const char mime_r_received[] =
    "554 5.4.6 Too many Received headers (max_received): mail loop?";
static const char mime_r_depth[] =
    "554 5.6.0 MIME nesting too deep (limit "
    MIME_STR(MIME_DEPTH_MAX) " levels)";
static const char mime_r_section[] =
    "554 5.6.0 Header section too large (limit "
    MIME_STR(MIME_SECTION_MAX) " octets)";
static const char mime_r_boundary[] =
    "554 5.6.0 Multipart without a usable boundary";
static const char mime_r_encoded[] =
    "554 5.6.0 Encoded multipart or message part is refused";
static const char mime_r_ctlong[] =
    "554 5.6.0 Content-Type field too long to check";

/* A parsed Content-Type field. */
struct mime_ct {
	int	 cut;		/* type/subtype not all kept */
	int	 kind;
	int	 digest;
	int	 partial;
	int	 external;
	int	 bseen;
	int	 bok;
	int	 b2231;
	size_t	 blen;
	char	 bnd[MIME_BOUNDARY_MAX + 1];
};

/* A cursor over a field value; trunc: the field went on past it. */
struct mime_cur {
	const char	*s;
	size_t		 n;
	size_t		 i;
	int		 trunc;
};

/* mime_is_wsp - space or tab */
static int
mime_is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* mime_is_token - RFC 2045 token octet: printable, not a tspecial */
static int
mime_is_token(char c)
{
	static const char tspecials[] = "()<>@,;:\\\"/[]?=";

	if (c <= ' ' || c > '~')
		return 0;
	return memchr(tspecials, c, sizeof(tspecials) - 1) == NULL;
}

/* mime_eq - case-insensitive: P (LEN octets) is LIT */
static int
mime_eq(const char *p, size_t len, const char *lit)
{
	return strlen(lit) == len && str_ncasecmp(p, lit, len) == 0;
}

/* mime_refuse - keep the first refusal */
static void
mime_refuse(struct mime *m, const char *reply)
{
	if (m->verdict == NULL)
		m->verdict = reply;
}

/* mime_refuse_structure - refuse what we cannot follow, if it matters */
static void
mime_refuse_structure(struct mime *m, const char *reply)
{
	if (!m->pol.accept_partial || !m->pol.accept_external)
		mime_refuse(m, reply);
}

/* cur_cut - the cursor ran into the end of a truncated field */
static int
cur_cut(const struct mime_cur *c)
{
	return c->i >= c->n && c->trunc;
}

/* cur_skip_comment - skip a comment, nested, with quoted-pairs */
static void
cur_skip_comment(struct mime_cur *c)
{
	size_t depth = 0;

	for (; c->i < c->n; c->i++) {
		char ch = c->s[c->i];

		if (ch == '\\' && c->i + 1 < c->n)
			c->i++;
		else if (ch == '(')
			depth++;
		else if (ch == ')' && --depth == 0) {
			c->i++;
			return;
		}
	}
}

/* cur_skip_quoted - skip a quoted-string */
static void
cur_skip_quoted(struct mime_cur *c)
{
	for (c->i++; c->i < c->n; c->i++) {
		if (c->s[c->i] == '\\' && c->i + 1 < c->n)
			c->i++;
		else if (c->s[c->i] == '"') {
			c->i++;
			return;
		}
	}
}

/* cur_skip_cfws - skip blanks and comments */
static void
cur_skip_cfws(struct mime_cur *c)
{
	for (;;) {
		while (c->i < c->n && mime_is_wsp(c->s[c->i]))
			c->i++;
		if (c->i >= c->n || c->s[c->i] != '(')
			return;
		cur_skip_comment(c);
	}
}

/* cur_token - skip a token; returns its length */
static size_t
cur_token(struct mime_cur *c)
{
	size_t start = c->i;

	while (c->i < c->n && mime_is_token(c->s[c->i]))
		c->i++;
	return c->i - start;
}

/* cur_attr - skip a parameter name, leniently; returns its length */
static size_t
cur_attr(struct mime_cur *c)
{
	static const char stop[] = " \t;=(\"";
	size_t start = c->i;

	while (c->i < c->n && memchr(stop, c->s[c->i], sizeof(stop) - 1) == NULL)
		c->i++;
	return c->i - start;
}

/* val_put - append to a value; LEN counts octets beyond the buffer too */
static void
val_put(char *out, size_t *len, char ch)
{
	if (*len < MIME_BOUNDARY_MAX)
		out[*len] = ch;
	(*len)++;
}

/* cur_value - a parameter value, decoded; 1 if it is complete */
static int
cur_value(struct mime_cur *c, char *out, size_t *len)
{
	static const char stop[] = " \t;(";

	*len = 0;
	if (c->i < c->n && c->s[c->i] == '"') {
		for (c->i++; c->i < c->n; c->i++) {
			char ch = c->s[c->i];

			if (ch == '"') {
				c->i++;
				return 1;
			}
			if (ch == '\\' && c->i + 1 < c->n)
				ch = c->s[++c->i];
			val_put(out, len, ch);
		}
		return 0;
	}
	for (; c->i < c->n; c->i++) {
		if (memchr(stop, c->s[c->i], sizeof(stop) - 1) != NULL)
			break;
		val_put(out, len, c->s[c->i]);
	}
	return !cur_cut(c);
}

/* ct_boundary - record a boundary parameter; a second must agree */
static void
ct_boundary(struct mime_ct *ct, const char *val, size_t len, int complete)
{
	int usable = complete && len >= 1 && len <= MIME_BOUNDARY_MAX &&
	    !mime_is_wsp(val[len - 1]);

	if (ct->bseen) {
		if (!usable || len != ct->blen || memcmp(val, ct->bnd, len) != 0)
			ct->bok = 0;
		return;
	}
	ct->bseen = 1;
	ct->bok = usable;
	ct->blen = len;
	if (usable)
		memcpy(ct->bnd, val, len);
}

/* ct_param - one "name=value" (the cursor is on the name) */
static void
ct_param(struct mime_cur *c, struct mime_ct *ct)
{
	char val[MIME_BOUNDARY_MAX + 1];
	const char *name = c->s + c->i;
	size_t nlen, vlen;
	int complete;

	nlen = cur_attr(c);
	if (nlen == 0) {
		if (c->s[c->i] == '"')
			cur_skip_quoted(c);
		else
			c->i++;
		return;
	}
	cur_skip_cfws(c);
	if (c->i >= c->n || c->s[c->i] != '=')
		return;
	c->i++;
	cur_skip_cfws(c);
	complete = cur_value(c, val, &vlen);
	if (mime_eq(name, nlen, "boundary"))
		ct_boundary(ct, val, vlen, complete);
	else if (nlen >= 9 && str_ncasecmp(name, "boundary*", 9) == 0)
		ct->b2231 = 1;
}

/* ct_params - the parameters of a multipart */
static void
ct_params(struct mime_cur *c, struct mime_ct *ct)
{
	for (;;) {
		cur_skip_cfws(c);
		if (c->i >= c->n)
			return;
		if (c->s[c->i] == ';')
			c->i++;
		else
			ct_param(c, ct);
	}
}

/* ct_classify - what type/subtype means to us */
static void
ct_classify(struct mime_ct *ct, const char *t, size_t tl, const char *st,
    size_t stl)
{
	if (mime_eq(t, tl, "multipart")) {
		ct->kind = MIME_K_MULTI;
		ct->digest = mime_eq(st, stl, "digest");
		return;
	}
	if (!mime_eq(t, tl, "message"))
		return;
	if (mime_eq(st, stl, "partial"))
		ct->partial = 1;
	else if (mime_eq(st, stl, "external-body"))
		ct->external = 1;
	else if (mime_eq(st, stl, "rfc822") || mime_eq(st, stl, "global"))
		ct->kind = MIME_K_MESSAGE;
}

/* ct_parse - parse a Content-Type value (TRUNC: it went on) */
static void
ct_parse(const char *s, size_t n, int trunc, struct mime_ct *ct)
{
	struct mime_cur c = { s, n, 0, trunc };
	const char *t, *st = "";
	size_t tl, stl = 0;

	memset(ct, 0, sizeof(*ct));
	cur_skip_cfws(&c);
	t = s + c.i;
	tl = cur_token(&c);
	cur_skip_cfws(&c);
	if (c.i < c.n && s[c.i] == '/') {
		c.i++;
		cur_skip_cfws(&c);
		st = s + c.i;
		stl = cur_token(&c);
	}
	if (cur_cut(&c)) {
		ct->cut = 1;
		return;
	}
	ct_classify(ct, t, tl, st, stl);
	if (ct->kind == MIME_K_MULTI)
		ct_params(&c, ct);
}

/* field_ctype - a Content-Type field of the current section */
static void
field_ctype(struct mime *m, const char *v, size_t n, int trunc)
{
	struct mime_sect *s = &m->sect;
	struct mime_ct ct;

	ct_parse(v, n, trunc, &ct);
	s->ctseen = 1;
	if (ct.cut) {
		mime_refuse_structure(m, mime_r_ctlong);
		return;
	}
	if (ct.partial && !m->pol.accept_partial)
		mime_refuse(m, mime_r_partial);
	if (ct.external && !m->pol.accept_external)
		mime_refuse(m, mime_r_external);
	if (ct.kind <= s->kind)
		return;
	s->kind = ct.kind;
	s->digest = ct.digest;
	s->usable = ct.bseen && ct.bok && !ct.b2231;
	s->blen = s->usable ? ct.blen : 0;
	memcpy(s->bnd, ct.bnd, s->blen);
}

/* field_cte - a Content-Transfer-Encoding field: base64 or QP? */
static void
field_cte(struct mime *m, const char *v, size_t n, int trunc)
{
	struct mime_cur c = { v, n, 0, trunc };
	const char *t;
	size_t tl;

	cur_skip_cfws(&c);
	t = v + c.i;
	tl = cur_token(&c);
	if (cur_cut(&c) || mime_eq(t, tl, "base64") ||
	    mime_eq(t, tl, "quoted-printable"))
		m->sect.encoded = 1;
}

/* field_received - one more top-level Received: field */
static void
field_received(struct mime *m)
{
	m->received++;
	if (m->received > m->pol.max_received)
		mime_refuse(m, mime_r_received);
}

/*
 * field_flush - act on the gathered field.  A truncated field without a
 * colon may still be a name followed by a long run of blanks (obsolete
 * syntax allows blanks before the colon): it is then taken as that
 * field with an unknown value.
 */
static void
field_flush(struct mime *m)
{
	struct mime_field *f = &m->field;
	const char *colon, *name = f->buf, *v;
	size_t nlen, vlen;

	if (!f->pending)
		return;
	f->pending = 0;
	colon = memchr(f->buf, ':', f->len);
	if (colon == NULL && !f->trunc)
		return;
	nlen = colon == NULL ? f->len : (size_t)(colon - f->buf);
	v = colon == NULL ? f->buf + f->len : colon + 1;
	vlen = (size_t)(f->buf + f->len - v);
	while (nlen > 0 && mime_is_wsp(name[nlen - 1]))
		nlen--;
	for (; nlen > 0 && mime_is_wsp(*name); nlen--)
		name++;
	if (m->depth == 0 && mime_eq(name, nlen, "received"))
		field_received(m);
	else if (mime_eq(name, nlen, "content-type"))
		field_ctype(m, v, vlen, f->trunc);
	else if (mime_eq(name, nlen, "content-transfer-encoding"))
		field_cte(m, v, vlen, f->trunc);
}

/* field_add - gather LEN more octets of the field, bounded */
static void
field_add(struct mime *m, const char *p, size_t len)
{
	struct mime_field *f = &m->field;
	size_t room = sizeof(f->buf) - f->len;

	if (len > room) {
		f->trunc = 1;
		len = room;
	}
	memcpy(f->buf + f->len, p, len);
	f->len += len;
}

/* frame_cut - leave every frame from DEPTH on */
static void
frame_cut(struct mime *m, size_t depth)
{
	size_t i;

	m->depth = depth;
	m->nmulti = 0;
	for (i = 0; i < depth; i++)
		if (m->blen[i] > 0)
			m->nmulti++;
}

/* frame_push - enter a multipart (BLEN > 0) or a message (BLEN 0) */
static void
frame_push(struct mime *m, const char *bnd, size_t blen, int digest)
{
	m->digest[m->depth] = digest;
	m->blen[m->depth] = blen;
	memcpy(m->bnd[m->depth], bnd, blen);
	frame_cut(m, m->depth + 1);
}

/* sect_begin - a header section starts */
static void
sect_begin(struct mime *m)
{
	memset(&m->sect, 0, sizeof(m->sect));
	m->field.pending = 0;
	m->head = 1;
}

/* sect_count - LEN more octets of the section; 1 if over the limit */
static int
sect_count(struct mime *m, size_t len)
{
	m->sect.len += len;
	if (m->sect.len <= MIME_SECTION_MAX)
		return 0;
	mime_refuse(m, mime_r_section);
	return 1;
}

/* sect_in_digest - the section heads a part of a multipart/digest */
static int
sect_in_digest(const struct mime *m)
{
	if (m->depth == 0)
		return 0;
	return m->blen[m->depth - 1] > 0 && m->digest[m->depth - 1];
}

/* sect_end - the empty line: enter the body the section announced */
static void
sect_end(struct mime *m)
{
	struct mime_sect *s = &m->sect;

	field_flush(m);
	m->head = 0;
	if (!s->ctseen && sect_in_digest(m))
		s->kind = MIME_K_MESSAGE;
	if (s->kind == MIME_K_LEAF)
		return;
	if (s->encoded)
		mime_refuse_structure(m, mime_r_encoded);
	else if (m->depth == MIME_DEPTH_MAX)
		mime_refuse_structure(m, mime_r_depth);
	else if (s->kind == MIME_K_MESSAGE) {
		frame_push(m, "", 0, 0);
		sect_begin(m);
	} else if (!s->usable)
		mime_refuse_structure(m, mime_r_boundary);
	else
		frame_push(m, s->bnd, s->blen, s->digest);
}

/* line_begin - a line starts with C: could it be a delimiter? */
static void
line_begin(struct mime *m, char c)
{
	m->bol = 0;
	m->line.cand = c == '-' && m->nmulti > 0;
	m->line.junk = 0;
	m->line.len = 0;
}

/* line_add - keep the start of a candidate line, note what follows */
static void
line_add(struct mime *m, const char *p, size_t len)
{
	struct mime_line *l = &m->line;
	size_t k = sizeof(l->buf) - l->len;

	if (k > len)
		k = len;
	memcpy(l->buf + l->len, p, k);
	l->len += k;
	for (; k < len && !l->junk; k++)
		if (!mime_is_wsp(p[k]))
			l->junk = 1;
	if (l->junk || (l->len >= 2 && l->buf[1] != '-'))
		l->cand = 0;
}

/* line_match - is the line a delimiter (1) or the last one (2) of I? */
static int
line_match(const struct mime *m, size_t i)
{
	const struct mime_line *l = &m->line;
	size_t bl = m->blen[i], j = 2 + bl;
	int last = 0;

	if (bl == 0 || l->len < j || memcmp(l->buf, "--", 2) != 0 ||
	    memcmp(l->buf + 2, m->bnd[i], bl) != 0)
		return 0;
	if (j + 2 <= l->len && memcmp(l->buf + j, "--", 2) == 0) {
		last = 1;
		j += 2;
	}
	for (; j < l->len; j++)
		if (!mime_is_wsp(l->buf[j]))
			return 0;
	return last ? 2 : 1;
}

/* line_end - a candidate line ended: act on a delimiter */
static void
line_end(struct mime *m)
{
	size_t i = m->depth;
	int r;

	while (i-- > 0) {
		r = line_match(m, i);
		if (r == 0)
			continue;
		m->field.pending = 0;
		if (r == 2) {
			frame_cut(m, i);
			m->head = 0;
		} else {
			frame_cut(m, i + 1);
			sect_begin(m);
		}
		return;
	}
}

/* head_line - a header line starts with C: new field or folded? */
static void
head_line(struct mime *m, char c)
{
	line_begin(m, c);
	if (mime_is_wsp(c) && m->field.pending)
		return;
	field_flush(m);
	m->field.pending = 1;
	m->field.trunc = 0;
	m->field.len = 0;
}

/* head_step - scan header octets, up to one line; returns octets used */
static size_t
head_step(struct mime *m, const char *p, size_t n)
{
	const char *lf;
	size_t k;

	if (m->bol) {
		if (p[0] == '\n') {
			sect_end(m);
			return 1;
		}
		head_line(m, p[0]);
	}
	lf = memchr(p, '\n', n);
	k = lf == NULL ? n : (size_t)(lf - p);
	field_add(m, p, k);
	if (m->line.cand)
		line_add(m, p, k);
	if (sect_count(m, lf == NULL ? k : k + 1) || lf == NULL)
		return n;
	m->bol = 1;
	if (m->line.cand)
		line_end(m);
	return k + 1;
}

/* body_step - scan body octets, up to one line; returns octets used */
static size_t
body_step(struct mime *m, const char *p, size_t n)
{
	const char *lf;
	size_t k;

	if (m->nmulti == 0)
		return n;
	if (m->bol)
		line_begin(m, p[0]);
	lf = memchr(p, '\n', n);
	k = lf == NULL ? n : (size_t)(lf - p);
	if (m->line.cand)
		line_add(m, p, k);
	if (lf == NULL)
		return n;
	m->bol = 1;
	if (m->line.cand)
		line_end(m);
	return k + 1;
}

/* mime_init - start a new message */
void
mime_init(struct mime *m, const struct mime_policy *pol)
{
	memset(m, 0, sizeof(*m));
	m->pol = *pol;
	m->verdict = NULL;
	m->bol = 1;
	sect_begin(m);
}

/* mime_feed - scan the next LEN octets of the message */
void
mime_feed(struct mime *m, const char *buf, size_t len)
{
	size_t used;

	while (len > 0 && m->verdict == NULL && !m->done) {
		if (m->head)
			used = head_step(m, buf, len);
		else
			used = body_step(m, buf, len);
		buf += used;
		len -= used;
	}
}

/* mime_verdict - at the end: NULL to accept, or the reply line */
const char *
mime_verdict(struct mime *m)
{
	if (!m->done && m->verdict == NULL && m->head)
		field_flush(m);
	m->done = 1;
	return m->verdict;
}
