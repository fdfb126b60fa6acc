/* mime.c - STUB: replaced by the real scanner (issue 4). */
#include <string.h>

#include "mime.h"

void
mime_init(struct mime *m, const struct mime_policy *pol)
{
	memset(m, 0, sizeof(*m));
	m->pol = *pol;
}

void
mime_feed(struct mime *m, const char *buf, size_t len)
{
	(void)m;
	(void)buf;
	(void)len;
}

const char *
mime_verdict(struct mime *m)
{
	return m->verdict;
}
