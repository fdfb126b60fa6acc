/*
 * netio.h - the one way in and the one way out of the session.
 *
 * A single bounded line reader is the only code that reads the client.
 * It fills a fixed buffer, checks a line's length before its newline has
 * arrived, and never discards buffered input, so pipelined commands stay
 * in step.  Output is buffered and flushed before every read that could
 * block.  Time is kept with poll() and CLOCK_MONOTONIC: an idle timeout per
 * read, a deadline per command line and a cap on the whole session.
 */
#ifndef NETIO_H
#define NETIO_H

#include <stddef.h>
#include <time.h>

#include "smtpfe.h"

enum line_status {
	LINE_OK,		/* a line, CRLF (or a bare LF) removed */
	LINE_TOOLONG,		/* over SMTP_LINE_MAX; the rest was discarded */
	LINE_BADEOL,		/* a CR not followed by LF inside the line */
	LINE_EOF,		/* the client closed (or a read error) */
	LINE_TIMEOUT		/* idle, command or session deadline passed */
};

struct netio {
	int		 in;
	int		 out;
	int		 werror;		/* a write failed: stop writing */
	int		 outsock;		/* out is a socket (until ENOTSOCK) */
	long long	 idle_ms;		/* per read */
	long long	 session_end;		/* monotonic ms */
	long long	 read_end;		/* monotonic ms, per command */
	size_t		 ipos;
	size_t		 ilen;
	size_t		 olen;
	char		 ibuf[IO_INBUF];
	char		 obuf[IO_OUTBUF];
};

/* The DATA decoder: dot-unstuffing, CRLF to LF, only CRLF.CRLF ends. */
enum data_state {
	DATA_BOL,		/* at the start of a line (after CRLF) */
	DATA_DOT,		/* "." at the start of a line */
	DATA_DOTCR,		/* ".\r" at the start of a line */
	DATA_TEXT,		/* inside a line */
	DATA_CR,		/* "\r" inside a line */
	DATA_END		/* CRLF.CRLF seen */
};

struct data_decoder {
	enum data_state	 state;
	int		 bad_eol;	/* a bare CR or bare LF was seen */
	int		 nul;		/* a NUL octet was seen */
	unsigned long long size;	/* octets in CRLF form, unstuffed */
};

/* now_ms - CLOCK_MONOTONIC in milliseconds */
long long now_ms(void);
/* netio_init - set up buffers and clocks; timeouts in seconds */
void	netio_init(struct netio *, int, int, unsigned long long,
	    unsigned long long);
/* netio_reply - queue one reply line (CRLF added) */
void	netio_reply(struct netio *, const char *);
/* netio_flush - write out what is queued; -1 on error or timeout */
int	netio_flush(struct netio *);
/* netio_getline - read one command line into LINE (NUL-terminated) */
enum line_status netio_getline(struct netio *, char *, size_t, size_t *);
/* netio_fill - flush, then wait for and read more input; 1, 0 EOF, -1 */
int	netio_fill(struct netio *, long long);
/* netio_wait_input - 1 when input arrives within MS, 0 if not, -1 EOF */
int	netio_wait_input(struct netio *, long long);

/* netio_pending - 1 when client input is already waiting (read, kept) */
int	netio_pending(struct netio *);

/* data_init - a new DATA section starts at the beginning of a line */
void	data_init(struct data_decoder *);
/*
 * data_decode - decode IN (LEN octets) in place: writes the message octets
 * to OUT (which may be IN itself: OUT never runs ahead), sets *OUTLEN, and
 * returns the number of input octets consumed, which is less than LEN only
 * when the end of DATA was reached.
 */
size_t	data_decode(struct data_decoder *, const char *, size_t, char *,
	    size_t *);

#endif
