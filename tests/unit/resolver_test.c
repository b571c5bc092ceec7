/* resolver_test: lib/resolver against a real DNS server on loopback.
 *
 * Run by tests/dns/resolver_test.sh, which starts the server with
 * tests/dns/resolver_test.zone and sets DNS_PORT and DNS_QUERIES_CMD (a
 * command printing the server's query count). Without DNS_PORT only the
 * cases that need no server run. DNS_IPV6=yes adds a query over [::1]. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolver.h"
#include "strbuf.h"
#include "testlib.h"

static char server[64];                 /* "127.0.0.1@PORT" */
static const char *queries_cmd;         /* prints the server's query count */

/* ---- helpers ----------------------------------------------------------- */

static long long server_queries(void)
{
	char line[64];
	long long n = -1;

	if (queries_cmd == NULL)
		return -1;
	FILE *f = popen(queries_cmd, "r");
	if (f == NULL)
		return -1;
	if (fgets(line, sizeof line, f) != NULL)
		n = strtoll(line, NULL, 10);
	pclose(f);
	return n;
}

static struct resolver *make(const char *ns, unsigned timeout_ms, unsigned neg_sec)
{
	struct resolver_config cfg = { ns, timeout_ms, neg_sec };
	struct resolver *res = NULL;
	char ebuf[256];
	struct strbuf err;

	strbuf_init(&err, ebuf, sizeof ebuf, 1000);
	if (!resolver_new(&cfg, &res, &err))
		t_note("resolver_new(%s): %s", ns ? ns : "(null)", strbuf_str(&err));
	strbuf_free(&err);
	return res;
}

/* Text of the first TXT record, joined; "" when none. new; free(). */
static char *first_txt(const struct dns_answer *a)
{
	if (a->status != DNS_STATUS_OK || a->count == 0)
		return strdup("");
	return dns_txt_join(&a->rrs[0], NULL);
}

/* "192.0.2.1 192.0.2.2" (sorted) for A/AAAA answers. */
static void addrs(const struct dns_answer *a, char *out, size_t out_len)
{
	char tmp[DNS_MAX_RRS][INET6_ADDRSTRLEN];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < a->count && i < DNS_MAX_RRS; i++) {
		int af = a->rrs[i].len == 4 ? AF_INET : AF_INET6;
		if (inet_ntop(af, a->rrs[i].rdata, tmp[n], sizeof tmp[n]) != NULL)
			n++;
	}
	for (size_t i = 1; i < n; i++)       /* insertion sort, n is tiny */
		for (size_t j = i; j > 0 && strcmp(tmp[j - 1], tmp[j]) > 0; j--) {
			char t[INET6_ADDRSTRLEN];
			memcpy(t, tmp[j], sizeof t);
			memcpy(tmp[j], tmp[j - 1], sizeof t);
			memcpy(tmp[j - 1], t, sizeof t);
		}
	struct strbuf sb;
	strbuf_init(&sb, out, out_len, out_len - 1);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&sb, "%s%s", i ? " " : "", tmp[i]);
	strbuf_free(&sb);
}

/* ---- cases without a server -------------------------------------------- */

