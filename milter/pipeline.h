/* pipeline: the steps a message goes through, without libmilter.
 *
 * milter/callbacks.c calls these from the libmilter callbacks; test mode
 * (milter/testmode.c) calls the same functions with the parts of an .eml
 * file. There is no second pipeline: whatever the daemon decides for a
 * message, `dmarc-milter -t` decides too.
 *
 *   pipe_conn_new -> pipe_helo -> pipe_msg_start -> pipe_rcpt* -> pipe_header*
 *   -> pipe_eoh -> pipe_body* -> pipe_eom -> pipe_msg_end -> ... -> pipe_conn_free
 *
 * SPF, DKIM key lookups and DMARC discovery all happen in pipe_eom, within
 * one DNSMessageTimeout budget: a message that is skipped (an authenticated
 * client, an ignored From domain) or aborted costs no DNS at all.
 *
 * Ownership: pipe_conn_new() -> new; pipe_conn_free() releases it, its
 *   message, and its snapshot reference. Strings passed in are copied.
 * Errors: out of memory during a message marks it (m->oom) and pipe_eom()
 *   answers TEMPFAIL with a log line; nothing here exits. */
#ifndef DMARC_MILTER_PIPELINE_H
#define DMARC_MILTER_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "milter.h"

/* A new connection (takes the snapshot reference). addr is the textual
 * client address ("" or NULL when unknown), host the name the MTA gives.
 * NULL when out of memory (the reference is then released). When the client
 * is in IgnoreHosts, c->skip_reason is set and a line is logged. */
struct conn_ctx *pipe_conn_new(struct snapshot *snap, const char *addr, const char *host);

/* Ends the connection: frees the message in progress, the SPF checker, the
 * arena and gives back the snapshot. NULL is a no-op. */
void pipe_conn_free(struct conn_ctx *c);

/* HELO/EHLO argument (the last one counts). */
void pipe_helo(struct conn_ctx *c, const char *helo);

/* MAIL FROM: starts a message (ending any previous one). mail_from may carry
 * angle brackets; "" or "<>" is the null sender. false when out of memory
 * (no message then: later steps do nothing, and the callback TEMPFAILs). */
bool pipe_msg_start(struct conn_ctx *c, const char *mail_from, bool authenticated);

/* The MTA queue id, once known (ignored when NULL or ""). */
void pipe_msg_qid(struct conn_ctx *c, const char *qid);

/* RCPT TO: the first recipient's domain is kept for the event log. */
void pipe_rcpt(struct conn_ctx *c, const char *rcpt);

/* One header field: name without colon, value as received (leading white
 * space and folding kept). */
void pipe_header(struct conn_ctx *c, const char *name, const char *value);

/* End of headers: parses the From field(s) and decides whether the message
 * is skipped. Returns the skip reason (static text, logged here) or NULL. */
const char *pipe_eoh(struct conn_ctx *c);

/* A body chunk. Returns false when the rest of the body is not needed. */
bool pipe_body(struct conn_ctx *c, const unsigned char *data, size_t len);

/* End of message: evaluates, decides and plans the header changes into
 * *out (valid until pipe_msg_end()). Logs the verdict line. */
void pipe_eom(struct conn_ctx *c, struct outcome *out);

/* Frees the message (after EOM, on abort). */
void pipe_msg_end(struct conn_ctx *c);

#endif
