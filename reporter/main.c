/* dmarc-reporter: builds and mails aggregate reports from the event log. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "domain.h"
#include "event_store.h"
#include "policy_discovery.h"
#include "resolver.h"
#include "strbuf.h"

#include "aggregate.h"
#include "destinations.h"
#include "gzip_buf.h"
#include "report_id.h"
#include "report_mail.h"
#include "report_send.h"
#include "report_state.h"
#include "report_xml.h"
#include "summary.h"

#define REPORTER_NAME "dmarc-reporter"
#define REPORTER_GENERATOR "dmarc-milter " PACKAGE_VERSION

struct run_counts {
	unsigned built;      /* reports built this run */
	unsigned existing;   /* reports already built by an earlier run */
	unsigned sent;       /* messages handed to the mail system */
	unsigned skipped;    /* destinations never to be sent to */
	unsigned failed;     /* send attempts that failed */
	unsigned waiting;    /* destinations waiting for DNS */
};

struct reporter {
	struct config cfg;
	const char *cfg_path;
	struct event_store *store;
	sqlite3 *db;
	struct resolver *res;
	struct policy_psl *psl;
	struct policy_options popt;
	const char *dry_dir;      /* --dry-run DIR, or NULL */
	const char *domain;       /* --domain, or NULL */
	bool verbose;
	const char *receiver;     /* our domain: the part after @ of ReportEmail */
	int64_t now;
	struct run_counts n;
	int64_t *fresh;           /* report rows built by this run */
	size_t nfresh, fresh_cap;
};

static void say(struct reporter *r, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Errors and warnings go to stderr (cron mails them) and syslog; info lines
 * only with -v, so a healthy daily run prints just its summary line. */
static void say(struct reporter *r, int prio, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (r->cfg.syslog)
		syslog(prio, "%s", line);
	if (prio <= LOG_WARNING || r->verbose)
		fprintf(stderr, "%s: %s: %s\n", REPORTER_NAME,
			prio <= LOG_ERR ? "error" : prio == LOG_WARNING ? "warning" : "info",
			line);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-c FILE] [-v] [--day YYYY-MM-DD] [--domain DOMAIN] [--dry-run DIR]\n"
		"       %s [-c FILE] --summary [--day YYYY-MM-DD] [--domain DOMAIN]\n"
		"       %s [-c FILE] --expire DAYS\n"
		"       %s -V | -h\n"
		"Builds aggregate DMARC reports (RFC 9990) for every finished UTC day not yet\n"
		"reported and mails them to the authorized rua destinations. See dmarc-reporter(8).\n",
		REPORTER_NAME, REPORTER_NAME, REPORTER_NAME, REPORTER_NAME);
}

/* "YYYY-MM-DD" -> UTC day number; false on bad input. */
static bool parse_day(const char *s, int64_t *day)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return false;
	time_t t = timegm(&tm);
	if (t < 0)
		return false;
	*day = (int64_t)t / 86400;
	return true;
}

/* Two report runs at once (cron and a manual run) could both send the
 * same pending destination: a run holds an exclusive lock on
 * <EventDatabase>.reporter-lock. Returns the descriptor (kept open until
 * exit), -2 when another run holds the lock, -1 on error (reason in err). */
