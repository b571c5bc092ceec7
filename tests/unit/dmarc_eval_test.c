/* dmarc_eval_test: alignment, policy selection, disposition and sampling.
 *
 * Part 1 is a generated matrix checked against an oracle written the
 * obvious way, on symbolic cases (exact / same-org / foreign domains)
 * instead of strings. Part 2 is hand-written rows for the subtle cases.
 * Part 3 the sampler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_eval.h"
#include "dmarc_record.h"
#include "testlib.h"

/* ---- part 1: the matrix ---- */

enum id_kind { ID_EXACT, ID_SAMEORG, ID_FOREIGN };
enum spf_case { SPF_PASS_EXACT, SPF_PASS_SAMEORG, SPF_PASS_FOREIGN, SPF_FAIL, SPF_NONE, SPF_CASES };
enum dkim_case { DKIM_PASS_EXACT, DKIM_PASS_SAMEORG, DKIM_PASS_FOREIGN, DKIM_FAIL_EXACT, DKIM_NONE,
		 DKIM_CASES };
#define ABSENT (-1)

struct mcase {
	bool adkim_s, aspf_s;
	enum spf_case spf;
	enum dkim_case dkim;
	int p, sp, np;             /* enum dmarc_policy, or ABSENT for sp/np */
	enum dmarc_policy_source src;
	enum dmarc_standard std;
	bool t;
	unsigned pct, sample;
};

struct mwant {
	enum auth_dmarc result;
	enum dmarc_policy policy, disposition;
	bool spf_aligned, dkim_aligned, test_mode, sampled_out;
};

/* The oracle: DMARC by the book, on symbolic inputs. */
static bool oracle_aligned(enum id_kind k, bool strict)
{
	if (k == ID_EXACT)
		return true;
	if (k == ID_SAMEORG)
		return !strict;
	return false;
}

static enum dmarc_policy one_lower(enum dmarc_policy p)
{
	static const enum dmarc_policy lower_of[] = {
		[DMARC_POLICY_UNSPECIFIED] = DMARC_POLICY_UNSPECIFIED,
		[DMARC_POLICY_NONE] = DMARC_POLICY_NONE,
		[DMARC_POLICY_QUARANTINE] = DMARC_POLICY_NONE,
		[DMARC_POLICY_REJECT] = DMARC_POLICY_QUARANTINE,
	};
	return lower_of[p];
}

static struct mwant oracle(const struct mcase *c)
{
	struct mwant w;
	memset(&w, 0, sizeof w);

	w.spf_aligned = (c->spf == SPF_PASS_EXACT && oracle_aligned(ID_EXACT, c->aspf_s)) ||
		(c->spf == SPF_PASS_SAMEORG && oracle_aligned(ID_SAMEORG, c->aspf_s)) ||
		(c->spf == SPF_PASS_FOREIGN && oracle_aligned(ID_FOREIGN, c->aspf_s));
	w.dkim_aligned = (c->dkim == DKIM_PASS_EXACT && oracle_aligned(ID_EXACT, c->adkim_s)) ||
		(c->dkim == DKIM_PASS_SAMEORG && oracle_aligned(ID_SAMEORG, c->adkim_s)) ||
		(c->dkim == DKIM_PASS_FOREIGN && oracle_aligned(ID_FOREIGN, c->adkim_s));

	/* which tag: RFC 7489 has no np, so a non-existent subdomain uses sp, then p */
	if (c->src == DMARC_APPLY_NP && c->std == DMARC_STD_RFC9989 && c->np != ABSENT)
		w.policy = (enum dmarc_policy)c->np;
	else if (c->src != DMARC_APPLY_P && c->sp != ABSENT)
		w.policy = (enum dmarc_policy)c->sp;
	else
		w.policy = (enum dmarc_policy)c->p;

	if (w.spf_aligned || w.dkim_aligned) {
		w.result = AUTH_DMARC_PASS;
		w.disposition = DMARC_POLICY_NONE;
		return w;
	}
	w.result = AUTH_DMARC_FAIL;
	w.disposition = w.policy;
	if (w.policy == DMARC_POLICY_NONE)
		return w;
	if (c->std == DMARC_STD_RFC9989 && c->t) {
		w.disposition = one_lower(w.policy);
		w.test_mode = true;
	}
	if (c->std == DMARC_STD_RFC7489 && c->sample >= c->pct) {
		/* pct=100 is never reached by a sample in 0..99 */
		w.disposition = one_lower(w.policy);
		w.sampled_out = true;
	}
	return w;
}

