/* dmarc_check: discovery, org domains and evaluation of one message's
 * author domains, and the combination of their verdicts. */
#include <stdlib.h>
#include <string.h>

#include "auth_types.h"
#include "dmarc_check.h"
#include "dmarc_eval.h"
#include "domain.h"
#include "policy_discovery.h"
#include "strbuf.h"

#define CHECK_REASON_MAX 2048

/* One org-domain lookup made during this call. */
struct org_memo {
	char domain[DOMAIN_BUF_SIZE];
	char *org;                 /* new; NULL unless st == POLICY_FOUND */
	enum policy_status st;
};

/* State shared by the author domains of one call. */
struct run {
	struct resolver *res;
	struct policy_options popt;
	struct org_memo memo[DMARC_CHECK_MAX_ORG_WALKS + DMARC_CHECK_MAX_AUTHORS];
	size_t nmemo;
	size_t nwalks;             /* lookups made (memo hits excluded) */
	unsigned queries;
	/* Identifier domains, normalised once ("" when unusable). */
	char spf[DOMAIN_BUF_SIZE];
	char (*dkim)[DOMAIN_BUF_SIZE];
	size_t ndkim;
	bool oom;
};

static void run_free(struct run *c)
{
	for (size_t i = 0; i < c->nmemo; i++)
		free(c->memo[i].org);
	free(c->dkim);
}

static void normalize_into(const char *in, char out[DOMAIN_BUF_SIZE])
{
	out[0] = '\0';
	if (in != NULL)
		(void)domain_normalize(in, strlen(in), DOMAIN_ALLOW_UNDERSCORE, out, NULL);
}

static struct org_memo *memo_find(struct run *c, const char *d)
{
	for (size_t i = 0; i < c->nmemo; i++)
		if (strcmp(c->memo[i].domain, d) == 0)
			return &c->memo[i];
	return NULL;
}

/* Remembers an org domain found by policy discovery (no extra DNS). */
static void memo_seed(struct run *c, const char *d, const char *org)
{
	if (d == NULL || org == NULL || memo_find(c, d) != NULL ||
	    c->nmemo == sizeof c->memo / sizeof c->memo[0] || strlen(d) >= DOMAIN_BUF_SIZE)
		return;
	struct org_memo *m = &c->memo[c->nmemo];
	m->org = strdup(org);
	if (m->org == NULL) {
		c->oom = true;
		return;
	}
	memcpy(m->domain, d, strlen(d) + 1);
	m->st = POLICY_FOUND;
	c->nmemo++;
}

/* The org domain of d (normalised), through the memo. *org is borrowed
 * from the memo. POLICY_NONE means "not looked up: walk limit reached". */
static enum policy_status org_of(struct run *c, const char *d, const char **org,
				 struct strbuf *why)
{
	*org = NULL;
	struct org_memo *m = memo_find(c, d);
	if (m == NULL) {
		if (c->nwalks >= DMARC_CHECK_MAX_ORG_WALKS ||
		    c->nmemo == sizeof c->memo / sizeof c->memo[0]) {
			strbuf_printf(why, "; org domain of %s not looked up (limit %d): "
				      "not aligned", d, DMARC_CHECK_MAX_ORG_WALKS);
			return POLICY_NONE;
		}
		m = &c->memo[c->nmemo++];
		memcpy(m->domain, d, strlen(d) + 1);
		c->nwalks++;
		m->st = orgdomain_find(c->res, &c->popt, d, &m->org, &c->queries, NULL);
	}
	if (m->st == POLICY_TEMPERROR)
		strbuf_printf(why, "; org domain of %s: temporary DNS failure", d);
	*org = m->org;
	return m->st;
}

/* Is identifier id (normalised, may be "") worth an org lookup? It passed,
 * differs from the author domain, and alignment is relaxed. */
static bool needs_org(const char *author, const char *id, bool strict)
{
	return id[0] != '\0' && !strict && !domain_equal(author, id);
}

