/* evaluate: SPF, DKIM and DMARC results of one message -> struct verdict.
 *
 * The one evaluation function, shared by the daemon and test mode (through
 * milter/pipeline.c). All DNS happens here, within one DNSMessageTimeout
 * budget: the SPF check of MAIL FROM (or HELO for the null sender, RFC 7208
 * §2.4), the DKIM key lookups, then DMARC discovery and evaluation of every
 * author domain (lib/dmarc_check, which also picks the strictest outcome when
 * there are several, see its header).
 *
 * Message-level rules on top of lib/dmarc_check:
 *  - no usable author domain (no From field, or none parsable): permerror
 *    (RFC 9989 §5.3.1: validation is not possible); MissingFromAction
 *    decides what to do with it (milter/actions.c);
 *  - a pass when the From parser could not account for every author
 *    (from_result.authors_complete false) is not a pass for the message:
 *    permerror, because a mailbox we could not read might be the spoofed one.
 *
 * Callers: milter/pipeline.c. Errors: m->oom on allocation failure. */
#ifndef DMARC_MILTER_EVALUATE_H
#define DMARC_MILTER_EVALUATE_H

#include "milter.h"

/* Fills m->v. */
void evaluate_message(struct conn_ctx *c, struct msg_ctx *m);

#endif
