/* event_writer_bench: events per second the writer sustains into a file
 * database. Prints figures; asserts nothing (a benchmark, not a test).
 * usage: event_writer_bench [EVENTS] [DBPATH] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "event_writer.h"

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct msg_event *bench_event(long i)
{
	char dom[64], ip[32];
	struct msg_event *ev = msg_event_new();
	if (ev == NULL)
		return NULL;
	snprintf(dom, sizeof dom, "d%ld.example", i % 10000);
	snprintf(ip, sizeof ip, "192.0.%ld.%ld", (i / 256) % 256, i % 256);
	ev->time = 1700000000 + i / 100;
	msg_event_set(&ev->queue_id, "4Bf2x1Q");
	msg_event_set(&ev->client_ip, ip);
	msg_event_set(&ev->helo, "mail.sender.example");
	msg_event_set(&ev->envelope_from, dom);
	msg_event_set(&ev->envelope_to, "receiver.example");
	msg_event_set(&ev->header_from, dom);
	msg_event_set(&ev->policy_domain, dom);
	msg_event_set(&ev->policy_origin, "author");
	msg_event_set(&ev->discovery_method, "treewalk");
	msg_event_set(&ev->p, "reject");
	msg_event_set(&ev->rua, "mailto:rua@example.net");
	msg_event_set(&ev->spf_result, "pass");
	msg_event_set(&ev->spf_domain, dom);
	msg_event_set(&ev->spf_scope, "mfrom");
	msg_event_set(&ev->dmarc_result, "pass");
	msg_event_set(&ev->disposition, "none");
	msg_event_set(&ev->dmarc_verdict, "PASS");
	ev->spf_aligned = ev->dkim_aligned = true;
	msg_event_add_dkim(ev, dom, "s2048", "pass", NULL, true);
	return ev;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	const char *path = argc > 2 ? argv[2] : "/tmp/event_writer_bench.db";
	unlink(path);
	struct event_writer_config cfg = {
		.path = path, .queue_max = 100000, .batch_rows = 1000, .batch_ms = 200,
		.busy_ms = 1000, .retry_ms = 100, .flush_timeout_ms = 60000,
	};
	struct event_writer *w = NULL;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1024);
	if (!event_writer_start(&cfg, &w, &err)) {
		fprintf(stderr, "%s\n", strbuf_str(&err));
		return 1;
	}
	double t0 = now_sec();
	struct event_writer_stats st;
	for (long i = 0; i < n; i++) {
		/* pace the producer so the bounded queue never drops */
		for (;;) {
			event_writer_stats(w, &st);
			if (st.queued < cfg.queue_max - 1)
				break;
			usleep(1000);
		}
		event_writer_submit(w, bench_event(i));
	}
	double t_submit = now_sec() - t0;
	event_writer_stop(w);
	double t_all = now_sec() - t0;
	printf("event_writer_bench: %ld events (1 DKIM row each) into %s\n", n, path);
	printf("  submit: %.2f s; all committed: %.2f s; %.0f events/s sustained\n",
	       t_submit, t_all, (double)n / t_all);
	strbuf_free(&err);
	return 0;
}
