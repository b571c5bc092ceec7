/* milter-load: play several MTA connections at once to a milter and time each message.
 *
 * Usage: milter-load --socket SPEC --client-ip IP --helo NAME --mail-from ADDR
 *          --rcpt ADDR [--connections C] [--messages N] [--warmup W]
 *          [--queue-prefix P] [--timeout SEC] [--accepted FILE] message.eml
 *
 * C threads (default 4) each open one milter connection (tests/tools/
 * milter_proto) and send the same message over and over, until N messages
 * (default 1000) have been sent in all. Message k gets the queue id (macro i)
 * "P-k" (P defaults to "load"), so that its event-log row can be found.
 * A message counts as answered when the filter's final reply to EOM arrived:
 * the milter has then handed its event to the event writer.
 *
 * When a conversation fails (the filter was killed, say) the thread reconnects
 * once; if that fails too it stops. So a killed milter ends the run early
 * instead of hanging it.
 *
 * Prints three lines:
 *   messages N answered A errors E seconds S per_second R
 *   verdicts accept A reject R tempfail T quarantine Q discard D
 *   latency_ms p50 X p90 Y p99 Z max M     (answered messages after the warmup)
 * --accepted FILE writes "QUEUE-ID EPOCH-NANOSECONDS" for every answered
 * message (the wall-clock time its reply arrived), for the crash test.
 * The first W messages (--warmup, default 0) are sent but not timed.
 * Exit status: 0 when every message was answered, 1 on a usage error, 2
 * otherwise. Used by tests/eventlog/ and tests/bench/milter_latency.sh. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "milter_proto.h"

#define LOAD_MAX_CONNECTIONS 256
#define LOAD_MAX_MESSAGES 10000000UL
#define LOAD_MAX_FILE (64u * 1024 * 1024)

struct load_options {
	const char *socket_spec;
	const char *client_ip, *helo, *mail_from, *rcpt;
	const char *prefix;
	const char *accepted_path;
	const char *message_path;
	unsigned long connections, messages, warmup;
	unsigned timeout_ms;
};

/* Shared by the threads: the next message number, and one slot per message
 * that only the thread sending that message writes. */
struct load_run {
	const struct load_options *opt;
	const char *text;            /* the message file */
	size_t text_len;
	atomic_ulong next;           /* next message number to send */
	double *latency_ms;          /* per message; < 0 = not answered */
	int64_t *answered_ns;        /* per message: wall clock of the reply */
	unsigned char *verdict;      /* per message: enum milter_verdict */
	atomic_ulong errors;
};

static void usage(void)
{
	fputs("usage: milter-load --socket SPEC --client-ip IP --helo NAME --mail-from ADDR\n"
	      "         --rcpt ADDR [--connections C] [--messages N] [--warmup W]\n"
	      "         [--queue-prefix P] [--timeout SEC] [--accepted FILE] message.eml\n",
	      stderr);
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads a whole file into a new buffer (caller frees). */
static char *slurp(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "milter-load: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, LOAD_MAX_FILE);
	bool ok = strbuf_add_file(&sb, f);
	fclose(f);
	*len_out = sb.len;
	char *text = strbuf_finish(&sb);
	if (!ok || text == NULL) {
		fprintf(stderr, "milter-load: %s: read error, too large or out of memory\n", path);
		free(text);
		return NULL;
	}
	return text;
}

static bool parse_count(const char *arg, unsigned long lo, unsigned long hi,
			unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_args(int argc, char **argv, struct load_options *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "client-ip", required_argument, NULL, 'a' },
		{ "helo", required_argument, NULL, 'h' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "connections", required_argument, NULL, 'c' },
		{ "messages", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "queue-prefix", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "accepted", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;
	o->connections = 4;
	o->messages = 1000;
	o->prefix = "load";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket_spec = optarg; break;
		case 'a': o->client_ip = optarg; break;
		case 'h': o->helo = optarg; break;
		case 'f': o->mail_from = strcmp(optarg, "<>") == 0 ? "" : optarg; break;
		case 'r': o->rcpt = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 'A': o->accepted_path = optarg; break;
		case 'c':
			if (!parse_count(optarg, 1, LOAD_MAX_CONNECTIONS, &o->connections)) {
				fprintf(stderr, "milter-load: --connections %s: expected 1..%d\n",
					optarg, LOAD_MAX_CONNECTIONS);
				return false;
			}
			break;
		case 'n':
		case 'w':
			if (!parse_count(optarg, c == 'n' ? 1 : 0, LOAD_MAX_MESSAGES, &v)) {
				fprintf(stderr, "milter-load: --%s %s: expected %d..%lu\n",
					c == 'n' ? "messages" : "warmup", optarg, c == 'n' ? 1 : 0,
					LOAD_MAX_MESSAGES);
				return false;
			}
			if (c == 'n')
				o->messages = v;
			else
				o->warmup = v;
			break;
		case 't':
			if (!parse_count(optarg, 1, 3600, &v)) {
				fprintf(stderr, "milter-load: --timeout %s: expected 1..3600\n", optarg);
				return false;
			}
			o->timeout_ms = (unsigned)v * 1000;
			break;
		default:
			return false;
		}
	}
	if (o->socket_spec == NULL || o->client_ip == NULL || o->helo == NULL ||
	    o->mail_from == NULL || o->rcpt == NULL || optind != argc - 1) {
		fputs("milter-load: --socket, --client-ip, --helo, --mail-from, --rcpt and "
		      "one message file are required\n", stderr);
		return false;
	}
	if (strlen(o->prefix) > 64) {
		fputs("milter-load: --queue-prefix: at most 64 characters\n", stderr);
		return false;
	}
	o->message_path = argv[optind];
	return true;
}

