/* event_store_test: schema, batched inserts, expiry, and the writer's
 * behaviour when the database is missing, locked or deleted underneath it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "event_store.h"
#include "event_writer.h"
#include "testlib.h"

static char dir[] = "/tmp/event_store_test.XXXXXX";

static struct msg_event *make_event(int64_t t, const char *from, int ndkim)
{
	struct msg_event *ev = msg_event_new();
	ev->time = t;
	msg_event_set(&ev->queue_id, "4Bf2x1");
	msg_event_set(&ev->client_ip, "192.0.2.1");
	msg_event_set(&ev->header_from, from);
	msg_event_set(&ev->policy_domain, from);
	msg_event_set(&ev->dmarc_result, "pass");
	msg_event_set(&ev->disposition, "none");
	msg_event_set(&ev->p, "reject");
	ev->pct = 100;
	ev->spf_aligned = true;
	for (int i = 0; i < ndkim; i++)
		msg_event_add_dkim(ev, from, "sel", "pass", NULL, i == 0);
	return ev;
}

static long long count_rows(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void test_store(void)
{
	char path[256], errbuf[256];
	struct strbuf err;
	strbuf_init(&err, errbuf, sizeof errbuf, 1024);
	snprintf(path, sizeof path, "%s/store.db", dir);
	struct event_store *st = NULL;
	t_true("open creates the database", event_store_open(path, 100, &st, &err));
	if (st == NULL) {
		t_note("%s", strbuf_str(&err));
		return;
	}
	t_int("schema migrated to the current version", event_store_schema_version(st),
	      EVENT_STORE_SCHEMA_VERSION);
	struct msg_event *evs[3] = { make_event(86400 * 10 + 5, "a.example", 2),
				 make_event(86400 * 11, "b.example", 0),
				 make_event(86400 * 12, "c.example", 1) };
	t_true("a batch inserts", event_store_insert(st, evs, 3, &err));
	t_int("three events stored", count_rows(path, "SELECT count(*) FROM events"), 3);
	t_int("three DKIM rows stored", count_rows(path, "SELECT count(*) FROM event_dkim"), 3);
	t_int("day column is the UTC day", count_rows(path,
	      "SELECT day FROM events WHERE header_from='a.example'"), 10);
	t_int("absent tags are NULL", count_rows(path,
	      "SELECT count(*) FROM events WHERE sp IS NULL AND p='reject'"), 3);
	t_int("expire deletes older events", event_store_expire(st, 86400 * 12, 1, &err), 2);
	t_int("their DKIM rows go too", count_rows(path, "SELECT count(*) FROM event_dkim"), 1);
	t_true("file not replaced", !event_store_replaced(st));
	unlink(path);
	t_true("deletion underneath is noticed", event_store_replaced(st));
	for (int i = 0; i < 3; i++)
		msg_event_free(evs[i]);
	event_store_close(st);
	strbuf_free(&err);

	/* reopening an existing database keeps its rows and version */
	strbuf_init(&err, errbuf, sizeof errbuf, 1024);
	t_true("reopen after deletion recreates", event_store_open(path, 100, &st, &err));
	t_int("recreated database has the schema", event_store_schema_version(st),
	      EVENT_STORE_SCHEMA_VERSION);
	event_store_close(st);
	strbuf_init(&err, errbuf, sizeof errbuf, 1024);
	t_true("open in a missing directory fails",
	       !event_store_open("/nonexistent-dir/x.db", 100, &st, &err));
	t_check(strstr(strbuf_str(&err), "/nonexistent-dir/x.db") != NULL,
		"the error names the path", "got \"%s\"", strbuf_str(&err));
	strbuf_free(&err);
}

static struct event_writer *start_writer(const char *path, size_t qmax)
{
	struct event_writer_config cfg = {
		.path = path, .queue_max = qmax, .batch_rows = 100, .batch_ms = 20,
		.busy_ms = 10, .retry_ms = 20, .flush_timeout_ms = 300,
	};
	struct event_writer *w = NULL;
	char errbuf[256];
	struct strbuf err;
	strbuf_init(&err, errbuf, sizeof errbuf, 1024);
	if (!event_writer_start(&cfg, &w, &err))
		t_note("%s", strbuf_str(&err));
	strbuf_free(&err);
	return w;
}

