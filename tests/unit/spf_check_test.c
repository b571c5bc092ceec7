/* spf_check_test: SPF results against the loopback DNS server serving
 * tests/auth/spf.example.zone. Run by tests/auth/spf_check.sh, which starts
 * the server and exports DNS_SERVER; without it the test skips. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"
#include "spf_check.h"
#include "strbuf.h"
#include "testlib.h"

enum which { MFROM, HELO };

struct spf_case {
	const char *label;
	enum which which;
	const char *ip;
	const char *helo;
	const char *from;          /* MAIL FROM (MFROM cases) */
	enum auth_spf want;
	enum spf_check_scope want_scope;
	const char *want_domain;   /* NULL = not checked */
	const char *want_reason;   /* substring of the reason, NULL = not checked */
};

#define GOOD "192.0.2.10"
#define BAD  "192.0.2.99"
#define H    "mail.spf.example"

static const struct spf_case cases[] = {
	{"pass ip4", MFROM, GOOD, H, "a@ip4pass.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, "ip4pass.spf.example", "designates 192.0.2.10"},
	{"pass a", MFROM, GOOD, H, "<a@apass.spf.example>", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, "apass.spf.example", NULL},
	{"pass mx (second MX host)", MFROM, GOOD, H, "a@mxpass.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"pass include", MFROM, GOOD, H, "a@incpass.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"pass redirect", MFROM, GOOD, H, "a@redirpass.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"pass ptr", MFROM, "198.18.0.10", H, "a@ptrpass.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"pass exists with %{i} macro", MFROM, GOOD, H, "a@macro.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"pass multi-string TXT joined", MFROM, GOOD, H, "a@split.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"sender without local-part", MFROM, GOOD, H, "ip4pass.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, "ip4pass.spf.example", NULL},
	{"fail -all", MFROM, GOOD, H, "a@fail.spf.example", AUTH_SPF_FAIL,
	 SPF_CHECK_SCOPE_MFROM, "fail.spf.example", "does not designate"},
	{"stranger fails ip4", MFROM, BAD, H, "a@ip4pass.spf.example", AUTH_SPF_FAIL,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"fail with exp= (not fetched)", MFROM, BAD, H, "a@expfail.spf.example", AUTH_SPF_FAIL,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"softfail ~all", MFROM, GOOD, H, "a@softfail.spf.example", AUTH_SPF_SOFTFAIL,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"neutral ?all", MFROM, GOOD, H, "a@neutral.spf.example", AUTH_SPF_NEUTRAL,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"neutral falling off the end", MFROM, GOOD, H, "a@falloff.spf.example", AUTH_SPF_NEUTRAL,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"none: TXT but no SPF record", MFROM, GOOD, H, "a@nospf.spf.example", AUTH_SPF_NONE,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"none: domain does not exist", MFROM, GOOD, H, "a@nx.spf.example", AUTH_SPF_NONE,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"none: single-label domain", MFROM, GOOD, H, "a@localhost", AUTH_SPF_NONE,
	 SPF_CHECK_SCOPE_MFROM, NULL, "RFC 7208 section 4.3"},
	{"permerror: unknown mechanism", MFROM, GOOD, H, "a@syntax.spf.example", AUTH_SPF_PERMERROR,
	 SPF_CHECK_SCOPE_MFROM, NULL, "syntax.spf.example"},
	{"permerror: bad ip4 literal", MFROM, GOOD, H, "a@badip.spf.example", AUTH_SPF_PERMERROR,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"permerror: two SPF records", MFROM, GOOD, H, "a@two.spf.example", AUTH_SPF_PERMERROR,
	 SPF_CHECK_SCOPE_MFROM, NULL, "Multiple"},
	{"permerror: include of a domain without SPF", MFROM, GOOD, H, "a@incnone.spf.example",
	 AUTH_SPF_PERMERROR, SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"permerror: 11 a: terms", MFROM, BAD, H, "a@toomany.spf.example", AUTH_SPF_PERMERROR,
	 SPF_CHECK_SCOPE_MFROM, NULL, "10 DNS-querying terms"},
	{"10 a: terms are allowed", MFROM, BAD, H, "a@ten.spf.example", AUTH_SPF_FAIL,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"permerror: 12 terms over two include levels", MFROM, BAD, H,
	 "a@toomanyinc.spf.example", AUTH_SPF_PERMERROR, SPF_CHECK_SCOPE_MFROM, NULL,
	 "10 DNS-querying terms"},
	{"permerror: 3 void lookups", MFROM, GOOD, H, "a@void3.spf.example", AUTH_SPF_PERMERROR,
	 SPF_CHECK_SCOPE_MFROM, NULL, "more than 2 void lookups"},
	{"2 void lookups are allowed", MFROM, GOOD, H, "a@void2.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"permerror: voids from mx NODATA, exists and a", MFROM, GOOD, H, "a@void3mix.spf.example",
	 AUTH_SPF_PERMERROR, SPF_CHECK_SCOPE_MFROM, NULL, "more than 2 void lookups"},
	{"permerror: voids counted across include", MFROM, GOOD, H, "a@voidinc.spf.example",
	 AUTH_SPF_PERMERROR, SPF_CHECK_SCOPE_MFROM, NULL, "more than 2 void lookups"},
	{"IPv6 client: MX hosts without AAAA are no voids", MFROM, "2001:db8::10", H,
	 "a@mxv4only.spf.example", AUTH_SPF_PASS, SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"temperror: a: name answers SERVFAIL", MFROM, GOOD, H, "a@tempa.spf.example",
	 AUTH_SPF_TEMPERROR, SPF_CHECK_SCOPE_MFROM, NULL, "x.servfail.test"},
	{"temperror: include: name times out", MFROM, GOOD, H, "a@tempinc.spf.example",
	 AUTH_SPF_TEMPERROR, SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"temperror: sender domain answers SERVFAIL", MFROM, GOOD, H, "a@servfail.test",
	 AUTH_SPF_TEMPERROR, SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"null sender -> postmaster@HELO, scope helo", MFROM, GOOD, H, "<>", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_HELO, H, NULL},
	{"null sender (empty) with failing HELO", MFROM, BAD, H, "", AUTH_SPF_FAIL,
	 SPF_CHECK_SCOPE_HELO, H, NULL},
	{"null sender with address-literal HELO", MFROM, GOOD, "[192.0.2.10]", "<>", AUTH_SPF_NONE,
	 SPF_CHECK_SCOPE_HELO, NULL, "RFC 7208 section 2.3"},
	{"HELO check pass", HELO, GOOD, H, NULL, AUTH_SPF_PASS, SPF_CHECK_SCOPE_HELO, H, NULL},
	{"HELO check fail", HELO, BAD, H, NULL, AUTH_SPF_FAIL, SPF_CHECK_SCOPE_HELO, H, NULL},
	{"HELO single label not checked", HELO, GOOD, "localhost", NULL, AUTH_SPF_NONE,
	 SPF_CHECK_SCOPE_HELO, NULL, NULL},
	{"IPv6 pass ip6", MFROM, "2001:db8::10", H, "a@v6pass.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"IPv6 pass a (AAAA)", MFROM, "2001:db8::10", H, "a@v6a.spf.example", AUTH_SPF_PASS,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"IPv6 stranger fails", MFROM, "2001:db8:1::99", H, "a@v6pass.spf.example", AUTH_SPF_FAIL,
	 SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"IPv4-mapped IPv6 client checked as IPv4", MFROM, "::ffff:192.0.2.10", H,
	 "a@ip4pass.spf.example", AUTH_SPF_PASS, SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"loopback client gets no free pass", MFROM, "127.0.0.1", H, "a@fail.spf.example",
	 AUTH_SPF_FAIL, SPF_CHECK_SCOPE_MFROM, NULL, NULL},
	{"client address not an IP", MFROM, "unknown", H, "a@ip4pass.spf.example", AUTH_SPF_NONE,
	 SPF_CHECK_SCOPE_MFROM, NULL, "not an IP address"},
};


static void run_case(struct spf_checker *c, const struct spf_case *k)
{
	struct spf_outcome out;
	enum auth_spf r;

	if (k->which == HELO)
		r = spf_check_helo(c, k->ip, k->helo, 0, &out);
	else
		r = spf_check_mailfrom(c, k->ip, k->helo, k->from, 0, &out);
	bool ok = r == k->want && out.result == r && out.scope == k->want_scope &&
		  t_ascii(out.reason) &&
		  (k->want_domain == NULL || (out.domain != NULL &&
					      strcmp(out.domain, k->want_domain) == 0)) &&
		  (k->want_reason == NULL || t_has(out.reason, k->want_reason));
	t_check(ok, k->label, "got %s/%s domain=%s reason=\"%s\", want %s/%s domain=%s reason~\"%s\"",
		auth_spf_name(r), spf_check_scope_name(out.scope),
		out.domain ? out.domain : "(null)", out.reason ? out.reason : "(null)",
		auth_spf_name(k->want), spf_check_scope_name(k->want_scope),
		k->want_domain ? k->want_domain : "*", k->want_reason ? k->want_reason : "*");
	spf_outcome_clear(&out);
}

/* One checker per thread (per connection), one shared resolver. */
struct thread_arg {
	struct resolver *res;
	int right;
};

static void *check_thread(void *p)
{
	struct thread_arg *a = p;
	struct spf_checker *c = spf_checker_new(a->res, "mx.receiver.example");
	for (int i = 0; c != NULL && i < 30; i++) {
		const struct spf_case *k = &cases[(size_t)i % 8]; /* the pass cases */
		struct spf_outcome out;
		if (spf_check_mailfrom(c, k->ip, k->helo, k->from, 0, &out) == AUTH_SPF_PASS)
			a->right++;
		spf_outcome_clear(&out);
	}
	spf_checker_free(c);
	return NULL;
}

static void test_threads(struct resolver *res)
{
	pthread_t th[4];
	struct thread_arg args[4];
	int started = 0, right = 0;
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){res, 0};
		if (pthread_create(&th[i], NULL, check_thread, &args[i]) == 0)
			started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		right += args[i].right;
	}
	t_check(started == 4 && right == 120, "4 threads x 30 checks, one checker each",
		"got %d threads, %d right", started, right);
}