/* The thread's own copy of the transaction, with the macros an MTA sends. */
static bool load_msg_init(const struct load_run *run, struct milter_msg *msg,
			  struct strbuf *err)
{
	const struct load_options *o = run->opt;
	memset(msg, 0, sizeof *msg);
	char cname[128];
	snprintf(cname, sizeof cname, "[%s]", o->client_ip);
	msg->client_ip = strdup(o->client_ip);
	msg->helo = strdup(o->helo);
	msg->mail_from = strdup(o->mail_from);
	msg->rcpts[0] = strdup(o->rcpt);
	msg->nrcpts = 1;
	if (msg->client_ip == NULL || msg->helo == NULL || msg->mail_from == NULL ||
	    msg->rcpts[0] == NULL) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	return milter_msg_load(msg, run->text, run->text_len, err) &&
	       milter_msg_macro(msg, "j", "mta.test", err) &&
	       milter_msg_macro(msg, "{daemon_name}", "milter-load", err) &&
	       milter_msg_macro(msg, "{client_addr}", o->client_ip, err) &&
	       milter_msg_macro(msg, "{client_name}", cname, err);
}

/* Sends message k on *mc (opening it when NULL). false: the conversation
 * failed and *mc was closed. */
static bool load_one(struct load_run *run, struct milter_conn **mc, struct milter_msg *msg,
		     unsigned long k, struct strbuf *err)
{
	const struct load_options *o = run->opt;
	char qid[96];
	snprintf(qid, sizeof qid, "%s-%lu", o->prefix, k);
	if (!milter_msg_macro(msg, "i", qid, err))
		return false;
	if (*mc == NULL && !milter_open(o->socket_spec, o->timeout_ms, mc, err))
		return false;
	enum milter_verdict verdict;
	double t0 = mono_ms();
	bool ok = milter_message(*mc, msg, NULL, &verdict, err);
	double t1 = mono_ms();
	if (!ok) {
		milter_close(*mc);
		*mc = NULL;
		return false;
	}
	run->answered_ns[k] = wall_ns();
	run->latency_ms[k] = t1 - t0;
	run->verdict[k] = (unsigned char)verdict;
	return true;
}