static bool wait_written(struct event_writer *w, uint64_t n, int ms)
{
	struct event_writer_stats s;
	for (int i = 0; i < ms / 10; i++) {
		event_writer_stats(w, &s);
		if (s.written >= n)
			return true;
		usleep(10000);
	}
	return false;
}

static void test_writer(void)
{
	char path[256];
	snprintf(path, sizeof path, "%s/writer.db", dir);
	struct event_writer *w = start_writer(path, 10000);
	if (!t_true("writer starts", w != NULL))
		return;
	for (int i = 0; i < 2500; i++)
		event_writer_submit(w, make_event(86400 * 20 + i, "w.example", 1));
	t_true("writer writes in batches", wait_written(w, 2500, 5000));
	t_int("all events stored", count_rows(path, "SELECT count(*) FROM events"), 2500);

	/* locked: another connection holds the write lock */
	sqlite3 *db = NULL;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
	int accepted = 0;
	for (int i = 0; i < 50; i++)
		accepted += event_writer_submit(w, make_event(86400 * 21, "l.example", 0));
	t_int("submit accepts while the database is locked", accepted, 50);
	usleep(100000);
	struct event_writer_stats s;
	event_writer_stats(w, &s);
	t_true("locked database: events wait, failures counted", s.queued == 50 && s.failures > 0);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	t_true("writing resumes after the lock is released", wait_written(w, 2550, 3000));

	/* deleted underneath: the writer reopens a new file */
	unlink(path);
	char wal[300];
	snprintf(wal, sizeof wal, "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-shm", path);
	unlink(wal);
	for (int i = 0; i < 10; i++)
		event_writer_submit(w, make_event(86400 * 22, "d.example", 0));
	t_true("writing resumes after deletion", wait_written(w, 2560, 3000));
	t_int("the new file holds the new events", count_rows(path, "SELECT count(*) FROM events"), 10);
	event_writer_stop(w);

	/* missing directory: queue fills, drops counted, recovery when it appears */
	char sub[256], subpath[300];
	snprintf(sub, sizeof sub, "%s/later", dir);
	snprintf(subpath, sizeof subpath, "%s/events.db", sub);
	w = start_writer(subpath, 100);
	for (int i = 0; i < 150; i++)
		event_writer_submit(w, make_event(86400 * 23, "m.example", 0));
	event_writer_stats(w, &s);
	t_int("queue bound holds: 50 of 150 dropped", (long long)s.dropped, 50);
	t_int("100 wait in memory", (long long)s.queued, 100);
	mkdir(sub, 0700);
	t_true("writing resumes when the directory appears", wait_written(w, 100, 3000));
	event_writer_stop(w);
	t_int("every queued event reached the database",
	      count_rows(subpath, "SELECT count(*) FROM events"), 100);

	/* stop flushes everything */
	w = start_writer(subpath, 10000);
	for (int i = 0; i < 777; i++)
		event_writer_submit(w, make_event(86400 * 24, "f.example", 0));
	event_writer_stop(w);
	t_int("stop flushes the queue", count_rows(subpath,
	      "SELECT count(*) FROM events WHERE header_from='f.example'"), 777);

	/* a database that never works: stop gives up after flush_timeout_ms */
	w = start_writer("/nonexistent-dir/never.db", 100);
	if (!t_true("writer starts on a database that cannot open yet", w != NULL))
		return;
	for (int i = 0; i < 5; i++)
		event_writer_submit(w, make_event(86400 * 25, "n.example", 0));
	struct event_writer_stats st;
	usleep(100 * 1000);
	event_writer_stats(w, &st);
	t_true("unusable database: nothing written, writer unhealthy",
	       st.written == 0 && !st.healthy && st.failures > 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	event_writer_stop(w); /* the 5 events are counted as dropped */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	t_true("stop gives up within flush_timeout_ms (300) plus slack", ms < 3000);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_store();
	test_writer();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		t_note("could not remove %s", dir);
	return t_done();
}