/* Evaluates one author domain whose record was found. */
static void eval_found(struct run *c, const struct dmarc_check_options *opt,
		       const struct dmarc_check_input *in, struct dmarc_check_domain *d,
		       struct strbuf *why)
{
	const struct dmarc_record *rec = d->discovery.record;
	const char *author = d->discovery.author_domain;
	bool spf_pass = in->spf_result == AUTH_SPF_PASS;
	bool need_spf = spf_pass && needs_org(author, c->spf, rec->aspf_strict);
	bool need_dkim[DMARC_CHECK_MAX_DKIM] = { false };
	bool any = need_spf;
	for (size_t i = 0; i < c->ndkim; i++) {
		need_dkim[i] = in->dkim[i].result == AUTH_DKIM_PASS &&
			       needs_org(author, c->dkim[i], rec->adkim_strict);
		any = any || need_dkim[i];
	}

	/* RFC 9989 §4.10.2: org domains only for what relaxed alignment needs. */
	char nstack[256];
	struct strbuf notes;    /* org-domain lookup problems, after the verdict */
	strbuf_init(&notes, nstack, sizeof nstack, CHECK_REASON_MAX / 2);
	const char *author_org = NULL, *spf_org = NULL;
	const char *dkim_org[DMARC_CHECK_MAX_DKIM] = { NULL };
	bool unknown = false;   /* some needed org domain could not be found */
	if (any) {
		if (d->discovery.org_domain != NULL)
			author_org = d->discovery.org_domain;
		else if (org_of(c, author, &author_org, &notes) == POLICY_TEMPERROR)
			unknown = true;
	}
	if (author_org != NULL) {
		if (need_spf && org_of(c, c->spf, &spf_org, &notes) == POLICY_TEMPERROR)
			unknown = true;
		for (size_t i = 0; i < c->ndkim; i++)
			if (need_dkim[i] &&
			    org_of(c, c->dkim[i], &dkim_org[i], &notes) == POLICY_TEMPERROR)
				unknown = true;
	}

	struct dmarc_dkim_input dk[DMARC_CHECK_MAX_DKIM];
	for (size_t i = 0; i < c->ndkim; i++) {
		dk[i].domain = c->dkim[i][0] ? c->dkim[i] : NULL;
		dk[i].org_domain = dkim_org[i];
		dk[i].result = in->dkim[i].result;
	}
	struct dmarc_eval_input ei = {
		.author_domain = author,
		.author_org_domain = author_org,
		.record = rec,
		.source = d->discovery.applies,
		.spf_result = in->spf_result,
		.spf_domain = c->spf[0] ? c->spf : NULL,
		.spf_org_domain = spf_org,
		.dkim = c->ndkim ? dk : NULL,
		.dkim_count = c->ndkim,
		.standard = opt->standard,
		.sample = opt->sample,
	};
	struct dmarc_eval_result er;
	dmarc_evaluate(&ei, &er);
	d->result = er.result;
	d->policy = er.policy;
	d->disposition = er.disposition;
	d->spf_aligned = er.spf_aligned;
	d->dkim_aligned = er.dkim_aligned;
	d->dkim_index = er.dkim_index;
	d->test_mode = er.policy_test_mode;
	d->sampled_out = er.sampled_out;
	strbuf_puts(why, er.reason);
	strbuf_puts(why, strbuf_str(&notes));
	strbuf_free(&notes);
	if (unknown && er.result == AUTH_DMARC_FAIL) {
		/* A missing org domain might have aligned an identifier. */
		d->result = AUTH_DMARC_TEMPERROR;
		d->disposition = DMARC_POLICY_NONE;
		strbuf_puts(why, "; an organizational domain needed for relaxed "
			    "alignment could not be determined: temperror");
	}
}

/* The text of sb as a new string, even when sb overflowed (the account is
 * then cut, and says so); NULL only when out of memory. Frees sb. */
static char *text_of(struct strbuf *sb)
{
	char *t;
	if (!strbuf_failed(sb))
		return strbuf_finish(sb);
	size_t len = strlen(strbuf_str(sb));
	t = malloc(len + 5);
	if (t != NULL) {
		memcpy(t, strbuf_str(sb), len);
		memcpy(t + len, " ...", 5);
	}
	strbuf_free(sb);
	return t;
}

/* Evaluates one author domain. */
static void check_one(struct run *c, const struct dmarc_check_options *opt,
		      const struct dmarc_check_input *in, const char *author,
		      struct dmarc_check_domain *d)
{
	char stack[512];
	struct strbuf why;
	strbuf_init(&why, stack, sizeof stack, CHECK_REASON_MAX);