/* The real thing, on strings. Author mail.example.com, org example.com. */
static void run_case(const struct mcase *c, struct dmarc_eval_result *res)
{
	static const char *const dom[] = { "MAIL.Example.COM.", "bounce.example.com", "example.net" };
	static const char *const org[] = { "example.com", "example.com", "example.net" };
	struct dmarc_record rec;
	struct dmarc_eval_input in;
	struct dmarc_dkim_input sig;

	memset(&rec, 0, sizeof rec);
	rec.p = (enum dmarc_policy)c->p;
	rec.has_p = true;
	rec.has_sp = c->sp != ABSENT;
	rec.sp = rec.has_sp ? (enum dmarc_policy)c->sp : DMARC_POLICY_UNSPECIFIED;
	rec.has_np = c->np != ABSENT;
	rec.np = rec.has_np ? (enum dmarc_policy)c->np : DMARC_POLICY_UNSPECIFIED;
	rec.adkim_strict = c->adkim_s;
	rec.aspf_strict = c->aspf_s;
	rec.testing = c->t;
	rec.pct = c->pct;
	rec.ri_sec = 86400;

	memset(&in, 0, sizeof in);
	in.author_domain = "mail.example.com";
	in.author_org_domain = "example.com";
	in.record = &rec;
	in.source = c->src;
	in.standard = c->std;
	in.sample = c->sample;
	switch (c->spf) {
	case SPF_PASS_EXACT:
	case SPF_PASS_SAMEORG:
	case SPF_PASS_FOREIGN:
		in.spf_result = AUTH_SPF_PASS;
		in.spf_domain = dom[c->spf - SPF_PASS_EXACT];
		in.spf_org_domain = org[c->spf - SPF_PASS_EXACT];
		break;
	case SPF_FAIL:
		in.spf_result = AUTH_SPF_FAIL;
		in.spf_domain = dom[ID_EXACT]; /* aligned, but failed */
		in.spf_org_domain = org[ID_EXACT];
		break;
	default:
		in.spf_result = AUTH_SPF_NONE;
		break;
	}
	if (c->dkim != DKIM_NONE) {
		int k = c->dkim == DKIM_FAIL_EXACT ? ID_EXACT : (int)c->dkim - DKIM_PASS_EXACT;
		sig.domain = dom[k];
		sig.org_domain = org[k];
		sig.result = c->dkim == DKIM_FAIL_EXACT ? AUTH_DKIM_FAIL : AUTH_DKIM_PASS;
		in.dkim = &sig;
		in.dkim_count = 1;
	}
	dmarc_evaluate(&in, res);
}

static void describe(char *buf, size_t n, const struct mcase *c)
{
	static const char *const spf[] = { "pass-exact", "pass-sameorg", "pass-foreign", "fail", "none" };
	static const char *const dkim[] = { "pass-exact", "pass-sameorg", "pass-foreign", "fail", "none" };
	static const char *const pol[] = { "-", "none", "quarantine", "reject" };
	static const char *const src[] = { "p", "sp", "np" };

	snprintf(buf, n, "%s adkim=%c aspf=%c spf=%s dkim=%s p=%s sp=%s np=%s apply=%s t=%c pct=%u sample=%u",
		 c->std == DMARC_STD_RFC9989 ? "9989" : "7489", c->adkim_s ? 's' : 'r',
		 c->aspf_s ? 's' : 'r', spf[c->spf], dkim[c->dkim], pol[c->p],
		 c->sp == ABSENT ? "-" : pol[c->sp], c->np == ABSENT ? "-" : pol[c->np],
		 src[c->src], c->t ? 'y' : 'n', c->pct, c->sample);
}

static bool same(const struct dmarc_eval_result *g, const struct mwant *w)
{
	return g->result == w->result && g->policy == w->policy &&
	       g->disposition == w->disposition && g->spf_aligned == w->spf_aligned &&
	       g->dkim_aligned == w->dkim_aligned && g->policy_test_mode == w->test_mode &&
	       g->sampled_out == w->sampled_out && (!g->dkim_aligned || g->dkim_index == 0) &&
	       g->reason[0] != '\0';
}

