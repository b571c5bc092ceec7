/* actions: what to do with an evaluated message, and the verdict log line.
 *
 * In order, the first rule that applies wins:
 *  1. local overrides (RFC 7489 §7.2 PolicyOverrideType): a DMARC fail whose
 *     disposition is quarantine or reject becomes none when the client is
 *     in TrustedForwarders ("trusted_forwarder") or the List-Id is in
 *     MailingListIds ("mailing_list"); logged and kept on the verdict;
 *  2. no usable From author domain: MissingFromAction (accept, reject
 *     550 5.7.1, tempfail 451 4.7.1);
 *  3. RejectMultiValueFrom and more than one From mailbox: 550 5.7.1;
 *  4. DMARC temperror and TempFailOnDnsError: 451 4.7.1;
 *  5. DMARC fail, disposition reject, RejectFailures: 550 5.7.1 "rejected by
 *     DMARC policy of <policy domain>";
 *  6. DMARC fail, disposition quarantine, HoldQuarantinedMessages: accept and
 *     quarantine with reason "DMARC quarantine policy of <domain>";
 *  7. accept.
 * RFC 9989 §5.4 asks receivers not to reject on a DMARC fail alone, which is
 * why RejectFailures is off by default.
 *
 * Callers: milter/pipeline.c. Errors: m->oom when reply text cannot be built. */
#ifndef DMARC_MILTER_ACTIONS_H
#define DMARC_MILTER_ACTIONS_H

#include "milter.h"

/* Decides out->action and its reply; may lower m->v.disposition (override). */
void actions_decide(struct conn_ctx *c, struct msg_ctx *m, struct outcome *out);

/* Logs the one verdict line of the message, e.g.
 * "4Bf2x1: dmarc=fail (p=reject dis=reject) header.from=example.com
 *  spf=pass dkim=none action=reject". */
void actions_log(struct conn_ctx *c, struct msg_ctx *m, const struct outcome *out);

/* "accept", "quarantine", "reject", "tempfail". */
const char *outcome_action_name(enum outcome_action a);

#endif
