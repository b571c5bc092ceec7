/* destinations: where one aggregate report may be sent.
 *
 * Takes the rua list a policy domain published, keeps the mailto: URIs
 * (others, and URIs the record parser refuses, e.g. one whose decoded
 * address holds a CR or LF, are skipped with a reason), and checks each destination's
 * authorization (RFC 9990 §3, external destination verification): when the
 * destination host's organizational domain differs from the policy domain's,
 * the TXT record <policy-domain>._report._dmarc.<host> must exist and start
 * with v=DMARC1. A rua= in that record replaces the address only with
 * addresses on the same host; one that points elsewhere authorizes nothing.
 * A temporary DNS failure leaves the destination for a later run. This check
 * is what keeps anyone from using us to flood a victim with reports.
 * A host at or below the policy domain needs no DNS at all; the policy
 * domain's own organizational domain is looked up only when some host is
 * outside it (a day of 10,000 same-organization reports makes no query).
 *
 * Callers: reporter/main.c. DNS through lib/resolver, org domains through
 * lib/policy_discovery (tree walk or PSL, as configured).
 * Ownership: a dest_list owns its strings; dest_list_clear() frees them.
 * Limits: at most max destinations kept (ReportMaxDestinations); the rest
 *   are counted in excess. */
#ifndef DMARC_DESTINATIONS_H
#define DMARC_DESTINATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy_discovery.h"
#include "resolver.h"
#include "strbuf.h"

#define DEST_MAX 50

enum dest_state {
	DEST_AUTHORIZED = 0,  /* send to it */
	DEST_UNAUTHORIZED,    /* external and not authorized: never send */
	DEST_TEMPFAIL,        /* the authorization lookup failed: try next run */
	DEST_SKIPPED,         /* not mailto:, or malformed */
};

struct dest {
	char *address;        /* the mailto address to send to (after overrides) */
	char *published;      /* the mailto address as published (NULL if not mailto) */
	char *uri;            /* the URI as published (decoded; raw when invalid) */
	bool has_max_size;    /* RFC 7489 "!size" suffix */
	uint64_t max_size_bytes;
	enum dest_state state;
	char *why;            /* reason for a non-authorized state, else NULL */
};

struct dest_list {
	size_t n;
	struct dest d[DEST_MAX];
	size_t excess;        /* destinations beyond the cap, ignored */
};

/* Builds the destinations of a report for policy_domain from its published
 * rua text. max is the per-report cap (1..DEST_MAX). Never fails as a whole:
 * every problem is a state with a reason on the destination concerned. */
void destinations_build(struct resolver *res, const struct policy_options *opt,
			const char *policy_domain, const char *rua_text,
			size_t max, struct dest_list *out);

/* The pure half of the authorization check (RFC 9990 §3): judges ans, the
 * answer to name = <policy_domain>._report._dmarc.<host>, for destination d
 * (whose address is on host): a temporary failure -> DEST_TEMPFAIL; no TXT
 * record starting with v=DMARC1 -> DEST_UNAUTHORIZED; a rua= in the first
 * such record naming only other hosts -> DEST_UNAUTHORIZED; one naming host
 * -> DEST_AUTHORIZED with that address; else DEST_AUTHORIZED. No DNS; the
 * TXT rdata is untrusted (tests/fuzz/fuzz_reporter_authz.c). */
void destinations_judge_answer(const struct dns_answer *ans, const char *name,
			       const char *policy_domain, const char *host, struct dest *d);

void dest_list_clear(struct dest_list *l);

/* "authorized", "unauthorized", "tempfail", "skipped". */
const char *dest_state_name(enum dest_state s);

#endif
