/* policy_discovery: DMARC policy record and organizational domain, by the
 * RFC 9989 §4.10 DNS Tree Walk or the RFC 7489 §6.6.3 PSL method. */
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "dmarc_eval.h"
#include "domain.h"
#include "dmarc_record.h"
#include "policy_discovery.h"
#include "resolver.h"
#include "strbuf.h"

#define REASON_MAX 4096   /* bytes of walk account kept per result */
#define DMARC_PREFIX "_dmarc."

struct policy_psl {
	psl_ctx_t *owned;       /* loaded from a file or psl_latest(); we free it */
	const psl_ctx_t *ctx;   /* what we query: owned or the built-in list */
};

/* What one _dmarc.<name> TXT query told us. */
enum name_state {
	NAME_NO_RECORD = 0, /* nxdomain, nodata, no v=DMARC1 record, or not queryable */
	NAME_SEVERAL,       /* several v=DMARC1 records: no record (RFC 9989 §4.10) */
	NAME_VALID,         /* exactly one, usable */
	NAME_INVALID,       /* exactly one, v=DMARC1 but no usable policy */
	NAME_TEMPFAIL,      /* could not ask: SERVFAIL, timeout, local error */
};

/* One queried name of a walk. */
struct walk_step {
	const char *name;          /* borrowed from the normalised domain */
	enum name_state state;
	struct dmarc_record *rec;  /* NAME_VALID only; owned by the walk */
};

struct walk {
	struct walk_step steps[POLICY_MAX_QUERIES];
	size_t count;              /* steps queried so far */
};

/* Counters and the human-readable account shared by one discovery. */
struct query_ctx {
	struct resolver *res;
	uint64_t deadline_ms;
	unsigned txt_queries;
	unsigned dns_queries;
	struct strbuf *why;        /* may be NULL */
};

/* ---- names ------------------------------------------------------------- */

size_t policy_walk_names(const char *domain, const char *names[POLICY_MAX_QUERIES])
{
	size_t count = 0;
	const char *cur = domain;
	names[count++] = cur;
	size_t x = domain_label_count(cur);
	/* RFC 9989 §4.10 step 4 (and §4.10.1's starting point): 8 or more
	 * labels are cut to 7 at once; fewer lose the left-most label. */
	if (x >= 8) {
		cur = domain_last_labels(cur, 7);
		x = 7;
	} else if (x > 1) {
		cur = domain_parent(cur);
		x--;
	} else {
		return count;
	}
	/* Step 7: one label less each time, down to the TLD. */
	for (;;) {
		names[count++] = cur;
		if (x == 1 || count == POLICY_MAX_QUERIES)
			break;
		cur = domain_parent(cur);
		x--;
	}
	return count;
}

/* domain_normalize() into a new string; NULL with the reason in err (may
 * be NULL). *nomem tells an allocation failure from a bad name. */
static char *normalize_dup(const char *domain, struct strbuf *err, bool *nomem)
{
	char buf[DOMAIN_BUF_SIZE];
	*nomem = false;
	if (domain == NULL)
		domain = "";
	enum domain_status ds = domain_normalize(domain, strlen(domain),
						 DOMAIN_ALLOW_UNDERSCORE, buf, err);
	if (ds != DOMAIN_OK) {
		*nomem = ds == DOMAIN_ERR_NOMEM;
		return NULL;
	}
	char *d = strdup(buf);
	if (d == NULL) {
		*nomem = true;
		if (err)
			strbuf_puts(err, "out of memory");
	}
	return d;
}

/* ---- one TXT query ----------------------------------------------------- */

/* Appends "<prefix><name>: <what>" to the account. */
static void note(struct query_ctx *q, const char *prefix, const char *name, const char *what)
{
	if (q->why == NULL)
		return;
	if (q->why->len > 0)
		strbuf_puts(q->why, "; ");
	strbuf_printf(q->why, "%s%s: %s", prefix, name, what);
}

/* Reads the DMARC record(s) of an OK TXT answer. */
static enum name_state read_answer(struct query_ctx *q, const char *name,
				   const struct dns_answer *ans,
				   struct dmarc_record **rec_out)
{
	struct dmarc_txt txts[DNS_MAX_RRS];
	char *texts[DNS_MAX_RRS];
	size_t n = 0;
	enum name_state st = NAME_NO_RECORD;

