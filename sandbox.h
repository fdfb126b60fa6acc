/*
 * sandbox.h - what the session gives up after start-up, before the
 * greeting: no new privileges, resource limits, a seccomp allow-list.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include "config.h"

/*
 * sandbox_enter - apply the limits and the filter; 0 on success, -1 with
 * a reason in ERR (the session then answers 421 and exits).
 */
int	sandbox_enter(const struct config *, char *, size_t);

#endif
