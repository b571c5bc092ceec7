/* headers: the header fields a message brings in that we care about, and
 * the fields we delete and add.
 *
 * Collected while headers stream by: From values (for lib/from_header),
 * the first List-Id (MailingListIds), and the occurrences to delete:
 *  - Authentication-Results whose authserv-id is ours, compared
 *    case-insensitively (RFC 8601 §5: forged, or left by an earlier pass);
 *  - X-SPF-Verdict, X-DKIM-Verdict, X-DMARC-Verdict, X-DMARC-Policy, when we
 *    add that field ourselves: they carry no authserv-id, so a copy that
 *    comes from outside can only be a forgery or stale.
 * Added at EOM, top to bottom: Authentication-Results, Received-SPF,
 * X-SPF-Verdict, X-DKIM-Verdict, X-DMARC-Verdict, X-DMARC-Policy (the last
 * only when the DMARC verdict is FAIL); each switchable in the configuration.
 *
 * Callers: milter/pipeline.c. Errors: false / m->oom on allocation failure. */
#ifndef DMARC_MILTER_HEADERS_H
#define DMARC_MILTER_HEADERS_H

#include <stdbool.h>

#include "milter.h"

/* Looks at one incoming field. false when out of memory. */
bool headers_collect(struct conn_ctx *c, struct msg_ctx *m, const char *name,
		     const char *value);

/* Fills out->edits with the deletions and additions for an accepted message;
 * sets m->oom when a value cannot be built for lack of memory. */
void headers_plan(struct conn_ctx *c, struct msg_ctx *m, struct outcome *out);

#endif
