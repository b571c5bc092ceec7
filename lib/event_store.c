/* event_store: SQLite schema, migrations, batched inserts and retention. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <sqlite3.h>

#include "event_store.h"

struct event_store {
	sqlite3 *db;
	char *path;
	dev_t dev;               /* identity of the file we opened, to notice */
	ino_t ino;               /* a deletion or replacement underneath us */
	sqlite3_stmt *ins_event; /* prepared once, reused per row */
	sqlite3_stmt *ins_dkim;
};

/* Migration N brings the schema from version N-1 to N. Never edit a shipped
 * migration: append a new one and bump EVENT_STORE_SCHEMA_VERSION. */
static const char *const event_store_migrations[] = {
	/* 1: events and their DKIM signatures */
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"          /* UTC epoch seconds */
	" day INTEGER NOT NULL,"           /* time / 86400: the UTC day number */
	" queue_id TEXT, client_ip TEXT NOT NULL, helo TEXT,"
	" envelope_from TEXT, envelope_to TEXT, header_from TEXT NOT NULL,"
	" policy_domain TEXT, policy_origin TEXT, discovery_method TEXT,"
	" org_domain TEXT,"
	" p TEXT, sp TEXT, np TEXT, adkim TEXT, aspf TEXT, fo TEXT, t TEXT,"
	" psd TEXT, pct INTEGER, rua TEXT, ruf TEXT,"
	" spf_result TEXT, spf_domain TEXT, spf_scope TEXT,"
	" spf_aligned INTEGER NOT NULL, dkim_aligned INTEGER NOT NULL,"
	" dmarc_result TEXT NOT NULL, policy_applied TEXT, disposition TEXT NOT NULL,"
	" override_type TEXT, override_comment TEXT,"
	" spf_verdict TEXT, dkim_verdict TEXT, dmarc_verdict TEXT,"
	" policy_verdict TEXT);"
	"CREATE TABLE event_dkim ("
	" event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL, domain TEXT, selector TEXT, result TEXT,"
	" human_result TEXT, aligned INTEGER NOT NULL,"
	" PRIMARY KEY (event_id, idx)) WITHOUT ROWID;"
	/* the reporter groups one UTC day by policy domain */
	"CREATE INDEX events_day_domain ON events(day, policy_domain);"
	"CREATE INDEX events_time ON events(time);",

	/* 2: aggregate reports built and their destinations (dmarc-reporter) */
	"CREATE TABLE reports ("
	" id INTEGER PRIMARY KEY,"
	" report_id TEXT NOT NULL UNIQUE,"  /* letters and digits (RFC 9990) */
	" day INTEGER NOT NULL, policy_domain TEXT NOT NULL,"
	" policy_key TEXT NOT NULL,"        /* the published policy configuration */
	" rua TEXT NOT NULL,"               /* the rua list as published */
	" created INTEGER NOT NULL, records INTEGER NOT NULL,"
	" messages INTEGER NOT NULL,"
	" xml_gz BLOB NOT NULL,"            /* kept so retries never need the events */
	" UNIQUE (day, policy_domain, policy_key));"
	"CREATE TABLE report_destinations ("
	" report INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,"
	" address TEXT NOT NULL,"           /* the mailto address as published */
	" send_to TEXT,"                    /* after a same-host override */
	" status TEXT NOT NULL,"            /* pending sending sent failed tempfail unauthorized skipped */
	" attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
	" sent_time INTEGER, PRIMARY KEY (report, address)) WITHOUT ROWID;"
	"CREATE INDEX report_destinations_status ON report_destinations(status);"
	"CREATE TABLE reported_days (day INTEGER PRIMARY KEY, finished INTEGER NOT NULL);",
};

static const char event_store_insert_sql[] =
	"INSERT INTO events (time, day, queue_id, client_ip, helo, envelope_from,"
	" envelope_to, header_from, policy_domain, policy_origin, discovery_method,"
	" org_domain, p, sp, np, adkim, aspf, fo, t, psd, pct, rua, ruf, spf_result,"
	" spf_domain, spf_scope, spf_aligned, dkim_aligned, dmarc_result,"
	" policy_applied, disposition, override_type, override_comment,"
	" spf_verdict, dkim_verdict, dmarc_verdict, policy_verdict)"
	" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

static const char event_store_dkim_sql[] =
	"INSERT INTO event_dkim (event_id, idx, domain, selector, result,"
	" human_result, aligned) VALUES (?,?,?,?,?,?,?)";