	for (size_t i = 0; i < ans->count && n < DNS_MAX_RRS; i++) {
		if (ans->rrs[i].type != DNS_TYPE_TXT)
			continue;
		size_t len = 0;
		texts[n] = dns_txt_join(&ans->rrs[i], &len);
		if (texts[n] == NULL) {
			note(q, DMARC_PREFIX, name, "unreadable TXT rdata");
			st = NAME_TEMPFAIL;
			goto out;
		}
		txts[n].data = texts[n];
		txts[n].len = len;
		n++;
	}
	size_t idx = 0;
	char stack[256];
	struct strbuf r;
	strbuf_init(&r, stack, sizeof stack, 1024);
	enum dmarc_select_status sel = dmarc_record_select(txts, n, &idx, &r);
	if (ans->truncated && sel != DMARC_SELECT_SEVERAL) {
		/* More TXT records than the resolver keeps: we cannot tell one
		 * record from several, so none is used (never a silent cut). */
		note(q, DMARC_PREFIX, name, "too many TXT records, none used");
		strbuf_free(&r);
		goto out;
	}
	if (sel == DMARC_SELECT_NONE) {
		note(q, DMARC_PREFIX, name, "no DMARC record");
	} else if (sel == DMARC_SELECT_SEVERAL) {
		note(q, DMARC_PREFIX, name, strbuf_str(&r));
		st = NAME_SEVERAL;
	} else {
		strbuf_reset(&r);
		enum dmarc_record_status rs =
			dmarc_record_parse(txts[idx].data, txts[idx].len, rec_out, &r);
		if (rs == DMARC_RECORD_OK) {
			st = NAME_VALID;
			note(q, DMARC_PREFIX, name, "record found");
		} else if (rs == DMARC_RECORD_NOMEM) {
			note(q, DMARC_PREFIX, name, "out of memory");
			st = NAME_TEMPFAIL;
		} else {
			if (q->why) {
				if (q->why->len > 0)
					strbuf_puts(q->why, "; ");
				strbuf_printf(q->why, "_dmarc.%s: unusable record (%s)",
					      name, strbuf_str(&r));
			}
			st = rs == DMARC_RECORD_INVALID ? NAME_INVALID : NAME_NO_RECORD;
		}
	}
	strbuf_free(&r);
out:
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	return st;
}

/* Queries _dmarc.<name> TXT and classifies the answer. */
static enum name_state lookup_dmarc(struct query_ctx *q, const char *name,
				    struct dmarc_record **rec_out)
{
	*rec_out = NULL;
	char stack[POLICY_DOMAIN_MAX + 2];
	struct strbuf qn;
	strbuf_init(&qn, stack, sizeof stack, POLICY_DOMAIN_MAX);
	strbuf_puts(&qn, DMARC_PREFIX);
	strbuf_puts(&qn, name);
	if (strbuf_failed(&qn)) {
		/* The _dmarc name would exceed 253 octets: nothing can be
		 * published there, so there is nothing to ask. */
		note(q, DMARC_PREFIX, name, "name too long to hold a record, not queried");
		strbuf_free(&qn);
		return NAME_NO_RECORD;
	}
	struct dns_answer *ans = resolver_query(q->res, strbuf_str(&qn), DNS_TYPE_TXT,
						q->deadline_ms);
	strbuf_free(&qn);
	q->txt_queries++;
	q->dns_queries++;
	if (ans == NULL) {
		note(q, DMARC_PREFIX, name, "out of memory");
		return NAME_TEMPFAIL;
	}
	enum name_state st;
	switch (ans->status) {
	case DNS_STATUS_OK:
		st = read_answer(q, name, ans, rec_out);
		break;
	case DNS_STATUS_NXDOMAIN:
	case DNS_STATUS_NODATA:
		note(q, DMARC_PREFIX, name, dns_status_name(ans->status));
		st = NAME_NO_RECORD;
		break;
	default:
		/* TEMPFAIL, TIMEOUT and ERROR (a local failure: our names are
		 * checked beforehand) all mean "could not ask". */
		if (q->why) {
			if (q->why->len > 0)
				strbuf_puts(q->why, "; ");
			strbuf_printf(q->why, "_dmarc.%s: %s%s%s", name,
				      dns_status_name(ans->status), ans->why ? ": " : "",
				      ans->why ? ans->why : "");
		}
		st = NAME_TEMPFAIL;
		break;
	}
	dns_answer_free(ans);
	return st;
}

