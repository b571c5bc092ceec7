/* aggregate: groups a UTC day of events into reports and records.
 *
 * One query reads the day's events in policy-domain order (the order of the
 * index events_day_domain, so SQLite sorts nothing); the records of one
 * policy domain are counted here in a hash table and handed out when the
 * next domain starts. Grouping in SQL (GROUP BY over 25 columns) sorted the
 * whole day in a temporary B-tree and took most of a run's time. */
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
	COL_SPF_DOM, COL_SPF_RES, COL_SPF_SCOPE, COL_DK, COL_NCOLS,
};

static const char aggregate_sql[] =
	"SELECT policy_domain, ifnull(p,''), ifnull(sp,''), ifnull(np,''),"
	" ifnull(adkim,''), ifnull(aspf,''), ifnull(fo,''), ifnull(t,''),"
	" ifnull(psd,''), ifnull(pct,-1), ifnull(rua,''), ifnull(discovery_method,''),"
	" client_ip, header_from, ifnull(envelope_from,''), disposition, dmarc_result,"
	" dkim_aligned, spf_aligned, ifnull(override_type,''), ifnull(override_comment,''),"
	" ifnull(spf_domain,''), ifnull(spf_result,'none'), ifnull(spf_scope,''),"
	" ifnull((SELECT group_concat(ifnull(domain,'') || char(31) ||"
	"   ifnull(selector,'') || char(31) || ifnull(result,'') || char(31) || aligned ||"
	"   char(31) || ifnull(human_result,''), char(30)) FROM event_dkim"
	"   WHERE event_id = e.id), '')"
	" FROM events e WHERE day = ?1 AND policy_domain IS NOT NULL"
	" AND (?2 IS NULL OR policy_domain = ?2) ORDER BY policy_domain";

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

/* Stable reorder by rank (at most MSG_EVENT_MAX_DKIM entries): signatures of
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
	r->count = 1;
	rep->messages++;
	const unsigned char *dk = sqlite3_column_text(s, COL_DK);
	bool ok = parse_dkim((const char *)dk, r);
	return ok && r->source_ip && r->header_from && r->envelope_from &&
	       r->disposition && r->dmarc_result && r->override_type &&
	       r->override_comment && r->spf_domain && r->spf_result && r->spf_scope;
}

/* One report being built: a policy configuration of the current domain,
 * with a hash table from record key to record index. */
struct agg_group {
	struct agg_report rep;
	size_t cap;               /* records allocated */
	char **keys;              /* record keys, parallel to rep.records */
	size_t *slots;            /* open addressing: record index + 1, 0 = free */
	size_t nslots;            /* a power of two, at least twice nrecords */
};

/* The policy domain being counted: its groups (usually one; more when the
 * record changed during the day). */
struct agg_domain {
	struct agg_group *g;
	size_t n, cap;
};

static uint64_t key_hash(const char *k, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)k[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void group_free(struct agg_group *g)
{
	for (size_t i = 0; i < g->rep.nrecords; i++)
		free(g->keys[i]);
	free(g->keys);
	free(g->slots);
	report_clear(&g->rep);
}

/* The record key of a row: every record column, separated by AGG_FS (no
 * stored field holds that byte; the DKIM column uses it inside, but as the
 * last column it cannot be confused with a column boundary). */
static bool row_record_key(sqlite3_stmt *s, struct strbuf *key)
{
	strbuf_reset(key);
	for (int c = COL_IP; c <= COL_DK; c++) {
		const unsigned char *t = sqlite3_column_text(s, c);
		strbuf_puts(key, t ? (const char *)t : "");
		strbuf_putc(key, AGG_FS[0]);
	}
	return !strbuf_failed(key);
}

static bool group_grow_slots(struct agg_group *g)
{
	size_t n = g->nslots ? g->nslots * 2 : 64;
	size_t *slots = calloc(n, sizeof *slots);
	if (slots == NULL)
		return false;
	for (size_t i = 0; i < g->rep.nrecords; i++) {
		size_t j = key_hash(g->keys[i], strlen(g->keys[i])) & (n - 1);
		while (slots[j] != 0)
			j = (j + 1) & (n - 1);
		slots[j] = i + 1;
	}
	free(g->slots);
	g->slots = slots;
	g->nslots = n;
	return true;
}

/* Counts one row into its record of group g (a new record when its key is
 * new). */
static bool group_count(struct agg_group *g, sqlite3_stmt *s, const struct strbuf *key)
{
	if ((g->rep.nrecords + 1) * 2 > g->nslots && !group_grow_slots(g))
		return false;
	size_t j = key_hash(key->data, key->len) & (g->nslots - 1);
	for (; g->slots[j] != 0; j = (j + 1) & (g->nslots - 1)) {
		size_t i = g->slots[j] - 1;
		if (strcmp(g->keys[i], key->data) == 0) {
			g->rep.records[i].count++;
			g->rep.messages++;
			return true;
		}
	}
	if (g->rep.nrecords == g->cap) {
		/* keys grow with records: report_add_record doubles cap */
		size_t ncap = g->cap ? g->cap * 2 : 16;
		char **k = realloc(g->keys, ncap * sizeof *k);
		if (k == NULL)
			return false;
		g->keys = k;
	}
	size_t i = g->rep.nrecords;
	char *kc = strdup(key->data);
	if (kc == NULL || !report_add_record(&g->rep, &g->cap, s)) {
		free(kc);
		if (g->rep.nrecords > i) /* keep keys[] and records[] in step */
			g->keys[i] = NULL;
		return false;
	}
	g->keys[i] = kc;
	g->slots[j] = i + 1;
	return true;
}

/* The group of the row's policy configuration, created on first use. */
static struct agg_group *domain_group(struct agg_domain *d, sqlite3_stmt *s,
				      const struct strbuf *pkey)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->g[i].rep.policy_key, pkey->data) == 0)
			return &d->g[i];
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 4;
		struct agg_group *g = realloc(d->g, ncap * sizeof *g);
		if (g == NULL)
			return NULL;
		d->g = g;
		d->cap = ncap;
	}
	struct agg_group *g = &d->g[d->n++];
	memset(g, 0, sizeof *g);
	if (!report_start(&g->rep, s, pkey->data))
		return NULL; /* freed with the domain */
	return g;
}

