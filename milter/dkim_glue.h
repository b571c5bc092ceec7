/* dkim_glue: one message's DKIM verification, fed as the message streams by.
 *
 * A thin adapter between the milter's stages and lib/dkim_verify: header
 * fields at the header callback (rebuilt as "Name:value"), body chunks at the
 * body callback (the message is never buffered whole), results at EOM as
 * struct verdict_sig rows in the message arena. It also counts the
 * DKIM-Signature fields, so that a message without any can skip its body.
 *
 * Ownership: dkim_glue_new() -> new; caller frees with dkim_glue_free().
 *   Result strings are copied into the caller's arena.
 * Errors: feeding functions return false once the verifier failed; the
 *   failure is reported by dkim_glue_finish() as result rows (temperror
 *   "out of memory", ...), never logged here.
 * Deadline: the verifier starts at MAIL FROM without a DNS deadline; the
 *   message's DNSMessageTimeout budget starts at EOM and dkim_glue_finish()
 *   hands it to lib/dkim_verify, so that many signatures with slow keys can
 *   never hold a message past it. */
#ifndef DMARC_MILTER_DKIM_GLUE_H
#define DMARC_MILTER_DKIM_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "snapshot.h"

struct verdict_sig;
struct dkim_glue;

/* Starts a verifier for one message. NULL when out of memory. */
struct dkim_glue *dkim_glue_new(struct snapshot *snap, const char *qid);

/* One header field: name without the colon; value as received. With
 * leadspc the value keeps its leading white space (SMFIP_HDR_LEADSPC, test
 * mode); without it the MTA removed one space, which is put back. Folding
 * may use LF or CRLF. */
bool dkim_glue_header(struct dkim_glue *g, const char *name, const char *value,
		      bool leadspc);

/* End of the header block. Returns false when the body is not needed (no
 * DKIM-Signature field) or on failure. */
bool dkim_glue_eoh(struct dkim_glue *g);

/* A chunk of body (CRLF line ends, as on the wire). Returns false when no
 * more body is needed or on failure. */
bool dkim_glue_body(struct dkim_glue *g, const unsigned char *data, size_t len);

/* Finishes verification (the key lookups, bounded by deadline_ms, an
 * absolute resolver_now_ms() value) and stores one row per signature
 * in *out (arena; NULL when none). Returns the number of rows; *oom is set
 * when memory ran out (the caller TEMPFAILs). */
size_t dkim_glue_finish(struct dkim_glue *g, uint64_t deadline_ms, struct arena *a,
			struct verdict_sig **out, bool *oom);

/* Frees the verifier; NULL is a no-op. */
void dkim_glue_free(struct dkim_glue *g);

#endif
