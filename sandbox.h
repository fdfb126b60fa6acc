/*
 * sandbox.h - what the session gives up after start-up, before the
 * greeting: no new privileges, resource limits, a seccomp allow-list.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include "config.h"

/*
 * The one switch: SMTPFE_SANDBOX=off in the environment of the session
 * (set by the administrator in inetd.conf, the tcpserver script or the
 * systemd unit; a client cannot set it) turns the whole sandbox off, for
 * debugging only.  Unset or "on" leaves it on; any other value is an
 * error, so that a mistyped switch is noticed at once.
 */
#define SANDBOX_ENV		"SMTPFE_SANDBOX"

/*
 * Our choice: RLIMIT_NOFILE.  A session holds fds 0-2, the syslog socket,
 * one spool file and the new/ directory (and, with dnsbl, the resolver
 * socket); a syslog reconnect briefly needs one more.  Raised only when the launcher left that many fds open.
 */
#define SANDBOX_NOFILE		16
/* Free descriptors below the limit that the session must always have. */
#define SANDBOX_NOFILE_FREE	6

/*
 * sandbox_pin_fd - FD (the dnsbl socket, connected to the resolver before
 * the privilege drop) can never be aimed elsewhere: connect(2) and
 * sendto(2) on it kill.  Call before sandbox_enter; -1 for none.  The
 * descriptor must stay open until the end, so that its number is never
 * reused by syslog(3)'s reconnect.
 */
void	sandbox_pin_fd(int);

/*
 * sandbox_enter - apply the limits and the filter; 0 on success, -1 with
 * a reason in ERR (the session then answers 421 and exits).
 */
int	sandbox_enter(const struct config *, char *, size_t);

/*
 * sandbox_allow_recvmsg - before sandbox_enter, with TLS offered only:
 * allow recvmsg(2) on descriptor FD with flags MSG_CMSG_CLOEXEC alone,
 * to take the plaintext side of the TLS connection from the wrapper
 * (tls.c).  Every other recvmsg still kills.
 */
void	sandbox_allow_recvmsg(int);

/*
 * sandbox_file_limit - RLIMIT_FSIZE for CONF: the largest spool file a
 * session can write (message, envelope, Received: header, buffers).
 */
unsigned long long sandbox_file_limit(const struct config *);

#endif