static void matrix(void)
{
	static const int sp_vals[] = { ABSENT, DMARC_POLICY_NONE, DMARC_POLICY_QUARANTINE, DMARC_POLICY_REJECT };
	static const unsigned pcts[] = { 0, 50, 100 };
	static const unsigned samples[] = { 0, 49, 50, 99 };
	unsigned long total = 0, shown = 0;

	for (int std = 0; std < 2; std++)
	for (int src = 0; src < 3; src++) {
		unsigned long slice_total = 0, slice_bad = 0;

		for (int align = 0; align < 4; align++)
		for (int spf = 0; spf < SPF_CASES; spf++)
		for (int dkim = 0; dkim < DKIM_CASES; dkim++)
		for (int p = DMARC_POLICY_NONE; p <= DMARC_POLICY_REJECT; p++)
		for (int sp = 0; sp < 4; sp++)
		for (int np = 0; np < 4; np++)
		for (int t = 0; t < 2; t++)
		for (int pc = 0; pc < 3; pc++)
		for (int sa = 0; sa < 4; sa++) {
			struct mcase c = {
				.adkim_s = align & 1, .aspf_s = (align >> 1) & 1,
				.spf = (enum spf_case)spf, .dkim = (enum dkim_case)dkim,
				.p = p, .sp = sp_vals[sp], .np = sp_vals[np],
				.src = (enum dmarc_policy_source)src, .std = (enum dmarc_standard)std,
				.t = t, .pct = pcts[pc], .sample = samples[sa],
			};
			struct dmarc_eval_result got;
			struct mwant want = oracle(&c);

			run_case(&c, &got);
			slice_total++;
			if (!same(&got, &want)) {
				slice_bad++;
				if (shown++ < 20) {
					char d[300];
					describe(d, sizeof d, &c);
					t_check(false, d, "got %s/%s/dis=%s spf=%d dkim=%d t=%d s=%d, "
						"want %s/%s/dis=%s spf=%d dkim=%d t=%d s=%d",
						auth_dmarc_name(got.result), dmarc_policy_name(got.policy),
						dmarc_policy_name(got.disposition), got.spf_aligned,
						got.dkim_aligned, got.policy_test_mode, got.sampled_out,
						auth_dmarc_name(want.result), dmarc_policy_name(want.policy),
						dmarc_policy_name(want.disposition), want.spf_aligned,
						want.dkim_aligned, want.test_mode, want.sampled_out);
				}
			}
		}
		char label[100];
		snprintf(label, sizeof label, "matrix %s apply=%s: %lu cases agree with the oracle",
			 std == 0 ? "RFC 9989" : "RFC 7489", src == 0 ? "p" : src == 1 ? "sp" : "np",
			 slice_total);
		t_check(slice_bad == 0, label, "%lu of %lu cases differ", slice_bad, slice_total);
		total += slice_total;
	}
	t_note("matrix: %lu cases", total);
}

/* ---- part 2: hand-written rows ---- */

struct align_row {
	const char *label;
	const char *a, *aorg, *id, *idorg;
	bool strict, want;
};

static const struct align_row align_rows[] = {
	{ "identical, no org domains, relaxed", "example.com", NULL, "example.com", NULL, false, true },
	{ "identical, no org domains, strict", "example.com", NULL, "example.com", NULL, true, true },
	{ "case and trailing dot ignored", "Mail.Example.com", NULL, "mail.example.COM.", NULL, true, true },
	{ "relaxed needs org domains", "a.example.com", NULL, "b.example.com", NULL, false, false },
	{ "relaxed same org", "a.example.com", "example.com", "b.example.com", "Example.com.", false, true },
	{ "strict subdomain not aligned", "a.example.com", "example.com", "example.com", "example.com", true, false },
	{ "relaxed different org", "example.com", "example.com", "example.net", "example.net", false, false },
	{ "empty author never aligns", "", "", "", "", false, false },
	{ "NULL id never aligns", "example.com", "example.com", NULL, "example.com", false, false },
	{ "empty org domains never align", "a.example.com", "", "b.example.com", "", false, false },
	{ "a lone dot is empty", ".", NULL, ".", NULL, true, false },
	{ "prefix is not equal", "example.co", NULL, "example.com", NULL, true, false },
};