static int reporter_lock(const char *db_path, struct strbuf *err)
{
	struct strbuf path;
	strbuf_init(&path, NULL, 0, 8192);
	strbuf_printf(&path, "%s.reporter-lock", db_path);
	int fd = strbuf_failed(&path) ? -1 :
		 open(strbuf_str(&path), O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0) {
		strbuf_printf(err, "%s: %s", strbuf_str(&path), strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			close(fd);
			fd = -2;
		} else {
			strbuf_printf(err, "lock %s: %s", strbuf_str(&path), strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	strbuf_free(&path);
	return fd;
}

/* Makes the policy_options and resolver both phases need. */
static bool reporter_dns(struct reporter *r, struct strbuf *err)
{
	struct strbuf ns;
	strbuf_init(&ns, NULL, 0, 64 * 1024);
	for (size_t i = 0; i < r->cfg.nameservers.count; i++)
		strbuf_printf(&ns, "%s%s", i ? "," : "", r->cfg.nameservers.items[i]);
	struct resolver_config rc = {
		.nameservers = strbuf_str(&ns),
		.query_timeout_ms = (unsigned)r->cfg.dns_timeout_sec * 1000,
		.negative_ttl_max_sec = (unsigned)r->cfg.dns_negative_cache_max_sec,
	};
	bool ok = !strbuf_failed(&ns) && resolver_new(&rc, &r->res, err);
	strbuf_free(&ns);
	if (!ok)
		return false;
	r->popt.standard = (enum dmarc_standard)r->cfg.dmarc_standard;
	if (r->popt.standard == DMARC_STD_RFC7489) {
		r->psl = policy_psl_load(r->cfg.public_suffix_list, err);
		if (r->psl == NULL)
			return false;
		r->popt.psl = r->psl;
	}
	return true;
}

/* The file name stem for --dry-run output. */
static void dry_path(struct reporter *r, struct strbuf *p, const struct report_mail *m,
		     const char *suffix)
{
	strbuf_printf(p, "%s/", r->dry_dir);
	size_t start = p->len;
	report_mail_filename(m, p);
	/* the name comes from the database: keep it inside dir */
	for (size_t i = start; !strbuf_failed(p) && i < p->len; i++)
		if (p->data[i] == '/')
			p->data[i] = '_';
	if (p->len > 7 && strcmp(p->data + p->len - 7, ".xml.gz") == 0) {
		p->len -= 7;
		p->data[p->len] = '\0';
	}
	strbuf_puts(p, suffix);
}

static bool write_file(const char *path, const void *data, size_t len, struct strbuf *err)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		strbuf_printf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	bool ok = fwrite(data, 1, len, f) == len;
	int saved = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok)
		strbuf_printf(err, "%s: %s", path, strerror(saved));
	return ok;
}

static void mail_for(struct reporter *r, struct report_mail *m, const char *to,
		     const char *policy_domain, const char *id, int64_t day,
		     const unsigned char *gz, size_t gz_len)
{
	m->from = r->cfg.report_email;
	m->org_name = r->cfg.report_org_name;
	m->to = to;
	m->receiver = r->receiver;
	m->policy_domain = policy_domain;
	m->report_id = id;
	m->begin = day * 86400;
	m->end = day * 86400 + 86399;
	m->now = r->now;
	m->gz = gz;
	m->gz_len = gz_len;
}

/* The status a new destination row starts with, and why. */
static const char *dest_initial(struct reporter *r, const struct dest *d, size_t gz_len,
				struct strbuf *why)
{
	switch (d->state) {
	case DEST_AUTHORIZED:
		if (r->popt.standard == DMARC_STD_RFC7489 && d->has_max_size &&
		    gz_len > d->max_size_bytes) {
			strbuf_printf(why, "the report (%zu bytes gzipped) exceeds the limit"
				      " of %llu bytes in %s", gz_len,
				      (unsigned long long)d->max_size_bytes, d->uri);
			return "skipped";
		}
		return "pending";
	case DEST_UNAUTHORIZED:
		strbuf_puts(why, d->why ? d->why : "not authorized");
		return "unauthorized";
	case DEST_TEMPFAIL:
		strbuf_puts(why, d->why ? d->why : "DNS temporary failure");
		return "tempfail";
	case DEST_SKIPPED:
		strbuf_puts(why, d->why ? d->why : "skipped");
		return "skipped";
	}
	return "skipped";
}

/* --dry-run: the .xml.gz once, and an .eml for every authorized destination. */
static bool dry_run_report(struct reporter *r, const struct agg_report *rep,
			   const char *id, const unsigned char *gz, size_t gz_len,
			   const struct dest_list *dl, struct strbuf *err)
{
	struct report_mail m;
	struct strbuf path, msg;
	strbuf_init(&path, NULL, 0, 8192);
	strbuf_init(&msg, NULL, 0, (size_t)1 << 31);
	mail_for(r, &m, r->cfg.report_email, rep->policy_domain, id, rep->day, gz, gz_len);
	dry_path(r, &path, &m, ".xml.gz");
	bool ok = !strbuf_failed(&path) && write_file(strbuf_str(&path), gz, gz_len, err);
	for (size_t i = 0; ok && i < dl->n; i++) {
		const struct dest *d = &dl->d[i];
		struct strbuf why;
		strbuf_init(&why, NULL, 0, 2048);
		const char *st = dest_initial(r, d, gz_len, &why);
		if (strcmp(st, "pending") != 0) {
			say(r, LOG_INFO, "%s: %s: %s: %s", id, d->uri ? d->uri : "?", st,
			    strbuf_str(&why));
			r->n.skipped += strcmp(st, "tempfail") != 0;
			r->n.waiting += strcmp(st, "tempfail") == 0;
			strbuf_free(&why);
			continue;
		}
		strbuf_free(&why);
		mail_for(r, &m, d->address, rep->policy_domain, id, rep->day, gz, gz_len);
		strbuf_reset(&path);
		strbuf_reset(&msg);
		struct strbuf merr;
		strbuf_init(&merr, NULL, 0, 1024);
		if (!report_mail_build(&m, &msg, &merr)) {
			say(r, LOG_WARNING, "report %s to %s: %s", id, d->address,
			    strbuf_str(&merr));
			strbuf_free(&merr);
			r->n.skipped++;
			continue;
		}
		strbuf_free(&merr);
		dry_path(r, &path, &m, "!");
		/* a local part may hold '/': keep the file inside dir */
		for (const char *a = d->address; *a; a++)
			strbuf_putc(&path, *a == '/' ? '_' : *a);
		strbuf_puts(&path, ".eml");
		ok = !strbuf_failed(&path) &&
		     write_file(strbuf_str(&path), msg.data, msg.len, err);
		r->n.sent += ok;
	}
	strbuf_free(&path);
	strbuf_free(&msg);
	return ok;
}

/* Records a newly built report and its destinations in the state tables. */
static bool store_report(struct reporter *r, const struct agg_report *rep, const char *id,
			 const unsigned char *gz, size_t gz_len, const struct dest_list *dl,
			 struct strbuf *err)
{
	struct state_report sr = {
		.day = rep->day, .policy_domain = rep->policy_domain,
		.policy_key = rep->policy_key, .report_id = id, .rua = rep->policy.rua,
		.records = (long long)rep->nrecords, .messages = rep->messages,
		.gz = gz, .gz_len = gz_len,
	};
	int64_t rowid;
	bool existed;
	if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		strbuf_printf(err, "begin: %s", sqlite3_errmsg(r->db));
		return false;
	}
	bool ok = state_report_add(r->db, &sr, &rowid, &existed, err);
	for (size_t i = 0; ok && !existed && i < dl->n; i++) {
		const struct dest *d = &dl->d[i];
		struct strbuf why;
		strbuf_init(&why, NULL, 0, 2048);
		const char *st = dest_initial(r, d, gz_len, &why);
		const char *addr = d->published ? d->published : d->uri ? d->uri : "?";
		/* the row is keyed by the address as published; an override only
		 * changes where it goes (send_to) */
		ok = state_dest_add(r->db, rowid, addr, d->address, st,
				    why.len ? strbuf_str(&why) : NULL, err);
		if (strcmp(st, "pending") != 0)
			say(r, LOG_NOTICE, "report %s for %s: %s %s: %s", id,
			    rep->policy_domain, addr, st, strbuf_str(&why));
		if (strcmp(st, "tempfail") == 0)
			r->n.waiting++;
		else if (strcmp(st, "pending") != 0)
			r->n.skipped++;
		strbuf_free(&why);
	}
	if (ok && dl->excess > 0)
		say(r, LOG_NOTICE, "report %s for %s: %zu destinations beyond"
		    " ReportMaxDestinations=%d ignored", id, rep->policy_domain,
		    dl->excess, r->cfg.report_max_destinations);
	if (!ok || sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		if (ok)
			strbuf_printf(err, "commit: %s", sqlite3_errmsg(r->db));
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		return false;
	}
	if (existed) {
		r->n.existing++;
		return true;
	}
	r->n.built++;
	if (r->nfresh == r->fresh_cap) {
		size_t ncap = r->fresh_cap ? r->fresh_cap * 2 : 64;
		int64_t *f = realloc(r->fresh, ncap * sizeof *f);
		if (f == NULL) {
			strbuf_puts(err, "out of memory");
			return false;
		}
		r->fresh = f;
		r->fresh_cap = ncap;
	}
	r->fresh[r->nfresh++] = rowid;
	return true;
}