/* ---- tree walk (RFC 9989 §4.10) ---------------------------------------- */

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->count; i++)
		w->steps[i].rec = dmarc_record_free(w->steps[i].rec);
	w->count = 0;
}

/* Queries names[from..n-1] in order, stopping at a valid record with psd=y
 * or psd=n (steps 2 and 6). Steps already in w (from == w->count) are kept.
 * Returns false on a temporary failure (the walk is then incomplete). */
static bool walk_run(struct query_ctx *q, struct walk *w,
		     const char *const *names, size_t n)
{
	for (size_t i = w->count; i < n; i++) {
		struct walk_step *s = &w->steps[w->count++];
		s->name = names[i];
		s->state = lookup_dmarc(q, names[i], &s->rec);
		if (s->state == NAME_TEMPFAIL)
			return false;
		if (s->state == NAME_VALID && s->rec->psd != DMARC_PSD_U)
			return true;
	}
	return true;
}

/* RFC 9989 §4.10.2 selection over the walk's valid records, longest name
 * first. Returns the organizational domain (borrowed from start) and sets
 * *psd_step to the psd=y step used (or -1). */
static const char *walk_select(const struct walk *w, const char *start, int *psd_step)
{
	*psd_step = -1;
	const char *fewest = NULL;
	for (size_t i = 0; i < w->count; i++) {
		const struct walk_step *s = &w->steps[i];
		if (s->state != NAME_VALID)
			continue;
		/* 1. psd=n: this is the organizational domain. */
		if (s->rec->psd == DMARC_PSD_N)
			return s->name;
		/* 2. psd=y other than at the start: one label below it. */
		if (s->rec->psd == DMARC_PSD_Y && strcmp(s->name, start) != 0) {
			*psd_step = (int)i;
			return domain_last_labels(start, domain_label_count(s->name) + 1);
		}
		fewest = s->name;
	}
	/* 3. the valid record with the fewest labels; else the start itself. */
	return fewest ? fewest : start;
}

static const struct walk_step *walk_find(const struct walk *w, const char *name)
{
	for (size_t i = 0; i < w->count; i++)
		if (strcmp(w->steps[i].name, name) == 0)
			return &w->steps[i];
	return NULL;
}

/* ---- results ----------------------------------------------------------- */

void policy_result_clear(struct policy_result *r)
{
	if (r == NULL)
		return;
	dmarc_record_free(r->record);
	free(r->author_domain);
	free(r->policy_domain);
	free(r->org_domain);
	free(r->reason);
	memset(r, 0, sizeof *r);
}

/* Sets a string member from s (may be NULL); false when out of memory. */
static bool set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	if (s == NULL)
		return true;
	*dst = strdup(s);
	return *dst != NULL;
}

/* Finishes out: status, reason = headline + walk account. */
static enum policy_status finish(struct policy_result *out, enum policy_status st,
				 struct strbuf *why, const char *headline)
{
	out->status = st;
	struct strbuf r;
	strbuf_init(&r, NULL, 0, REASON_MAX + 2048 + 64);
	strbuf_puts(&r, headline);
	if (why != NULL && why->len > 0) {
		strbuf_puts(&r, " [");
		strbuf_puts(&r, strbuf_str(why));
		strbuf_puts(&r, "]");
	}
	if (why != NULL && strbuf_failed(why))
		strbuf_puts(&r, " (account truncated)");
	free(out->reason);
	out->reason = strbuf_finish(&r);
	if (st != POLICY_FOUND) {
		out->record = dmarc_record_free(out->record);
		out->policy = DMARC_POLICY_UNSPECIFIED;
	}
	return st;
}