static void alignment_rows(void)
{
	for (size_t i = 0; i < sizeof align_rows / sizeof align_rows[0]; i++) {
		const struct align_row *r = &align_rows[i];
		bool got = dmarc_aligned(r->a, r->aorg, r->id, r->idorg, r->strict);
		t_check(got == r->want, r->label, "got %d, want %d", got, r->want);
	}
}

static struct dmarc_record *parse(const char *text)
{
	struct dmarc_record *rec = NULL;
	if (dmarc_record_parse(text, strlen(text), &rec, NULL) != DMARC_RECORD_OK)
		abort(); /* a bug in the test table */
	return rec;
}

struct eval_row {
	const char *label;
	const char *record;            /* NULL = no policy */
	enum dmarc_policy_source src;
	enum dmarc_standard std;
	unsigned sample;
	enum auth_spf spf;
	const char *spf_domain;
	struct dmarc_dkim_input dkim[3];
	size_t ndkim;
	/* want */
	enum auth_dmarc result;
	enum dmarc_policy policy, disposition;
	bool test_mode, sampled_out;
	long dkim_index;               /* -1: no aligned DKIM */
	const char *reason;            /* exact reason text, or NULL = not checked */
};

#define AUTHOR "example.com"
#define S9989 DMARC_STD_RFC9989
#define S7489 DMARC_STD_RFC7489
#define PN DMARC_POLICY_NONE
#define PQ DMARC_POLICY_QUARANTINE
#define PR DMARC_POLICY_REJECT
#define PU DMARC_POLICY_UNSPECIFIED