	policy_discover(c->res, &c->popt, author, &d->discovery);
	c->queries += d->discovery.dns_queries;
	d->author_domain = strdup(d->discovery.author_domain ? d->discovery.author_domain
							     : (author ? author : ""));
	if (d->author_domain == NULL)
		c->oom = true;
	d->policy = DMARC_POLICY_UNSPECIFIED;
	d->disposition = DMARC_POLICY_NONE;
	switch (d->discovery.status) {
	case POLICY_FOUND:
		memo_seed(c, d->discovery.author_domain, d->discovery.org_domain);
		eval_found(c, opt, in, d, &why);
		break;
	case POLICY_NONE:
		d->result = AUTH_DMARC_NONE;
		strbuf_puts(&why, "no DMARC policy applies");
		break;
	case POLICY_TEMPERROR:
		d->result = AUTH_DMARC_TEMPERROR;
		strbuf_puts(&why, "policy discovery failed temporarily");
		break;
	case POLICY_PERMERROR:
		d->result = AUTH_DMARC_PERMERROR;
		strbuf_puts(&why, "unusable author domain");
		break;
	}
	if (d->discovery.status != POLICY_FOUND && d->discovery.reason != NULL)
		strbuf_printf(&why, ": %s", d->discovery.reason);
	d->reason = text_of(&why);
	if (d->reason == NULL)
		c->oom = true;
}

/* Rank of a per-domain verdict: higher is stricter (see dmarc_check.h). */
static int rank(const struct dmarc_check_domain *d)
{
	switch (d->result) {
	case AUTH_DMARC_FAIL:
		if (d->disposition == DMARC_POLICY_REJECT)
			return 7;
		return d->disposition == DMARC_POLICY_QUARANTINE ? 5 : 4;
	case AUTH_DMARC_TEMPERROR: return 6;
	case AUTH_DMARC_PERMERROR: return 3;
	case AUTH_DMARC_PASS: return 2;
	case AUTH_DMARC_NONE: return 1;
	}
	return 0;
}

static void set_overall(struct dmarc_check_result *out, enum auth_dmarc result,
			const char *text)
{
	out->result = result;
	free(out->reason);
	out->reason = strdup(text);
}

enum auth_dmarc dmarc_check_run(struct resolver *res, const struct dmarc_check_options *opt,
				const struct dmarc_check_input *in,
				struct dmarc_check_result *out)
{
	memset(out, 0, sizeof *out);
	out->policy = DMARC_POLICY_UNSPECIFIED;
	out->disposition = DMARC_POLICY_NONE;
	if (in->author_count == 0) {
		set_overall(out, AUTH_DMARC_PERMERROR,
			    "no author domain: DMARC validation is not possible (RFC 9989 §5.3.1)");
		return out->result;
	}
	if (in->author_count > DMARC_CHECK_MAX_AUTHORS) {
		set_overall(out, AUTH_DMARC_PERMERROR,
			    "too many author domains (limit 16): not evaluated");
		return out->result;
	}

	struct run *c = calloc(1, sizeof *c);
	out->domains = calloc(in->author_count, sizeof *out->domains);
	size_t ndkim = in->dkim_count < DMARC_CHECK_MAX_DKIM ? in->dkim_count
							      : DMARC_CHECK_MAX_DKIM;
	if (c == NULL || out->domains == NULL)
		goto nomem;
	if (ndkim > 0) {
		c->dkim = calloc(ndkim, sizeof *c->dkim);
		if (c->dkim == NULL)
			goto nomem;
	}
	c->res = res;
	c->popt.standard = opt->standard;
	c->popt.psl = opt->psl;
	c->popt.deadline_ms = opt->deadline_ms;
	c->ndkim = ndkim;
	if (in->spf_result == AUTH_SPF_PASS)
		normalize_into(in->spf_domain, c->spf);
	for (size_t i = 0; i < ndkim; i++)
		if (in->dkim[i].result == AUTH_DKIM_PASS)
			normalize_into(in->dkim[i].domain, c->dkim[i]);

	out->ndomains = in->author_count;
	for (size_t i = 0; i < in->author_count; i++)
		check_one(c, opt, in, in->author_domains[i], &out->domains[i]);
	if (c->oom)
		goto nomem;