int main(void)
{
	const char *server = getenv("DNS_SERVER");
	if (server == NULL || server[0] == '\0') {
		printf("1..0 # SKIP DNS_SERVER not set (run tests/auth/spf_check.sh)\n");
		return 0;
	}

	struct resolver_config cfg = {.nameservers = server, .query_timeout_ms = 400};
	struct resolver *res = NULL;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1024);
	if (!resolver_new(&cfg, &res, &err)) {
		printf("Bail out! resolver_new: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return 99;
	}
	strbuf_free(&err);

	struct spf_checker *c = spf_checker_new(res, "mx.receiver.example");
	if (!t_true("checker created", c != NULL))
		return t_done();

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(c, &cases[i]);

	/* The outcome carries what the milter needs beyond the result. */
	struct spf_outcome out;
	spf_check_mailfrom(c, GOOD, H, "<Someone@IP4Pass.spf.example>", 0, &out);
	t_str("sender address kept as given", out.sender, "Someone@IP4Pass.spf.example");
	t_true("Received-SPF value from libspf2", t_has(out.received_spf, "client-ip=192.0.2.10"));
	t_int("terms counted (none for ip4)", out.terms, 0);
	spf_outcome_clear(&out);

	spf_check_mailfrom(c, GOOD, H, "a@void2.spf.example", 0, &out);
	t_int("void lookups counted", out.void_lookups, 2);
	t_true("no Received-SPF override when libspf2 decided", out.received_spf != NULL);
	spf_outcome_clear(&out);

	spf_check_mailfrom(c, GOOD, H, "a@void3.spf.example", 0, &out);
	t_true("overridden result has no libspf2 Received-SPF", out.received_spf == NULL);
	spf_outcome_clear(&out);

	/* Limits stop the queries, not just the verdict. */
	struct resolver_stats st0, st1;
	resolver_get_stats(res, &st0);
	spf_check_mailfrom(c, BAD, H, "a@toomany.spf.example", 0, &out);
	resolver_get_stats(res, &st1);
	t_int("11 a: terms: record + 10 queries, the 11th not asked",
	      (long long)(st1.queries - st0.queries), 11);
	t_int("terms reported", out.terms, 11);
	spf_outcome_clear(&out);
	resolver_get_stats(res, &st0);
	spf_check_mailfrom(c, GOOD, H, "a@void3.spf.example", 0, &out);
	resolver_get_stats(res, &st1);
	t_int("3 voids: record + 3 queries", (long long)(st1.queries - st0.queries), 4);
	spf_outcome_clear(&out);

	/* A spent budget stops the check before any query. */
	spf_check_mailfrom(c, GOOD, H, "a@ip4pass.spf.example", resolver_now_ms(), &out);
	t_check(out.result == AUTH_SPF_TEMPERROR && t_has(out.reason, "budget"),
		"deadline already passed -> temperror", "got %s \"%s\"",
		auth_spf_name(out.result), out.reason ? out.reason : "(null)");
	spf_outcome_clear(&out);

	/* The timeout name costs at most the per-query timeout, bounded by the deadline. */
	uint64_t t0 = resolver_now_ms();
	spf_check_mailfrom(c, GOOD, H, "a@tempinc.spf.example", t0 + 150, &out);
	uint64_t spent = resolver_now_ms() - t0;
	t_check(out.result == AUTH_SPF_TEMPERROR && spent < 350, "deadline bounds a timeout",
		"got %s after %llu ms", auth_spf_name(out.result), (unsigned long long)spent);
	spf_outcome_clear(&out);

	/* Creation cost: the milter makes one checker per connection. */
	uint64_t c0 = resolver_now_ms();
	for (int i = 0; i < 1000; i++)
		spf_checker_free(spf_checker_new(res, "mx.receiver.example"));
	t_note("1000 checkers created and freed in %llu ms",
	       (unsigned long long)(resolver_now_ms() - c0));

	test_threads(res);

	spf_outcome_clear(&out);
	spf_checker_free(c);
	resolver_free(res);
	return t_done();
}
