/* aggregate: groups a UTC day of events into reports and records with one query. */
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"

/* Field and signature separators inside the DKIM column of the query: ASCII
 * unit and record separators, which the milter never stores in a domain,
 * selector or result (control bytes are dropped from every stored field). */
#define AGG_FS "\x1f"
#define AGG_RS "\x1e"

enum {
	COL_DOMAIN, COL_P, COL_SP, COL_NP, COL_ADKIM, COL_ASPF, COL_FO, COL_T,
	COL_PSD, COL_PCT, COL_RUA, COL_METHOD, COL_IP, COL_HFROM, COL_EFROM,
	COL_DISP, COL_DMARC, COL_DKIM_AL, COL_SPF_AL, COL_OVR, COL_OVR_COMMENT,
	COL_SPF_DOM, COL_SPF_RES, COL_SPF_SCOPE, COL_DK, COL_COUNT,
};

static const char aggregate_sql[] =
	"SELECT policy_domain, ifnull(p,''), ifnull(sp,''), ifnull(np,''),"
	" ifnull(adkim,''), ifnull(aspf,''), ifnull(fo,''), ifnull(t,''),"
	" ifnull(psd,''), ifnull(pct,-1), ifnull(rua,''), ifnull(discovery_method,''),"
	" client_ip, header_from, ifnull(envelope_from,''), disposition, dmarc_result,"
	" dkim_aligned, spf_aligned, ifnull(override_type,''), ifnull(override_comment,''),"
	" ifnull(spf_domain,''), ifnull(spf_result,'none'), ifnull(spf_scope,''), dk, count(*)"
	" FROM (SELECT e.*, ifnull((SELECT group_concat(ifnull(domain,'') || char(31) ||"
	"   ifnull(selector,'') || char(31) || ifnull(result,'') || char(31) || aligned ||"
	"   char(31) || ifnull(human_result,''), char(30)) FROM event_dkim"
	"   WHERE event_id = e.id), '') AS dk"
	"  FROM events e WHERE day = ?1 AND policy_domain IS NOT NULL"
	"  AND (?2 IS NULL OR policy_domain = ?2))"
	" GROUP BY 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25"
	" ORDER BY 1,2,3,4,5,6,7,8,9,10,11,12,26 DESC";

static char *col_dup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	return strdup(t ? (const char *)t : "");
}

/* Orders DKIM results: aligned passes, other passes, the rest (RFC 9990). */
static int dkim_rank(const struct agg_dkim *d)
{
	bool pass = strcmp(d->result, "pass") == 0;
	return pass && d->aligned ? 0 : pass ? 1 : 2;
}

/* Stable reorder by rank (at most EVENT_MAX_DKIM entries): signatures of
 * the same rank keep the order they had in the message. */
static bool dkim_order(struct agg_record *rec)
{
	if (rec->ndkim < 2)
		return true;
	struct agg_dkim *tmp = malloc(rec->ndkim * sizeof *tmp);
	if (tmp == NULL)
		return false;
	size_t k = 0;
	for (int rank = 0; rank <= 2; rank++)
		for (size_t i = 0; i < rec->ndkim; i++)
			if (dkim_rank(&rec->dkim[i]) == rank)
				tmp[k++] = rec->dkim[i];
	memcpy(rec->dkim, tmp, rec->ndkim * sizeof *tmp);
	free(tmp);
	return true;
}

static void agg_dkim_free(struct agg_dkim *d)
{
	free(d->domain);
	free(d->selector);
	free(d->result);
	free(d->human_result);
}