/* Record order in a report: most messages first, then by key, so the
 * output does not depend on the order the events were stored in. */
struct rec_order {
	long long count;
	const char *key;
	size_t idx;
};

static int rec_order_cmp(const void *a, const void *b)
{
	const struct rec_order *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

static bool group_sort(struct agg_group *g)
{
	size_t n = g->rep.nrecords;
	if (n < 2)
		return true;
	struct rec_order *o = malloc(n * sizeof *o);
	struct agg_record *r = malloc(n * sizeof *r);
	char **k = malloc(n * sizeof *k);
	bool ok = o && r && k;
	if (ok) {
		for (size_t i = 0; i < n; i++)
			o[i] = (struct rec_order){ g->rep.records[i].count, g->keys[i], i };
		qsort(o, n, sizeof *o, rec_order_cmp);
		for (size_t i = 0; i < n; i++) {
			r[i] = g->rep.records[o[i].idx];
			k[i] = g->keys[o[i].idx];
		}
		memcpy(g->rep.records, r, n * sizeof *r);
		memcpy(g->keys, k, n * sizeof *k);
	}
	free(o);
	free(r);
	free(k);
	return ok;
}

static int group_cmp(const void *a, const void *b)
{
	const struct agg_group *x = a, *y = b;
	return strcmp(x->rep.policy_key, y->rep.policy_key);
}

/* Hands out the domain's reports (ordered by policy configuration) and
 * empties it. */
static bool domain_flush(struct agg_domain *d, int64_t day, agg_report_fn fn,
			 void *arg, bool ok, struct strbuf *err)
{
	if (ok && d->n > 0) /* qsort(NULL, 0) is undefined */
		qsort(d->g, d->n, sizeof *d->g, group_cmp);
	for (size_t i = 0; i < d->n; i++) {
		d->g[i].rep.day = day;
		if (ok && !group_sort(&d->g[i])) {
			strbuf_puts(err, "aggregate: out of memory");
			ok = false;
		}
		if (ok)
			ok = fn(arg, &d->g[i].rep, err);
		group_free(&d->g[i]);
	}
	d->n = 0;
	return ok;
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

	struct agg_domain dom = {0};
	char *cur = NULL;        /* the policy domain being counted */
	struct strbuf pkey, rkey;
	strbuf_init(&pkey, NULL, 0, 64 * 1024);
	strbuf_init(&rkey, NULL, 0, 16 * 1024 * 1024);
	bool ok = true;
	int rc;
	while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *pd = (const char *)sqlite3_column_text(s, COL_DOMAIN);
		if (pd == NULL)
			continue;
		if (cur != NULL && strcmp(cur, pd) != 0) {
			ok = domain_flush(&dom, day, fn, arg, true, err);
			free(cur);
			cur = NULL;
			if (!ok)
				break;
		}
		if (cur == NULL && (cur = strdup(pd)) == NULL) {
			strbuf_puts(err, "aggregate: out of memory");
			ok = false;
			break;
		}
		if (!row_policy_key(s, &pkey) || !row_record_key(s, &rkey)) {
			strbuf_puts(err, "aggregate: published policy or event fields too long");
			ok = false;
			break;
		}
		struct agg_group *g = domain_group(&dom, s, &pkey);
		if (g == NULL || !group_count(g, s, &rkey)) {
			strbuf_puts(err, "aggregate: out of memory");
			ok = false;
		}
	}
	if (ok && rc != SQLITE_DONE) {
		strbuf_printf(err, "aggregate: %s", sqlite3_errmsg(db));
		ok = false;
	}
	ok = domain_flush(&dom, day, fn, arg, ok, err);
	free(dom.g);
	free(cur);
	strbuf_free(&pkey);
	strbuf_free(&rkey);
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
