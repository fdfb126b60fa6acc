/*
 * config.h - the configuration: every key of SPEC.md "Configuration file".
 *
 * Memory is allocated only while the file is loaded, before the greeting;
 * the session never allocates.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <netinet/in.h>

#include <limits.h>
#include <stddef.h>

#include "smtpfe.h"

/* A relay_networks entry: IPv4 is stored as AF_INET in addr[0..3]. */
struct cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned int	 bits;
};

/*
 * The recipients file, mapped read-only and searched in place: sorted,
 * lower case, one address per LF-terminated line.  base is NULL when the
 * key is unset.
 */
struct rcptmap {
	const char	*base;
	size_t		 len;
};

struct config {
	char		 hostname[SMTP_DOMAIN_MAX + 1];
	char		 spool[PATH_MAX];
	char		 user[64];
	int		 chroot;		/* 1 = yes */
	char		**local_domains;	/* lower case; ".x" = subdomains */
	size_t		 nlocal;
	struct cidr	*relay;
	size_t		 nrelay;
	char		 recipients[PATH_MAX];	/* "" = unset */
	struct rcptmap	 rcptmap;
	unsigned long long max_message_size;
	unsigned long long max_recipients;
	unsigned long long max_errors;
	unsigned long long max_junk_commands;
	unsigned long long max_messages;
	unsigned long long timeout;		/* seconds */
	unsigned long long session_timeout;	/* seconds */
	unsigned long long min_free_space;	/* bytes */
	int		 mime_partial_accept;	/* 1 = accept */
	int		 external_body_accept;	/* 1 = accept */
	unsigned long long max_received;
	unsigned long long greet_pause;		/* milliseconds */
	char		 sendmail[PATH_MAX];
	unsigned long long retry_max_age;	/* seconds */
	char		 dnsbl[DNSBL_ZONES_MAX][DNSBL_ZONE_MAX + 1];
	size_t		 ndnsbl;		/* 0 = no look-ups */
	char		 dns_resolver[DNSBL_RESOLVER_MAX]; /* "" = resolv.conf */
	char		 tls_cert[PATH_MAX];	/* "" = unset (tls.c) */
	char		 tls_key[PATH_MAX];	/* "" = unset */
	char		 tls_wrapper[PATH_MAX];
	int		 smtputf8;		/* 1 = advertise SMTPUTF8 */
	char		 handoff[INET6_ADDRSTRLEN + 16]; /* "sendmail", "smtp:..." */
	unsigned long long handoff_processes;	/* -Q: hand-offs at once */
};

/*
 * A problem found while loading: "FILE:LINE: text" (or "FILE: text").
 * The loader reports every problem, not only the first.
 */
typedef void	config_report_fn(void *, const char *);

/* config_defaults - fill in every default of SPEC.md */
void	config_defaults(struct config *);
/* config_load - defaults, then FILE; returns the number of problems */
int	config_load(struct config *, const char *, config_report_fn *, void *);
/* config_map_recipients - open and map the recipients file (before chroot) */
int	config_map_recipients(struct config *, config_report_fn *, void *);
/* config_check_recipients - report an unsorted or mixed-case file */
int	config_check_recipients(const struct config *, config_report_fn *,
	    void *);
/* The account of the "user" key, as read from PASSWD_FILE. */
struct account {
	unsigned int	 uid;
	unsigned int	 gid;
};

/* Read without NSS: no module is loaded as root, and a static link works. */
#define PASSWD_FILE	"/etc/passwd"

/* config_account - look "user" up in PASSWD_FILE; 0, or -1 if absent */
int	config_account(const struct config *, struct account *);
/* config_free - release what config_load allocated */
void	config_free(struct config *);

#endif