static void *load_thread(void *arg)
{
	struct load_run *run = arg;
	struct milter_msg msg;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	struct milter_conn *mc = NULL;
	bool reconnected = false;
	if (!load_msg_init(run, &msg, &err)) {
		fprintf(stderr, "milter-load: %s: %s\n", run->opt->message_path, strbuf_str(&err));
		atomic_fetch_add(&run->errors, 1);
		goto out;
	}
	for (;;) {
		unsigned long k = atomic_fetch_add(&run->next, 1);
		if (k >= run->opt->messages)
			break;
		strbuf_reset(&err);
		if (load_one(run, &mc, &msg, k, &err)) {
			reconnected = false;
			continue;
		}
		atomic_fetch_add(&run->errors, 1);
		if (reconnected) {
			/* two failures in a row: the filter is gone */
			fprintf(stderr, "milter-load: %s: %s; this connection stops\n",
				run->opt->socket_spec, strbuf_str(&err));
			break;
		}
		reconnected = true;
	}
out:
	milter_close(mc);
	milter_msg_free(&msg);
	strbuf_free(&err);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values (nearest rank). */
static double quantile(const double *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

static int report(const struct load_run *run, unsigned long sent, double seconds)
{
	const struct load_options *o = run->opt;
	unsigned long answered = 0, counts[MILTER_QUARANTINE + 1] = {0};
	double *timed = malloc((sent ? sent : 1) * sizeof *timed);
	size_t ntimed = 0;
	if (timed == NULL) {
		fputs("milter-load: out of memory\n", stderr);
		return 2;
	}
	FILE *acc = NULL;
	if (o->accepted_path != NULL && (acc = fopen(o->accepted_path, "w")) == NULL)
		fprintf(stderr, "milter-load: %s: %s\n", o->accepted_path, strerror(errno));
	for (unsigned long k = 0; k < sent; k++) {
		if (run->latency_ms[k] < 0)
			continue;
		answered++;
		if (run->verdict[k] <= MILTER_QUARANTINE)
			counts[run->verdict[k]]++;
		if (k >= o->warmup)
			timed[ntimed++] = run->latency_ms[k];
		if (acc != NULL)
			fprintf(acc, "%s-%lu %lld\n", o->prefix, k, (long long)run->answered_ns[k]);
	}
	bool acc_bad = acc != NULL && fclose(acc) != 0;
	qsort(timed, ntimed, sizeof *timed, cmp_double);
	printf("messages %lu answered %lu errors %lu seconds %.3f per_second %.0f\n",
	       sent, answered, (unsigned long)atomic_load(&run->errors), seconds,
	       seconds > 0 ? (double)answered / seconds : 0.0);
	printf("verdicts accept %lu reject %lu tempfail %lu quarantine %lu discard %lu\n",
	       counts[MILTER_ACCEPT], counts[MILTER_REJECT], counts[MILTER_TEMPFAIL],
	       counts[MILTER_QUARANTINE], counts[MILTER_DISCARD]);
	printf("latency_ms p50 %.3f p90 %.3f p99 %.3f max %.3f\n",
	       quantile(timed, ntimed, 0.50), quantile(timed, ntimed, 0.90),
	       quantile(timed, ntimed, 0.99), ntimed ? timed[ntimed - 1] : 0.0);
	free(timed);
	if (fflush(stdout) != 0 || acc_bad || (o->accepted_path != NULL && acc == NULL))
		return 2;
	return answered == o->messages ? 0 : 2;
}

int main(int argc, char **argv)
{
	struct load_options o;
	memset(&o, 0, sizeof o);
	if (!parse_args(argc, argv, &o)) {
		usage();
		return 1;
	}
	struct load_run run;
	memset(&run, 0, sizeof run);
	run.opt = &o;
	char *text = slurp(o.message_path, &run.text_len);
	if (text == NULL)
		return 1;
	run.text = text;
	atomic_init(&run.next, 0);
	atomic_init(&run.errors, 0);
	run.latency_ms = malloc(o.messages * sizeof *run.latency_ms);
	run.answered_ns = calloc(o.messages, sizeof *run.answered_ns);
	run.verdict = calloc(o.messages, 1);
	pthread_t *tids = calloc(o.connections, sizeof *tids);
	int rc = 2;
	if (run.latency_ms == NULL || run.answered_ns == NULL || run.verdict == NULL ||
	    tids == NULL) {
		fputs("milter-load: out of memory\n", stderr);
		goto out;
	}
	for (unsigned long k = 0; k < o.messages; k++)
		run.latency_ms[k] = -1;
	double t0 = mono_ms();
	unsigned long started = 0;
	for (; started < o.connections; started++) {
		int e = pthread_create(&tids[started], NULL, load_thread, &run);
		if (e != 0) {
			fprintf(stderr, "milter-load: pthread_create: %s\n", strerror(e));
			break;
		}
	}
	for (unsigned long i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	double seconds = (mono_ms() - t0) / 1e3;
	unsigned long sent = atomic_load(&run.next);
	if (sent > o.messages)
		sent = o.messages;
	rc = report(&run, sent, seconds);
	if (started < o.connections)
		rc = 2;
out:
	free(tids);
	free(run.latency_ms);
	free(run.answered_ns);
	free(run.verdict);
	free(text);
	return rc;
}
