/* dmarc_check: the DMARC verdict of one message, "DNS before, pure after".
 *
 * Given the author domain(s) of the From header, the SPF outcome and every
 * DKIM signature's outcome, it finds each author domain's policy
 * (lib/policy_discovery), finds the organizational domains that relaxed
 * alignment needs (and only those: RFC 9989 §4.10.2 note), then calls the
 * pure dmarc_evaluate() (lib/dmarc_eval) once per author domain, and
 * combines the per-domain verdicts into one.
 *
 * Callers: milter/ at end of message; `dmarc-milter -t` prints the result
 * with dmarc_check_format(); tests/discovery/.
 * Standards: RFC 9989 §4.10 (discovery, org domains), §4.4 (alignment),
 * §5.3 (receiver actions), §4.4/§11.5 (several author domains);
 * RFC 7489 §6.6 in compatibility mode.
 *
 * Organizational domains (RFC 9989 §4.10.2): for each SPF or DKIM identifier
 * that passed, alignment needs no DNS when it equals the author domain or
 * when the record asks for strict alignment (adkim=s / aspf=s); otherwise
 * the org domains of the author domain and of the identifier are found
 * (tree walk, or the PSL in RFC 7489 mode), each distinct domain once per
 * call, at most DMARC_CHECK_MAX_ORG_WALKS walks per call (identifiers past
 * that limit are counted as unaligned, and the reason says so). If an org
 * domain could not be found (DNS failure) and the message would otherwise
 * fail DMARC, that author domain's result is temperror: such a failure never
 * turns into a silent "fail" or "pass".
 *
 * Several author domains (RFC 9989 §4.4 leaves it to the receiver): each is
 * evaluated on its own, and the overall result is the per-domain result of
 * the strictest one, ranked (first listed wins a tie):
 *   1. fail with disposition reject
 *   2. temperror            (we could not tell: it might have been a reject)
 *   3. fail with disposition quarantine
 *   4. fail with disposition none (p=none, or lowered by t=y / pct)
 *   5. permerror            (an unusable author domain)
 *   6. pass
 *   7. none                 (no policy published)
 * So one failing domain with p=reject decides the message whatever the
 * others say; a temperror in any domain makes the message temperror unless
 * another domain already fails with reject; a pass needs every author domain
 * to pass or publish nothing. Zero author domains give permerror (RFC 9989
 * §5.3.1: DMARC validation is not possible). Whether a pass for the listed
 * domains is a pass for the message when the From parser could not account
 * for every author (from_result.authors_complete) is the caller's decision.
 *
 * Ownership: dmarc_check_run() fills a caller's struct dmarc_check_result;
 * its pointer members are new (the overall policy_domain, author_domain
 * and reason borrow from domains[decisive] or the result itself); release
 * with dmarc_check_result_clear(). Inputs are borrowed for the call.
 * Errors: never logs, never exits; out of memory gives temperror with the
 * reason "out of memory".
 * Thread safety: reentrant; share one resolver and one PSL handle.
 * Limits: at most DMARC_CHECK_MAX_AUTHORS author domains (more: permerror,
 * no DNS is done), DMARC_CHECK_MAX_DKIM signatures looked at (the rest are
 * ignored and the reason says so).
 *
 * Usage (milter at EOM; `fr` is the from_header result, `spf` and `dkim`
 * the outcomes collected during the message):
 *
 *	const char *authors[FROM_MAX_DOMAINS];
 *	for (size_t i = 0; i < fr.ndomains; i++)
 *		authors[i] = fr.domains[i];
 *	struct dmarc_check_dkim sigs[MAX_SIGS];   // {domain d=, selector s=, result}
 *	... fill sigs[0..nsigs-1] from the DKIM verifier ...
 *	struct dmarc_check_options opt = {
 *		.standard = cfg->standard,            // DMARC_STD_RFC9989 / _RFC7489
 *		.psl = cfg->psl,                      // policy_psl_load() at startup, or NULL
 *		.deadline_ms = msg->dns_deadline_ms,  // resolver_now_ms() + budget, or 0
 *		.sample = dmarc_sampler_next(&thread_sampler), // RFC 7489 pct only
 *	};
 *	struct dmarc_check_input in = {
 *		.author_domains = authors, .author_count = fr.ndomains,
 *		.spf_result = spf.result, .spf_domain = spf.domain, // MAIL FROM or HELO domain
 *		.dkim = sigs, .dkim_count = nsigs,
 *	};
 *	struct dmarc_check_result r;
 *	dmarc_check_run(resolver, &opt, &in, &r);
 *	// r.result: AUTH_DMARC_PASS/FAIL/NONE/TEMPERROR/PERMERROR
 *	// r.policy (published p/sp/np value), r.disposition (what to do),
 *	// r.policy_domain, r.author_domain, r.spf_aligned, r.dkim_aligned,
 *	// r.test_mode, r.sampled_out, r.reason; per domain: r.domains[i]
 *	//   (.discovery has the record, origin, org domain, query counts).
 *	dmarc_check_result_clear(&r);
 */