/* True when report row id was built by this run. */
static bool built_this_run(const struct reporter *r, int64_t id)
{
	for (size_t i = r->nfresh; i > 0; i--)
		if (r->fresh[i - 1] == id)
			return true;
	return false;
}

/* aggregate_day() callback: one report. */
static bool build_report(void *arg, const struct agg_report *rep, struct strbuf *err)
{
	struct reporter *r = arg;
	char id[REPORT_ID_LEN + 1];
	report_id_make(rep->day, rep->policy_domain, rep->policy_key, r->receiver, id);
	struct report_meta meta = {
		.org_name = r->cfg.report_org_name, .email = r->cfg.report_email,
		.contact_info = r->cfg.report_contact_info, .report_id = id,
		.generator = REPORTER_GENERATOR, .begin = rep->day * 86400,
		.end = rep->day * 86400 + 86399,
	};
	struct strbuf xml;
	/* the XML may be far larger than the gzip that ReportMaxSize limits */
	strbuf_init(&xml, NULL, 0, (size_t)r->cfg.report_max_size * 64);
	unsigned char *gz = NULL;
	size_t gz_len = 0;
	if (!report_xml_render(rep, &meta, r->popt.standard, &xml)) {
		say(r, LOG_ERR, "report %s for %s: the XML exceeds %zu bytes; not built",
		    id, rep->policy_domain, xml.max);
		strbuf_free(&xml);
		return true; /* one oversized report does not stop the others */
	}
	bool ok = gzip_buf(xml.data, xml.len, &gz, &gz_len, err);
	strbuf_free(&xml);
	if (!ok)
		return false;
	if (gz_len > (size_t)r->cfg.report_max_size) {
		say(r, LOG_ERR, "report %s for %s: %zu bytes gzipped exceeds ReportMaxSize=%d;"
		    " not sent", id, rep->policy_domain, gz_len, r->cfg.report_max_size);
		free(gz);
		r->n.skipped++;
		return true;
	}
	struct dest_list dl;
	r->popt.deadline_ms = resolver_now_ms() + (uint64_t)r->cfg.dns_message_timeout_sec * 1000;
	destinations_build(r->res, &r->popt, rep->policy_domain, rep->policy.rua,
			   (size_t)r->cfg.report_max_destinations, &dl);
	if (r->dry_dir != NULL)
		ok = dry_run_report(r, rep, id, gz, gz_len, &dl, err);
	else
		ok = store_report(r, rep, id, gz, gz_len, &dl, err);
	if (ok && r->dry_dir != NULL)
		r->n.built++;
	dest_list_clear(&dl);
	free(gz);
	return ok;
}