static enum policy_status fail_nomem(struct policy_result *out, struct strbuf *why)
{
	out->status = POLICY_TEMPERROR;
	return finish(out, POLICY_TEMPERROR, why, "out of memory");
}

/* Does the author domain exist (RFC 9989 §3.2.13: NXDOMAIN, RFC 8020)?
 * 1 yes, 0 no, -1 could not ask. */
static int author_exists(struct query_ctx *q, const char *domain)
{
	struct dns_answer *ans = resolver_query(q->res, domain, DNS_TYPE_A, q->deadline_ms);
	q->dns_queries++;
	if (ans == NULL) {
		note(q, "A ", domain, "out of memory");
		return -1;
	}
	int rc;
	if (ans->status == DNS_STATUS_OK || ans->status == DNS_STATUS_NODATA)
		rc = 1;
	else if (ans->status == DNS_STATUS_NXDOMAIN)
		rc = 0;
	else
		rc = -1;
	note(q, "A ", domain, rc == 1 ? "exists" : dns_status_name(ans->status));
	dns_answer_free(ans);
	return rc;
}

/* The record of a higher domain applies to the author domain, a subdomain:
 * sp, or np when the author domain does not exist (RFC 9989 §4.10.1). The
 * existence query is made only when sp and np differ for this record. */
static enum policy_status apply_subdomain(struct query_ctx *q, struct policy_result *out)
{
	out->applies = DMARC_APPLY_SP;
	enum dmarc_policy sp = dmarc_policy_applicable(out->record, DMARC_APPLY_SP);
	enum dmarc_policy np = dmarc_policy_applicable(out->record, DMARC_APPLY_NP);
	if (sp == np) {
		out->policy = sp;
		return POLICY_FOUND;
	}
	int ex = author_exists(q, out->author_domain);
	if (ex < 0)
		return POLICY_TEMPERROR;
	out->existence_checked = true;
	out->author_domain_exists = ex == 1;
	if (ex == 0)
		out->applies = DMARC_APPLY_NP;
	out->policy = ex == 0 ? np : sp;
	return POLICY_FOUND;
}

/* Takes the record of a walk step into out. */
static bool take_record(struct policy_result *out, struct walk_step *s,
			enum policy_origin origin)
{
	out->record = s->rec;
	s->rec = NULL;
	out->origin = origin;
	return set_str(&out->policy_domain, s->name);
}

static enum policy_status discover_treewalk(struct query_ctx *q, struct policy_result *out)
{
	const char *author = out->author_domain;
	const char *names[POLICY_MAX_QUERIES];
	size_t n = policy_walk_names(author, names);
	struct walk w = { .count = 0 };
	enum policy_status st;
	char head[512];
	struct strbuf h;
	strbuf_init(&h, head, sizeof head, 2048);

	/* §4.10.1: the author domain's own record first. */
	if (!walk_run(q, &w, names, 1)) {
		st = POLICY_TEMPERROR;
		strbuf_printf(&h, "temporary DNS failure at _dmarc.%s", author);
		goto done;
	}
	struct walk_step *first = &w.steps[0];
	if (first->state == NAME_VALID) {
		if (!take_record(out, first, POLICY_ORIGIN_AUTHOR))
			goto nomem;
		out->applies = DMARC_APPLY_P;
		out->policy = dmarc_policy_applicable(out->record, DMARC_APPLY_P);
		/* psd=n or psd=y at the start stops the walk (§4.10 step 2) and
		 * the start is its own organizational domain (§4.10.2 rules 1
		 * and 3); psd=u needs a walk only for relaxed alignment. */
		if (out->record->psd != DMARC_PSD_U && !set_str(&out->org_domain, author))
			goto nomem;
		st = POLICY_FOUND;
		strbuf_printf(&h, "record at _dmarc.%s applies (p)", author);
		goto done;
	}
	if (first->state == NAME_INVALID) {
		if (!set_str(&out->policy_domain, author))
			goto nomem;
		st = POLICY_NONE;
		strbuf_printf(&h, "record at _dmarc.%s has no usable policy: "
			      "DMARC not applied (RFC 9989 §4.10.1)", author);
		goto done;
	}

