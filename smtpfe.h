/*
 * smtpfe.h - limits and small helpers shared by every module.
 *
 * Every limit the session enforces is a named constant here, with the
 * source it comes from, so that a reviewer can check them in one place.
 */
#ifndef SMTPFE_H
#define SMTPFE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#define SMTPFE_VERSION		"2.0"

/* RFC 5321 4.5.3.1.1: local part at most 64 octets. */
#define SMTP_LOCAL_MAX		64
/* RFC 5321 4.5.3.1.2: domain at most 255 octets. */
#define SMTP_DOMAIN_MAX		255
/* RFC 5321 4.5.3.1.3: path at most 256 octets, brackets included. */
#define SMTP_PATH_MAX		256
/* RFC 5321 4.5.3.1.4: command line at most 512 octets, CRLF included. */
#define SMTP_LINE_MAX		512
/* RFC 5321 4.5.3.1.5: reply line at most 512 octets, CRLF included. */
#define SMTP_REPLY_MAX		512
/* Our choice: socket input buffer; larger than a command line so that a
 * pipelined burst is read in few calls.  DATA is streamed through it.
 * 16 KiB: half the reads of 8 KiB; 64 KiB saved little more CPU and made
 * a 50 MB session's memory 13% larger than a 1 KB one's (bench/). */
#define IO_INBUF		16384
/* Our choice: the spool file's write buffer, for the same reason. */
#define SPOOL_BUF		16384
/* Our choice: output buffer; a full pipelined burst of replies fits. */
#define IO_OUTBUF		8192
/* Our choice: bytes of peer text kept for one syslog line. */
#define LOG_TEXT_MAX		200
/* SPEC (RFC 2920 refusal): octets of unexpected input shown in the log. */
#define PIPELINE_LOG_MAX	100
/* Our choice: a spool id, "<time>.<pid>.<random>" with room to spare. */
#define SPOOL_ID_MAX		64

/* Our choice: at most 8 dnsbl zones; each costs one query per session. */
#define DNSBL_ZONES_MAX		8
/* RFC 1035 3.1: a name is at most 255 octets on the wire, 253 as text;
 * an IPv6 query name spends 64 of them on nibbles (RFC 5782), so a zone
 * that works for every client is at most 189 octets. */
#define DNSBL_ZONE_MAX		189
/* Our choice: "[IPv6]:port" with room to spare. */
#define DNSBL_RESOLVER_MAX	64

/* parse_number - parse a decimal in [0, max]; 0 on success, -1 otherwise */
int	parse_number(const char *, unsigned long long, unsigned long long *);
/* str_copy - bounded copy; 0 on success, -1 on truncation (dst then "") */
int	str_copy(char *, const char *, size_t);
/* str_printable - copy peer text for a log line: unprintables become '?' */
void	str_printable(char *, size_t, const char *, size_t);
/* str_escape - copy peer text for a log line, control octets escaped */
void	str_escape(char *, size_t, const char *, size_t);
/* str_has_8bit - 1 when an octet of the text is outside ASCII */
int	str_has_8bit(const char *, size_t);
/* str_has_ctl - 1 when the text holds a C0 control octet or DEL */
int	str_has_ctl(const char *, size_t);
/* hostport_parse - "ADDR:PORT" or "[V6]:PORT" (numeric); 0, or -1 */
int	hostport_parse(const char *, struct sockaddr_storage *, socklen_t *);
/* ascii_lower - ASCII-only lower case, never locale-dependent */
int	ascii_lower(int);
/* str_casecmp - ASCII-only case-insensitive compare */
int	str_casecmp(const char *, const char *);
/* str_ncasecmp - the same, at most n octets */
int	str_ncasecmp(const char *, const char *, size_t);

#endif
