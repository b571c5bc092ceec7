/* dmarc_eval: identifier alignment and the disposition of one message.
 *
 * Pure functions: no DNS, no I/O, no allocation, no global state. All DNS
 * happens before (lib/policy_discovery finds the record and the
 * organizational domains), all side effects after (milter/ acts and logs).
 * Callers: lib/dmarc_check, milter/, tests.
 * Standards: RFC 9989 §4.4 (alignment), §4.7 (p, sp, np, t), §5 (result);
 * RFC 7489 §3.1 (alignment), §6.6.4 (pct sampling), §6.6.2 (pass rule).
 *
 * Modes: in DMARC_STD_RFC9989 mode t=y applies and pct is ignored (historic);
 * in DMARC_STD_RFC7489 mode pct applies, and t and np are ignored (RFC 7489
 * has neither: DMARC_APPLY_NP is then treated as DMARC_APPLY_SP).
 *
 * Ownership: every input is borrowed for the duration of the call; the
 * result holds no pointers into the input.
 * Errors: none; a NULL record or author domain gives AUTH_DMARC_NONE.
 * Thread safety: all functions are reentrant; a dmarc_sampler belongs to
 * one thread. */
#ifndef DMARC_DMARC_EVAL_H
#define DMARC_DMARC_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_types.h"
#include "dmarc_record.h"

/* Which published policy governs this message; the caller decides from
 * discovery (RFC 9989 §4.7, §5.3.1): p for the organizational domain
 * itself or a domain with its own record, sp for an existing subdomain,
 * np for a non-existent subdomain. */
enum dmarc_policy_source {
	DMARC_APPLY_P = 0,
	DMARC_APPLY_SP,
	DMARC_APPLY_NP,
};

/* One DKIM signature's outcome (borrowed strings). */
struct dmarc_dkim_input {
	const char *domain;     /* d= */
	const char *org_domain; /* organizational domain of d=, may be NULL */
	enum auth_dkim result;
};

struct dmarc_eval_input {
	const char *author_domain;     /* RFC5322.From domain, may be NULL */
	const char *author_org_domain; /* its organizational domain, may be NULL */
	const struct dmarc_record *record; /* NULL = no policy published */
	enum dmarc_policy_source source;   /* which of p / sp / np applies */

	enum auth_spf spf_result;
	const char *spf_domain;        /* RFC5321.MailFrom domain (or HELO), may be NULL */
	const char *spf_org_domain;    /* may be NULL */

	const struct dmarc_dkim_input *dkim; /* dkim_count entries, may be NULL if 0 */
	size_t dkim_count;

	enum dmarc_standard standard;
	unsigned sample;               /* 0..99, drawn by the caller (dmarc_sampler) */
};

#define DMARC_EVAL_REASON_MAX 200

struct dmarc_eval_result {
	enum auth_dmarc result;    /* PASS, FAIL, or NONE (no record / no author domain) */
	bool spf_aligned;          /* SPF passed and its domain is aligned */
	bool dkim_aligned;         /* some DKIM signature passed and is aligned */
	size_t dkim_index;         /* the first such signature; valid when dkim_aligned */
	enum dmarc_policy policy;  /* the applicable published policy (p/sp/np with
				      fallbacks): what X-DMARC-Policy shows;
				      UNSPECIFIED when there is no record */
	enum dmarc_policy disposition; /* what to do: NONE on pass or no record,
				          else policy lowered by t=y or pct */
	bool policy_test_mode;     /* RFC 9989 t=y lowered the disposition one step */
	bool sampled_out;          /* RFC 7489 pct: this message fell outside the
				      sample and got the next lower policy */
	char reason[DMARC_EVAL_REASON_MAX]; /* short text for logs and A-R comments */
};

/* Identifier alignment (RFC 9989 §4.4, RFC 7489 §3.1). strict: the two
 * domains are equal (ASCII case-insensitive, one trailing dot ignored).
 * Relaxed: equal, or their organizational domains are equal. Identical
 * domains align without org domains (they may be NULL); otherwise relaxed
 * alignment needs both org domains, and NULL or "" org domains never align.
 * NULL or empty author/id domains never align. */
bool dmarc_aligned(const char *author_domain, const char *author_org_domain,
		   const char *id_domain, const char *id_org_domain, bool strict);

/* The effective policy for source with the RFC 9989 §4.7 fallbacks: np
 * absent -> sp; sp absent -> p. p absent but p_from_rua -> NONE. NULL
 * record -> DMARC_POLICY_UNSPECIFIED. */
enum dmarc_policy dmarc_policy_applicable(const struct dmarc_record *rec,
					  enum dmarc_policy_source source);

/* Evaluates one message (RFC 9989 §5.3.1 / RFC 7489 §6.6.2): DMARC passes
 * when SPF passes with an aligned domain (aspf) or any DKIM signature passes
 * with an aligned d= (adkim). Fills *res completely. */
void dmarc_evaluate(const struct dmarc_eval_input *in, struct dmarc_eval_result *res);

/* One policy step lower: REJECT -> QUARANTINE -> NONE; NONE and
 * UNSPECIFIED stay as they are (RFC 9989 t=y, RFC 7489 §6.6.4). */
enum dmarc_policy dmarc_policy_lower(enum dmarc_policy p);

/* A tiny seedable PRNG (splitmix64) for pct sampling; one per thread.
 * Not for cryptography. */
struct dmarc_sampler {
	uint64_t state;
};

/* Seeds the sampler; the same seed gives the same sequence. */
void dmarc_sampler_init(struct dmarc_sampler *s, uint64_t seed);

/* The next sample, uniform in 0..99. */
unsigned dmarc_sampler_next(struct dmarc_sampler *s);

#endif