static void test_txt_join(void)
{
	static const struct {
		const char *label;
		const char *rdata;
		size_t len;
		const char *want;  /* NULL = malformed */
		size_t want_len;
	} rows[] = {
		{ "one string", "\x05hello", 6, "hello", 5 },
		{ "three strings joined without separator",
		  "\x03" "abc" "\x00" "\x02" "de", 8, "abcde", 5 },
		{ "one empty string", "\x00", 1, "", 0 },
		{ "embedded NUL kept, length says so", "\x03" "a\0b", 4, "a", 3 },
		{ "length octet beyond rdata", "\x05" "abc", 4, NULL, 0 },
		{ "second string cut short", "\x01" "a" "\x02" "b", 4, NULL, 0 },
		{ "empty rdata is malformed", "", 0, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct dns_rr rr = { DNS_TYPE_TXT, 0, rows[i].len,
				     (unsigned char *)(uintptr_t)rows[i].rdata };
		size_t len = 99;
		char *got = dns_txt_join(&rr, &len);
		if (rows[i].want == NULL) {
			t_check(got == NULL, rows[i].label, "got \"%s\", want NULL",
				got ? got : "");
		} else {
			t_check(got != NULL && strcmp(got, rows[i].want) == 0 &&
				len == rows[i].want_len, rows[i].label,
				"got \"%s\"/%zu, want \"%s\"/%zu", got ? got : "(null)",
				len, rows[i].want, rows[i].want_len);
		}
		free(got);
	}
}

static void test_bad_config(void)
{
	static const struct {
		const char *ns;
		const char *want_in_err;  /* the reason must name this */
	} rows[] = {
		{ "192.0.2.300", "192.0.2.300" },
		{ "dns.example.com", "dns.example.com" },
		{ "127.0.0.1@", "port missing" },
		{ "127.0.0.1@0", "127.0.0.1@0" },
		{ "127.0.0.1@65536", "127.0.0.1@65536" },
		{ "127.0.0.1@53x", "127.0.0.1@53x" },
		{ "127.0.0.1,,::1", "empty nameserver entry" },
		{ "127.0.0.1,", "empty nameserver entry" },
		{ "::1@five", "::1@five" },
		{ "fe80::1%eth0", "fe80::1%eth0" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct resolver_config cfg = { rows[i].ns, 1000, 0 };
		struct resolver *res = NULL;
		char ebuf[256], label[128];
		struct strbuf err, lb;

		strbuf_init(&err, ebuf, sizeof ebuf, 1000);
		strbuf_init(&lb, label, sizeof label, sizeof label - 1);
		strbuf_printf(&lb, "nameservers \"%s\" rejected with its reason", rows[i].ns);
		bool ok = resolver_new(&cfg, &res, &err);
		t_check(!ok && res == NULL && strstr(strbuf_str(&err), rows[i].want_in_err),
			strbuf_str(&lb), "got ok=%d err \"%s\", want failure naming \"%s\"",
			ok, strbuf_str(&err), rows[i].want_in_err);
		resolver_free(res);
		strbuf_free(&err);
		strbuf_free(&lb);
	}
	struct resolver *res = make(" 127.0.0.1@53 , ::1@5353,192.0.2.1", 1000, 0);
	t_true("good list with spaces, IPv6 and default port accepted", res != NULL);
	resolver_free(res);
}

static void test_bad_names(void)
{
	char longname[300], longlabel[80];
	struct resolver *res = make(server[0] ? server : "127.0.0.1@9", 500, 0);

	/* 4 x (62 + 1) + 2 = 254 octets: one too many. */
	memset(longname, 'a', sizeof longname);
	for (int i = 62; i < 254; i += 63)
		longname[i] = '.';
	longname[254] = '\0';
	memset(longlabel, 'b', 64);
	memcpy(longlabel + 64, ".example.com", 13);
	const struct {
		const char *label, *name;
	} rows[] = {
		{ "254-octet name refused", longname },
		{ "empty label refused", "a..example.com" },
		{ "leading dot refused", ".example.com" },
		{ "empty name refused", "" },
		{ "64-octet label refused", longlabel },
		{ "space in name refused", "a b.example.com" },
		{ "backslash in name refused", "a\\.b.example.com" },
	};
	long long before = server_queries();
	uint64_t t0 = resolver_now_ms();
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct dns_answer *a = resolver_query(res, rows[i].name, DNS_TYPE_TXT, 0);
		t_check(a && a->status == DNS_STATUS_ERROR && a->why != NULL, rows[i].label,
			"got %s (%s), want error", a ? dns_status_name(a->status) : "NULL",
			a && a->why ? a->why : "");
		dns_answer_free(a);
	}
	t_check(resolver_now_ms() - t0 < 50 && server_queries() == before,
		"bad names answered without a query", "took %llu ms",
		(unsigned long long)(resolver_now_ms() - t0));
	t_str("status names", dns_status_name(DNS_STATUS_TIMEOUT), "timeout");
	resolver_free(res);
}

/* ---- cases against the server ------------------------------------------ */

static void test_answers(struct resolver *res)
{
	char buf[256];
	struct dns_answer *a;

	a = resolver_query(res, "www.example.com", DNS_TYPE_A, 0);
	addrs(a, buf, sizeof buf);
	t_check(a->status == DNS_STATUS_OK && a->count == 2 && a->rcode == 0 &&
		strcmp(buf, "192.0.2.1 192.0.2.2") == 0 && a->rrs[0].ttl > 0 &&
		a->rrs[0].ttl <= 300 && a->rrs[0].type == DNS_TYPE_A,
		"A: two addresses, TTL from the zone", "got %s count %zu [%s] ttl %u",
		dns_status_name(a->status), a->count, buf, a->count ? a->rrs[0].ttl : 0);
	dns_answer_free(a);

	a = resolver_query(res, "www.example.com.", DNS_TYPE_AAAA, 0);
	addrs(a, buf, sizeof buf);
	t_check(a->status == DNS_STATUS_OK && strcmp(buf, "2001:db8::1") == 0,
		"AAAA (absolute name)", "got %s [%s]", dns_status_name(a->status), buf);
	dns_answer_free(a);

	a = resolver_query(res, "_dmarc.example.com", DNS_TYPE_TXT, 0);
	char *txt = first_txt(a);
	t_str("TXT", txt, "v=DMARC1; p=reject");
	free(txt);
	dns_answer_free(a);

	a = resolver_query(res, "MULTI.Example.COM", DNS_TYPE_TXT, 0);
	txt = first_txt(a);
	t_str("multi-string TXT joined (name case ignored)", txt,
	      "v=DMARC1; p=quarantine; rua=mailto:d@example.com");
	free(txt);
	dns_answer_free(a);

	a = resolver_query(res, "mx.example.com", DNS_TYPE_MX, 0);
	unsigned prefs = 0;
	for (size_t i = 0; i < a->count; i++)
		if (a->rrs[i].len > 2)
			prefs += (unsigned)(a->rrs[i].rdata[0] << 8 | a->rrs[i].rdata[1]);
	t_check(a->status == DNS_STATUS_OK && a->count == 2 && prefs == 30,
		"MX: two records, preferences 10 and 20", "got %s count %zu sum %u",
		dns_status_name(a->status), a->count, prefs);
	dns_answer_free(a);

	a = resolver_query(res, "alias.example.com", DNS_TYPE_A, 0);
	addrs(a, buf, sizeof buf);
	t_check(a->status == DNS_STATUS_OK && strcmp(buf, "192.0.2.1 192.0.2.2") == 0,
		"CNAME followed to the A records", "got %s [%s]",
		dns_status_name(a->status), buf);
	dns_answer_free(a);

	static const struct {
		const char *label, *name;
		unsigned char first_label_len;  /* of the PTR target */
	} ptrs[] = {
		{ "PTR in a documentation prefix asked upstream", "1.2.0.192.in-addr.arpa", 3 },
		{ "PTR in a private prefix asked upstream", "4.3.2.10.in-addr.arpa", 5 },
	};
	for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
		a = resolver_query(res, ptrs[i].name, DNS_TYPE_PTR, 0);
		t_check(a->status == DNS_STATUS_OK && a->count == 1 && a->rrs[0].len > 4 &&
			a->rrs[0].rdata[0] == ptrs[i].first_label_len, ptrs[i].label, "got %s (%s)",
			dns_status_name(a->status), a->why ? a->why : "");
		dns_answer_free(a);
	}

	a = resolver_query(res, "many.example.com", DNS_TYPE_TXT, 0);
	t_check(a->status == DNS_STATUS_OK && a->count == DNS_MAX_RRS && a->truncated,
		"70 TXT records: 64 kept, truncated set", "got %s count %zu truncated %d",
		dns_status_name(a->status), a->count, a->truncated);
	dns_answer_free(a);
}