	/* No valid record at the author domain: walk up (§4.10.1, §4.10). */
	if (!walk_run(q, &w, names, n)) {
		st = POLICY_TEMPERROR;
		strbuf_printf(&h, "temporary DNS failure in the tree walk at _dmarc.%s",
			      w.steps[w.count - 1].name);
		goto done;
	}
	int psd_step;
	const char *org = walk_select(&w, author, &psd_step);
	if (!set_str(&out->org_domain, org))
		goto nomem;

	/* The organizational domain's record, else the PSD's (§4.10.1; a PSD
	 * policy is not used when the org domain published a record). */
	struct walk_step *os = (struct walk_step *)walk_find(&w, org);
	if (os != NULL && os->state == NAME_VALID) {
		if (!take_record(out, os, POLICY_ORIGIN_ORGANIZATIONAL))
			goto nomem;
	} else if (os != NULL && os->state == NAME_INVALID) {
		if (!set_str(&out->policy_domain, org))
			goto nomem;
		st = POLICY_NONE;
		strbuf_printf(&h, "record at _dmarc.%s (organizational domain) has no "
			      "usable policy: DMARC not applied (RFC 9989 §4.10.1)", org);
		goto done;
	} else if (psd_step >= 0) {
		if (!take_record(out, &w.steps[psd_step], POLICY_ORIGIN_PUBLIC_SUFFIX))
			goto nomem;
	} else {
		st = POLICY_NONE;
		strbuf_printf(&h, "no DMARC record for %s or its parents", author);
		goto done;
	}
	st = apply_subdomain(q, out);
	if (st == POLICY_TEMPERROR) {
		strbuf_printf(&h, "temporary DNS failure asking whether %s exists "
			      "(sp and np differ)", author);
		goto done;
	}
	strbuf_printf(&h, "record at _dmarc.%s (%s domain) applies (%s)",
		      out->policy_domain, policy_origin_name(out->origin),
		      policy_source_name(out->applies));
done:
	walk_free(&w);
	if (strbuf_failed(&h))
		goto nomem_h;
	st = finish(out, st, q->why, strbuf_str(&h));
	strbuf_free(&h);
	return st;
nomem:
	walk_free(&w);
nomem_h:
	strbuf_free(&h);
	return fail_nomem(out, q->why);
}

/* ---- RFC 7489 (PSL) ---------------------------------------------------- */

static const psl_ctx_t *psl_ctx(const struct policy_psl *psl)
{
	return psl != NULL ? psl->ctx : psl_builtin();
}

/* RFC 7489 §3.2: the registered domain per the PSL; a name that is itself a
 * public suffix (no label to add) is its own organizational domain. */
static const char *psl_org(const struct policy_psl *psl, const char *domain)
{
	const psl_ctx_t *ctx = psl_ctx(psl);
	const char *reg = ctx != NULL ? psl_registrable_domain(ctx, domain) : NULL;
	return reg != NULL ? reg : domain;
}

static enum policy_status discover_psl(struct query_ctx *q, const struct policy_options *opt,
				       struct policy_result *out)
{
	const char *author = out->author_domain;
	struct dmarc_record *rec = NULL;
	char head[512];
	struct strbuf h;
	enum policy_status st;
	strbuf_init(&h, head, sizeof head, 2048);

	if (psl_ctx(opt->psl) == NULL) {
		st = POLICY_TEMPERROR;
		strbuf_puts(&h, "no Public Suffix List available");
		goto done;
	}
	const char *org = psl_org(opt->psl, author);
	if (!set_str(&out->org_domain, org))
		goto nomem;

