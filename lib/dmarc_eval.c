/* dmarc_eval: identifier alignment and disposition, pure functions (RFC 9989 §4.4, §5.3). */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "auth_types.h"
#include "dmarc_record.h"
#include "strbuf.h"

#include "dmarc_eval.h"

/* Length of a domain without one trailing dot. */
static size_t dom_len(const char *d)
{
	size_t n = strlen(d);

	if (n > 0 && d[n - 1] == '.')
		n--;
	return n;
}

/* ASCII case-insensitive equality, a trailing dot ignored; empty never equal. */
static bool dom_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	size_t na = dom_len(a), nb = dom_len(b);
	return na > 0 && na == nb && strncasecmp(a, b, na) == 0;
}

bool dmarc_aligned(const char *author_domain, const char *author_org_domain,
		   const char *id_domain, const char *id_org_domain, bool strict)
{
	/* identical domains align in both modes, with or without org domains */
	if (dom_eq(author_domain, id_domain))
		return true;
	if (strict || author_domain == NULL || id_domain == NULL ||
	    dom_len(author_domain) == 0 || dom_len(id_domain) == 0)
		return false;
	/* relaxed: same organizational domain (RFC 9989 §4.4, §4.10.2) */
	return dom_eq(author_org_domain, id_org_domain);
}

enum dmarc_policy dmarc_policy_applicable(const struct dmarc_record *rec,
					  enum dmarc_policy_source source)
{
	if (rec == NULL)
		return DMARC_POLICY_UNSPECIFIED;
	/* RFC 9989 §4.7: np absent -> sp; sp absent -> p */
	switch (source) {
	case DMARC_APPLY_NP:
		if (rec->has_np)
			return rec->np;
		/* fall through */
	case DMARC_APPLY_SP:
		if (rec->has_sp)
			return rec->sp;
		/* fall through */
	case DMARC_APPLY_P:
		break;
	}
	return rec->p;
}

enum dmarc_policy dmarc_policy_lower(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_REJECT: return DMARC_POLICY_QUARANTINE;
	case DMARC_POLICY_QUARANTINE: return DMARC_POLICY_NONE;
	case DMARC_POLICY_NONE:
	case DMARC_POLICY_UNSPECIFIED:
		break;
	}
	return p;
}

/* Alignment of SPF and each DKIM signature; fills the result's flags and
 * counts the passing signatures. */
static size_t check_identifiers(const struct dmarc_eval_input *in, bool aspf_strict,
				bool adkim_strict, struct dmarc_eval_result *res)
{
	size_t dkim_pass = 0;

	/* DMARC uses only the SPF MAIL FROM result (RFC 9989 §4.4.2) */
	res->spf_aligned = in->spf_result == AUTH_SPF_PASS &&
		dmarc_aligned(in->author_domain, in->author_org_domain,
			      in->spf_domain, in->spf_org_domain, aspf_strict);
	for (size_t i = 0; in->dkim != NULL && i < in->dkim_count; i++) {
		const struct dmarc_dkim_input *d = &in->dkim[i];

		if (d->result != AUTH_DKIM_PASS)
			continue;
		dkim_pass++;
		/* any one aligned passing signature is enough (RFC 9989 §4.4.1) */
		if (!res->dkim_aligned &&
		    dmarc_aligned(in->author_domain, in->author_org_domain,
				  d->domain, d->org_domain, adkim_strict)) {
			res->dkim_aligned = true;
			res->dkim_index = i;
		}
	}
	return dkim_pass;
}

/* The disposition of a failing message: the policy, lowered one step by
 * t=y (RFC 9989 mode) or by pct sampling (RFC 7489 §6.6.4). */
static void apply_policy(const struct dmarc_eval_input *in, struct dmarc_eval_result *res,
			 struct strbuf *why)
{
	const struct dmarc_record *r = in->record;
	enum dmarc_policy p = res->policy;

	strbuf_printf(why, "; policy %s", dmarc_policy_name(p));
	res->disposition = p;
	if (p != DMARC_POLICY_QUARANTINE && p != DMARC_POLICY_REJECT)
		return; /* t and pct have no effect on "none" */
	if (in->standard == DMARC_STD_RFC9989 && r->testing) {
		res->disposition = dmarc_policy_lower(p);
		res->policy_test_mode = true;
		strbuf_printf(why, ", t=y: %s", dmarc_policy_name(res->disposition));
	} else if (in->standard == DMARC_STD_RFC7489 && r->pct < 100) {
		unsigned sample = in->sample > 99 ? 99 : in->sample;

		if (sample >= r->pct) {
			res->disposition = dmarc_policy_lower(p);
			res->sampled_out = true;
			strbuf_printf(why, ", pct=%u sample %u: %s", r->pct, sample,
				      dmarc_policy_name(res->disposition));
		} else {
			strbuf_printf(why, ", pct=%u sample %u: applied", r->pct, sample);
		}
	}
}

void dmarc_evaluate(const struct dmarc_eval_input *in, struct dmarc_eval_result *res)
{
	const struct dmarc_record *r = in->record;
	struct strbuf why;

	memset(res, 0, sizeof *res);
	strbuf_init(&why, res->reason, sizeof res->reason, sizeof res->reason - 1);
	res->disposition = DMARC_POLICY_NONE;
	size_t dkim_pass = check_identifiers(in, r != NULL && r->aspf_strict,
					     r != NULL && r->adkim_strict, res);

	if (in->author_domain == NULL || in->author_domain[0] == '\0') {
		res->result = AUTH_DMARC_NONE;
		strbuf_puts(&why, "no author domain");
		return;
	}
	if (r == NULL) {
		res->result = AUTH_DMARC_NONE;
		strbuf_puts(&why, "no DMARC policy");
		return;
	}
	/* RFC 7489 has no np: a non-existent subdomain gets sp (or p) */
	enum dmarc_policy_source src = in->source;
	if (in->standard == DMARC_STD_RFC7489 && src == DMARC_APPLY_NP)
		src = DMARC_APPLY_SP;
	res->policy = dmarc_policy_applicable(r, src);

	if (res->spf_aligned || res->dkim_aligned) {
		res->result = AUTH_DMARC_PASS;
		strbuf_puts(&why, "aligned pass:");
		if (res->spf_aligned)
			strbuf_puts(&why, " spf");
		if (res->dkim_aligned)
			strbuf_printf(&why, "%s dkim (signature %zu)",
				      res->spf_aligned ? "," : "", res->dkim_index + 1);
		return;
	}
	res->result = AUTH_DMARC_FAIL;
	strbuf_printf(&why, "no aligned pass (spf %s%s, dkim %zu of %zu passing, none aligned)",
		      auth_spf_name(in->spf_result),
		      in->spf_result == AUTH_SPF_PASS ? " not aligned" : "",
		      dkim_pass, in->dkim != NULL ? in->dkim_count : 0);
	apply_policy(in, res, &why);
}

/* splitmix64 (Steele, Lea, Flood 2014): tiny, full-period, good enough to
 * pick 0..99 for pct sampling. */
void dmarc_sampler_init(struct dmarc_sampler *s, uint64_t seed)
{
	s->state = seed;
}

unsigned dmarc_sampler_next(struct dmarc_sampler *s)
{
	uint64_t z = (s->state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	z ^= z >> 31;
	/* the modulo bias of 2^64 mod 100 is below 1e-17: irrelevant here */
	return (unsigned)(z % 100);
}