/* Re-checks the authorization of a destination whose DNS lookup failed. */
static const char *recheck_tempfail(struct reporter *r, struct state_dest *d,
				    struct strbuf *why, char **send_to)
{
	struct dest_list dl;
	r->popt.deadline_ms = resolver_now_ms() + (uint64_t)r->cfg.dns_message_timeout_sec * 1000;
	destinations_build(r->res, &r->popt, d->policy_domain, d->rua, DEST_MAX, &dl);
	const char *st = "unauthorized";
	strbuf_puts(why, "no longer in the published rua list");
	for (size_t i = 0; i < dl.n; i++) {
		/* match on the address as published: the row's key */
		if (dl.d[i].published == NULL || dl.d[i].address == NULL ||
		    strcasecmp(dl.d[i].published, d->address) != 0)
			continue;
		strbuf_reset(why);
		st = dest_initial(r, &dl.d[i], d->gz_len, why);
		*send_to = strdup(dl.d[i].address);
		break;
	}
	dest_list_clear(&dl);
	return st;
}

/* Sends one due destination and records the outcome. false only for a
 * database error. */
static bool send_one(struct reporter *r, struct state_dest *d, struct strbuf *err)
{
	struct strbuf why, msg, serr;
	strbuf_init(&why, NULL, 0, 2048);
	strbuf_init(&msg, NULL, 0, (size_t)1 << 31);
	strbuf_init(&serr, NULL, 0, 4096);
	bool ok = true;
	if (strcmp(d->status, "tempfail") == 0 && built_this_run(r, d->report)) {
		goto out; /* just looked up (and counted): verified again next run */
	}
	if (strcmp(d->status, "tempfail") == 0) {
		char *to = NULL;
		const char *st = recheck_tempfail(r, d, &why, &to);
		ok = state_dest_set(r->db, d->report, d->address, to, st,
				    strcmp(st, "tempfail") == 0, why.len ? strbuf_str(&why) : NULL, err);
		if (strcmp(st, "pending") == 0 && to != NULL) {
			free(d->send_to);
			d->send_to = to;
			to = NULL;
		} else {
			r->n.waiting += strcmp(st, "tempfail") == 0;
			r->n.skipped += strcmp(st, "tempfail") != 0;
			free(to);
			goto out;
		}
		free(to);
	}
	const char *to = d->send_to ? d->send_to : d->address;
	struct report_mail m;
	mail_for(r, &m, to, d->policy_domain, d->report_id, d->day, d->gz, d->gz_len);
	if (!report_mail_build(&m, &msg, &serr)) {
		ok = state_dest_set(r->db, d->report, d->address, NULL, "skipped", false,
				    strbuf_str(&serr), err);
		say(r, LOG_WARNING, "report %s to %s: %s", d->report_id, to, strbuf_str(&serr));
		r->n.skipped++;
		goto out;
	}
	/* "sending" first: a crash during the hand-over is retried next run */
	if (!state_dest_set(r->db, d->report, d->address, NULL, "sending", false, NULL, err)) {
		ok = false;
		goto out;
	}
	struct report_sender snd = {
		.sendmail = r->cfg.report_sendmail, .smtp_host = r->cfg.report_smtp_host,
		.smtp_port = r->cfg.report_smtp_port, .helo = r->receiver, .timeout_sec = 60,
	};
	if (report_send(&snd, r->cfg.report_email, to, msg.data, msg.len, &serr)) {
		ok = state_dest_set(r->db, d->report, d->address, NULL, "sent", true, NULL, err);
		say(r, LOG_INFO, "report %s for %s sent to %s", d->report_id,
		    d->policy_domain, to);
		r->n.sent++;
	} else {
		ok = state_dest_set(r->db, d->report, d->address, NULL, "failed", true,
				    strbuf_str(&serr), err);
		bool last = d->attempts + 1 >= r->cfg.report_max_attempts;
		say(r, last ? LOG_ERR : LOG_WARNING, "report %s for %s to %s: %s%s",
		    d->report_id, d->policy_domain, to, strbuf_str(&serr),
		    last ? "; giving up after ReportMaxAttempts attempts" : "; retried next run");
		r->n.failed++;
	}
out:
	strbuf_free(&why);
	strbuf_free(&msg);
	strbuf_free(&serr);
	return ok;
}

