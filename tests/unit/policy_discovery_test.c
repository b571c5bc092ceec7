/* policy_discovery_test: RFC 9989 §4.10 tree walk, RFC 7489 PSL discovery,
 * orgdomain_find() and dmarc_check_run() against the real loopback DNS
 * server serving the zone files of tests/discovery/ (started by
 * tests/discovery/discovery_test.sh).
 *
 * Usage: policy_discovery_test [PORT [SRCDIR]]; PORT defaults to $DNS_PORT,
 * SRCDIR (for tests/discovery/test.psl) to $top_srcdir or ".". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_types.h"
#include "dmarc_check.h"
#include "policy_discovery.h"
#include "resolver.h"
#include "strbuf.h"
#include "testlib.h"

#define ANY "*"     /* string field not checked */
#define NOCHK (-1)  /* number field not checked */

enum psl_choice { PSL_DEFAULT = 0, PSL_TESTFILE };

struct disc_case {
	const char *label;
	enum dmarc_standard std;
	const char *domain;
	enum policy_status status;
	const char *policy_domain;   /* NULL: must be NULL; ANY: not checked */
	const char *org_domain;
	enum policy_origin origin;
	int applies;                 /* enum dmarc_policy_source or NOCHK */
	enum dmarc_policy policy;
	int txt_queries;             /* or NOCHK */
	int exists;                  /* author_domain_exists 0/1, or NOCHK */
	enum psl_choice psl;
};

#define W DMARC_STD_RFC9989
#define L DMARC_STD_RFC7489
#define FOUND POLICY_FOUND
#define NONE_ POLICY_NONE
#define TEMP POLICY_TEMPERROR
#define PERM POLICY_PERMERROR
#define O_NONE POLICY_ORIGIN_NONE
#define O_AUTH POLICY_ORIGIN_AUTHOR
#define O_ORG POLICY_ORIGIN_ORGANIZATIONAL
#define O_PSD POLICY_ORIGIN_PUBLIC_SUFFIX
#define P DMARC_APPLY_P
#define SP DMARC_APPLY_SP
#define NP DMARC_APPLY_NP
#define PU DMARC_POLICY_UNSPECIFIED
#define PN DMARC_POLICY_NONE
#define PQ DMARC_POLICY_QUARANTINE
#define PR DMARC_POLICY_REJECT

