/* milter_proto: the MTA side of the milter wire protocol (version 6), without libmilter.
 *
 * Used by tests/tools/milter-send (one conversation, printed line by line) and
 * meant for the performance benchmark as a load client (one struct milter_conn
 * per thread; nothing here is shared between connections).
 *
 * Wire format (Sendmail's libmilter/mfdef.h): every packet is a 4-octet
 * network-order length, one command octet, then data. The MTA negotiates
 * options (SMFIC_OPTNEG), then sends CONNECT, HELO, MAIL, RCPT, DATA, each
 * header, EOH, body chunks of at most 65535 octets and EOM, each preceded by
 * its macros (SMFIC_MACRO). The filter answers continue/accept/reject/...
 * unless it negotiated "no reply" for that stage (SMFIP_NR_*), and may send
 * modification actions (add/insert/change header, quarantine, ...) before its
 * final answer to EOM.
 *
 * Ownership: milter_open() -> new; caller frees with milter_close().
 *   milter_msg_load() fills a struct milter_msg whose strings are new; caller
 *   frees with milter_msg_free(). Everything else is borrowed for the call.
 * Errors: functions return false with a reason in the caller's err strbuf
 *   (connection refused, timeout, closed by the filter, malformed packet).
 * Limits: packets longer than MILTER_PROTO_MAX_PACKET are a protocol error;
 *   at most MILTER_PROTO_MAX_HEADERS header fields and MILTER_PROTO_MAX_MACROS
 *   macros per message. */
#ifndef DMARC_MILTER_PROTO_H
#define DMARC_MILTER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define MILTER_PROTO_MAX_PACKET (1024 * 1024 + 16) /* 1 MB, libmilter's largest */
#define MILTER_PROTO_MAX_HEADERS 1000
#define MILTER_PROTO_MAX_MACROS 64
#define MILTER_PROTO_MAX_RCPTS 100
#define MILTER_PROTO_CHUNK 65535  /* MILTER_CHUNK_SIZE: body chunk limit */

/* The outcome of one message, as the MTA would act on it. */
enum milter_verdict {
	MILTER_ACCEPT = 0,   /* continue/accept to the end */
	MILTER_REJECT,       /* 'r', or 'y' with a 5xx code */
	MILTER_TEMPFAIL,     /* 't', or 'y' with a 4xx code */
	MILTER_DISCARD,      /* 'd' */
	MILTER_QUARANTINE,   /* accepted, but 'q' was requested at EOM */
};

struct milter_header {
	char *name;   /* field name without the colon */
	char *value;  /* raw value after the colon (leading space kept); folded
	               * lines joined with "\n" as Postfix and Sendmail send them */
};

struct milter_macro {
	char *name;   /* "i", "j" or "{long_name}" (braces included) */
	char *value;
};

/* One SMTP transaction as the MTA presents it to the filter. */
struct milter_msg {
	char *client_ip;       /* IPv4 or IPv6 literal */
	char *client_name;     /* NULL = "[client_ip]" */
	char *helo;
	char *mail_from;       /* without angle brackets; "" = null sender */
	char *rcpts[MILTER_PROTO_MAX_RCPTS];
	size_t nrcpts;
	struct milter_macro macros[MILTER_PROTO_MAX_MACROS];
	size_t nmacros;        /* sent before every stage */
	struct milter_header *headers;
	size_t nheaders;
	char *body;            /* with CRLF line ends */
	size_t body_len;
	size_t chunk_len;      /* 0 = MILTER_PROTO_CHUNK */
};

struct milter_conn;

/* Connects to "inet:PORT@HOST", "inet6:PORT@HOST" or "unix:PATH" ("local:"
 * too) and negotiates protocol version 6. timeout_ms bounds every read and
 * write (0 = 30 s). */
bool milter_open(const char *spec, unsigned timeout_ms, struct milter_conn **out,
		 struct strbuf *err);

/* Sends QUIT (if the connection is still up), closes and frees; NULL is a no-op. */
void milter_close(struct milter_conn *mc);

/* Runs one transaction: CONNECT and HELO on the first call of a connection,
 * then MAIL .. EOM. When log is not NULL, one line per event is appended
 * ("reply <stage> <action> ...", "addheader N: V", "insheader I N: V",
 * "chgheader I N: V|(deleted)", "quarantine R", other modification actions),
 * each ending in "\n"; the "result ..." line is the caller's business.
 * Returns false on a protocol or connection error (reason in err); the
 * connection is then unusable. A filter that rejects or accepts early ends the
 * transaction early with that verdict. */
bool milter_message(struct milter_conn *mc, const struct milter_msg *msg,
		    struct strbuf *log, enum milter_verdict *verdict,
		    struct strbuf *err);

/* "accept", "reject", "tempfail", "discard", "quarantine". */
const char *milter_verdict_name(enum milter_verdict v);

/* Splits an RFC 5322 message (LF or CRLF line ends) into msg->headers and
 * msg->body: header fields with folding until the first empty line, then the
 * body with every line end turned into CRLF as an MTA does. */
bool milter_msg_load(struct milter_msg *msg, const char *text, size_t len,
		     struct strbuf *err);

/* Adds a macro: "name=value"; a long name without braces gets them
 * ("auth_authen" -> "{auth_authen}"). Replaces an earlier macro of that name. */
bool milter_msg_macro(struct milter_msg *msg, const char *name, const char *value,
		      struct strbuf *err);

/* Frees every string of msg and zeroes it; the struct itself is the caller's. */
void milter_msg_free(struct milter_msg *msg);

#endif
