/* milter_msg: one SMTP transaction as an MTA presents it to a milter.
 *
 * Used by tests/tools/milter_proto (which sends it), milter-send and dkim-sign
 * (which load .eml files with it) and the benchmark's load client.
 * An .eml file is split like an MTA does it: header fields (RFC 5322 §2.2,
 * folded lines kept, joined with "\n" as Postfix and Sendmail pass them to
 * milters) until the first empty line, then the body with every line end made
 * CRLF (RFC 5321 §2.3.8), a final CRLF added when missing.
 *
 * Ownership: every string in a struct milter_msg is new and owned by it;
 *   milter_msg_free() releases them (the struct itself is the caller's).
 * Errors: false with a reason in the caller's err strbuf ("line 3: not a
 *   header field", "more than 64 macros", out of memory).
 * Limits: MILTER_MSG_MAX_HEADERS header fields, MILTER_MSG_MAX_MACROS macros,
 *   MILTER_MSG_MAX_RCPTS recipients, MILTER_MSG_MAX_BODY body octets. */
#ifndef DMARC_MILTER_MSG_H
#define DMARC_MILTER_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define MILTER_MSG_MAX_HEADERS 1000
#define MILTER_MSG_MAX_MACROS 64
#define MILTER_MSG_MAX_RCPTS 100
#define MILTER_MSG_MAX_BODY (256u * 1024 * 1024)
#define MILTER_MSG_CHUNK 65535 /* MILTER_CHUNK_SIZE: the largest body chunk */

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
	char *rcpts[MILTER_MSG_MAX_RCPTS];
	size_t nrcpts;
	struct milter_macro macros[MILTER_MSG_MAX_MACROS];
	size_t nmacros;        /* sent before every stage */
	struct milter_header *headers;
	size_t nheaders;
	char *body;            /* with CRLF line ends */
	size_t body_len;
	size_t chunk_len;      /* body chunk size; 0 = MILTER_MSG_CHUNK (the most) */
};

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
