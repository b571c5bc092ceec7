/* event_writer: bounded queue and the one thread that batches events into SQLite. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event_store.h"
#include "event_writer.h"

#define EVENT_WRITER_DROP_LOG_SEC 10 /* at most one "dropped" line this often */

struct event_writer {
	struct event_writer_config cfg;
	char *path;                  /* our copy of cfg.path */
	pthread_mutex_t lock;        /* guards everything below but store */
	pthread_cond_t wake;         /* queue grew to a batch, or stop */
	struct msg_event **ring;         /* queue_max slots */
	size_t head;                 /* oldest event */
	size_t count;                /* events in the ring, the batch in flight included */
	bool stopping;
	struct event_writer_stats stats;
	pthread_t thread;
	struct event_store *store;   /* writer thread only */
	uint64_t dropped_logged;     /* writer thread only */
	time_t drop_logged_at;       /* writer thread only */
};

static void writer_log(struct event_writer *w, enum event_writer_level lvl,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void writer_log(struct event_writer *w, enum event_writer_level lvl,
		       const char *fmt, ...)
{
	if (w->cfg.log == NULL)
		return;
	char stack[512];
	struct strbuf sb;
	strbuf_init(&sb, stack, sizeof stack, 4096);
	va_list ap;
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	w->cfg.log(w->cfg.log_arg, lvl, strbuf_str(&sb));
	strbuf_free(&sb);
}

static struct timespec deadline_after(unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static bool past(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Writes one batch, opening or reopening the store as needed. Runs unlocked. */
static bool writer_write(struct event_writer *w, struct msg_event **batch, size_t n,
			 struct strbuf *err)
{
	if (w->store != NULL && event_store_replaced(w->store)) {
		strbuf_printf(err, "%s was deleted or replaced; reopening", w->path);
		event_store_close(w->store);
		w->store = NULL;
		return false;
	}
	if (w->store == NULL &&
	    !event_store_open(w->path, w->cfg.busy_ms, &w->store, err))
		return false;
	return event_store_insert(w->store, batch, n, err);
}

/* Logs the drops counted since the last line, at most every few seconds. */
static void writer_log_drops(struct event_writer *w, uint64_t dropped, bool force)
{
	time_t now = time(NULL);
	if (dropped == w->dropped_logged)
		return;
	if (!force && now - w->drop_logged_at < EVENT_WRITER_DROP_LOG_SEC)
		return;
	writer_log(w, EVENT_WRITER_WARNING,
		   "event log: %llu events dropped (%llu in all): the queue of %zu was full;"
		   " raise EventQueueSize or fix the database %s",
		   (unsigned long long)(dropped - w->dropped_logged),
		   (unsigned long long)dropped, w->cfg.queue_max, w->path);
	w->dropped_logged = dropped;
	w->drop_logged_at = now;
}

/* Removes the first k events from the ring, freeing them when free_them
 * (otherwise the caller already did). Locked. */
static void writer_consume(struct event_writer *w, size_t k, bool free_them)
{
	for (size_t i = 0; i < k; i++) {
		size_t at = (w->head + i) % w->cfg.queue_max;
		if (free_them)
			msg_event_free(w->ring[at]);
		w->ring[at] = NULL;
	}
	w->head = (w->head + k) % w->cfg.queue_max;
	w->count -= k;
}

static void *writer_main(void *arg)
{
	struct event_writer *w = arg;
	struct msg_event **batch = calloc(w->cfg.batch_rows, sizeof *batch);
	struct timespec flush_deadline = {0, 0};
	bool flush_armed = false;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->count == 0 && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->count == 0 && w->stopping)
			break;
		if (w->stopping && !flush_armed) {
			flush_deadline = deadline_after(w->cfg.flush_timeout_ms);
			flush_armed = true;
		}
		/* Let a batch fill up, but never hold an event past batch_ms. */
		struct timespec until = deadline_after(w->cfg.batch_ms);
		while (w->count < w->cfg.batch_rows && !w->stopping &&
		       pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
			;
		size_t k = w->count < w->cfg.batch_rows ? w->count : w->cfg.batch_rows;
		for (size_t i = 0; i < k; i++)
			batch[i] = w->ring[(w->head + i) % w->cfg.queue_max];
		uint64_t dropped = w->stats.dropped;
		bool was_healthy = w->stats.healthy;
		pthread_mutex_unlock(&w->lock);

		char stack[512];
		struct strbuf err;
		strbuf_init(&err, stack, sizeof stack, 2048);
		bool ok = batch != NULL && writer_write(w, batch, k, &err);
		if (ok && !was_healthy)
			writer_log(w, EVENT_WRITER_INFO, "event log: writing to %s", w->path);
		if (!ok && (was_healthy || w->stats.failures == 0))
			writer_log(w, EVENT_WRITER_ERROR,
				   "event log: %s; events wait in memory (up to EventQueueSize=%zu)"
				   " and the write is retried every %u ms",
				   batch ? strbuf_str(&err) : "out of memory",
				   w->cfg.queue_max, w->cfg.retry_ms);
		strbuf_free(&err);
		writer_log_drops(w, dropped, false);
		/* Free a written batch before taking the lock: a thousand events
		 * freed under it would make every submit() wait meanwhile. Only
		 * this thread reads the slots between head and head + k. */
		if (ok)
			for (size_t i = 0; i < k; i++)
				msg_event_free(batch[i]);

		pthread_mutex_lock(&w->lock);
		if (ok) {
			writer_consume(w, k, false);
			w->stats.written += k;
			w->stats.healthy = true;
			continue;
		}
		w->stats.failures++;
		w->stats.healthy = false;
		if (w->stopping) {
			if (!flush_armed) {
				flush_deadline = deadline_after(w->cfg.flush_timeout_ms);
				flush_armed = true;
			}
			if (past(&flush_deadline)) {
				writer_log(w, EVENT_WRITER_ERROR,
					   "event log: stopping with %zu events unwritten to %s: they are lost",
					   w->count, w->path);
				w->stats.dropped += w->count;
				writer_consume(w, w->count, true);
				break;
			}
		}
		struct timespec pause = deadline_after(w->cfg.retry_ms);
		while (pthread_cond_timedwait(&w->wake, &w->lock, &pause) != ETIMEDOUT &&
		       !w->stopping)
			;
	}
	uint64_t dropped = w->stats.dropped;
	pthread_mutex_unlock(&w->lock);
	writer_log_drops(w, dropped, true);
	free(batch);
	event_store_close(w->store);
	w->store = NULL;
	return NULL;
}

bool event_writer_start(const struct event_writer_config *cfg,
			struct event_writer **out, struct strbuf *err)
{
	*out = NULL;
	if (cfg->path == NULL || cfg->path[0] == '\0' || cfg->queue_max == 0 ||
	    cfg->batch_rows == 0 || cfg->batch_ms == 0) {
		strbuf_puts(err, "event writer: a database path, a queue size, a batch size and a batch interval are required");
		return false;
	}
	struct event_writer *w = calloc(1, sizeof *w);
	if (w == NULL)
		goto oom;
	w->cfg = *cfg;
	w->path = strdup(cfg->path);
	w->ring = calloc(cfg->queue_max, sizeof *w->ring);
	if (w->path == NULL || w->ring == NULL)
		goto oom;
	w->cfg.path = w->path;
	if (w->cfg.retry_ms == 0)
		w->cfg.retry_ms = 1000;
	w->stats.healthy = true;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc != 0) {
		strbuf_printf(err, "event writer: cannot start its thread: %s", strerror(rc));
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		free(w->ring);
		free(w->path);
		free(w);
		return false;
	}
	*out = w;
	return true;
oom:
	if (w != NULL) {
		free(w->ring);
		free(w->path);
		free(w);
	}
	strbuf_puts(err, "event writer: out of memory");
	return false;
}

bool event_writer_submit(struct event_writer *w, struct msg_event *ev)
{
	pthread_mutex_lock(&w->lock);
	w->stats.submitted++;
	if (w->stopping || w->count >= w->cfg.queue_max) {
		w->stats.dropped++;
		pthread_mutex_unlock(&w->lock);
		msg_event_free(ev);
		return false;
	}
	w->ring[(w->head + w->count) % w->cfg.queue_max] = ev;
	w->count++;
	if (w->count == 1 || w->count >= w->cfg.batch_rows)
		pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return true;
}

void event_writer_stats(struct event_writer *w, struct event_writer_stats *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->stats;
	out->queued = w->count;
	pthread_mutex_unlock(&w->lock);
}

void event_writer_stop(struct event_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w->ring);
	free(w->path);
	free(w);
}
