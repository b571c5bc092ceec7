/* report_bench_gen: fills an event database with one busy UTC day for the
 * dmarc-reporter benchmark (tests/bench/report_bench.sh). Not a test.
 *
 * usage: report_bench_gen DB YYYY-MM-DD [EVENTS [DOMAINS]]
 *   (defaults: 1,000,000 events across 10,000 policy domains)
 *
 * The mix, from a fixed seed so every run builds the same day:
 *  - domains d<N>.bench.example, p=none/quarantine/reject (60/25/15 %),
 *    rua=mailto:dmarc@<domain> (same organization: no DNS lookups), some
 *    with sp, pct, fo; events spread over the domains with a skew (a few
 *    big senders, many small ones);
 *  - each domain sends from 2-6 of its own addresses (aligned SPF and DKIM
 *    pass; some IPv6), 1 in 5 messages also carries a second DKIM signature
 *    of an ESP; about 12 % come from forwarders and spoofers (SPF fail or
 *    softfail, DKIM fail or none, disposition by policy), a few from a
 *    subdomain that inherits the policy, a few with a local override. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event_store.h"

#define BATCH 10000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: a fixed, fast sequence (no libc rand() state). */
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

struct dom {
	char name[64];
	const char *p, *sp, *fo;
	int pct;
	int nips;
	bool v6;
};

static void set(char **f, const char *v, long *bad)
{
	if (!msg_event_set(f, v))
		(*bad)++;
}