	size_t best = 0;
	for (size_t i = 1; i < out->ndomains; i++)
		if (rank(&out->domains[i]) > rank(&out->domains[best]))
			best = i;
	const struct dmarc_check_domain *d = &out->domains[best];
	out->decisive = best;
	out->policy = d->policy;
	out->disposition = d->disposition;
	out->author_domain = d->author_domain;
	out->policy_domain = d->discovery.policy_domain;
	out->spf_aligned = d->spf_aligned;
	out->dkim_aligned = d->dkim_aligned;
	out->test_mode = d->test_mode;
	out->sampled_out = d->sampled_out;
	out->dns_queries = c->queries;

	struct strbuf r;
	strbuf_init(&r, NULL, 0, CHECK_REASON_MAX + 512);
	if (out->ndomains > 1)
		strbuf_printf(&r, "%zu author domains, %s decides: ", out->ndomains,
			      d->author_domain);
	strbuf_printf(&r, "%s: %s", d->author_domain, d->reason);
	if (in->dkim_count > ndkim)
		strbuf_printf(&r, "; %zu DKIM signatures beyond %d ignored",
			      in->dkim_count - ndkim, DMARC_CHECK_MAX_DKIM);
	out->result = d->result;
	out->reason = text_of(&r);
	if (out->reason == NULL)
		goto nomem;
	run_free(c);
	free(c);
	return out->result;
nomem:
	if (c != NULL)
		run_free(c);
	free(c);
	dmarc_check_result_clear(out);
	out->policy = DMARC_POLICY_UNSPECIFIED;
	out->disposition = DMARC_POLICY_NONE;
	out->result = AUTH_DMARC_TEMPERROR;
	/* A static string cannot be freed by _clear(); allocate or leave NULL. */
	out->reason = strdup("out of memory");
	return out->result;
}

void dmarc_check_result_clear(struct dmarc_check_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ndomains && r->domains != NULL; i++) {
		struct dmarc_check_domain *d = &r->domains[i];
		free(d->author_domain);
		free(d->reason);
		policy_result_clear(&d->discovery);
	}
	free(r->domains);
	free(r->reason);
	memset(r, 0, sizeof *r);
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

bool dmarc_check_format(const struct dmarc_check_result *r, struct strbuf *sb)
{
	strbuf_printf(sb, "dmarc=%s policy=%s disposition=%s author=%s policy.domain=%s "
		      "dns_queries=%u\n", auth_dmarc_name(r->result),
		      dmarc_policy_name(r->policy), dmarc_policy_name(r->disposition),
		      r->author_domain ? r->author_domain : "-",
		      r->policy_domain ? r->policy_domain : "-", r->dns_queries);
	strbuf_printf(sb, "reason: %s\n", r->reason ? r->reason : "-");
	for (size_t i = 0; i < r->ndomains; i++) {
		const struct dmarc_check_domain *d = &r->domains[i];
		const struct policy_result *p = &d->discovery;
		strbuf_printf(sb, "author %s: dmarc=%s policy.domain=%s origin=%s method=%s "
			      "org.domain=%s applies=%s policy=%s disposition=%s "
			      "spf.aligned=%s dkim.aligned=%s test_mode=%s sampled_out=%s\n",
			      d->author_domain ? d->author_domain : "-",
			      auth_dmarc_name(d->result),
			      p->policy_domain ? p->policy_domain : "-",
			      policy_origin_name(p->origin), policy_method_name(p->method),
			      p->org_domain ? p->org_domain : "-",
			      p->status == POLICY_FOUND ? policy_source_name(p->applies) : "-",
			      dmarc_policy_name(d->policy), dmarc_policy_name(d->disposition),
			      yn(d->spf_aligned), yn(d->dkim_aligned), yn(d->test_mode),
			      yn(d->sampled_out));
		strbuf_printf(sb, "  reason: %s\n", d->reason ? d->reason : "-");
		/* Other statuses already carry the discovery account in reason. */
		if (p->status == POLICY_FOUND)
			strbuf_printf(sb, "  discovery: %s\n", p->reason ? p->reason : "-");
		strbuf_printf(sb, "  queries: %u TXT, %u in all\n", p->txt_queries,
			      p->dns_queries);
	}
	return !strbuf_failed(sb);
}