static bool send_due(struct reporter *r, struct strbuf *err)
{
	size_t n = 0;
	struct state_dest *due = state_dests_due(r->db, r->cfg.report_max_attempts,
						 r->domain, &n, err);
	if (due == NULL && err->len > 0)
		return false;
	bool ok = true;
	unsigned mailed = 0;
	for (size_t i = 0; ok && i < n; i++) {
		if (mailed >= (unsigned)r->cfg.report_max_per_run) {
			say(r, LOG_NOTICE, "ReportMaxPerRun=%d reached; %zu destinations wait"
			    " for the next run", r->cfg.report_max_per_run, n - i);
			break;
		}
		unsigned before = r->n.sent + r->n.failed;
		ok = send_one(r, &due[i], err);
		mailed += r->n.sent + r->n.failed - before;
	}
	state_dests_free(due, n);
	return ok;
}

static int run_reports(struct reporter *r, bool have_day, int64_t day)
{
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	int64_t today = r->now / 86400;
	int64_t *days = NULL;
	size_t ndays = 0;
	int rc = 0;
	if (have_day) {
		if (day >= today) {
			say(r, LOG_ERR, "--day: that UTC day is not finished yet");
			return 2;
		}
		days = malloc(sizeof *days);
		if (days != NULL) {
			days[0] = day;
			ndays = 1;
		}
	} else {
		days = aggregate_pending_days(r->db, today, &ndays, &err);
		if (days == NULL && err.len > 0) {
			say(r, LOG_ERR, "%s", strbuf_str(&err));
			strbuf_free(&err);
			return 2;
		}
	}
	for (size_t i = 0; i < ndays && rc == 0; i++) {
		if (!aggregate_day(r->db, days[i], r->domain, build_report, r, &err)) {
			say(r, LOG_ERR, "building the reports of day %lld: %s",
			    (long long)days[i], strbuf_str(&err));
			rc = 2;
		} else if (r->dry_dir == NULL && r->domain == NULL &&
			   !state_day_done(r->db, days[i], r->now, &err)) {
			say(r, LOG_ERR, "%s", strbuf_str(&err));
			rc = 2;
		}
	}
	free(days);
	if (rc == 0 && r->dry_dir == NULL && !send_due(r, &err)) {
		say(r, LOG_ERR, "%s", strbuf_str(&err));
		rc = 2;
	}
	printf("%s: %u reports built (%u built earlier), %u %s, %u skipped, %u failed,"
	       " %u waiting for DNS\n", REPORTER_NAME, r->n.built, r->n.existing, r->n.sent,
	       r->dry_dir ? "written" : "sent", r->n.skipped, r->n.failed, r->n.waiting);
	/* a failed send is retried next run; only "nothing worked" is an error */
	if (rc == 0 && r->n.failed > 0 && r->n.sent == 0)
		rc = 1;
	strbuf_free(&err);
	return rc;
}

