/*
 * confcheck.h - smtpfe -n: check the configuration and the spool.
 */
#ifndef CONFCHECK_H
#define CONFCHECK_H

/* confcheck - print every problem on stderr; 0, or 78 (EX_CONFIG) */
int	confcheck(const char *);

#endif