	/* §6.6.3 steps 1-2: the author domain. */
	enum name_state ns = lookup_dmarc(q, author, &rec);
	if (ns == NAME_TEMPFAIL) {
		st = POLICY_TEMPERROR;
		strbuf_printf(&h, "temporary DNS failure at _dmarc.%s", author);
		goto done;
	}
	if (ns == NAME_VALID) {
		out->record = rec;
		out->origin = POLICY_ORIGIN_AUTHOR;
		out->applies = DMARC_APPLY_P;
		out->policy = dmarc_policy_applicable(rec, DMARC_APPLY_P);
		if (!set_str(&out->policy_domain, author))
			goto nomem;
		st = POLICY_FOUND;
		strbuf_printf(&h, "record at _dmarc.%s applies (p)", author);
		goto done;
	}
	if (ns == NAME_INVALID || ns == NAME_SEVERAL) {
		/* Step 5 (several records) and step 6 (no usable p): discovery
		 * ends here, without the organizational domain. */
		if (!set_str(&out->policy_domain, author))
			goto nomem;
		st = POLICY_NONE;
		strbuf_printf(&h, "%s at _dmarc.%s: DMARC not applied (RFC 7489 §6.6.3)",
			      ns == NAME_SEVERAL ? "several records" : "no usable policy",
			      author);
		goto done;
	}
	if (strcmp(org, author) == 0) {
		st = POLICY_NONE;
		strbuf_printf(&h, "no DMARC record for %s (its own organizational domain)",
			      author);
		goto done;
	}

	/* Step 3-5: the organizational domain. */
	ns = lookup_dmarc(q, org, &rec);
	if (ns == NAME_TEMPFAIL) {
		st = POLICY_TEMPERROR;
		strbuf_printf(&h, "temporary DNS failure at _dmarc.%s", org);
		goto done;
	}
	if (ns != NAME_VALID) {
		if (ns == NAME_INVALID && !set_str(&out->policy_domain, org))
			goto nomem;
		st = POLICY_NONE;
		strbuf_printf(&h, "no usable DMARC record for %s or %s", author, org);
		goto done;
	}
	out->record = rec;
	out->origin = POLICY_ORIGIN_ORGANIZATIONAL;
	/* RFC 7489 §6.3 sp: for subdomains of the organizational domain; RFC
	 * 7489 has no np. */
	out->applies = DMARC_APPLY_SP;
	out->policy = dmarc_policy_applicable(rec, DMARC_APPLY_SP);
	if (!set_str(&out->policy_domain, org))
		goto nomem;
	st = POLICY_FOUND;
	strbuf_printf(&h, "record at _dmarc.%s (organizational domain) applies (sp)", org);
done:
	if (strbuf_failed(&h))
		goto nomem;
	st = finish(out, st, q->why, strbuf_str(&h));
	strbuf_free(&h);
	return st;
nomem:
	strbuf_free(&h);
	return fail_nomem(out, q->why);
}

/* ---- public ------------------------------------------------------------ */

enum policy_status policy_discover(struct resolver *res, const struct policy_options *opt,
				   const char *author_domain, struct policy_result *out)
{
	memset(out, 0, sizeof *out);
	out->author_domain_exists = true;
	out->method = opt->standard == DMARC_STD_RFC7489 ? POLICY_METHOD_PSL
							 : POLICY_METHOD_TREEWALK;
	struct strbuf why;
	strbuf_init(&why, NULL, 0, REASON_MAX);
	struct query_ctx q = { .res = res, .deadline_ms = opt->deadline_ms, .why = &why };

	char ebuf[320];
	struct strbuf err;
	strbuf_init(&err, ebuf, sizeof ebuf, sizeof ebuf - 1);
	bool nomem;
	out->author_domain = normalize_dup(author_domain, &err, &nomem);
	enum policy_status st;
	if (out->author_domain == NULL) {
		st = finish(out, nomem ? POLICY_TEMPERROR : POLICY_PERMERROR, NULL,
			    strbuf_str(&err));
	} else if (out->method == POLICY_METHOD_PSL) {
		st = discover_psl(&q, opt, out);
	} else {
		st = discover_treewalk(&q, out);
	}
	out->txt_queries = q.txt_queries;
	out->dns_queries = q.dns_queries;
	strbuf_free(&err);
	strbuf_free(&why);
	return st;
}

