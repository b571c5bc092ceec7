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
 * The transaction itself (envelope, macros, header fields, body) is a
 * struct milter_msg (tests/tools/milter_msg.h).
 *
 * Ownership: milter_open() -> new; caller frees with milter_close().
 *   Everything else is borrowed for the call.
 * Errors: functions return false with a reason in the caller's err strbuf
 *   (connection refused, timeout, closed by the filter, malformed packet).
 * Limits: packets longer than MILTER_PROTO_MAX_PACKET are a protocol error. */
#ifndef DMARC_MILTER_PROTO_H
#define DMARC_MILTER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "milter_msg.h"
#include "strbuf.h"

#define MILTER_PROTO_MAX_PACKET (1024 * 1024 + 16) /* 1 MB, libmilter's largest */

/* The outcome of one message, as the MTA would act on it. */
enum milter_verdict {
	MILTER_ACCEPT = 0,   /* continue/accept to the end */
	MILTER_REJECT,       /* 'r', or 'y' with a 5xx code */
	MILTER_TEMPFAIL,     /* 't', or 'y' with a 4xx code */
	MILTER_DISCARD,      /* 'd' */
	MILTER_QUARANTINE,   /* accepted, but 'q' was requested at EOM */
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

#endif