static struct msg_event *make(const struct dom *d, unsigned di, int64_t day, long *bad)
{
	struct msg_event *ev = msg_event_new();
	if (ev == NULL)
		return NULL;
	char ip[64], from[96], efrom[96];
	uint32_t kind = rnd(100);
	bool spoof = kind < 8, fwd = kind >= 8 && kind < 12;
	bool sub = kind >= 12 && kind < 15;
	ev->time = day * 86400 + rnd(86400);
	if (spoof)
		snprintf(ip, sizeof ip, "203.0.%u.%u", rnd(4), 1 + rnd(250));
	else if (fwd)
		snprintf(ip, sizeof ip, "198.51.100.%u", 1 + rnd(20));
	else if (d->v6 && rnd(3) == 0)
		snprintf(ip, sizeof ip, "2001:db8:%x::%x", di, 1 + rnd((uint32_t)d->nips));
	else
		snprintf(ip, sizeof ip, "10.%u.%u.%u", (di >> 8) & 255, di & 255,
			 1 + rnd((uint32_t)d->nips));
	snprintf(from, sizeof from, "%s%s", sub ? "mail." : "", d->name);
	snprintf(efrom, sizeof efrom, "%s", spoof ? "spammer.example" :
		 fwd ? "lists.example" : from);
	set(&ev->client_ip, ip, bad);
	set(&ev->queue_id, "4BenchQ1", bad);
	set(&ev->helo, spoof ? "unknown" : "mx.sender.example", bad);
	set(&ev->envelope_from, efrom, bad);
	set(&ev->envelope_to, "receiver.example", bad);
	set(&ev->header_from, from, bad);
	set(&ev->policy_domain, d->name, bad);
	set(&ev->policy_origin, sub ? "organizational" : "author", bad);
	set(&ev->discovery_method, "treewalk", bad);
	set(&ev->org_domain, d->name, bad);
	set(&ev->p, d->p, bad);
	set(&ev->sp, d->sp, bad);
	set(&ev->fo, d->fo, bad);
	ev->pct = d->pct;
	char rua[96];
	snprintf(rua, sizeof rua, "mailto:dmarc@%s", d->name);
	set(&ev->rua, rua, bad);
	bool pass = !spoof && !fwd;
	set(&ev->spf_result, pass || fwd ? (fwd ? "fail" : "pass") : rnd(2) ? "softfail" : "fail", bad);
	set(&ev->spf_domain, efrom, bad);
	set(&ev->spf_scope, "mfrom", bad);
	ev->spf_aligned = pass;
	if (pass || fwd) {
		/* a forwarder keeps the author's signature intact most of the time */
		bool ok = pass || rnd(3) != 0;
		if (!msg_event_add_dkim(ev, d->name, "s2048", ok ? "pass" : "fail", NULL, true))
			(*bad)++;
		ev->dkim_aligned = ok;
		if (rnd(5) == 0 &&
		    !msg_event_add_dkim(ev, "esp.example", "esp1", "pass", NULL, false))
			(*bad)++;
	} else if (rnd(3) == 0) {
		if (!msg_event_add_dkim(ev, d->name, "s2048", "fail", "signature did not verify", true))
			(*bad)++;
	}
	bool dmarc_pass = ev->spf_aligned || ev->dkim_aligned;
	const char *pol = sub && d->sp ? d->sp : d->p;
	set(&ev->dmarc_result, dmarc_pass ? "pass" : "fail", bad);
	set(&ev->policy_applied, pol, bad);
	set(&ev->disposition, dmarc_pass ? "none" : pol, bad);
	if (!dmarc_pass && fwd && rnd(2) == 0) {
		set(&ev->override_type, "trusted_forwarder", bad);
		set(&ev->override_comment, "lists.example", bad);
		set(&ev->disposition, "none", bad);
	}
	set(&ev->dmarc_verdict, dmarc_pass ? "PASS" : "FAIL", bad);
	return ev;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: report_bench_gen DB YYYY-MM-DD [EVENTS [DOMAINS]]\n");
		return 2;
	}
	struct tm tm = {0};
	const char *end = strptime(argv[2], "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0') {
		fprintf(stderr, "report_bench_gen: bad day \"%s\"\n", argv[2]);
		return 2;
	}
	int64_t day = (int64_t)timegm(&tm) / 86400;
	long nevents = argc > 3 ? atol(argv[3]) : 1000000;
	long ndomains = argc > 4 ? atol(argv[4]) : 10000;
	if (nevents < 1 || ndomains < 1 || ndomains > 1000000) {
		fprintf(stderr, "report_bench_gen: bad counts\n");
		return 2;
	}
	struct dom *doms = calloc((size_t)ndomains, sizeof *doms);
	if (doms == NULL)
		return 1;
	static const char *const ps[] = { "none", "quarantine", "reject" };
	for (long i = 0; i < ndomains; i++) {
		struct dom *d = &doms[i];
		snprintf(d->name, sizeof d->name, "d%ld.bench.example", i);
		uint32_t r = rnd(100);
		d->p = ps[r < 60 ? 0 : r < 85 ? 1 : 2];
		d->sp = rnd(4) == 0 ? ps[rnd(3)] : NULL;
		d->fo = rnd(5) == 0 ? "1" : NULL;
		d->pct = rnd(10) == 0 ? 50 : -1;
		d->nips = 2 + (int)rnd(5);
		d->v6 = rnd(4) == 0;
	}

	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	struct event_store *st = NULL;
	if (!event_store_open(argv[1], 10000, &st, &err)) {
		fprintf(stderr, "report_bench_gen: %s\n", strbuf_str(&err));
		return 1;
	}
	/* a throw-away database: no need to survive a power loss */
	sqlite3_exec(event_store_db(st), "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	struct msg_event **batch = calloc(BATCH, sizeof *batch);
	long bad = 0, done = 0;
	int rc = 0;
	while (batch != NULL && done < nevents && rc == 0) {
		size_t n = 0;
		for (; n < BATCH && done < nevents; n++, done++) {
			/* skew: half the mail from the first 5 % of the domains */
			unsigned di = rnd(2) ? rnd((uint32_t)(ndomains / 20 + 1))
					     : rnd((uint32_t)ndomains);
			batch[n] = make(&doms[di], di, day, &bad);
			if (batch[n] == NULL) {
				rc = 1;
				break;
			}
		}
		if (rc == 0 && !event_store_insert(st, batch, n, &err)) {
			fprintf(stderr, "report_bench_gen: %s\n", strbuf_str(&err));
			rc = 1;
		}
		for (size_t i = 0; i < n; i++)
			msg_event_free(batch[i]);
	}
	if (bad > 0) {
		fprintf(stderr, "report_bench_gen: %ld field copies failed\n", bad);
		rc = 1;
	}
	if (rc == 0)
		printf("%ld events across %ld policy domains on %s\n", done, ndomains, argv[2]);
	free(batch);
	free(doms);
	event_store_close(st);
	strbuf_free(&err);
	return rc;
}
