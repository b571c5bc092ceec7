/* milter-bench: the load client of the milter benchmark.
 *
 * Usage: milter-bench -s SOCKET [-s SOCKET2] -M MANIFEST [-c CONNECTIONS]
 *          [-n MESSAGES] [-m MESSAGES_PER_CONNECTION] [-p PID]... [-r EVERY]
 *          [-R RATE] [-t TIMEOUT_SEC] [-l LABEL] [-X]
 *
 * Replays the corpus named by MANIFEST (lines "CLIENT_IP HELO MAIL_FROM RCPT
 * EXPECT PATH", written by tests/bench/run-bench.sh) at CONNECTIONS
 * concurrent milter connections, one thread each, MESSAGES messages in all
 * (the corpus is cycled). Each message is a whole MTA conversation:
 * CONNECT, HELO, MAIL, RCPT, DATA, every header, EOH, body chunks, EOM, on a
 * new connection every MESSAGES_PER_CONNECTION messages (default 1: one SMTP
 * session per message, as most inbound mail arrives). Without -R every
 * connection sends its next message as soon as the last one is answered
 * (the most the filter can do; latency then includes queueing for the
 * CPUs); with -R RATE the connections together start RATE messages a
 * second, evenly spaced (latency of a filter that is not saturated).
 *
 * With two sockets the pair is a chain, as Postfix runs smtpd_milters =
 * opendkim, opendmarc: the message goes to the first filter, the header
 * fields it adds are applied, and the result goes to the second filter.
 * The DMARC result is read from the last filter's Authentication-Results
 * ("dmarc=pass") and compared with EXPECT; mismatches are counted (not
 * with -X, for a filter that does not evaluate, e.g. null-milter).
 *
 * The loaded corpus is shared read-only by every thread; a thread owns its
 * connections, its log buffer and its slot range of the latency array, so
 * threads share nothing but two atomic counters.
 *
 * Output: human-readable lines, then one "result ..." line of key=value
 * pairs for the benchmark script: messages, errors, mismatches, wall_sec,
 * msgs_per_sec, p50_ms, p90_ms, p99_ms, max_ms, client_cpu_sec, and for each
 * -p PID cpu_sec.N (utime+stime from /proc/PID/stat, before and after the
 * run) and vmhwm_kb.N / vmrss_kb.N (/proc/PID/status after the run). With -r
 * EVERY, a "rss messages=M vmrss_kb.N=..." line every EVERY messages (the
 * memory-flatness check of long runs).
 * Exit status: 0 when every message was answered without a protocol error
 * and with the expected DMARC result; 1 otherwise; 2 on a usage or setup
 * error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "milter_msg.h"
#include "milter_proto.h"
#include "strbuf.h"

#define MAX_PIDS 8
#define MAX_CONNECTIONS 4096
#define MAX_CORPUS 100000
#define MAX_ADDED 32         /* header fields the first filter may add */
#define LOG_MAX (1024 * 1024)

enum expect { EXPECT_ANY = 0, EXPECT_PASS, EXPECT_FAIL };

struct corpus_msg {
	struct milter_msg msg;
	enum expect expect;
};

struct opts {
	const char *spec[2];
	size_t nspec;
	const char *manifest;
	unsigned conns;
	unsigned long total;
	unsigned per_conn;
	int pids[MAX_PIDS];
	size_t npids;
	unsigned long rss_every;
	double rate;               /* messages per second over all connections; 0 = flat out */
	bool no_check;             /* -X: do not compare DMARC results */
	unsigned timeout_ms;
	const char *label;
};

/* Shared, read-only once the threads run. */
static struct opts opt;
static struct corpus_msg *corpus;
static size_t ncorpus;
static double *latency_ms;      /* one slot per message */

/* The only shared mutable state. */
static atomic_ulong next_msg;   /* next message index to send */
static atomic_ulong done_msgs;  /* messages finished (ok or not) */

struct worker {
	pthread_t tid;
	unsigned index;
	unsigned long sent, errors, mismatches, rejected, tempfailed;
	char first_error[256];
};

/* ---- helpers -------------------------------------------------------------- */

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process in seconds (all its threads), or -1. */
static double proc_cpu_sec(int pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which may contain spaces: field 3
	 * (state) starts after the last ')'. utime and stime are fields 14, 15. */
	const char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	unsigned long long ut = 0, st = 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	return (double)(ut + st) / (double)(hz > 0 ? hz : 100);
}