/* SQLite's "unable to open database file" or "attempt to write a readonly
 * database" does not say why (and its errno is often that of a later
 * fallback, e.g. ENOENT for a -shm file it could not create), so a failure
 * on a read-only or full file system says so, from statvfs(3) of the
 * database's directory: that is what the operator must fix. */
static void event_store_fs_reason(const char *path, struct strbuf *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t len = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof dir)
		return;
	memcpy(dir, slash == NULL ? "." : path, len);
	dir[len] = '\0';
	struct statvfs vfs;
	if (statvfs(dir, &vfs) != 0)
		return;
	if (vfs.f_flag & ST_RDONLY)
		strbuf_printf(err, " (%s is on a read-only file system)", dir);
	else if (vfs.f_bavail == 0)
		strbuf_printf(err, " (the file system of %s is full)", dir);
}

static bool event_store_fail(struct event_store *st, struct strbuf *err,
			     const char *what)
{
	strbuf_printf(err, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
	event_store_fs_reason(st->path, err);
	return false;
}

static bool event_store_exec(struct event_store *st, const char *sql,
			     struct strbuf *err)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	strbuf_printf(err, "%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
	event_store_fs_reason(st->path, err);
	sqlite3_free(msg);
	return false;
}

int event_store_schema_version(struct event_store *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Runs every migration newer than the database, each in its own transaction. */
static bool event_store_migrate(struct event_store *st, struct strbuf *err)
{
	if (!event_store_exec(st, "CREATE TABLE IF NOT EXISTS schema_version"
			      " (version INTEGER NOT NULL, applied INTEGER NOT NULL)", err))
		return false;
	int have = event_store_schema_version(st);
	if (have < 0)
		have = 0;
	int want = (int)(sizeof event_store_migrations / sizeof event_store_migrations[0]);
	if (have > want) {
		strbuf_printf(err, "%s: schema version %d is newer than this program's %d;"
			      " upgrade dmarc-milter", st->path, have, want);
		return false;
	}
	for (int v = have + 1; v <= want; v++) {
		char bump[128];
		snprintf(bump, sizeof bump, "INSERT INTO schema_version VALUES (%d, strftime('%%s','now'));", v);
		if (!event_store_exec(st, "BEGIN IMMEDIATE", err))
			return false;
		if (!event_store_exec(st, event_store_migrations[v - 1], err) ||
		    !event_store_exec(st, bump, err)) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
		if (!event_store_exec(st, "COMMIT", err))
			return false;
	}
	return true;
}

static bool event_store_remember_file(struct event_store *st)
{
	struct stat sb;
	if (stat(st->path, &sb) != 0)
		return false;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	return true;
}

bool event_store_open(const char *path, unsigned busy_ms,
		      struct event_store **out, struct strbuf *err)
{
	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		/* SQLite would open a private temporary database for "" */
		strbuf_puts(err, "no event database: EventDatabase is empty (the event log"
			    " is off); set it to the milter's database file");
		return false;
	}
	struct event_store *st = calloc(1, sizeof *st);
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		free(st);
		strbuf_printf(err, "%s: out of memory", path);
		return false;
	}
	int rc = sqlite3_open_v2(path, &st->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		strbuf_printf(err, "open %s: %s", path,
			      st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		event_store_fs_reason(path, err);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, (int)busy_ms);
	/* WAL: readers never block the writer. synchronous=NORMAL: a commit
	 * survives a crash of our process (kill -9); only a power loss can undo
	 * the last commits. foreign_keys: DKIM rows go with their event. */
	if (!event_store_exec(st, "PRAGMA journal_mode=WAL", err) ||
	    !event_store_exec(st, "PRAGMA synchronous=NORMAL", err) ||
	    !event_store_exec(st, "PRAGMA foreign_keys=ON", err) ||
	    !event_store_migrate(st, err))
		goto fail;
	if (sqlite3_prepare_v2(st->db, event_store_insert_sql, -1, &st->ins_event, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, event_store_dkim_sql, -1, &st->ins_dkim, NULL) != SQLITE_OK) {
		event_store_fail(st, err, "prepare");
		goto fail;
	}
	if (!event_store_remember_file(st)) {
		strbuf_printf(err, "%s: cannot stat the database after opening it", path);
		goto fail;
	}
	*out = st;
	return true;
fail:
	event_store_close(st);
	return false;
}

void event_store_close(struct event_store *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->ins_event);
	sqlite3_finalize(st->ins_dkim);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

bool event_store_replaced(const struct event_store *st)
{
	struct stat sb;
	if (stat(st->path, &sb) != 0)
		return true;
	return sb.st_dev != st->dev || sb.st_ino != st->ino;
}

static void bind_text(sqlite3_stmt *s, int col, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, col);
}

