/* report_state: what dmarc-reporter has built and sent, in the event database.
 *
 * Tables reports, report_destinations and reported_days (doc/event-schema.md).
 * A report row is written once per (day, policy domain, policy
 * configuration) with its stable report id and its gzipped XML; each of its
 * destinations gets a row whose status moves
 *   pending -> sending -> sent | failed (retried until ReportMaxAttempts)
 *   tempfail (authorization lookup failed: verified again next run)
 *   unauthorized | skipped (never sent).
 * Every change is its own transaction, so a crash between two destinations
 * loses nothing and sends nothing twice: the next run finishes what is left.
 * Reports are kept (for retries and audits) until --expire or
 * EventRetentionDays removes them with the events of their day.
 *
 * Callers: reporter/main.c. Ownership: strings in a state_dest are owned by
 * it; state_dests_free() releases an array. Errors: false with SQLite's
 * message in err. */
#ifndef DMARC_REPORT_STATE_H
#define DMARC_REPORT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "strbuf.h"

struct state_report {
	int64_t day;
	const char *policy_domain, *policy_key, *report_id, *rua;
	long long records, messages;
	const unsigned char *gz;
	size_t gz_len;
};

/* Inserts the report unless one exists for (day, domain, key). *rowid gets
 * the row; *existed tells whether it was already there. */
bool state_report_add(sqlite3 *db, const struct state_report *r, int64_t *rowid,
		      bool *existed, struct strbuf *err);

/* Inserts a destination row unless it exists (then nothing changes). */
bool state_dest_add(sqlite3 *db, int64_t report, const char *address,
		    const char *send_to, const char *status, const char *why,
		    struct strbuf *err);

/* Sets status (and counts an attempt when attempt is true); sent_time is set
 * when status is "sent". */
bool state_dest_set(sqlite3 *db, int64_t report, const char *address,
		    const char *send_to, const char *status, bool attempt,
		    const char *why, struct strbuf *err);

struct state_dest {
	int64_t report;          /* reports.id */
	char *address, *send_to, *status;
	int attempts;
	/* from the report row */
	char *report_id, *policy_domain, *rua;
	int64_t day;
	unsigned char *gz;
	size_t gz_len;
};

/* Destinations still to act on: status in (pending, sending, failed,
 * tempfail) with fewer than max_attempts attempts, oldest report first.
 * domain narrows to one policy domain when not NULL. */
struct state_dest *state_dests_due(sqlite3 *db, int max_attempts, const char *domain,
				   size_t *n, struct strbuf *err);
void state_dests_free(struct state_dest *d, size_t n);

/* Marks a day's reports as all built. */
bool state_day_done(sqlite3 *db, int64_t day, int64_t now, struct strbuf *err);

/* Deletes the reports (with their gzipped XML and destination rows) of the
 * days before before_day, at most chunk_rows reports per transaction.
 * reported_days keeps its rows, so those days are never reported again.
 * Returns the number of reports deleted, or -1 on error. */
long long state_expire(sqlite3 *db, int64_t before_day, size_t chunk_rows,
		       struct strbuf *err);

#endif
