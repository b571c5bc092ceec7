/* event_writer: the single thread that writes events to the event store.
 *
 * The milter hands each finished event to event_writer_submit(), which only
 * appends to a bounded in-memory queue and never waits on the database. One
 * writer thread takes batches (at most batch_rows events, or whatever has
 * waited batch_ms) and inserts each batch in one transaction.
 *
 * When the database fails (locked, read-only, disk full, deleted or replaced
 * underneath us) mail keeps flowing: events wait in the queue up to
 * queue_max, every event that does not fit is dropped and counted, and the
 * writer retries every retry_ms until the database works again (reopening
 * it when the file was deleted or replaced).
 *
 * Loss window on a crash (kill -9): the events still in the queue, i.e. at
 * most one batch interval (batch_ms) of mail when the database is healthy.
 * event_writer_stop() (SIGTERM) flushes everything it can within
 * flush_timeout_ms.
 *
 * Callers: milter/ (one writer per process).
 * Ownership: event_writer_start() -> new; event_writer_stop() frees it.
 *   event_writer_submit() takes ownership of the event.
 * Logging: lib/ never logs itself; the writer reports through the log
 *   callback given in the configuration (called from the writer thread).
 * Thread safety: submit and stats may be called from any thread. */
#ifndef DMARC_EVENT_WRITER_H
#define DMARC_EVENT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg_event.h"
#include "strbuf.h"

enum event_writer_level { EVENT_WRITER_INFO, EVENT_WRITER_WARNING, EVENT_WRITER_ERROR };

struct event_writer_config {
	const char *path;          /* database file */
	size_t queue_max;          /* events held in memory at most */
	size_t batch_rows;         /* events per transaction at most */
	unsigned batch_ms;         /* longest an event waits before a write */
	unsigned busy_ms;          /* SQLite busy timeout per attempt */
	unsigned retry_ms;         /* pause after a failed open or write */
	unsigned flush_timeout_ms; /* how long stop() keeps retrying */
	void (*log)(void *arg, enum event_writer_level level, const char *msg);
	void *log_arg;
};

struct event_writer_stats {
	uint64_t submitted;   /* events handed to submit() */
	uint64_t written;     /* events committed to the database */
	uint64_t dropped;     /* events lost: queue full, or unwritten at stop */
	uint64_t failures;    /* failed open or write attempts */
	size_t queued;        /* events waiting now */
	bool healthy;         /* the last open/write worked */
};

struct event_writer;

/* Starts the writer thread. The database is opened by the thread; a database
 * that cannot be opened yet is not an error here (events wait and the
 * writer retries), but a bad configuration is. */
bool event_writer_start(const struct event_writer_config *cfg,
			struct event_writer **out, struct strbuf *err);

/* Queues ev (takes ownership). Never blocks on the database. false when the
 * queue is full or the writer is stopping: the event was dropped, counted
 * and freed. */
bool event_writer_submit(struct event_writer *w, struct msg_event *ev);

/* A snapshot of the counters. */
void event_writer_stats(struct event_writer *w, struct event_writer_stats *out);

/* Flushes the queue (retrying up to flush_timeout_ms), stops the thread and
 * frees the writer; NULL is a no-op. Events that could not be written are
 * counted as dropped and logged. */
void event_writer_stop(struct event_writer *w);

#endif