static bool event_store_insert_one(struct event_store *st, const struct msg_event *ev)
{
	sqlite3_stmt *s = st->ins_event;
	const char *texts[] = {
		ev->queue_id, ev->client_ip ? ev->client_ip : "", ev->helo,
		ev->envelope_from, ev->envelope_to,
		ev->header_from ? ev->header_from : "", ev->policy_domain,
		ev->policy_origin, ev->discovery_method, ev->org_domain, ev->p,
		ev->sp, ev->np, ev->adkim, ev->aspf, ev->fo, ev->t, ev->psd,
	};
	int col = 1;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	sqlite3_bind_int64(s, col++, ev->time);
	sqlite3_bind_int64(s, col++, ev->time / 86400);
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		bind_text(s, col++, texts[i]);
	if (ev->pct >= 0)
		sqlite3_bind_int(s, col++, ev->pct);
	else
		sqlite3_bind_null(s, col++);
	const char *texts2[] = { ev->rua, ev->ruf, ev->spf_result, ev->spf_domain,
				 ev->spf_scope };
	for (size_t i = 0; i < sizeof texts2 / sizeof texts2[0]; i++)
		bind_text(s, col++, texts2[i]);
	sqlite3_bind_int(s, col++, ev->spf_aligned);
	sqlite3_bind_int(s, col++, ev->dkim_aligned);
	const char *texts3[] = {
		ev->dmarc_result ? ev->dmarc_result : "none", ev->policy_applied,
		ev->disposition ? ev->disposition : "none", ev->override_type,
		ev->override_comment, ev->spf_verdict, ev->dkim_verdict,
		ev->dmarc_verdict, ev->policy_verdict,
	};
	for (size_t i = 0; i < sizeof texts3 / sizeof texts3[0]; i++)
		bind_text(s, col++, texts3[i]);
	if (sqlite3_step(s) != SQLITE_DONE)
		return false;
	sqlite3_int64 id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; i < ev->ndkim; i++) {
		const struct msg_event_dkim *d = &ev->dkim[i];
		sqlite3_stmt *k = st->ins_dkim;
		sqlite3_reset(k);
		sqlite3_clear_bindings(k);
		sqlite3_bind_int64(k, 1, id);
		sqlite3_bind_int(k, 2, (int)i);
		bind_text(k, 3, d->domain);
		bind_text(k, 4, d->selector);
		bind_text(k, 5, d->result);
		bind_text(k, 6, d->human_result);
		sqlite3_bind_int(k, 7, d->aligned);
		if (sqlite3_step(k) != SQLITE_DONE)
			return false;
	}
	return true;
}

bool event_store_insert(struct event_store *st, struct msg_event *const *evs,
			size_t n, struct strbuf *err)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return event_store_fail(st, err, "begin");
	for (size_t i = 0; i < n; i++) {
		if (!event_store_insert_one(st, evs[i])) {
			event_store_fail(st, err, "insert");
			sqlite3_reset(st->ins_event);
			sqlite3_reset(st->ins_dkim);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
	}
	sqlite3_reset(st->ins_event);
	sqlite3_reset(st->ins_dkim);
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		event_store_fail(st, err, "commit");
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return false;
	}
	return true;
}

long long event_store_expire(struct event_store *st, int64_t before_time,
			     size_t chunk_rows, struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	long long total = 0;
	if (chunk_rows == 0)
		chunk_rows = EVENT_STORE_EXPIRE_CHUNK;
	/* Deleting by id ranges of the time index keeps each transaction short. */
	if (sqlite3_prepare_v2(st->db,
			       "DELETE FROM events WHERE id IN (SELECT id FROM events"
			       " WHERE time < ? ORDER BY time LIMIT ?)", -1, &s, NULL) != SQLITE_OK) {
		event_store_fail(st, err, "prepare expire");
		return -1;
	}
	for (;;) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, before_time);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)chunk_rows);
		if (sqlite3_step(s) != SQLITE_DONE) {
			event_store_fail(st, err, "expire");
			total = -1;
			break;
		}
		int changed = sqlite3_changes(st->db);
		total += changed;
		if ((size_t)changed < chunk_rows)
			break;
	}
	sqlite3_finalize(s);
	return total;
}

sqlite3 *event_store_db(struct event_store *st)
{
	return st->db;
}

const char *event_store_path(const struct event_store *st)
{
	return st->path;
}