/* A "Vm...:" value of /proc/PID/status in kB, or -1. */
static long proc_status_kb(int pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long v = -1;
	size_t klen = strlen(key);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "milter-bench: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, MILTER_MSG_MAX_BODY);
	bool ok = strbuf_add_file(&sb, f);
	fclose(f);
	*len = sb.len;
	char *text = strbuf_finish(&sb);
	if (!ok || text == NULL) {
		fprintf(stderr, "milter-bench: %s: read error or too large\n", path);
		free(text);
		return NULL;
	}
	return text;
}

/* ---- the corpus ------------------------------------------------------------ */

static bool set_str(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst != NULL;
}

/* One manifest line: CLIENT_IP HELO MAIL_FROM RCPT EXPECT PATH. */
static bool load_one(struct corpus_msg *cm, char *line, unsigned lineno, struct strbuf *err)
{
	char *f[6], *save = NULL;
	size_t n = 0;
	for (char *t = strtok_r(line, " \t\r\n", &save); t != NULL && n < 6;
	     t = strtok_r(NULL, " \t\r\n", &save))
		f[n++] = t;
	if (n != 6) {
		strbuf_printf(err, "%s:%u: expected CLIENT_IP HELO MAIL_FROM RCPT EXPECT PATH",
			      opt.manifest, lineno);
		return false;
	}
	struct milter_msg *m = &cm->msg;
	cm->expect = strcmp(f[4], "pass") == 0 ? EXPECT_PASS :
		     strcmp(f[4], "fail") == 0 ? EXPECT_FAIL : EXPECT_ANY;
	size_t len = 0;
	char *text = slurp(f[5], &len);
	if (text == NULL) {
		strbuf_printf(err, "%s:%u: cannot read %s", opt.manifest, lineno, f[5]);
		return false;
	}
	bool ok = milter_msg_load(m, text, len, err);
	free(text);
	if (!ok) {
		strbuf_printf(err, " (%s)", f[5]);
		return false;
	}
	char qid[32], cname[80];
	snprintf(qid, sizeof qid, "B%05u", lineno);
	snprintf(cname, sizeof cname, "[%s]", f[0]);
	if (!set_str(&m->client_ip, f[0]) || !set_str(&m->helo, f[1]) ||
	    !set_str(&m->mail_from, f[2]) || !set_str(&m->rcpts[0], f[3])) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	m->nrcpts = 1;
	return milter_msg_macro(m, "i", qid, err) &&
	       milter_msg_macro(m, "j", "mx.receiver.example", err) &&
	       milter_msg_macro(m, "{daemon_name}", "milter-bench", err) &&
	       milter_msg_macro(m, "{client_addr}", f[0], err) &&
	       milter_msg_macro(m, "{client_name}", cname, err);
}

static bool load_corpus(struct strbuf *err)
{
	FILE *f = fopen(opt.manifest, "r");
	if (f == NULL) {
		strbuf_printf(err, "%s: %s", opt.manifest, strerror(errno));
		return false;
	}
	char line[4096];
	unsigned lineno = 0;
	bool ok = true;
	while (ok && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (ncorpus == MAX_CORPUS) {
			strbuf_printf(err, "%s: more than %d messages", opt.manifest, MAX_CORPUS);
			ok = false;
			break;
		}
		if (ncorpus % 256 == 0) {
			struct corpus_msg *c = realloc(corpus, (ncorpus + 256) * sizeof *c);
			if (c == NULL) {
				strbuf_puts(err, "out of memory");
				ok = false;
				break;
			}
			corpus = c;
		}
		memset(&corpus[ncorpus], 0, sizeof corpus[ncorpus]);
		ncorpus++;
		ok = load_one(&corpus[ncorpus - 1], line, lineno, err);
	}
	fclose(f);
	if (ok && ncorpus == 0) {
		strbuf_printf(err, "%s: no messages", opt.manifest);
		ok = false;
	}
	return ok;
}

static void free_corpus(void)
{
	for (size_t i = 0; i < ncorpus; i++)
		milter_msg_free(&corpus[i].msg);
	free(corpus);
	corpus = NULL;
	ncorpus = 0;
}

/* ---- one message ------------------------------------------------------------ */

