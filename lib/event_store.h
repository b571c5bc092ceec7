/* event_store: the SQLite event log — schema, migrations, batched inserts,
 * retention.
 *
 * Callers: lib/event_writer (the milter's single writer thread) inserts;
 * dmarc-reporter reads through event_store_db() and expires old rows.
 * The schema is documented in doc/event-schema.md; migrations run on open
 * (table schema_version holds the version reached). WAL mode, so a reader's
 * long transaction never blocks the writer.
 *
 * Ownership: event_store_open() -> new; caller frees with event_store_close().
 *   event_store_db() is borrowed; valid until event_store_close().
 * Errors: functions return false (or -1) and write a reason into err, naming
 *   the database path and SQLite's message.
 * Thread safety: one store belongs to one thread at a time.
 * Limits: EVENT_STORE_EXPIRE_CHUNK rows per delete transaction. */
#ifndef DMARC_EVENT_STORE_H
#define DMARC_EVENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "msg_event.h"
#include "strbuf.h"

#define EVENT_STORE_SCHEMA_VERSION 2
#define EVENT_STORE_EXPIRE_CHUNK 5000

struct event_store;

/* Opens (creating when missing) the database at path, sets WAL mode and a
 * busy timeout of busy_ms, and migrates the schema to the current version. */
bool event_store_open(const char *path, unsigned busy_ms,
		      struct event_store **out, struct strbuf *err);

/* Closes the database; NULL is a no-op. */
void event_store_close(struct event_store *st);

/* Inserts n events (and their DKIM rows) in one transaction. On failure the
 * transaction is rolled back and nothing of the batch is stored. */
bool event_store_insert(struct event_store *st, struct msg_event *const *evs,
			size_t n, struct strbuf *err);

/* True when the file at the store's path is no longer the one we opened
 * (deleted or replaced underneath us): the caller should reopen. */
bool event_store_replaced(const struct event_store *st);

/* Deletes events older than before_time (epoch seconds) in transactions of
 * at most chunk_rows rows, so no lock is held for long. Returns the number of
 * events deleted, or -1 on error. */
long long event_store_expire(struct event_store *st, int64_t before_time,
			     size_t chunk_rows, struct strbuf *err);

/* The schema version of the open database. */
int event_store_schema_version(struct event_store *st);

/* The underlying connection, for read queries (borrowed). */
sqlite3 *event_store_db(struct event_store *st);

/* The path the store was opened with (borrowed). */
const char *event_store_path(const struct event_store *st);

#endif
