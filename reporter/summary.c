/* summary: per-domain, per-IP counts of one UTC day for the terminal. */
#include <time.h>

#include "summary.h"

bool summary_print(sqlite3 *db, int64_t day, const char *domain, FILE *out,
		   struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT ifnull(policy_domain, '(no policy)'), client_ip, count(*),"
			       " sum(dmarc_result = 'pass'), sum(dmarc_result = 'fail'),"
			       " sum(dmarc_result NOT IN ('pass','fail')),"
			       " sum(disposition = 'none'), sum(disposition = 'quarantine'),"
			       " sum(disposition = 'reject')"
			       " FROM events WHERE day = ?1 AND (?2 IS NULL OR policy_domain = ?2)"
			       " GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2", -1, &s, NULL) != SQLITE_OK) {
		strbuf_printf(err, "summary: %s", sqlite3_errmsg(db));
		return false;
	}
	sqlite3_bind_int64(s, 1, day);
	if (domain != NULL)
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	char date[16];
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	strftime(date, sizeof date, "%Y-%m-%d", gmtime_r(&t, &tm));
	fprintf(out, "UTC day %s\n", date);
	fprintf(out, "%-32s %-39s %8s %7s %7s %7s %7s %7s %7s\n", "policy domain",
		"source ip", "messages", "pass", "fail", "error", "none", "quarant", "reject");
	long long total[7] = {0};
	unsigned rows = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		long long v[7];
		for (int i = 0; i < 7; i++) {
			v[i] = sqlite3_column_int64(s, i + 2);
			total[i] += v[i];
		}
		fprintf(out, "%-32s %-39s %8lld %7lld %7lld %7lld %7lld %7lld %7lld\n",
			(const char *)sqlite3_column_text(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
		rows++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		strbuf_printf(err, "summary: %s", sqlite3_errmsg(db));
		return false;
	}
	if (rows == 0)
		fprintf(out, "(no events)\n");
	fprintf(out, "%-32s %-39s %8lld %7lld %7lld %7lld %7lld %7lld %7lld\n", "total", "",
		total[0], total[1], total[2], total[3], total[4], total[5], total[6]);
	return true;
}