static void test_negative(struct resolver *res)
{
	static const struct {
		const char *label, *name;
		uint16_t type;
		enum dns_status want;
		int want_rcode;
	} rows[] = {
		{ "NXDOMAIN", "nothere.example.com", DNS_TYPE_TXT, DNS_STATUS_NXDOMAIN, 3 },
		{ "NODATA: name has A, not TXT", "www.example.com", DNS_TYPE_TXT,
		  DNS_STATUS_NODATA, 0 },
		{ "NODATA: empty non-terminal (RFC 8020)", "ent.example.com", DNS_TYPE_TXT,
		  DNS_STATUS_NODATA, 0 },
		{ "NXDOMAIN below an existing name", "x.www.example.com", DNS_TYPE_A,
		  DNS_STATUS_NXDOMAIN, 3 },
		{ "CNAME to a missing name: NXDOMAIN", "dangling.example.com", DNS_TYPE_TXT,
		  DNS_STATUS_NXDOMAIN, 3 },
		{ "SERVFAIL -> tempfail", "x.servfail.test", DNS_TYPE_TXT,
		  DNS_STATUS_TEMPFAIL, 2 },
		{ "REFUSED -> tempfail", "x.refused.test", DNS_TYPE_TXT,
		  DNS_STATUS_TEMPFAIL, -2 },
		{ "name outside the served zones -> tempfail", "www.example.org", DNS_TYPE_A,
		  DNS_STATUS_TEMPFAIL, 2 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		uint64_t t0 = resolver_now_ms();
		struct dns_answer *a = resolver_query(res, rows[i].name, rows[i].type, 0);
		uint64_t ms = resolver_now_ms() - t0;
		bool rc_ok = rows[i].want_rcode == -2 ? a->rcode > 0 : a->rcode == rows[i].want_rcode;
		t_check(a->status == rows[i].want && rc_ok && a->count == 0 && a->why != NULL,
			rows[i].label, "got %s rcode %d (%s), want %s",
			dns_status_name(a->status), a->rcode, a->why ? a->why : "",
			dns_status_name(rows[i].want));
		t_note("%s: %s in %llu ms: %s", rows[i].name, dns_status_name(a->status),
		       (unsigned long long)ms, a->why ? a->why : "");
		if (rows[i].want == DNS_STATUS_TEMPFAIL)
			t_check(ms < 1000, "fault answered within 1 s", "took %llu ms",
				(unsigned long long)ms);
		dns_answer_free(a);
	}
}

static void test_timeouts(struct resolver *res, unsigned timeout_ms)
{
	uint64_t t0 = resolver_now_ms();
	struct dns_answer *a = resolver_query(res, "a.timeout.test", DNS_TYPE_TXT, 0);
	uint64_t ms = resolver_now_ms() - t0;
	t_check(a->status == DNS_STATUS_TIMEOUT && ms + 5 >= timeout_ms &&
		ms <= timeout_ms + 250, "silent server: TIMEOUT after the query timeout",
		"got %s after %llu ms (timeout %u)", dns_status_name(a->status),
		(unsigned long long)ms, timeout_ms);
	t_note("timeout: %s", a->why ? a->why : "");
	dns_answer_free(a);

	t0 = resolver_now_ms();
	a = resolver_query(res, "b.timeout.test", DNS_TYPE_TXT, t0 + 200);
	ms = resolver_now_ms() - t0;
	t_check(a->status == DNS_STATUS_TIMEOUT && ms >= 195 && ms <= 450 &&
		a->why && strstr(a->why, "deadline"),
		"deadline shorter than the query timeout honoured",
		"got %s after %llu ms (%s)", dns_status_name(a->status),
		(unsigned long long)ms, a->why ? a->why : "");
	dns_answer_free(a);

	long long before = server_queries();
	t0 = resolver_now_ms();
	a = resolver_query(res, "deadline.example.com", DNS_TYPE_A, t0 - 1);
	t_check(a->status == DNS_STATUS_TIMEOUT && resolver_now_ms() - t0 < 20 &&
		server_queries() == before, "deadline already passed: TIMEOUT, no query",
		"got %s", dns_status_name(a->status));
	dns_answer_free(a);

	/* Right after timeouts the same server still answers at once. */
	t0 = resolver_now_ms();
	a = resolver_query(res, "load40.example.com", DNS_TYPE_A, 0);
	ms = resolver_now_ms() - t0;
	t_check(a->status == DNS_STATUS_OK && ms < 500,
		"server still used at once after timeouts", "got %s after %llu ms",
		dns_status_name(a->status), (unsigned long long)ms);
	dns_answer_free(a);
}

#define N_SLOW 40  /* more than libunbound's default of 16 outstanding queries */

struct slow_arg {
	struct resolver *res;
	int id;
	enum dns_status status;
};

static void *slow_query(void *arg)
{
	struct slow_arg *s = arg;
	char name[64];
	struct strbuf sb;

	strbuf_init(&sb, name, sizeof name, sizeof name - 1);
	strbuf_printf(&sb, "slow%d.timeout.test", s->id);
	strbuf_free(&sb);
	struct dns_answer *a = resolver_query(s->res, name, DNS_TYPE_A, 0);
	s->status = a ? a->status : DNS_STATUS_ERROR;
	dns_answer_free(a);
	return NULL;
}

/* Lookups waiting on a silent server must not hold up the others. */
static void test_no_blocking(struct resolver *res)
{
	pthread_t t[N_SLOW];
	struct slow_arg s[N_SLOW];
	int started = 0, timeouts = 0;

	for (int i = 0; i < N_SLOW; i++) {
		s[i] = (struct slow_arg){ res, i, DNS_STATUS_OK };
		if (pthread_create(&t[i], NULL, slow_query, &s[i]) != 0)
			break;
		started++;
	}
	usleep(100 * 1000);
	uint64_t t0 = resolver_now_ms();
	struct dns_answer *a = resolver_query(res, "load39.example.com", DNS_TYPE_A, 0);
	uint64_t ms = resolver_now_ms() - t0;
	t_check(a->status == DNS_STATUS_OK && ms < 200,
		"40 lookups waiting on a silent server do not block another",
		"got %s after %llu ms", dns_status_name(a->status), (unsigned long long)ms);
	dns_answer_free(a);
	for (int i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		timeouts += s[i].status == DNS_STATUS_TIMEOUT;
	}
	t_check(started == N_SLOW && timeouts == N_SLOW, "the silent lookups timed out",
		"%d of %d started, %d timed out", started, N_SLOW, timeouts);
	/* Right after the burst of timeouts the same server answers at once. */
	t0 = resolver_now_ms();
	a = resolver_query(res, "load38.example.com", DNS_TYPE_A, 0);
	ms = resolver_now_ms() - t0;
	t_check(a->status == DNS_STATUS_OK && ms < 200,
		"server used at once after a burst of timeouts", "got %s after %llu ms",
		dns_status_name(a->status), (unsigned long long)ms);
	dns_answer_free(a);
}

static void test_cache(void)
{
	struct resolver *res = make(server, 2000, 1);
	struct dns_answer *a;

	a = resolver_query(res, "cached.example.com", DNS_TYPE_A, 0);
	long long n1 = server_queries();
	dns_answer_free(a);
	a = resolver_query(res, "cached.example.com", DNS_TYPE_A, 0);
	long long n2 = server_queries();
	t_check(a->status == DNS_STATUS_OK && n1 >= 0 && n2 == n1,
		"repeated query answered from the cache", "server count %lld -> %lld", n1, n2);
	dns_answer_free(a);

	a = resolver_query(res, "short.example.com", DNS_TYPE_A, 0);
	t_check(a->status == DNS_STATUS_OK && a->count == 1 && a->rrs[0].ttl <= 1,
		"TTL 1 record", "got %s ttl %u", dns_status_name(a->status),
		a->count ? a->rrs[0].ttl : 0);
	dns_answer_free(a);
	a = resolver_query(res, "neg.example.com", DNS_TYPE_TXT, 0);
	dns_answer_free(a);
	n1 = server_queries();
	a = resolver_query(res, "neg.example.com", DNS_TYPE_TXT, 0);
	n2 = server_queries();
	t_check(a->status == DNS_STATUS_NXDOMAIN && n2 == n1, "NXDOMAIN cached",
		"got %s, server count %lld -> %lld", dns_status_name(a->status), n1, n2);
	dns_answer_free(a);

	usleep(2100 * 1000);
	n1 = server_queries();
	a = resolver_query(res, "short.example.com", DNS_TYPE_A, 0);
	dns_answer_free(a);
	n2 = server_queries();
	t_check(n2 > n1, "expired TTL: asked again", "server count %lld -> %lld", n1, n2);
	a = resolver_query(res, "neg.example.com", DNS_TYPE_TXT, 0);
	long long n3 = server_queries();
	t_check(a->status == DNS_STATUS_NXDOMAIN && n3 > n2,
		"negative TTL capped (SOA says 60 s, cap 1 s)", "server count %lld -> %lld",
		n2, n3);
	dns_answer_free(a);
	resolver_free(res);
}

#define N_THREADS 8
#define N_PER_THREAD 200

struct worker {
	struct resolver *res;
	int id;
	int bad;        /* answers that were not what the zone says */
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char name[64];

	for (int i = 0; i < N_PER_THREAD; i++) {
		int k = 1 + (w->id * 7 + i) % 39;
		struct strbuf sb;
		strbuf_init(&sb, name, sizeof name, sizeof name - 1);
		strbuf_printf(&sb, "load%d.example.com", k);
		strbuf_free(&sb);
		uint16_t type = i % 3 == 0 ? DNS_TYPE_TXT : DNS_TYPE_A;
		struct dns_answer *a = resolver_query(w->res, name, type, 0);
		if (a == NULL)
			w->bad++;
		else if (type == DNS_TYPE_A && !(a->status == DNS_STATUS_OK && a->count == 1 &&
						 a->rrs[0].len == 4 &&
						 a->rrs[0].rdata[3] == 100 + k))
			w->bad++;
		else if (type == DNS_TYPE_TXT && a->status != DNS_STATUS_NODATA)
			w->bad++;
		dns_answer_free(a);
	}
	return NULL;
}

static void test_threads(void)
{
	struct resolver *res = make(server, 3000, 0);
	struct worker w[N_THREADS];
	pthread_t t[N_THREADS];
	int started = 0, bad = 0;

	uint64_t t0 = resolver_now_ms();
	for (int i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){ res, i, 0 };
		if (pthread_create(&t[i], NULL, worker_run, &w[i]) == 0)
			started++;
		else
			break;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		bad += w[i].bad;
	}
	t_note("%d x %d queries in %llu ms", N_THREADS, N_PER_THREAD,
	       (unsigned long long)(resolver_now_ms() - t0));
	t_check(started == N_THREADS && bad == 0, "8 threads x 200 queries, all right",
		"%d threads started, %d wrong answers", started, bad);
	struct resolver_stats st;
	resolver_get_stats(res, &st);
	t_check(st.queries == N_THREADS * N_PER_THREAD && st.ok + st.nodata == st.queries,
		"stats count every query", "queries %llu ok %llu nodata %llu",
		(unsigned long long)st.queries, (unsigned long long)st.ok,
		(unsigned long long)st.nodata);
	resolver_free(res);
}

