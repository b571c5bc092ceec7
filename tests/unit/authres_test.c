/* authres_test: Authentication-Results / Received-SPF text, verdict words,
 * folding, comment escaping and the authserv-id parser.
 *
 * With "--samples FILE" it also writes each built Authentication-Results
 * value and a summary of what a parser must find in it, one pair per record,
 * for tests/unit/authres_parse.sh (python3-authres). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_types.h"
#include "authres.h"
#include "strbuf.h"
#include "testlib.h"

#define ID "mx.example.org"

static const struct authres_spf spf_pass = { AUTH_SPF_PASS, "alice@example.com", "mail.example.com", NULL };
static const struct authres_spf spf_null = { AUTH_SPF_SOFTFAIL, "", "mail.example.com", NULL };
static const struct authres_spf spf_srs = {
	AUTH_SPF_PASS, "SRS0=HhK3=2B=example.com=alice@fwd.example.net", "fwd.example.net", NULL };
static const struct authres_spf spf_odd = {
	AUTH_SPF_FAIL, "\"john doe\"@example.com", "h", "not (quite) \\ right\r\nX-Injected: 1" };

static const struct authres_dkim dkim_two[] = {
	{ AUTH_DKIM_PASS, "example.com", "sel1", "abc+def/ghij klmnopq", NULL },
	{ AUTH_DKIM_FAIL, "esp.example", "s2024", "QWERTYUIOPASDF", "body hash mismatch" },
};
static const struct authres_dkim dkim_plain = { AUTH_DKIM_PASS, "example.com", "sel", "abcdefghijklmnop", NULL };

static const struct authres_dmarc dmarc_fail = {
	AUTH_DMARC_FAIL, "example.com", DMARC_POLICY_REJECT, DMARC_POLICY_REJECT,
	DMARC_POLICY_REJECT, NULL, NULL };
static const struct authres_dmarc dmarc_override = {
	AUTH_DMARC_FAIL, "example.com", DMARC_POLICY_REJECT, DMARC_POLICY_NONE,
	DMARC_POLICY_REJECT, "mailing_list", NULL };
static const struct authres_dmarc dmarc_two[] = {
	{ AUTH_DMARC_PASS, "example.com", DMARC_POLICY_QUARANTINE, DMARC_POLICY_NONE,
	  DMARC_POLICY_QUARANTINE, NULL, NULL },
	{ AUTH_DMARC_NONE, "example.net", DMARC_POLICY_UNSPECIFIED, DMARC_POLICY_NONE,
	  DMARC_POLICY_UNSPECIFIED, NULL, NULL },
};
static const struct authres_dmarc dmarc_perm = {
	AUTH_DMARC_PERMERROR, NULL, DMARC_POLICY_UNSPECIFIED, DMARC_POLICY_NONE,
	DMARC_POLICY_UNSPECIFIED, NULL, "no From header field" };
static const struct authres_dmarc dmarc_temp = {
	AUTH_DMARC_TEMPERROR, "example.org", DMARC_POLICY_UNSPECIFIED, DMARC_POLICY_NONE,
	DMARC_POLICY_UNSPECIFIED, NULL, "DNS timeout for _dmarc.example.org" };

static const struct authres_dkim dkim_utf8 = {
	AUTH_DKIM_FAIL, "example.com", "s512", "abc",
	"512-bit key is under DKIMMinKeyBits 1024 (RFC 8301 \xc2\xa7" "3.2), caf\xc3\xa9" };
static const struct authres_spf spf_semi = { AUTH_SPF_PASS, "a;b@example.com", "h", NULL };

struct build_case {
	const char *label;
	struct authres_input in;
	const char *want;     /* NULL = must fail */
	const char *summary;  /* what python3-authres must find (samples mode) */
};

