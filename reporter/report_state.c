/* report_state: reports, destinations and finished days in SQLite. */
#include <stdlib.h>
#include <string.h>

#include "report_state.h"

static bool state_fail(sqlite3 *db, sqlite3_stmt *s, const char *what, struct strbuf *err)
{
	strbuf_printf(err, "report state: %s: %s", what, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return false;
}

static void bind_opt(sqlite3_stmt *s, int col, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, col, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, col);
}

bool state_report_add(sqlite3 *db, const struct state_report *r, int64_t *rowid,
		      bool *existed, struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO reports (report_id, day,"
			       " policy_domain, policy_key, rua, created, records, messages,"
			       " xml_gz) VALUES (?,?,?,?,?,strftime('%s','now'),?,?,?)",
			       -1, &s, NULL) != SQLITE_OK)
		return state_fail(db, s, "prepare", err);
	sqlite3_bind_text(s, 1, r->report_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->day);
	sqlite3_bind_text(s, 3, r->policy_domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->policy_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->rua, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->records);
	sqlite3_bind_int64(s, 7, r->messages);
	sqlite3_bind_blob(s, 8, r->gz, (int)r->gz_len, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(db, s, "insert report", err);
	*existed = sqlite3_changes(db) == 0;
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT id FROM reports WHERE day = ? AND"
			       " policy_domain = ? AND policy_key = ?", -1, &s, NULL) != SQLITE_OK)
		return state_fail(db, s, "prepare", err);
	sqlite3_bind_int64(s, 1, r->day);
	sqlite3_bind_text(s, 2, r->policy_domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->policy_key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return state_fail(db, s, "find report", err);
	*rowid = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return true;
}

bool state_dest_add(sqlite3 *db, int64_t report, const char *address,
		    const char *send_to, const char *status, const char *why,
		    struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO report_destinations"
			       " (report, address, send_to, status, last_error)"
			       " VALUES (?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK)
		return state_fail(db, s, "prepare", err);
	sqlite3_bind_int64(s, 1, report);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	bind_opt(s, 3, send_to);
	sqlite3_bind_text(s, 4, status, -1, SQLITE_STATIC);
	bind_opt(s, 5, why);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(db, s, "insert destination", err);
	sqlite3_finalize(s);
	return true;
}

bool state_dest_set(sqlite3 *db, int64_t report, const char *address,
		    const char *send_to, const char *status, bool attempt,
		    const char *why, struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "UPDATE report_destinations SET status = ?1,"
			       " send_to = ifnull(?2, send_to),"
			       " attempts = attempts + ?3, last_error = ?4,"
			       " sent_time = CASE WHEN ?1 = 'sent' THEN strftime('%s','now')"
			       " ELSE sent_time END WHERE report = ?5 AND address = ?6",
			       -1, &s, NULL) != SQLITE_OK)
		return state_fail(db, s, "prepare", err);
	sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
	bind_opt(s, 2, send_to);
	sqlite3_bind_int(s, 3, attempt ? 1 : 0);
	bind_opt(s, 4, why);
	sqlite3_bind_int64(s, 5, report);
	sqlite3_bind_text(s, 6, address, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(db, s, "update destination", err);
	sqlite3_finalize(s);
	return true;
}

static char *dup_col(sqlite3_stmt *s, int c)
{
	const unsigned char *t = sqlite3_column_text(s, c);
	return t ? strdup((const char *)t) : NULL;
}

void state_dests_free(struct state_dest *d, size_t n)
{
	for (size_t i = 0; d != NULL && i < n; i++) {
		free(d[i].address);
		free(d[i].send_to);
		free(d[i].status);
		free(d[i].report_id);
		free(d[i].policy_domain);
		free(d[i].rua);
		free(d[i].gz);
	}
	free(d);
}

struct state_dest *state_dests_due(sqlite3 *db, int max_attempts, const char *domain,
				   size_t *n, struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	struct state_dest *out = NULL;
	size_t cap = 0;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT d.report, d.address, d.send_to, d.status,"
			       " d.attempts, r.report_id, r.policy_domain, r.rua, r.day, r.xml_gz"
			       " FROM report_destinations d JOIN reports r ON r.id = d.report"
			       " WHERE d.status IN ('pending','sending','failed','tempfail')"
			       " AND d.attempts < ?1 AND (?2 IS NULL OR r.policy_domain = ?2)"
			       " ORDER BY r.day, r.id, d.address", -1, &s, NULL) != SQLITE_OK) {
		state_fail(db, s, "prepare", err);
		return NULL;
	}
	sqlite3_bind_int(s, 1, max_attempts);
	if (domain != NULL)
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct state_dest *p = realloc(out, cap * sizeof *p);
			if (p == NULL)
				break;
			out = p;
		}
		struct state_dest *d = &out[(*n)++];
		memset(d, 0, sizeof *d);
		d->report = sqlite3_column_int64(s, 0);
		d->address = dup_col(s, 1);
		d->send_to = dup_col(s, 2);
		d->status = dup_col(s, 3);
		d->attempts = sqlite3_column_int(s, 4);
		d->report_id = dup_col(s, 5);
		d->policy_domain = dup_col(s, 6);
		d->rua = dup_col(s, 7);
		d->day = sqlite3_column_int64(s, 8);
		int len = sqlite3_column_bytes(s, 9);
		d->gz = malloc(len > 0 ? (size_t)len : 1);
		if (d->gz != NULL && len > 0)
			memcpy(d->gz, sqlite3_column_blob(s, 9), (size_t)len);
		d->gz_len = (size_t)len;
		if (!d->address || !d->status || !d->report_id || !d->policy_domain ||
		    !d->rua || !d->gz) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		strbuf_printf(err, "report state: reading destinations: %s",
			      rc == SQLITE_NOMEM || rc == SQLITE_ROW ? "out of memory" : sqlite3_errmsg(db));
		state_dests_free(out, *n);
		out = NULL;
		*n = 0;
	}
	sqlite3_finalize(s);
	return out;
}

bool state_day_done(sqlite3 *db, int64_t day, int64_t now, struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO reported_days VALUES (?, ?)",
			       -1, &s, NULL) != SQLITE_OK)
		return state_fail(db, s, "prepare", err);
	sqlite3_bind_int64(s, 1, day);
	sqlite3_bind_int64(s, 2, now);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(db, s, "mark day", err);
	sqlite3_finalize(s);
	return true;
}

long long state_expire(sqlite3 *db, int64_t before_day, size_t chunk_rows,
		       struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	long long total = 0;
	if (chunk_rows == 0)
		chunk_rows = 1000;
	/* destination rows go with their report (ON DELETE CASCADE) */
	if (sqlite3_prepare_v2(db, "DELETE FROM reports WHERE id IN (SELECT id FROM"
			       " reports WHERE day < ?1 ORDER BY id LIMIT ?2)",
			       -1, &s, NULL) != SQLITE_OK) {
		state_fail(db, s, "prepare", err);
		return -1;
	}
	for (;;) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, before_day);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)chunk_rows);
		if (sqlite3_step(s) != SQLITE_DONE) {
			state_fail(db, s, "expire reports", err);
			return -1;
		}
		int n = sqlite3_changes(db);
		total += n;
		if ((size_t)n < chunk_rows)
			break;
	}
	sqlite3_finalize(s);
	return total;
}