/* Splits the "d FS s FS result FS aligned FS human RS ..." column. */
static bool parse_dkim(const char *dk, struct agg_record *rec)
{
	rec->ndkim = 0;
	rec->dkim = NULL;
	if (dk == NULL || *dk == '\0')
		return true;
	size_t n = 1;
	for (const char *p = dk; *p; p++)
		n += *p == AGG_RS[0];
	rec->dkim = calloc(n, sizeof *rec->dkim);
	if (rec->dkim == NULL)
		return false;
	const char *p = dk;
	while (*p != '\0' || rec->ndkim == 0) {
		size_t len = strcspn(p, AGG_RS);
		char *item = strndup(p, len);
		if (item == NULL)
			return false;
		char *fields[5] = { "", "", "", "0", "" };
		char *cur = item;
		for (int f = 0; f < 5 && cur != NULL; f++)
			fields[f] = strsep(&cur, AGG_FS);
		struct agg_dkim *d = &rec->dkim[rec->ndkim++];
		d->domain = strdup(fields[0]);
		d->selector = strdup(fields[1]);
		d->result = strdup(fields[2]);
		d->aligned = strcmp(fields[3], "1") == 0;
		d->human_result = strdup(fields[4]);
		free(item);
		if (!d->domain || !d->selector || !d->result || !d->human_result)
			return false;
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	if (!dkim_order(rec))
		return false;
	while (rec->ndkim > AGG_MAX_DKIM)
		agg_dkim_free(&rec->dkim[--rec->ndkim]);
	return true;
}

static void record_free(struct agg_record *r)
{
	char *fields[] = { r->source_ip, r->header_from, r->envelope_from,
			   r->disposition, r->dmarc_result, r->override_type,
			   r->override_comment, r->spf_domain, r->spf_result,
			   r->spf_scope };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		free(fields[i]);
	for (size_t i = 0; i < r->ndkim; i++)
		agg_dkim_free(&r->dkim[i]);
	free(r->dkim);
}

static void report_clear(struct agg_report *rep)
{
	for (size_t i = 0; i < rep->nrecords; i++)
		record_free(&rep->records[i]);
	free(rep->records);
	struct agg_policy *p = &rep->policy;
	char *fields[] = { rep->policy_domain, rep->policy_key, p->p, p->sp, p->np,
			   p->adkim, p->aspf, p->fo, p->t, p->psd, p->rua,
			   p->discovery_method };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		free(fields[i]);
	int64_t day = rep->day;
	memset(rep, 0, sizeof *rep);
	rep->day = day;
}

/* The canonical policy text of a row: domain and every published tag. */
static bool row_policy_key(sqlite3_stmt *s, struct strbuf *key)
{
	static const char *const names[] = { "d", "p", "sp", "np", "adkim", "aspf",
					      "fo", "t", "psd", "pct", "rua", "dm" };
	strbuf_reset(key);
	for (int c = COL_DOMAIN; c <= COL_METHOD; c++) {
		const unsigned char *t = sqlite3_column_text(s, c);
		strbuf_printf(key, "%s=%s;", names[c], t ? (const char *)t : "");
	}
	return !strbuf_failed(key);
}

static bool report_start(struct agg_report *rep, sqlite3_stmt *s, const char *key)
{
	struct agg_policy *p = &rep->policy;
	rep->policy_domain = col_dup(s, COL_DOMAIN);
	rep->policy_key = strdup(key);
	p->p = col_dup(s, COL_P);
	p->sp = col_dup(s, COL_SP);
	p->np = col_dup(s, COL_NP);
	p->adkim = col_dup(s, COL_ADKIM);
	p->aspf = col_dup(s, COL_ASPF);
	p->fo = col_dup(s, COL_FO);
	p->t = col_dup(s, COL_T);
	p->psd = col_dup(s, COL_PSD);
	p->rua = col_dup(s, COL_RUA);
	p->discovery_method = col_dup(s, COL_METHOD);
	p->pct = sqlite3_column_int(s, COL_PCT);
	return rep->policy_domain && rep->policy_key && p->p && p->sp && p->np &&
	       p->adkim && p->aspf && p->fo && p->t && p->psd && p->rua &&
	       p->discovery_method;
}

static bool report_add_record(struct agg_report *rep, size_t *cap, sqlite3_stmt *s)
{
	if (rep->nrecords == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct agg_record *r = realloc(rep->records, ncap * sizeof *r);
		if (r == NULL)
			return false;
		rep->records = r;
		*cap = ncap;
	}
	struct agg_record *r = &rep->records[rep->nrecords++];
	memset(r, 0, sizeof *r);
	r->source_ip = col_dup(s, COL_IP);
	r->header_from = col_dup(s, COL_HFROM);
	r->envelope_from = col_dup(s, COL_EFROM);
	r->disposition = col_dup(s, COL_DISP);
	r->dmarc_result = col_dup(s, COL_DMARC);
	r->dkim_aligned = sqlite3_column_int(s, COL_DKIM_AL) != 0;
	r->spf_aligned = sqlite3_column_int(s, COL_SPF_AL) != 0;
	r->override_type = col_dup(s, COL_OVR);
	r->override_comment = col_dup(s, COL_OVR_COMMENT);
	r->spf_domain = col_dup(s, COL_SPF_DOM);
	r->spf_result = col_dup(s, COL_SPF_RES);
	r->spf_scope = col_dup(s, COL_SPF_SCOPE);
	r->count = sqlite3_column_int64(s, COL_COUNT);
	rep->messages += r->count;
	const unsigned char *dk = sqlite3_column_text(s, COL_DK);
	bool ok = parse_dkim((const char *)dk, r);
	return ok && r->source_ip && r->header_from && r->envelope_from &&
	       r->disposition && r->dmarc_result && r->override_type &&
	       r->override_comment && r->spf_domain && r->spf_result && r->spf_scope;
}

bool aggregate_day(sqlite3 *db, int64_t day, const char *domain,
		   agg_report_fn fn, void *arg, struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, aggregate_sql, -1, &s, NULL) != SQLITE_OK) {
		strbuf_printf(err, "aggregate: %s", sqlite3_errmsg(db));
		return false;
	}
	sqlite3_bind_int64(s, 1, day);
	if (domain != NULL)
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);

	struct agg_report rep;
	memset(&rep, 0, sizeof rep);
	rep.day = day;
	size_t cap = 0;
	struct strbuf key;
	strbuf_init(&key, NULL, 0, 64 * 1024);
	bool ok = true, open = false;
	int rc;
	while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!row_policy_key(s, &key)) {
			strbuf_puts(err, "aggregate: published policy too long");
			ok = false;
			break;
		}
		if (open && strcmp(rep.policy_key, strbuf_str(&key)) != 0) {
			ok = fn(arg, &rep, err);
			report_clear(&rep);
			cap = 0;
			open = false;
			if (!ok)
				break;
		}
		if (!open) {
			open = true;
			if (!report_start(&rep, s, strbuf_str(&key))) {
				strbuf_puts(err, "aggregate: out of memory");
				ok = false;
				break;
			}
		}
		if (!report_add_record(&rep, &cap, s)) {
			strbuf_puts(err, "aggregate: out of memory");
			ok = false;
		}
	}
	if (ok && rc != SQLITE_DONE) {
		strbuf_printf(err, "aggregate: %s", sqlite3_errmsg(db));
		ok = false;
	}
	if (ok && open)
		ok = fn(arg, &rep, err);
	report_clear(&rep);
	strbuf_free(&key);
	sqlite3_finalize(s);
	return ok;
}

int64_t *aggregate_pending_days(sqlite3 *db, int64_t today_day, size_t *n,
				struct strbuf *err)
{
	sqlite3_stmt *s = NULL;
	int64_t *days = NULL;
	size_t cap = 0;
	*n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT DISTINCT day FROM events WHERE day < ?1"
			       " AND policy_domain IS NOT NULL"
			       " AND day NOT IN (SELECT day FROM reported_days) ORDER BY day",
			       -1, &s, NULL) != SQLITE_OK) {
		strbuf_printf(err, "pending days: %s", sqlite3_errmsg(db));
		return NULL;
	}
	sqlite3_bind_int64(s, 1, today_day);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			int64_t *d = realloc(days, cap * sizeof *d);
			if (d == NULL) {
				strbuf_puts(err, "pending days: out of memory");
				free(days);
				sqlite3_finalize(s);
				*n = 0;
				return NULL;
			}
			days = d;
		}
		days[(*n)++] = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE) {
		strbuf_printf(err, "pending days: %s", sqlite3_errmsg(db));
		free(days);
		days = NULL;
		*n = 0;
	}
	sqlite3_finalize(s);
	return days;
}