static const struct build_case build_cases[] = {
	{ "spf pass, no signature, dmarc fail",
	  { ID, &spf_pass, NULL, 0, &dmarc_fail, 1 },
	  ID ";\n\tspf=pass smtp.mailfrom=alice@example.com;\n\tdkim=none;\n"
	  "\tdmarc=fail (p=reject dis=reject) header.from=example.com\n\tpolicy.dmarc=reject",
	  "spf=pass smtp.mailfrom=alice@example.com|dkim=none|"
	  "dmarc=fail header.from=example.com policy.dmarc=reject" },
	{ "null sender reports smtp.helo",
	  { ID, &spf_null, NULL, 0, NULL, 0 },
	  ID ";\n\tspf=softfail smtp.helo=mail.example.com;\n\tdkim=none",
	  "spf=softfail smtp.helo=mail.example.com|dkim=none" },
	{ "two signatures, b= prefix quoted when not a token, reason comment",
	  { ID, &spf_pass, dkim_two, 2, NULL, 0 },
	  ID ";\n\tspf=pass smtp.mailfrom=alice@example.com;\n"
	  "\tdkim=pass header.d=example.com header.s=sel1 header.b=\"abc+def/ghij\";\n"
	  "\tdkim=fail (body hash mismatch) header.d=esp.example header.s=s2024\n"
	  "\theader.b=QWERTYUIOPAS",
	  "spf=pass smtp.mailfrom=alice@example.com|"
	  "dkim=pass header.d=example.com header.s=sel1 header.b=abc+def/ghij|"
	  "dkim=fail header.d=esp.example header.s=s2024 header.b=QWERTYUIOPAS" },
	{ "SRS sender stays a raw local-part",
	  { ID, &spf_srs, &dkim_plain, 1, NULL, 0 },
	  ID ";\n\tspf=pass smtp.mailfrom=SRS0=HhK3=2B=example.com=alice@fwd.example.net;\n"
	  "\tdkim=pass header.d=example.com header.s=sel header.b=abcdefghijkl",
	  "spf=pass smtp.mailfrom=SRS0=HhK3=2B=example.com=alice@fwd.example.net|"
	  "dkim=pass header.d=example.com header.s=sel header.b=abcdefghijkl" },
	{ "comment escaped and CR/LF removed, quoted local-part",
	  { ID, &spf_odd, NULL, 0, NULL, 0 },
	  ID ";\n\tspf=fail (not \\(quite\\) \\\\ right X-Injected: 1)\n"
	  "\tsmtp.mailfrom=\"john doe\"@example.com;\n\tdkim=none",
	  "spf=fail smtp.mailfrom=\"john doe\"@example.com|dkim=none" },
	{ "local-part needing quotes gets them",
	  { ID, &spf_semi, NULL, 0, NULL, 0 },
	  ID ";\n\tspf=pass smtp.mailfrom=\"a;b\"@example.com;\n\tdkim=none",
	  "spf=pass smtp.mailfrom=\"a;b\"@example.com|dkim=none" },
	{ "override in the dmarc comment",
	  { ID, NULL, NULL, 0, &dmarc_override, 1 },
	  ID ";\n\tdkim=none;\n\tdmarc=fail (p=reject dis=none override=mailing_list)\n"
	  "\theader.from=example.com policy.dmarc=reject",
	  "dkim=none|dmarc=fail header.from=example.com policy.dmarc=reject" },
	{ "two author domains, one without policy",
	  { ID, &spf_pass, &dkim_plain, 1, dmarc_two, 2 },
	  ID ";\n\tspf=pass smtp.mailfrom=alice@example.com;\n"
	  "\tdkim=pass header.d=example.com header.s=sel header.b=abcdefghijkl;\n"
	  "\tdmarc=pass (p=quarantine dis=none) header.from=example.com\n"
	  "\tpolicy.dmarc=quarantine;\n\tdmarc=none header.from=example.net",
	  "spf=pass smtp.mailfrom=alice@example.com|"
	  "dkim=pass header.d=example.com header.s=sel header.b=abcdefghijkl|"
	  "dmarc=pass header.from=example.com policy.dmarc=quarantine|"
	  "dmarc=none header.from=example.net" },
	{ "permerror without From domain",
	  { ID, &spf_pass, NULL, 0, &dmarc_perm, 1 },
	  ID ";\n\tspf=pass smtp.mailfrom=alice@example.com;\n\tdkim=none;\n"
	  "\tdmarc=permerror (no From header field)",
	  "spf=pass smtp.mailfrom=alice@example.com|dkim=none|dmarc=permerror" },
	{ "temperror keeps the domain",
	  { ID, NULL, NULL, 0, &dmarc_temp, 1 },
	  ID ";\n\tdkim=none;\n\tdmarc=temperror (DNS timeout for _dmarc.example.org)\n"
	  "\theader.from=example.org",
	  "dkim=none|dmarc=temperror header.from=example.org" },
	{ "non-ASCII in a comment: section sign spelt out, others one ?",
	  { ID, NULL, &dkim_utf8, 1, NULL, 0 },
	  ID ";\n\tdkim=fail (512-bit key is under DKIMMinKeyBits 1024 \\(RFC 8301 section\n"
	  "\t3.2\\), caf?) header.d=example.com header.s=s512 header.b=abc",
	  "dkim=fail header.d=example.com header.s=s512 header.b=abc" },
	{ "authserv-id with a space is refused",
	  { "mx example", &spf_pass, NULL, 0, NULL, 0 }, NULL, NULL },
	{ "empty authserv-id is refused",
	  { "", &spf_pass, NULL, 0, NULL, 0 }, NULL, NULL },
	{ "authserv-id with a slash is refused",
	  { "mx/1", &spf_pass, NULL, 0, NULL, 0 }, NULL, NULL },
};