static int run_expire(struct reporter *r, long days)
{
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	int64_t cutoff = r->now - (int64_t)days * 86400;
	long long n = event_store_expire(r->store, cutoff, EVENT_STORE_EXPIRE_CHUNK, &err);
	/* a report goes once its whole day is older than the cutoff */
	long long nr = n < 0 ? -1 : state_expire(r->db, cutoff / 86400, 1000, &err);
	int rc = 0;
	if (n < 0 || nr < 0) {
		say(r, LOG_ERR, "%s", strbuf_str(&err));
		rc = 2;
	} else {
		printf("%s: %lld events and %lld reports older than %ld days deleted\n",
		       REPORTER_NAME, n, nr, days);
	}
	strbuf_free(&err);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "day", required_argument, NULL, 'd' },
		{ "domain", required_argument, NULL, 'D' },
		{ "dry-run", required_argument, NULL, 'r' },
		{ "expire", required_argument, NULL, 'e' },
		{ "summary", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct reporter r = { .cfg_path = CONFIG_DEFAULT_PATH };
	static char domain_buf[DOMAIN_BUF_SIZE];
	bool have_day = false, summary = false;
	int64_t day = 0;
	long expire_days = -1;
	int c;
	while ((c = getopt_long(argc, argv, "c:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': r.cfg_path = optarg; break;
		case 'v': r.verbose = true; break;
		case 'd':
			if (!parse_day(optarg, &day)) {
				fprintf(stderr, "%s: --day \"%s\": expected YYYY-MM-DD\n",
					REPORTER_NAME, optarg);
				return 2;
			}
			have_day = true;
			break;
		case 'D':
			/* the event log holds lower-case A-labels */
			if (domain_normalize(optarg, strlen(optarg), DOMAIN_ALLOW_UNDERSCORE,
					     domain_buf, NULL) != DOMAIN_OK) {
				fprintf(stderr, "%s: --domain \"%s\": not a domain name\n",
					REPORTER_NAME, optarg);
				return 2;
			}
			r.domain = domain_buf;
			break;
		case 'r': r.dry_dir = optarg; break;
		case 'e': {
			char *end = NULL;
			expire_days = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || expire_days < 1 || expire_days > 36500) {
				fprintf(stderr, "%s: --expire \"%s\": expected a number of days"
					" from 1 to 36500\n", REPORTER_NAME, optarg);
				return 2;
			}
			break;
		}
		case 's': summary = true; break;
		case 'V': printf("%s %s\n", REPORTER_NAME, PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	if (!config_load(r.cfg_path, &r.cfg, &err)) {
		fprintf(stderr, "%s: fatal: %s\n", REPORTER_NAME, strbuf_str(&err));
		return 2;
	}
	if (r.cfg.syslog)
		openlog(REPORTER_NAME, LOG_PID, r.cfg.syslog_facility);
	r.now = (int64_t)time(NULL);
	int rc = 0, lock_fd = -1;
	if (!event_store_open(r.cfg.event_database, 5000, &r.store, &err)) {
		say(&r, LOG_ERR, "%s", strbuf_str(&err));
		rc = 2;
		goto out;
	}
	r.db = event_store_db(r.store);
	if (summary) {
		rc = summary_print(r.db, have_day ? day : r.now / 86400, r.domain, stdout, &err) ? 0 : 2;
		if (rc != 0)
			say(&r, LOG_ERR, "%s", strbuf_str(&err));
		goto out;
	}
	if (expire_days > 0) {
		rc = run_expire(&r, expire_days);
		goto out;
	}
	if (*r.cfg.report_email == '\0' || *r.cfg.report_org_name == '\0') {
		say(&r, LOG_ERR, "%s: ReportEmail and ReportOrgName must be set: reports need"
		    " a From address and a submitter name", r.cfg_path);
		rc = 2;
		goto out;
	}
	const char *at = strrchr(r.cfg.report_email, '@');
	r.receiver = at != NULL && at[1] != '\0' ? at + 1 : r.cfg.authserv_id;
	if (r.dry_dir != NULL && mkdir(r.dry_dir, 0755) != 0 && errno != EEXIST) {
		say(&r, LOG_ERR, "--dry-run %s: %s", r.dry_dir, strerror(errno));
		rc = 2;
		goto out;
	}
	if (!reporter_dns(&r, &err)) {
		say(&r, LOG_ERR, "%s", strbuf_str(&err));
		rc = 2;
		goto out;
	}
	/* a dry run writes no state, so it may run beside a real one */
	if (r.dry_dir == NULL) {
		lock_fd = reporter_lock(r.cfg.event_database, &err);
		if (lock_fd == -2) {
			say(&r, LOG_WARNING, "another dmarc-reporter is running on %s;"
			    " nothing done (the next run catches up)", r.cfg.event_database);
			goto out;
		}
		if (lock_fd < 0) {
			say(&r, LOG_ERR, "%s", strbuf_str(&err));
			rc = 2;
			goto out;
		}
	}
	rc = run_reports(&r, have_day, day);
	/* EventRetentionDays: expire old events, but never a day not yet reported */
	if (rc == 0 && r.dry_dir == NULL && r.domain == NULL && r.cfg.event_retention_days > 0) {
		strbuf_reset(&err);
		size_t np = 0;
		int64_t *pending = aggregate_pending_days(r.db, r.now / 86400, &np, &err);
		int64_t cutoff = r.now - (int64_t)r.cfg.event_retention_days * 86400;
		if (np > 0 && pending[0] * 86400 < cutoff)
			cutoff = pending[0] * 86400;
		free(pending);
		if (event_store_expire(r.store, cutoff, EVENT_STORE_EXPIRE_CHUNK, &err) < 0 ||
		    state_expire(r.db, cutoff / 86400, 1000, &err) < 0)
			say(&r, LOG_WARNING, "expiring old events: %s", strbuf_str(&err));
	}
out:
	if (lock_fd >= 0)
		close(lock_fd);
	free(r.fresh);
	policy_psl_free(r.psl);
	if (r.res != NULL)
		resolver_free(r.res);
	event_store_close(r.store);
	config_free(&r.cfg);
	strbuf_free(&err);
	return rc;
}
