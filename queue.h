/*
 * queue.h - smtpfe -p and smtpfe -r (queue.c).
 */
#ifndef QUEUE_H
#define QUEUE_H

#include "config.h"

/* queue_list - smtpfe -p: the spool, like mailq, on stdout; 0 */
int	queue_list(const struct config *);
/* queue_requeue - smtpfe -r ID... or -r all; 0, or 66 (EX_NOINPUT) */
int	queue_requeue(const struct config *, const char *, char **, int);

#endif