static void test_build(FILE *samples)
{
	for (size_t i = 0; i < sizeof build_cases / sizeof build_cases[0]; i++) {
		const struct build_case *c = &build_cases[i];
		struct strbuf out, err;
		strbuf_init(&out, NULL, 0, AUTHRES_MAX_LEN);
		strbuf_init(&err, NULL, 0, 512);
		bool ok = authres_build(&c->in, &out, &err);
		if (c->want == NULL) {
			t_check(!ok && err.len > 0, c->label, "got ok=%d \"%s\", want a refusal",
				ok, strbuf_str(&out));
		} else {
			t_check(ok, c->label, "refused: %s", strbuf_str(&err));
			t_str(c->label, strbuf_str(&out), c->want);
			if (samples && c->summary)
				fprintf(samples, "%s\n%s\n\n", strbuf_str(&out), c->summary);
		}
		strbuf_free(&out);
		strbuf_free(&err);
	}
}

static void test_long_reason(FILE *samples)
{
	char reason[AUTHRES_REASON_MAX + 50];
	memset(reason, 'x', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	struct authres_spf spf = { AUTH_SPF_TEMPERROR, "a@example.com", "h", reason };
	struct authres_input in = { ID, &spf, NULL, 0, NULL, 0 };
	struct strbuf out;
	strbuf_init(&out, NULL, 0, AUTHRES_MAX_LEN);
	t_true("long reason builds", authres_build(&in, &out, NULL));
	const char *s = strbuf_str(&out);
	t_true("long reason is cut visibly", strstr(s, "x...)") != NULL);
	t_true("no line but the comment passes 78 columns", strstr(s, "\n\tsmtp.mailfrom=") != NULL);
	if (samples)
		fprintf(samples, "%s\nspf=temperror smtp.mailfrom=a@example.com|dkim=none\n\n", s);
	strbuf_free(&out);
}

struct rspf_case {
	const char *label;
	struct authres_received_spf in;
	const char *want;
};

static const struct rspf_case rspf_cases[] = {
	{ "Received-SPF pass",
	  { AUTH_SPF_PASS, "192.0.2.1", "alice@example.com", "mail.example.com", ID, NULL },
	  "pass (mx.example.org: domain of alice@example.com designates\n"
	  "\t192.0.2.1 as permitted sender) client-ip=192.0.2.1;\n"
	  "\tenvelope-from=\"alice@example.com\"; helo=mail.example.com;\n"
	  "\treceiver=mx.example.org; identity=mailfrom" },
	{ "Received-SPF null sender, IPv6 quoted",
	  { AUTH_SPF_NONE, "2001:db8::1", "", "h.example", ID, "no record" },
	  "none (no record) client-ip=\"2001:db8::1\"; helo=h.example;\n"
	  "\treceiver=mx.example.org; identity=helo" },
	{ "Received-SPF bad receiver refused",
	  { AUTH_SPF_NONE, "192.0.2.1", "", "h", "bad receiver", NULL }, NULL },
};

static void test_received_spf(void)
{
	for (size_t i = 0; i < sizeof rspf_cases / sizeof rspf_cases[0]; i++) {
		const struct rspf_case *c = &rspf_cases[i];
		struct strbuf out;
		strbuf_init(&out, NULL, 0, AUTHRES_MAX_LEN);
		bool ok = authres_received_spf(&c->in, &out, NULL);
		if (c->want == NULL)
			t_true(c->label, !ok);
		else
			t_str(c->label, ok ? strbuf_str(&out) : "(refused)", c->want);
		strbuf_free(&out);
	}
}

static void test_verdicts(void)
{
	static const struct { enum auth_spf r; const char *want; } spf[] = {
		{ AUTH_SPF_PASS, "PASS" }, { AUTH_SPF_FAIL, "FAIL" },
		{ AUTH_SPF_SOFTFAIL, "FAIL" }, { AUTH_SPF_NEUTRAL, "GRAY" },
		{ AUTH_SPF_NONE, "GRAY" }, { AUTH_SPF_TEMPERROR, "PROCESSING_FAILED" },
		{ AUTH_SPF_PERMERROR, "PROCESSING_FAILED" },
	};
	for (size_t i = 0; i < sizeof spf / sizeof spf[0]; i++) {
		char label[64];
		snprintf(label, sizeof label, "X-SPF-Verdict for spf=%s", auth_spf_name(spf[i].r));
		t_str(label, authres_verdict_name(authres_spf_verdict(spf[i].r)), spf[i].want);
	}

	static const struct { const char *label; enum auth_dkim r[3]; size_t n; const char *want; } dkim[] = {
		{ "no signature", { AUTH_DKIM_NONE }, 0, "GRAY" },
		{ "one pass", { AUTH_DKIM_PASS }, 1, "PASS" },
		{ "fail then pass", { AUTH_DKIM_FAIL, AUTH_DKIM_PASS }, 2, "PASS" },
		{ "one fail", { AUTH_DKIM_FAIL }, 1, "FAIL" },
		{ "policy counts as fail", { AUTH_DKIM_POLICY }, 1, "FAIL" },
		{ "fail beats temperror", { AUTH_DKIM_TEMPERROR, AUTH_DKIM_FAIL }, 2, "FAIL" },
		{ "temperror alone", { AUTH_DKIM_TEMPERROR }, 1, "PROCESSING_FAILED" },
		{ "permerror alone", { AUTH_DKIM_PERMERROR }, 1, "PROCESSING_FAILED" },
		{ "neutral alone", { AUTH_DKIM_NEUTRAL }, 1, "PROCESSING_FAILED" },
		{ "permerror then pass", { AUTH_DKIM_PERMERROR, AUTH_DKIM_NEUTRAL, AUTH_DKIM_PASS }, 3, "PASS" },
	};
	for (size_t i = 0; i < sizeof dkim / sizeof dkim[0]; i++) {
		char label[80];
		snprintf(label, sizeof label, "X-DKIM-Verdict: %s", dkim[i].label);
		t_str(label, authres_verdict_name(authres_dkim_verdict(dkim[i].r, dkim[i].n)),
		      dkim[i].want);
	}

	static const struct { enum auth_dmarc r; const char *want; } dmarc[] = {
		{ AUTH_DMARC_PASS, "PASS" }, { AUTH_DMARC_FAIL, "FAIL" },
		{ AUTH_DMARC_NONE, "GRAY" }, { AUTH_DMARC_TEMPERROR, "PROCESSING_FAILED" },
		{ AUTH_DMARC_PERMERROR, "PROCESSING_FAILED" },
	};
	for (size_t i = 0; i < sizeof dmarc / sizeof dmarc[0]; i++) {
		char label[64];
		snprintf(label, sizeof label, "X-DMARC-Verdict for dmarc=%s", auth_dmarc_name(dmarc[i].r));
		t_str(label, authres_verdict_name(authres_dmarc_verdict(dmarc[i].r)), dmarc[i].want);
	}

	t_str("X-DMARC-Policy none", authres_policy_word(DMARC_POLICY_NONE), "NONE");
	t_str("X-DMARC-Policy unspecified", authres_policy_word(DMARC_POLICY_UNSPECIFIED), "NONE");
	t_str("X-DMARC-Policy quarantine", authres_policy_word(DMARC_POLICY_QUARANTINE), "QUARANTINE");
	t_str("X-DMARC-Policy reject", authres_policy_word(DMARC_POLICY_REJECT), "REJECT");
}

static void test_authserv_id(void)
{
	static const struct { const char *label, *value, *want; } cases[] = {
		{ "plain id", "mx.example.org; spf=pass", "mx.example.org" },
		{ "leading folding and comment", "\r\n\t(forged (nested \\) ok)) MX.Example.Org 1; none", "MX.Example.Org" },
		{ "quoted-string id", " \"mx.example.org\"; dkim=pass", "mx.example.org" },
		{ "quoted-pair in quoted id", "\"a\\\"b\"; none", "a\"b" },
		{ "id directly before semicolon", "host;none", "host" },
		{ "no id at all", " ; spf=pass", NULL },
		{ "unterminated comment", "(oops mx.example.org;", NULL },
		{ "unterminated quoted-string", "\"mx.example.org; none", NULL },
		{ "empty value", "", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct strbuf id;
		strbuf_init(&id, NULL, 0, 1024);
		bool ok = authres_parse_authserv_id(cases[i].value, &id);
		t_str(cases[i].label, ok ? strbuf_str(&id) : NULL, cases[i].want);
		strbuf_free(&id);
	}

	static const struct { const char *label, *value; bool want; } ours[] = {
		{ "ours, other case", " MX.EXAMPLE.ORG; spf=pass", true },
		{ "ours after a comment", "(x) mx.example.org;", true },
		{ "a prefix is not ours", "mx.example.org.evil; spf=pass", false },
		{ "a suffix is not ours", "example.org; spf=pass", false },
		{ "garbage is not ours", "(((", false },
	};
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		t_int(ours[i].label, authres_is_ours(ours[i].value, ID), ours[i].want);

	t_true("valid authserv-id", authres_authserv_id_valid("mx-1.example.org"));
	t_true("double dot refused", !authres_authserv_id_valid("mx..example"));
	t_true("NULL refused", !authres_authserv_id_valid(NULL));
}

int main(int argc, char **argv)
{
	FILE *samples = NULL;
	if (argc == 3 && strcmp(argv[1], "--samples") == 0) {
		samples = fopen(argv[2], "w");
		if (samples == NULL) {
			perror(argv[2]);
			return 2;
		}
	}
	test_build(samples);
	test_long_reason(samples);
	test_received_spf();
	test_verdicts();
	test_authserv_id();
	if (samples != NULL && fclose(samples) != 0)
		t_check(false, "samples file written", "fclose failed");
	return t_done();
}