static const struct disc_case disc_cases[] = {
	/* label, std, domain, status, policy_domain, org_domain, origin, applies, policy, txtq, exists */
	{ "record at the author domain applies p", W, "author.example", FOUND,
	  "author.example", NULL, O_AUTH, P, PR, 1, 1, PSL_DEFAULT },
	{ "author domain: upper case and trailing dot", W, "AUTHOR.Example.", FOUND,
	  "author.example", NULL, O_AUTH, P, PR, 1, 1, PSL_DEFAULT },
	{ "CNAME'd _dmarc is followed", W, "alias.example", FOUND,
	  "alias.example", NULL, O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "_dmarc CNAME into SERVFAIL: temperror", W, "cnfail.example", TEMP,
	  NULL, NULL, O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
	{ "existing subdomain: org record, sp", W, "sub.org.example", FOUND,
	  "org.example", "org.example", O_ORG, SP, PQ, 3, 1, PSL_DEFAULT },
	{ "deeper existing subdomain: sp", W, "deep.sub.org.example", FOUND,
	  "org.example", "org.example", O_ORG, SP, PQ, 4, 1, PSL_DEFAULT },
	{ "empty non-terminal exists: sp", W, "ent.org.example", FOUND,
	  "org.example", "org.example", O_ORG, SP, PQ, 3, 1, PSL_DEFAULT },
	{ "non-existent subdomain (NXDOMAIN): np", W, "nx.org.example", FOUND,
	  "org.example", "org.example", O_ORG, NP, PN, 3, 0, PSL_DEFAULT },
	{ "non-existent deeper subdomain: np", W, "a.nx.org.example", FOUND,
	  "org.example", "org.example", O_ORG, NP, PN, 4, 0, PSL_DEFAULT },
	{ "existence query SERVFAIL, sp != np: temperror", W, "cn.org.example", TEMP,
	  ANY, ANY, O_ORG, NOCHK, PU, 3, NOCHK, PSL_DEFAULT },
	{ "np absent: sp applies to a non-existent subdomain", W, "nx.spfb.example", FOUND,
	  "spfb.example", "spfb.example", O_ORG, SP, PQ, 3, NOCHK, PSL_DEFAULT },
	{ "np and sp absent: p applies", W, "nx.ponly.example", FOUND,
	  "ponly.example", "ponly.example", O_ORG, SP, PR, 3, NOCHK, PSL_DEFAULT },
	{ "existence SERVFAIL but sp == np: no query needed", W, "cn.ponly.example", FOUND,
	  "ponly.example", "ponly.example", O_ORG, SP, PR, 3, NOCHK, PSL_DEFAULT },
	{ "np present, sp absent, existing: p", W, "sub.npnosp.example", FOUND,
	  "npnosp.example", "npnosp.example", O_ORG, SP, PQ, 3, 1, PSL_DEFAULT },
	{ "np present, sp absent, non-existent: np", W, "nx.npnosp.example", FOUND,
	  "npnosp.example", "npnosp.example", O_ORG, NP, PR, 3, 0, PSL_DEFAULT },
	{ "11 labels cut to 7: 8 queries, skipped name unseen", W,
	  "a.b.c.d.e.f.g.h.i.deep.example", FOUND,
	  "deep.example", "deep.example", O_ORG, SP, PQ, 8, NOCHK, PSL_DEFAULT },
	{ "8 labels: 8 queries", W, "a.b.c.d.e.f.eight.example", FOUND,
	  "eight.example", "eight.example", O_ORG, SP, PR, 8, NOCHK, PSL_DEFAULT },
	{ "7 labels: 7 queries", W, "b.c.d.e.f.eight.example", FOUND,
	  "eight.example", "eight.example", O_ORG, SP, PR, 7, NOCHK, PSL_DEFAULT },
	{ "no record anywhere: none after 8 queries", W, "a.b.c.d.e.f.g.h.nothing.example",
	  NONE_, NULL, "a.b.c.d.e.f.g.h.nothing.example", O_NONE, NOCHK, PU, 8, NOCHK, PSL_DEFAULT },
	{ "psd=y: PSD policy, org one label below, sp", W, "brand.psd.example", FOUND,
	  "psd.example", "brand.psd.example", O_PSD, SP, PQ, 2, 1, PSL_DEFAULT },
	{ "psd=y: non-existent below PSD, np", W, "nxbrand.psd.example", FOUND,
	  "psd.example", "nxbrand.psd.example", O_PSD, NP, PR, 2, 0, PSL_DEFAULT },
	{ "psd=y above an org record: org record applies", W, "mail.giant.psd.example", FOUND,
	  "giant.psd.example", "giant.psd.example", O_ORG, SP, PQ, 3, 1, PSL_DEFAULT },
	{ "psd=y at the author domain itself: p", W, "psd.example", FOUND,
	  "psd.example", "psd.example", O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "psd=y, record only below the org domain: PSD applies", W,
	  "x.mail2.big.psd.example", FOUND,
	  "psd.example", "big.psd.example", O_PSD, SP, PQ, 4, 1, PSL_DEFAULT },
	{ "psd=n stops the walk", W, "x.dept.corp2.example", FOUND,
	  "dept.corp2.example", "dept.corp2.example", O_ORG, SP, PQ, 2, NOCHK, PSL_DEFAULT },
	{ "without psd the fewest-labels record wins", W, "x.dept.corp3.example", FOUND,
	  "corp3.example", "corp3.example", O_ORG, SP, PR, 4, NOCHK, PSL_DEFAULT },
	{ "two DMARC records at the author: none there, walk on", W, "two.multi.example",
	  FOUND, "multi.example", "multi.example", O_ORG, SP, PQ, 3, NOCHK, PSL_DEFAULT },
	{ "DMARC record beside an SPF TXT record", W, "mixed.example", FOUND,
	  "mixed.example", NULL, O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "malformed record at author: DMARC not applied", W, "bad.multi2.example", NONE_,
	  "bad.multi2.example", NULL, O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
	{ "invalid p with valid rua acts as p=none", W, "badrua.example", FOUND,
	  "badrua.example", NULL, O_AUTH, P, PN, 1, NOCHK, PSL_DEFAULT },
	{ "v= not first: not a record, walk on", W, "vnotfirst.multi3.example", FOUND,
	  "multi3.example", "multi3.example", O_ORG, SP, PQ, 3, NOCHK, PSL_DEFAULT },
	{ "multi-string TXT joined", W, "split.example", FOUND,
	  "split.example", NULL, O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "IDN U-label author queried as A-label", W, "b\xc3\xbc" "cher.example", FOUND,
	  "xn--bcher-kva.example", NULL, O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "IDN A-label author", W, "XN--BCHER-KVA.example", FOUND,
	  "xn--bcher-kva.example", NULL, O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "SERVFAIL at the author name: temperror", W, "x.servfail.test", TEMP,
	  NULL, NULL, O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
	{ "REFUSED at the author name: temperror", W, "x.refused.test", TEMP,
	  NULL, NULL, O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
	{ "timeout at the author name: temperror", W, "x.timeout.test", TEMP,
	  NULL, NULL, O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
	{ "SERVFAIL only higher up, record at author: found", W, "a.b.nozone", FOUND,
	  "a.b.nozone", NULL, O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "SERVFAIL higher up during the walk: temperror", W, "c.a.b.nozone", TEMP,
	  NULL, NULL, O_NONE, NOCHK, PU, 3, NOCHK, PSL_DEFAULT },
	{ "SERVFAIL higher up, psd=n stops before it", W, "c.n.a.b.nozone", FOUND,
	  "n.a.b.nozone", "n.a.b.nozone", O_ORG, SP, PQ, 2, NOCHK, PSL_DEFAULT },
	{ "empty author domain: permerror", W, "", PERM,
	  NULL, NULL, O_NONE, NOCHK, PU, 0, NOCHK, PSL_DEFAULT },
	{ "empty label: permerror", W, "a..example", PERM,
	  NULL, NULL, O_NONE, NOCHK, PU, 0, NOCHK, PSL_DEFAULT },

	/* RFC 7489 compatibility mode (PSL). */
	{ "PSL: record at the author domain", L, "author.example", FOUND,
	  "author.example", "author.example", O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "PSL: org domain under co.uk, sp", L, "shop.example.co.uk", FOUND,
	  "example.co.uk", "example.co.uk", O_ORG, SP, PQ, 2, NOCHK, PSL_DEFAULT },
	{ "PSL: intermediate psd=n record not consulted", L, "a.b.example.co.uk", FOUND,
	  "example.co.uk", "example.co.uk", O_ORG, SP, PQ, 2, NOCHK, PSL_DEFAULT },
	{ "tree walk: same name stops at psd=n (differs from PSL)", W, "a.b.example.co.uk",
	  FOUND, "b.example.co.uk", "b.example.co.uk", O_ORG, SP, PN, 2, NOCHK, PSL_DEFAULT },
	{ "tree walk: co.uk psd=y stops above example.co.uk", W, "shop.example.co.uk", FOUND,
	  "example.co.uk", "example.co.uk", O_ORG, SP, PQ, 3, NOCHK, PSL_DEFAULT },
	{ "tree walk: PSD policy for a registered domain", W, "nodmarc.co.uk", FOUND,
	  "co.uk", "nodmarc.co.uk", O_PSD, SP, PQ, 2, 1, PSL_DEFAULT },
	{ "PSL: registered domain without record: none", L, "nodmarc.co.uk", NONE_,
	  NULL, "nodmarc.co.uk", O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
	{ "PSL: several records at author end discovery", L, "two.multi.example", NONE_,
	  "two.multi.example", "multi.example", O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
	{ "PSL: sp for a non-existent subdomain (no np)", L, "nx.org.example", FOUND,
	  "org.example", "org.example", O_ORG, SP, PQ, 2, NOCHK, PSL_DEFAULT },
	{ "PSL: SERVFAIL at author: temperror", L, "x.servfail.test", TEMP,
	  NULL, ANY, O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
	{ "PSL: U-label author", L, "b\xc3\xbc" "cher.example", FOUND,
	  "xn--bcher-kva.example", "xn--bcher-kva.example", O_AUTH, P, PR, 1, NOCHK, PSL_DEFAULT },
	{ "PSL: 11 labels, 2 queries", L, "a.b.c.d.e.f.g.h.i.deep.example", FOUND,
	  "deep.example", "deep.example", O_ORG, SP, PQ, 2, NOCHK, PSL_DEFAULT },
	{ "PSL built-in: psd.example is registrable", L, "brand.psd.example", FOUND,
	  "psd.example", "psd.example", O_ORG, SP, PQ, 2, NOCHK, PSL_DEFAULT },
	{ "PSL file: psd.example is a suffix, brand has no record", L, "brand.psd.example",
	  NONE_, NULL, "brand.psd.example", O_NONE, NOCHK, PU, 1, NOCHK, PSL_TESTFILE },
	{ "PSL: malformed record at author", L, "bad.multi2.example", NONE_,
	  "bad.multi2.example", "multi2.example", O_NONE, NOCHK, PU, 1, NOCHK, PSL_DEFAULT },
};

struct org_case {
	const char *label;
	enum dmarc_standard std;
	const char *domain;
	enum policy_status status;
	const char *org;
	int queries;
	enum psl_choice psl;
};

static const struct org_case org_cases[] = {
	{ "org: record at the domain, none above", W, "author.example", FOUND,
	  "author.example", 2, PSL_DEFAULT },
	{ "org: subdomain of a record", W, "mail.author.example", FOUND, "author.example", 3, PSL_DEFAULT },
	{ "org: psd=y above an org record", W, "mail.giant.psd.example", FOUND,
	  "giant.psd.example", 3, PSL_DEFAULT },
	{ "org: psd=y, no records below", W, "mail.mega.psd.example", FOUND,
	  "mega.psd.example", 3, PSL_DEFAULT },
	{ "org: psd=y at the start is its own org", W, "psd.example", FOUND,
	  "psd.example", 1, PSL_DEFAULT },
	{ "org: psd=n", W, "x.dept.corp2.example", FOUND, "dept.corp2.example", 2, PSL_DEFAULT },
	{ "org: fewest labels", W, "x.dept.corp3.example", FOUND, "corp3.example", 4, PSL_DEFAULT },
	{ "org: no records: the domain itself", W, "a.b.c.d.e.f.g.h.nothing.example", FOUND,
	  "a.b.c.d.e.f.g.h.nothing.example", 8, PSL_DEFAULT },
	{ "org: 11 labels, 8 queries", W, "a.b.c.d.e.f.g.h.i.deep.example", FOUND,
	  "deep.example", 8, PSL_DEFAULT },
	{ "org: SERVFAIL in the walk", W, "a.b.nozone", TEMP, NULL, 2, PSL_DEFAULT },
	{ "org: U-label", W, "mail.b\xc3\xbc" "cher.example", FOUND, "xn--bcher-kva.example", 3, PSL_DEFAULT },
	{ "org: bad domain", W, "-bad-.example", PERM, NULL, 0, PSL_DEFAULT },
	{ "org PSL: co.uk", L, "a.b.example.co.uk", FOUND, "example.co.uk", 0, PSL_DEFAULT },
	{ "org PSL: unknown TLD (default * rule)", L, "x.y.corp3.example", FOUND,
	  "corp3.example", 0, PSL_DEFAULT },
	{ "org PSL: a public suffix is its own org", L, "co.uk", FOUND, "co.uk", 0, PSL_DEFAULT },
	{ "org PSL file: psd.example is a suffix", L, "a.brand.psd.example", FOUND,
	  "brand.psd.example", 0, PSL_TESTFILE },
};

static struct resolver *res;
static struct policy_psl *psl_builtin_h, *psl_file_h;

static const struct policy_psl *pick_psl(enum psl_choice c)
{
	return c == PSL_TESTFILE ? psl_file_h : psl_builtin_h;
}

/* Appends a mismatch of a string field; true when it matches. */
static bool cmp_str(struct strbuf *m, const char *field, const char *got, const char *want)
{
	if (want != NULL && strcmp(want, ANY) == 0)
		return true;
	if ((got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0))
		return true;
	strbuf_printf(m, "%s: got %s, want %s; ", field, got ? got : "(null)",
		      want ? want : "(null)");
	return false;
}

static bool cmp_int(struct strbuf *m, const char *field, long got, long want)
{
	if (want == NOCHK || got == want)
		return true;
	strbuf_printf(m, "%s: got %ld, want %ld; ", field, got, want);
	return false;
}

static bool cmp_name(struct strbuf *m, const char *field, const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return true;
	strbuf_printf(m, "%s: got %s, want %s; ", field, got, want);
	return false;
}

static void run_disc_case(const struct disc_case *c)
{
	struct policy_options opt = { .standard = c->std, .psl = pick_psl(c->psl) };
	struct policy_result r;
	policy_discover(res, &opt, c->domain, &r);
	struct strbuf m;
	strbuf_init(&m, NULL, 0, 8192);
	bool ok = cmp_name(&m, "status", policy_status_name(r.status),
			   policy_status_name(c->status));
	ok &= cmp_str(&m, "policy_domain", r.policy_domain, c->policy_domain);
	ok &= cmp_str(&m, "org_domain", r.org_domain, c->org_domain);
	if (c->status == POLICY_FOUND || c->origin != O_NONE)
		ok &= cmp_name(&m, "origin", policy_origin_name(r.origin),
			       policy_origin_name(c->origin));
	if (c->applies != NOCHK)
		ok &= cmp_name(&m, "applies", policy_source_name(r.applies),
			       policy_source_name((enum dmarc_policy_source)c->applies));
	ok &= cmp_name(&m, "policy", dmarc_policy_name(r.policy), dmarc_policy_name(c->policy));
	ok &= cmp_int(&m, "txt_queries", (long)r.txt_queries, c->txt_queries);
	ok &= cmp_int(&m, "author_domain_exists", r.author_domain_exists, c->exists);
	ok &= cmp_name(&m, "method", policy_method_name(r.method),
		       c->std == L ? "psl" : "treewalk");
	ok &= r.reason != NULL && (r.status == POLICY_FOUND) == (r.record != NULL);
	if (!ok)
		strbuf_printf(&m, "reason: %s", r.reason ? r.reason : "(null)");
	t_check(ok, c->label, "%s", strbuf_str(&m));
	strbuf_free(&m);
	policy_result_clear(&r);
}

static void run_org_case(const struct org_case *c)
{
	struct policy_options opt = { .standard = c->std, .psl = pick_psl(c->psl) };
	char *org = NULL;
	unsigned q = 0;
	struct strbuf why, m;
	strbuf_init(&why, NULL, 0, 8192);
	strbuf_init(&m, NULL, 0, 8192);
	enum policy_status st = orgdomain_find(res, &opt, c->domain, &org, &q, &why);
	bool ok = cmp_name(&m, "status", policy_status_name(st), policy_status_name(c->status));
	ok &= cmp_str(&m, "org", org, c->org);
	ok &= cmp_int(&m, "queries", (long)q, c->queries);
	if (!ok)
		strbuf_printf(&m, "account: %s", strbuf_str(&why));
	t_check(ok, c->label, "%s", strbuf_str(&m));
	free(org);
	strbuf_free(&why);
	strbuf_free(&m);
}

/* ---- pure parts ------------------------------------------------------- */

static void walk_names_cases(void)
{
	static const struct {
		const char *domain;
		const char *want;  /* names joined by " " */
	} rows[] = {
		{ "com", "com" },
		{ "example.com", "example.com com" },
		{ "a.mail.example.com", "a.mail.example.com mail.example.com example.com com" },
		{ "a.b.c.d.e.f.g", "a.b.c.d.e.f.g b.c.d.e.f.g c.d.e.f.g d.e.f.g e.f.g f.g g" },
		{ "a.b.c.d.e.f.g.h", "a.b.c.d.e.f.g.h b.c.d.e.f.g.h c.d.e.f.g.h d.e.f.g.h "
				     "e.f.g.h f.g.h g.h h" },
		/* RFC 9989 §4.10's own example. */
		{ "a.b.c.d.e.f.g.h.i.j.mail.example.com",
		  "a.b.c.d.e.f.g.h.i.j.mail.example.com g.h.i.j.mail.example.com "
		  "h.i.j.mail.example.com i.j.mail.example.com j.mail.example.com "
		  "mail.example.com example.com com" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *names[POLICY_MAX_QUERIES];
		size_t n = policy_walk_names(rows[i].domain, names);
		struct strbuf sb;
		strbuf_init(&sb, NULL, 0, 4096);
		for (size_t k = 0; k < n; k++)
			strbuf_printf(&sb, "%s%s", k ? " " : "", names[k]);
		char label[128];
		snprintf(label, sizeof label, "walk names of %s", rows[i].domain);
		t_str(label, strbuf_str(&sb), rows[i].want);
		strbuf_free(&sb);
	}
}

static void psl_load_cases(const char *srcdir)
{
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1024);
	struct policy_psl *p = policy_psl_load("/nonexistent/psl.dat", &err);
	t_check(p == NULL && err.len > 0, "PSL load: missing file is an error with a reason",
		"got %p, reason \"%s\"", (void *)p, strbuf_str(&err));
	policy_psl_free(p);
	strbuf_free(&err);

	psl_builtin_h = policy_psl_load(NULL, NULL);
	t_true("PSL load: built-in list", psl_builtin_h != NULL);
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/discovery/test.psl", srcdir);
	strbuf_init(&err, NULL, 0, 1024);
	psl_file_h = policy_psl_load(path, &err);
	t_check(psl_file_h != NULL, "PSL load: test file", "got NULL: %s", strbuf_str(&err));
	strbuf_free(&err);
}

/* ---- dmarc_check ------------------------------------------------------ */

struct check_case {
	const char *label;
	enum dmarc_standard std;
	const char *authors[3];         /* NULL-terminated */
	enum auth_spf spf;
	const char *spf_domain;
	struct dmarc_check_dkim dkim[2];
	size_t ndkim;
	unsigned sample;
	enum auth_dmarc want;
	enum dmarc_policy want_disposition;
	int want_decisive;              /* or NOCHK */
	int want_spf_aligned, want_dkim_aligned; /* 0/1 or NOCHK */
	int want_test_mode, want_sampled_out;
	int want_queries;               /* dns_queries or NOCHK */
};

#define SPF_PASS AUTH_SPF_PASS
#define SPF_NONE AUTH_SPF_NONE
#define DK_PASS AUTH_DKIM_PASS
#define DK_FAIL AUTH_DKIM_FAIL

static const struct check_case check_cases[] = {
	{ "check: SPF pass, identical domain", W, { "author.example" }, SPF_PASS,
	  "author.example", { { 0 } }, 0, 0, AUTH_DMARC_PASS, PN, 0, 1, 0, 0, 0, 1 },
	{ "check: DKIM pass, relaxed subdomain aligned via tree walks", W,
	  { "author.example" }, SPF_NONE, NULL,
	  { { "mail.author.example", "s1", DK_PASS } }, 1, 0,
	  AUTH_DMARC_PASS, PN, 0, 0, 1, 0, 0, 6 },
	{ "check: strict adkim, subdomain not aligned, no org walks", W, { "strict.example" },
	  SPF_NONE, NULL, { { "mail.strict.example", "s1", DK_PASS } }, 1, 0,
	  AUTH_DMARC_FAIL, PR, 0, 0, 0, 0, 0, 1 },
	{ "check: DKIM fail is not aligned", W, { "author.example" }, SPF_NONE, NULL,
	  { { "author.example", "s1", DK_FAIL } }, 1, 0,
	  AUTH_DMARC_FAIL, PR, 0, 0, 0, 0, 0, 1 },
	{ "check: org domain of a sibling: psd=y splits them", W, { "mail.giant.psd.example" },
	  SPF_PASS, "mail.mega.psd.example", { { 0 } }, 0, 0,
	  AUTH_DMARC_FAIL, PQ, 0, 0, 0, 0, 0, NOCHK },
	{ "check: t=y lowers reject to quarantine", W, { "testing.example" }, SPF_NONE, NULL,
	  { { 0 } }, 0, 0, AUTH_DMARC_FAIL, PQ, 0, 0, 0, 1, 0, NOCHK },
	{ "check: RFC 7489 pct=0 samples out", L, { "pct.example" }, SPF_NONE, NULL,
	  { { 0 } }, 0, 50, AUTH_DMARC_FAIL, PQ, 0, 0, 0, 0, 1, NOCHK },
	{ "check: RFC 9989 ignores pct", W, { "pct.example" }, SPF_NONE, NULL,
	  { { 0 } }, 0, 50, AUTH_DMARC_FAIL, PR, 0, 0, 0, 0, 0, NOCHK },
	{ "check: no policy: none", W, { "a.b.c.d.e.f.g.h.nothing.example" }, SPF_PASS,
	  "a.b.c.d.e.f.g.h.nothing.example", { { 0 } }, 0, 0,
	  AUTH_DMARC_NONE, PN, 0, 0, 0, 0, 0, NOCHK },
	{ "check: org walk SERVFAIL and otherwise fail: temperror", W, { "a.b.nozone" },
	  SPF_NONE, NULL, { { "mail.a.b.nozone", "s1", DK_PASS } }, 1, 0,
	  AUTH_DMARC_TEMPERROR, PN, 0, 0, 0, 0, 0, NOCHK },
	{ "check: org walk SERVFAIL but SPF identical passes", W, { "a.b.nozone" },
	  SPF_PASS, "a.b.nozone", { { "mail.a.b.nozone", "s1", DK_PASS } }, 1, 0,
	  AUTH_DMARC_PASS, PN, 0, 1, 0, 0, 0, NOCHK },
	{ "check: PSL mode, relaxed alignment without DNS walks", L, { "shop.example.co.uk" },
	  SPF_PASS, "bounce.example.co.uk", { { 0 } }, 0, 0,
	  AUTH_DMARC_PASS, PN, 0, 1, 0, 0, 0, 2 },
	{ "multi: pass + fail(reject) -> fail reject", W,
	  { "author.example", "ponly.example" }, SPF_NONE, NULL,
	  { { "author.example", "s1", DK_PASS } }, 1, 0,
	  AUTH_DMARC_FAIL, PR, 1, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK },
	{ "multi: fail(quarantine) + temperror -> temperror", W,
	  { "sub.org.example", "x.servfail.test" }, SPF_NONE, NULL, { { 0 } }, 0, 0,
	  AUTH_DMARC_TEMPERROR, PN, 1, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK },
	{ "multi: temperror + fail(reject) -> fail reject", W,
	  { "x.servfail.test", "author.example" }, SPF_NONE, NULL, { { 0 } }, 0, 0,
	  AUTH_DMARC_FAIL, PR, 1, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK },
	{ "multi: pass + none -> pass", W,
	  { "a.b.c.d.e.f.g.h.nothing.example", "author.example" }, SPF_PASS,
	  "author.example", { { 0 } }, 0, 0,
	  AUTH_DMARC_PASS, PN, 1, 1, 0, NOCHK, NOCHK, NOCHK },
	{ "multi: fail(none) + permerror -> fail", W, { "-bad-.example", "nx.org.example" },
	  SPF_NONE, NULL, { { 0 } }, 0, 0,
	  AUTH_DMARC_FAIL, PN, 1, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK },
	{ "check: zero author domains: permerror", W, { NULL }, SPF_PASS, "author.example",
	  { { 0 } }, 0, 0, AUTH_DMARC_PERMERROR, PN, NOCHK, 0, 0, 0, 0, 0 },
};

static void run_check_case(const struct check_case *c)
{
	size_t na = 0;
	while (na < 3 && c->authors[na] != NULL)
		na++;
	struct dmarc_check_options opt = { .standard = c->std, .psl = psl_builtin_h,
					   .sample = c->sample };
	struct dmarc_check_input in = {
		.author_domains = c->authors, .author_count = na,
		.spf_result = c->spf, .spf_domain = c->spf_domain,
		.dkim = c->ndkim ? c->dkim : NULL, .dkim_count = c->ndkim,
	};
	struct dmarc_check_result r;
	dmarc_check_run(res, &opt, &in, &r);
	struct strbuf m;
	strbuf_init(&m, NULL, 0, 16384);
	bool ok = cmp_name(&m, "result", auth_dmarc_name(r.result), auth_dmarc_name(c->want));
	ok &= cmp_name(&m, "disposition", dmarc_policy_name(r.disposition),
		       dmarc_policy_name(c->want_disposition));
	ok &= cmp_int(&m, "decisive", (long)r.decisive, c->want_decisive);
	ok &= cmp_int(&m, "spf_aligned", r.spf_aligned, c->want_spf_aligned);
	ok &= cmp_int(&m, "dkim_aligned", r.dkim_aligned, c->want_dkim_aligned);
	ok &= cmp_int(&m, "test_mode", r.test_mode, c->want_test_mode);
	ok &= cmp_int(&m, "sampled_out", r.sampled_out, c->want_sampled_out);
	ok &= cmp_int(&m, "dns_queries", (long)r.dns_queries, c->want_queries);
	ok &= r.reason != NULL;
	if (!ok) {
		strbuf_puts(&m, "\n");
		dmarc_check_format(&r, &m);
	}
	t_check(ok, c->label, "%s", strbuf_str(&m));
	strbuf_free(&m);
	dmarc_check_result_clear(&r);
}

static void format_case(void)
{
	const char *authors[] = { "sub.org.example" };
	struct dmarc_check_options opt = { .standard = W };
	struct dmarc_check_input in = { .author_domains = authors, .author_count = 1 };
	struct dmarc_check_result r;
	dmarc_check_run(res, &opt, &in, &r);
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, 16384);
	bool ok = dmarc_check_format(&r, &sb) &&
		  strstr(strbuf_str(&sb), "dmarc=fail policy=quarantine disposition=quarantine "
				      "author=sub.org.example policy.domain=org.example") != NULL &&
		  strstr(strbuf_str(&sb), "origin=organizational method=treewalk "
				      "org.domain=org.example applies=sp") != NULL;
	t_check(ok, "format: -t report names verdict, policy domain, origin, tag",
		"got:\n%s", strbuf_str(&sb));
	strbuf_free(&sb);
	dmarc_check_result_clear(&r);
}

int main(int argc, char **argv)
{
	const char *port = argc > 1 ? argv[1] : getenv("DNS_PORT");
	const char *srcdir = argc > 2 ? argv[2] : getenv("top_srcdir");
	if (srcdir == NULL)
		srcdir = ".";
	if (port == NULL || *port == '\0') {
		printf("1..0 # SKIP no DNS port (run tests/discovery/discovery_test.sh)\n");
		return 0;
	}
	char ns[64];
	snprintf(ns, sizeof ns, "127.0.0.1@%s", port);
	/* Short per-query timeout: the timeout cases wait for it. */
	struct resolver_config cfg = { .nameservers = ns, .query_timeout_ms = 400 };
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1024);
	if (!resolver_new(&cfg, &res, &err)) {
		printf("Bail out! resolver_new: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return 99;
	}
	strbuf_free(&err);

	walk_names_cases();
	psl_load_cases(srcdir);
	for (size_t i = 0; i < sizeof disc_cases / sizeof disc_cases[0]; i++)
		run_disc_case(&disc_cases[i]);
	for (size_t i = 0; i < sizeof org_cases / sizeof org_cases[0]; i++)
		run_org_case(&org_cases[i]);
	for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++)
		run_check_case(&check_cases[i]);
	format_case();

	policy_psl_free(psl_builtin_h);
	policy_psl_free(psl_file_h);
	resolver_free(res);
	return t_done();
}