static const struct eval_row eval_rows[] = {
	{ "several signatures, the third aligned passes", "v=DMARC1; p=reject", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_FAIL, AUTHOR,
	  { { AUTHOR, AUTHOR, AUTH_DKIM_FAIL }, { "example.net", "example.net", AUTH_DKIM_PASS },
	    { "mail.example.com", AUTHOR, AUTH_DKIM_PASS } }, 3,
	  AUTH_DMARC_PASS, PR, PN, false, false, 2, "aligned pass: dkim (signature 3)" },
	{ "aligned temperror signature does not pass", "v=DMARC1; p=reject", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_NONE, NULL, { { AUTHOR, AUTHOR, AUTH_DKIM_TEMPERROR } }, 1,
	  AUTH_DMARC_FAIL, PR, PR, false, false, -1,
	  "no aligned pass (spf none, dkim 0 of 1 passing, none aligned); policy reject" },
	{ "aligned softfail SPF does not pass", "v=DMARC1; p=quarantine", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_SOFTFAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PQ, PQ, false, false, -1, NULL },
	{ "SPF and DKIM both aligned", "v=DMARC1; p=reject", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_PASS, "EXAMPLE.COM", { { AUTHOR, AUTHOR, AUTH_DKIM_PASS } }, 1,
	  AUTH_DMARC_PASS, PR, PN, false, false, 0, "aligned pass: spf, dkim (signature 1)" },
	{ "SPF pass not aligned", "v=DMARC1; p=reject", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_PASS, "example.net", { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PR, false, false, -1,
	  "no aligned pass (spf pass not aligned, dkim 0 of 0 passing, none aligned); policy reject" },
	{ "no record: none", NULL, DMARC_APPLY_P, S9989, 0, AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0,
	  AUTH_DMARC_NONE, PU, PN, false, false, -1, "no DMARC policy" },
	{ "missing p with rua acts as none", "v=DMARC1; rua=mailto:d@example.com", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PN, PN, false, false, -1, NULL },
	{ "t=y reject -> quarantine", "v=DMARC1; p=reject; t=y", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PQ, true, false, -1,
	  "no aligned pass (spf fail, dkim 0 of 0 passing, none aligned); policy reject, t=y: quarantine" },
	{ "t=y quarantine -> none", "v=DMARC1; p=quarantine; t=y", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PQ, PN, true, false, -1, NULL },
	{ "t=y has no effect on none", "v=DMARC1; p=none; t=y", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PN, PN, false, false, -1, NULL },
	{ "t=y ignored in RFC 7489 mode", "v=DMARC1; p=reject; t=y", DMARC_APPLY_P, S7489, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PR, false, false, -1, NULL },
	{ "pct=0 ignored in RFC 9989 mode", "v=DMARC1; p=reject; pct=0", DMARC_APPLY_P, S9989, 99,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PR, false, false, -1, NULL },
	{ "pct=0 in RFC 7489 mode: always sampled out", "v=DMARC1; p=reject; pct=0", DMARC_APPLY_P, S7489, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PQ, false, true, -1,
	  "no aligned pass (spf fail, dkim 0 of 0 passing, none aligned); policy reject, pct=0 sample 0: quarantine" },
	{ "pct=50 sample 49 applies", "v=DMARC1; p=quarantine; pct=50", DMARC_APPLY_P, S7489, 49,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PQ, PQ, false, false, -1,
	  "no aligned pass (spf fail, dkim 0 of 0 passing, none aligned); policy quarantine, pct=50 sample 49: applied" },
	{ "pct=50 sample 50 sampled out", "v=DMARC1; p=quarantine; pct=50", DMARC_APPLY_P, S7489, 50,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PQ, PN, false, true, -1, NULL },
	{ "pct with p=none: nothing to sample", "v=DMARC1; p=none; pct=10", DMARC_APPLY_P, S7489, 90,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PN, PN, false, false, -1, NULL },
	{ "sample above 99 counts as 99", "v=DMARC1; p=reject; pct=99", DMARC_APPLY_P, S7489, 1000,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PQ, false, true, -1, NULL },
	{ "pct on a passing message changes nothing", "v=DMARC1; p=reject; pct=0", DMARC_APPLY_P, S7489, 0,
	  AUTH_SPF_PASS, AUTHOR, { { 0 } }, 0, AUTH_DMARC_PASS, PR, PN, false, false, -1,
	  "aligned pass: spf" },
	{ "np in RFC 7489 mode falls to sp", "v=DMARC1; p=none; sp=quarantine; np=reject", DMARC_APPLY_NP,
	  S7489, 0, AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PQ, PQ, false, false, -1, NULL },
	{ "np in RFC 9989 mode", "v=DMARC1; p=none; sp=quarantine; np=reject", DMARC_APPLY_NP,
	  S9989, 0, AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PR, false, false, -1, NULL },
	{ "np absent -> sp", "v=DMARC1; p=none; sp=quarantine", DMARC_APPLY_NP, S9989, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PQ, PQ, false, false, -1, NULL },
	{ "np and sp absent -> p", "v=DMARC1; p=reject", DMARC_APPLY_NP, S9989, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PR, false, false, -1, NULL },
	{ "sp on the org domain itself is not used", "v=DMARC1; p=none; sp=reject", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_FAIL, AUTHOR, { { 0 } }, 0, AUTH_DMARC_FAIL, PN, PN, false, false, -1, NULL },
	{ "strict aspf, SPF on a subdomain", "v=DMARC1; p=reject; aspf=s", DMARC_APPLY_P, S9989, 0,
	  AUTH_SPF_PASS, "bounce.example.com", { { 0 } }, 0, AUTH_DMARC_FAIL, PR, PR, false, false, -1, NULL },
};

static void eval_rows_run(void)
{
	for (size_t i = 0; i < sizeof eval_rows / sizeof eval_rows[0]; i++) {
		const struct eval_row *r = &eval_rows[i];
		struct dmarc_record *rec = r->record ? parse(r->record) : NULL;
		struct dmarc_eval_input in;
		struct dmarc_eval_result got;

		memset(&in, 0, sizeof in);
		in.author_domain = AUTHOR;
		in.author_org_domain = AUTHOR;
		in.record = rec;
		in.source = r->src;
		in.standard = r->std;
		in.sample = r->sample;
		in.spf_result = r->spf;
		in.spf_domain = r->spf_domain;
		/* the org domain of an SPF domain here: its last two labels */
		if (r->spf_domain != NULL) {
			const char *dot = strrchr(r->spf_domain, '.');
			const char *o = r->spf_domain;
			for (const char *q = r->spf_domain; q < dot; q++)
				if (*q == '.')
					o = q + 1;
			in.spf_org_domain = o;
		}
		in.dkim = r->dkim;
		in.dkim_count = r->ndkim;
		dmarc_evaluate(&in, &got);

		long idx = got.dkim_aligned ? (long)got.dkim_index : -1;
		bool ok = got.result == r->result && got.policy == r->policy &&
			  got.disposition == r->disposition && got.policy_test_mode == r->test_mode &&
			  got.sampled_out == r->sampled_out && idx == r->dkim_index;
		t_check(ok, r->label, "got %s p=%s dis=%s t=%d s=%d dkim=%ld, want %s p=%s dis=%s t=%d s=%d dkim=%ld",
			auth_dmarc_name(got.result), dmarc_policy_name(got.policy),
			dmarc_policy_name(got.disposition), got.policy_test_mode, got.sampled_out, idx,
			auth_dmarc_name(r->result), dmarc_policy_name(r->policy),
			dmarc_policy_name(r->disposition), r->test_mode, r->sampled_out, r->dkim_index);
		if (r->reason != NULL)
			t_str(r->label, got.reason, r->reason);
		dmarc_record_free(rec);
	}
}

static void misc_rows(void)
{
	struct dmarc_eval_input in;
	struct dmarc_eval_result got;
	struct dmarc_record *rec = parse("v=DMARC1; p=reject");

	memset(&in, 0, sizeof in);
	in.record = rec;
	in.spf_result = AUTH_SPF_PASS;
	in.spf_domain = "example.com";
	dmarc_evaluate(&in, &got);
	t_check(got.result == AUTH_DMARC_NONE && got.disposition == DMARC_POLICY_NONE,
		"NULL author domain: none", "got %s", auth_dmarc_name(got.result));
	t_str("NULL author domain: reason", got.reason, "no author domain");

	in.author_domain = "example.com";
	in.dkim = NULL;
	in.dkim_count = 5; /* NULL array with a count: ignored, no crash */
	dmarc_evaluate(&in, &got);
	t_int("NULL dkim array with a count", got.result, AUTH_DMARC_PASS);
	dmarc_record_free(rec);

	t_int("applicable(NULL)", dmarc_policy_applicable(NULL, DMARC_APPLY_NP), DMARC_POLICY_UNSPECIFIED);
	t_int("lower(reject)", dmarc_policy_lower(DMARC_POLICY_REJECT), DMARC_POLICY_QUARANTINE);
	t_int("lower(quarantine)", dmarc_policy_lower(DMARC_POLICY_QUARANTINE), DMARC_POLICY_NONE);
	t_int("lower(none)", dmarc_policy_lower(DMARC_POLICY_NONE), DMARC_POLICY_NONE);
	t_int("lower(unspecified)", dmarc_policy_lower(DMARC_POLICY_UNSPECIFIED), DMARC_POLICY_UNSPECIFIED);
}

/* ---- part 3: the sampler ---- */

static void sampler_tests(void)
{
	struct dmarc_sampler a, b, c;
	unsigned buckets[10] = { 0 };
	bool same_seq = true, in_range = true, differs = false;
	const int draws = 100000;

	dmarc_sampler_init(&a, 42);
	dmarc_sampler_init(&b, 42);
	dmarc_sampler_init(&c, 43);
	for (int i = 0; i < draws; i++) {
		unsigned x = dmarc_sampler_next(&a), y = dmarc_sampler_next(&b), z = dmarc_sampler_next(&c);

		same_seq = same_seq && x == y;
		differs = differs || x != z;
		in_range = in_range && x < 100;
		if (x < 100)
			buckets[x / 10]++;
	}
	t_true("sampler: same seed, same sequence", same_seq);
	t_true("sampler: another seed, another sequence", differs);
	t_true("sampler: values in 0..99", in_range);
	unsigned lo = draws, hi = 0;
	for (int i = 0; i < 10; i++) {
		lo = buckets[i] < lo ? buckets[i] : lo;
		hi = buckets[i] > hi ? buckets[i] : hi;
	}
	/* 10,000 expected per bucket; 9,500..10,500 is > 5 sigma wide */
	t_check(lo > 9500 && hi < 10500, "sampler: roughly uniform", "buckets from %u to %u", lo, hi);
}

int main(void)
{
	matrix();
	alignment_rows();
	eval_rows_run();
	misc_rows();
	sampler_tests();
	return t_done();
}