static void test_ipv6(const char *port)
{
	char ns[64];
	struct strbuf sb;

	strbuf_init(&sb, ns, sizeof ns, sizeof ns - 1);
	strbuf_printf(&sb, "::1@%s", port);
	strbuf_free(&sb);
	struct resolver *res = make(ns, 2000, 0);
	struct dns_answer *a = res ? resolver_query(res, "spf.example.com", DNS_TYPE_TXT, 0)
				   : NULL;
	char *txt = a ? first_txt(a) : NULL;
	t_str("nameserver over IPv6 [::1]", txt, "v=spf1 -all");
	free(txt);
	dns_answer_free(a);
	resolver_free(res);
}

int main(void)
{
	const char *port = getenv("DNS_PORT");
	const unsigned timeout_ms = 1000;

	queries_cmd = getenv("DNS_QUERIES_CMD");
	if (port && *port) {
		struct strbuf sb;
		strbuf_init(&sb, server, sizeof server, sizeof server - 1);
		strbuf_printf(&sb, "127.0.0.1@%s", port);
		strbuf_free(&sb);
	}
	test_txt_join();
	test_bad_config();
	test_bad_names();
	if (server[0] == '\0') {
		t_note("DNS_PORT not set: run tests/dns/resolver_test.sh for the DNS cases");
		return t_done();
	}
	struct resolver *res = make(server, timeout_ms, 0);
	if (!t_true("resolver_new with the test server", res != NULL))
		return t_done();
	test_answers(res);
	test_negative(res);
	test_timeouts(res, timeout_ms);
	test_no_blocking(res);
	resolver_free(res);
	test_cache();
	test_threads();
	const char *v6 = getenv("DNS_IPV6");
	if (v6 && strcmp(v6, "yes") == 0)
		test_ipv6(port);
	return t_done();
}
