/* callbacks: the libmilter callbacks. Each one collects what the MTA sends,
 * calls milter/pipeline.c, and turns the answer into libmilter calls
 * (smfi_setreply, smfi_chgheader, smfi_insheader, smfi_quarantine).
 *
 * Negotiation asks only for what we use: actions SMFIF_ADDHDRS,
 * SMFIF_CHGHDRS, SMFIF_QUARANTINE, SMFIF_SETSYMLIST; no DATA and no unknown
 * commands; no replies for HELO, RCPT and header callbacks when the MTA
 * offers it; SMFIP_SKIP (skip the rest of the body once DKIM needs no more)
 * and SMFIP_HDR_LEADSPC (header values with their leading space, so DKIM
 * sees the field as sent). Macros asked for: {client_addr}, {daemon_name}
 * and j at connect; i and {auth_authen} at MAIL; i at RCPT, EOH and EOM.
 *
 * Callers: milter/main.c (smfi_register). Thread safety: libmilter runs a
 * thread per connection; the only shared state is the in-flight counter. */
#ifndef DMARC_MILTER_CALLBACKS_H
#define DMARC_MILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

/* The filter description for smfi_register(). */
struct smfiDesc *callbacks_desc(void);

/* Messages between MAIL FROM and EOM/abort right now (for a clean stop). */
unsigned callbacks_inflight(void);

#endif