/* The value after "dmarc=" in an Authentication-Results line of log, or NULL. */
static const char *dmarc_result(const char *log, char *buf, size_t len)
{
	for (const char *line = log; line != NULL && *line != '\0';) {
		const char *eol = strchr(line, '\n');
		size_t llen = eol ? (size_t)(eol - line) : strlen(line);
		const char *ar = NULL;
		if ((strncmp(line, "addheader ", 10) == 0 || strncmp(line, "insheader ", 10) == 0))
			ar = strcasestr(line, "Authentication-Results:");
		if (ar != NULL && ar < line + llen) {
			const char *d = strcasestr(ar, "dmarc=");
			if (d != NULL && d < line + llen) {
				d += 6;
				size_t n = strcspn(d, " \t;()\n");
				if (n >= len)
					n = len - 1;
				memcpy(buf, d, n);
				buf[n] = '\0';
				return buf;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/* The header fields the first filter added, applied to a copy of msg (as
 * the MTA passes the message on to the next filter). The copy shares every
 * string of msg; only its header array and the added fields are new (freed
 * by free_applied()). */
static bool apply_added(const struct milter_msg *msg, const char *log, struct milter_msg *out,
			char **added, size_t *nadded)
{
	*out = *msg;
	*nadded = 0;
	struct milter_header *h = malloc((msg->nheaders + MAX_ADDED) * sizeof *h);
	if (h == NULL)
		return false;
	memcpy(h, msg->headers, msg->nheaders * sizeof *h);
	size_t nh = msg->nheaders;
	for (const char *line = log; line != NULL && *line != '\0';) {
		const char *eol = strchr(line, '\n');
		size_t llen = eol ? (size_t)(eol - line) : strlen(line);
		bool ins = strncmp(line, "insheader ", 10) == 0;
		bool add = strncmp(line, "addheader ", 10) == 0;
		if ((ins || add) && *nadded + 2 <= MAX_ADDED && nh < msg->nheaders + MAX_ADDED) {
			const char *p = line + 10;
			unsigned long idx = nh;
			if (ins) {
				char *end;
				idx = strtoul(p, &end, 10);
				p = end + 1;
			}
			const char *colon = memchr(p, ':', (size_t)(line + llen - p));
			if (colon != NULL) {
				char *name = strndup(p, (size_t)(colon - p));
				char *value = strndup(colon + 1, (size_t)(line + llen - colon - 1));
				if (name == NULL || value == NULL) {
					free(name);
					free(value);
					free(h);
					for (size_t i = 0; i < *nadded; i++)
						free(added[i]);
					return false;
				}
				added[(*nadded)++] = name;
				added[(*nadded)++] = value;
				if (idx > nh)
					idx = nh;
				memmove(&h[idx + 1], &h[idx], (nh - idx) * sizeof *h);
				h[idx].name = name;
				h[idx].value = value;
				nh++;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	out->headers = h;
	out->nheaders = nh;
	return true;
}

static void free_applied(struct milter_msg *m, char **added, size_t nadded)
{
	free(m->headers);
	for (size_t i = 0; i < nadded; i++)
		free(added[i]);
}

static void note_error(struct worker *w, const char *what, const char *why)
{
	w->errors++;
	if (w->first_error[0] == '\0')
		snprintf(w->first_error, sizeof w->first_error, "%s: %s", what, why);
}

/* Sends one message over *mc (opened on demand); false on a protocol error
 * (the connection is then closed). */
static bool send_one(struct milter_conn **mc, const char *spec, const struct milter_msg *msg,
		     struct strbuf *log, enum milter_verdict *verdict, struct worker *w)
{
	char stack[256];
	struct strbuf err;
	strbuf_init(&err, stack, sizeof stack, 4096);
	bool ok = true;
	if (*mc == NULL && !milter_open(spec, opt.timeout_ms, mc, &err))
		ok = false;
	if (ok && !milter_message(*mc, msg, log, verdict, &err)) {
		milter_close(*mc);
		*mc = NULL;
		ok = false;
	}
	if (!ok)
		note_error(w, spec, strbuf_str(&err));
	strbuf_free(&err);
	return ok;
}

static void check_result(struct worker *w, const struct corpus_msg *cm, const char *log,
			 enum milter_verdict verdict)
{
	if (verdict == MILTER_REJECT)
		w->rejected++;
	else if (verdict == MILTER_TEMPFAIL)
		w->tempfailed++;
	char buf[32];
	const char *r = dmarc_result(log, buf, sizeof buf);
	if (cm->expect == EXPECT_ANY || opt.no_check)
		return;
	const char *want = cm->expect == EXPECT_PASS ? "pass" : "fail";
	if (r == NULL || strcasecmp(r, want) != 0) {
		w->mismatches++;
		if (w->mismatches <= 3)
			fprintf(stderr, "milter-bench: %s: dmarc=%s, expected %s\n",
				cm->msg.macros[0].value, r ? r : "(no Authentication-Results)",
				want);
	}
}

/* With -R: sleeps until this connection's next start time. */
static void pace(double start, unsigned long nth, double interval)
{
	double when = start + (double)nth * interval;
	double now = now_sec();
	if (when <= now)
		return; /* behind schedule: send at once */
	struct timespec ts = { (time_t)(when - now), 0 };
	ts.tv_nsec = (long)((when - now - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct milter_conn *mc[2] = { NULL, NULL };
	unsigned on_conn = 0;
	struct strbuf log;
	strbuf_init(&log, NULL, 0, LOG_MAX);
	/* -R: each connection starts one message every conns/rate seconds,
	 * the connections offset from each other by 1/rate. */
	double interval = opt.rate > 0 ? (double)opt.conns / opt.rate : 0;
	double start = now_sec() + (opt.rate > 0 ? (double)w->index / opt.rate : 0);
	unsigned long nth = 0;
	for (;;) {
		if (interval > 0)
			pace(start, nth++, interval);
		unsigned long i = atomic_fetch_add(&next_msg, 1);
		if (i >= opt.total)
			break;
		const struct corpus_msg *cm = &corpus[i % ncorpus];
		if (on_conn >= opt.per_conn) {
			for (size_t k = 0; k < opt.nspec; k++) {
				milter_close(mc[k]);
				mc[k] = NULL;
			}
			on_conn = 0;
		}
		double t0 = now_sec();
		enum milter_verdict verdict = MILTER_ACCEPT;
		strbuf_reset(&log);
		bool ok = send_one(&mc[0], opt.spec[0], &cm->msg, &log, &verdict, w);
		if (ok && opt.nspec == 2 && verdict == MILTER_ACCEPT) {
			struct milter_msg second;
			char *added[MAX_ADDED];
			size_t nadded = 0;
			if (!apply_added(&cm->msg, strbuf_str(&log), &second, added, &nadded)) {
				note_error(w, "client", "out of memory");
				ok = false;
			} else {
				strbuf_reset(&log);
				ok = send_one(&mc[1], opt.spec[1], &second, &log, &verdict, w);
				free_applied(&second, added, nadded);
			}
		}
		latency_ms[i] = (now_sec() - t0) * 1000.0;
		on_conn++;
		w->sent++;
		if (ok)
			check_result(w, cm, strbuf_str(&log), verdict);
		else
			on_conn = opt.per_conn; /* reconnect every filter */
		atomic_fetch_add(&done_msgs, 1);
	}
	for (size_t k = 0; k < opt.nspec; k++)
		milter_close(mc[k]);
	strbuf_free(&log);
	return NULL;
}

/* ---- main ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return sorted[k < n ? k : n - 1];
}

static void usage(void)
{
	fputs("usage: milter-bench -s SOCKET [-s SOCKET2] -M MANIFEST [-c CONNECTIONS]\n"
	      "         [-n MESSAGES] [-m MESSAGES_PER_CONNECTION] [-p PID]...\n"
	      "         [-r RSS_EVERY] [-R RATE] [-t TIMEOUT_SEC] [-l LABEL] [-X]\n", stderr);
}

static bool parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_args(int argc, char **argv)
{
	opt.conns = 4;
	opt.total = 1000;
	opt.per_conn = 1;
	opt.timeout_ms = 30000;
	opt.label = "run";
	int c;
	unsigned long v;
	while ((c = getopt(argc, argv, "s:M:c:n:m:p:r:R:t:l:X")) != -1) {
		bool ok = true;
		switch (c) {
		case 's':
			ok = opt.nspec < 2;
			if (ok)
				opt.spec[opt.nspec++] = optarg;
			break;
		case 'M': opt.manifest = optarg; break;
		case 'c':
			ok = parse_ulong(optarg, 1, MAX_CONNECTIONS, &v);
			opt.conns = (unsigned)v;
			break;
		case 'n': ok = parse_ulong(optarg, 1, 100000000, &opt.total); break;
		case 'm':
			ok = parse_ulong(optarg, 1, 1000000, &v);
			opt.per_conn = (unsigned)v;
			break;
		case 'p':
			ok = opt.npids < MAX_PIDS && parse_ulong(optarg, 1, 1u << 30, &v);
			if (ok)
				opt.pids[opt.npids++] = (int)v;
			break;
		case 'r': ok = parse_ulong(optarg, 1, 100000000, &opt.rss_every); break;
		case 'R':
			ok = parse_ulong(optarg, 1, 1000000, &v);
			opt.rate = (double)v;
			break;
		case 't':
			ok = parse_ulong(optarg, 1, 3600, &v);
			opt.timeout_ms = (unsigned)v * 1000;
			break;
		case 'l': opt.label = optarg; break;
		case 'X': opt.no_check = true; break;
		default: ok = false; break;
		}
		if (!ok) {
			usage();
			return false;
		}
	}
	if (opt.nspec == 0 || opt.manifest == NULL || optind != argc) {
		usage();
		return false;
	}
	return true;
}

/* Prints "rss messages=N vmrss_kb.K=..." whenever another EVERY messages are
 * done; returns when every worker is finished. */
static void watch_memory(void)
{
	unsigned long next = opt.rss_every;
	while (atomic_load(&done_msgs) < opt.total) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		unsigned long d = atomic_load(&done_msgs);
		if (opt.rss_every == 0 || d < next)
			continue;
		printf("rss messages=%lu", d);
		for (size_t k = 0; k < opt.npids; k++)
			printf(" vmrss_kb.%zu=%ld", k, proc_status_kb(opt.pids[k], "VmRSS"));
		printf("\n");
		fflush(stdout);
		while (next <= d)
			next += opt.rss_every;
	}
}

int main(int argc, char **argv)
{
	if (!parse_args(argc, argv))
		return 2;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	if (!load_corpus(&err)) {
		fprintf(stderr, "milter-bench: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		free_corpus();
		return 2;
	}
	strbuf_free(&err);
	latency_ms = calloc(opt.total, sizeof *latency_ms);
	struct worker *w = calloc(opt.conns, sizeof *w);
	if (latency_ms == NULL || w == NULL) {
		fprintf(stderr, "milter-bench: out of memory\n");
		return 2;
	}
	double cpu0[MAX_PIDS];
	for (size_t k = 0; k < opt.npids; k++)
		cpu0[k] = proc_cpu_sec(opt.pids[k]);
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	double t0 = now_sec();
	unsigned started = 0;
	for (unsigned i = 0; i < opt.conns; i++) {
		w[i].index = i;
		int r = pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
		if (r != 0) {
			fprintf(stderr, "milter-bench: pthread_create: %s\n", strerror(r));
			atomic_store(&next_msg, opt.total); /* stop the others */
			break;
		}
		started++;
	}
	if (started == opt.conns)
		watch_memory();
	for (unsigned i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	double wall = now_sec() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	double client_cpu =
		(double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
		(double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
		(double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		(double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;

	unsigned long sent = 0, errors = 0, mism = 0, rej = 0, tf = 0;
	const char *first_error = NULL;
	for (unsigned i = 0; i < started; i++) {
		sent += w[i].sent;
		errors += w[i].errors;
		mism += w[i].mismatches;
		rej += w[i].rejected;
		tf += w[i].tempfailed;
		if (first_error == NULL && w[i].first_error[0] != '\0')
			first_error = w[i].first_error;
	}
	qsort(latency_ms, sent, sizeof *latency_ms, cmp_double);
	printf("%s: %lu messages over %u connections (%u per connection%s%s) in %.2f s: "
	       "%.0f msg/s; latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
	       opt.label, sent, opt.conns, opt.per_conn, opt.nspec == 2 ? ", chain of 2" : "",
	       opt.rate > 0 ? ", paced" : "", wall, sent / wall, percentile(latency_ms, sent, 50),
	       percentile(latency_ms, sent, 90), percentile(latency_ms, sent, 99),
	       sent ? latency_ms[sent - 1] : 0.0);
	printf("%s: %lu protocol errors, %lu DMARC results not as expected, %lu rejected, "
	       "%lu tempfailed; client CPU %.2f s\n", opt.label, errors, mism, rej, tf,
	       client_cpu);
	if (first_error != NULL)
		printf("%s: first error: %s\n", opt.label, first_error);
	printf("result label=%s messages=%lu errors=%lu mismatches=%lu wall_sec=%.3f "
	       "msgs_per_sec=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
	       "client_cpu_sec=%.3f", opt.label, sent, errors, mism, wall, sent / wall,
	       percentile(latency_ms, sent, 50), percentile(latency_ms, sent, 90),
	       percentile(latency_ms, sent, 99), sent ? latency_ms[sent - 1] : 0.0,
	       client_cpu);
	for (size_t k = 0; k < opt.npids; k++) {
		double c1 = proc_cpu_sec(opt.pids[k]);
		printf(" cpu_sec.%zu=%.3f vmhwm_kb.%zu=%ld vmrss_kb.%zu=%ld", k,
		       c1 >= 0 && cpu0[k] >= 0 ? c1 - cpu0[k] : -1.0, k,
		       proc_status_kb(opt.pids[k], "VmHWM"), k,
		       proc_status_kb(opt.pids[k], "VmRSS"));
	}
	printf("\n");
	free(w);
	free(latency_ms);
	free_corpus();
	if (fflush(stdout) != 0)
		return 2;
	return errors == 0 && mism == 0 && sent == opt.total ? 0 : 1;
}