#ifndef DMARC_DMARC_CHECK_H
#define DMARC_DMARC_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_types.h"
#include "policy_discovery.h"
#include "resolver.h"
#include "strbuf.h"

#define DMARC_CHECK_MAX_AUTHORS 16    /* author domains evaluated per message */
#define DMARC_CHECK_MAX_DKIM 100      /* DKIM signatures looked at per message: the
					 most DKIMMaxSignatures allows */
#define DMARC_CHECK_MAX_ORG_WALKS 16  /* distinct org-domain lookups per message */

struct dmarc_check_options {
	enum dmarc_standard standard;   /* DMARC_STD_RFC9989 (tree walk) or _RFC7489 (PSL) */
	const struct policy_psl *psl;   /* RFC 7489 mode; NULL = libpsl's built-in list */
	uint64_t deadline_ms;           /* absolute resolver_now_ms() bound for all DNS; 0 = none */
	unsigned sample;                /* 0..99 from dmarc_sampler_next(); RFC 7489 pct */
};

/* One DKIM signature's outcome (borrowed strings). */
struct dmarc_check_dkim {
	const char *domain;     /* d= (any case, U-labels allowed) */
	const char *selector;   /* s=, for the caller's reports; may be NULL */
	enum auth_dkim result;
};

struct dmarc_check_input {
	const char *const *author_domains; /* RFC5322.From domains (from_header) */
	size_t author_count;
	enum auth_spf spf_result;
	const char *spf_domain;            /* the domain SPF authenticated; may be NULL */
	const struct dmarc_check_dkim *dkim; /* dkim_count entries; NULL if 0 */
	size_t dkim_count;
};

/* The verdict for one author domain. */
struct dmarc_check_domain {
	char *author_domain;            /* new; normalised (as given when unusable) */
	struct policy_result discovery; /* record, policy_domain, org_domain, origin,
					   method, applies, queries, discovery reason */
	enum auth_dmarc result;         /* PASS, FAIL, NONE, TEMPERROR, PERMERROR */
	enum dmarc_policy policy;       /* published policy for this message (the
					   p/sp/np value that applies); UNSPECIFIED
					   without a record */
	enum dmarc_policy disposition;  /* what to do: NONE unless FAIL */
	bool spf_aligned;               /* SPF passed with an aligned domain */
	bool dkim_aligned;              /* some DKIM signature passed, aligned */
	size_t dkim_index;              /* first such signature (index into input) */
	bool test_mode;                 /* RFC 9989 t=y lowered the disposition */
	bool sampled_out;               /* RFC 7489 pct lowered the disposition */
	char *reason;                   /* new; short account for logs */
};

struct dmarc_check_result {
	struct dmarc_check_domain *domains; /* new; ndomains entries */
	size_t ndomains;
	size_t decisive;                /* index of the domain that decides; 0 if none */

	/* Overall verdict: copies of domains[decisive]'s fields (or a
	 * permerror when there is no usable author domain). */
	enum auth_dmarc result;
	enum dmarc_policy policy;
	enum dmarc_policy disposition;
	const char *author_domain;      /* borrowed from domains[decisive]; may be NULL */
	const char *policy_domain;      /* borrowed from domains[decisive]; may be NULL */
	bool spf_aligned;
	bool dkim_aligned;
	bool test_mode;
	bool sampled_out;
	unsigned dns_queries;           /* all DNS queries made for this message */
	char *reason;                   /* new; overall account */
};

/* Runs discovery and evaluation for every author domain (see above). Fills
 * *out completely (need not be initialised) and returns out->result. */
enum auth_dmarc dmarc_check_run(struct resolver *res, const struct dmarc_check_options *opt,
				const struct dmarc_check_input *in,
				struct dmarc_check_result *out);

/* Releases what the result owns and zeroes it; NULL is a no-op. */
void dmarc_check_result_clear(struct dmarc_check_result *r);

/* Appends a multi-line human-readable report of r to sb (what
 * `dmarc-milter -t` prints): the overall verdict, then per author domain
 * the policy domain, origin, method, tag, policy, disposition, alignment,
 * test mode, sampling and the reasons. Returns false if sb failed. */
bool dmarc_check_format(const struct dmarc_check_result *r, struct strbuf *sb);

#endif