enum policy_status orgdomain_find(struct resolver *res, const struct policy_options *opt,
				  const char *domain, char **org_out, unsigned *queries,
				  struct strbuf *reason)
{
	*org_out = NULL;
	bool nomem;
	char *d = normalize_dup(domain, reason, &nomem);
	if (d == NULL)
		return nomem ? POLICY_TEMPERROR : POLICY_PERMERROR;
	enum policy_status st = POLICY_FOUND;
	const char *org;
	struct walk w = { .count = 0 };
	if (opt->standard == DMARC_STD_RFC7489) {
		/* RFC 7489 §3.2: no DNS. */
		if (psl_ctx(opt->psl) == NULL) {
			if (reason)
				strbuf_puts(reason, "no Public Suffix List available");
			free(d);
			return POLICY_TEMPERROR;
		}
		org = psl_org(opt->psl, d);
		if (reason)
			strbuf_printf(reason, "%s: organizational domain %s (PSL)", d, org);
	} else {
		/* RFC 9989 §4.10.2: a walk starting at the domain itself. */
		struct query_ctx q = { .res = res, .deadline_ms = opt->deadline_ms,
				       .why = reason };
		const char *names[POLICY_MAX_QUERIES];
		size_t n = policy_walk_names(d, names);
		bool ok = walk_run(&q, &w, names, n);
		if (queries)
			*queries += q.dns_queries;
		if (!ok) {
			walk_free(&w);
			free(d);
			return POLICY_TEMPERROR;
		}
		int psd_step;
		org = walk_select(&w, d, &psd_step);
		if (reason)
			strbuf_printf(reason, "%s%s: organizational domain %s",
				      reason->len > 0 ? "; " : "", d, org);
	}
	*org_out = strdup(org);
	if (*org_out == NULL)
		st = POLICY_TEMPERROR;
	walk_free(&w);
	free(d);
	return st;
}

struct policy_psl *policy_psl_load(const char *path, struct strbuf *err)
{
	struct policy_psl *p = calloc(1, sizeof *p);
	if (p == NULL) {
		if (err)
			strbuf_puts(err, "out of memory");
		return NULL;
	}
	if (path != NULL && *path != '\0') {
		p->owned = psl_load_file(path);
		if (p->owned == NULL) {
			if (err)
				strbuf_printf(err, "%s: cannot load the Public Suffix List "
					      "(missing, unreadable or not in PSL format); "
					      "check the path or leave it unset to use the "
					      "built-in list", path);
			free(p);
			return NULL;
		}
		p->ctx = p->owned;
		return p;
	}
	p->ctx = psl_builtin();
	if (p->ctx == NULL) {
		/* libpsl built without data: the distribution's file. */
		p->owned = psl_latest(NULL);
		p->ctx = p->owned;
	}
	if (p->ctx == NULL) {
		if (err)
			strbuf_puts(err, "libpsl has no built-in Public Suffix List and "
				    "none was found on this system; install the "
				    "publicsuffix package or give a PSL file path");
		free(p);
		return NULL;
	}
	return p;
}

struct policy_psl *policy_psl_free(struct policy_psl *psl)
{
	if (psl != NULL) {
		psl_free(psl->owned);
		free(psl);
	}
	return NULL;
}

const char *policy_status_name(enum policy_status st)
{
	switch (st) {
	case POLICY_FOUND: return "found";
	case POLICY_NONE: return "none";
	case POLICY_TEMPERROR: return "temperror";
	case POLICY_PERMERROR: return "permerror";
	}
	return "unknown";
}

const char *policy_origin_name(enum policy_origin o)
{
	switch (o) {
	case POLICY_ORIGIN_NONE: return "none";
	case POLICY_ORIGIN_AUTHOR: return "author";
	case POLICY_ORIGIN_ORGANIZATIONAL: return "organizational";
	case POLICY_ORIGIN_PUBLIC_SUFFIX: return "public-suffix";
	}
	return "unknown";
}

const char *policy_method_name(enum policy_method m)
{
	switch (m) {
	case POLICY_METHOD_TREEWALK: return "treewalk";
	case POLICY_METHOD_PSL: return "psl";
	}
	return "unknown";
}

const char *policy_source_name(enum dmarc_policy_source s)
{
	switch (s) {
	case DMARC_APPLY_P: return "p";
	case DMARC_APPLY_SP: return "sp";
	case DMARC_APPLY_NP: return "np";
	}
	return "unknown";
}
