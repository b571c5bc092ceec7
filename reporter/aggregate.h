/* aggregate: one UTC day of events grouped into aggregate-report records.
 *
 * One report per (policy domain, published policy configuration): when a
 * domain changed its record during the day it gets one report per version.
 * Subdomains that inherit the policy are in the same report, one record per
 * header_from. A record is one distinct (source IP, header_from,
 * envelope_from, disposition, DKIM aligned, SPF aligned, override reason,
 * SPF and DKIM results) with its message count (RFC 9990 §2.1, RFC 7489 §7.2).
 * DKIM results are ordered aligned passes first, then other passes, then the
 * rest, and capped at AGG_MAX_DKIM per record.
 *
 * Callers: reporter/main.c (building reports), the benchmark.
 * Ownership: the struct agg_report handed to the callback is borrowed; valid
 *   until the callback returns (the next report reuses nothing of it).
 * Errors: aggregate_day() returns false with the SQLite message in err, or
 *   when the callback returned false (err then holds the callback's reason).
 * Limits: the day is read in policy-domain order and a domain's reports are
 *   handed out before the next domain is read, so memory is bounded by the
 *   records of one policy domain, not by the day. Records are counted in a
 *   hash table (not by an SQL GROUP BY, which sorted the whole day: 4x
 *   slower on a day of 1,000,000 events). */
#ifndef DMARC_AGGREGATE_H
#define DMARC_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "strbuf.h"

#define AGG_MAX_DKIM 100

struct agg_dkim {
	char *domain, *selector, *result, *human_result;
	bool aligned;
};

struct agg_record {
	char *source_ip, *header_from, *envelope_from;
	char *disposition;        /* none, quarantine, reject */
	char *dmarc_result;       /* pass, fail, ... */
	bool dkim_aligned, spf_aligned;
	char *override_type, *override_comment;  /* "" = none */
	char *spf_domain, *spf_result, *spf_scope;
	size_t ndkim;
	struct agg_dkim *dkim;    /* ndkim entries, ordered as above */
	long long count;
};

/* The published policy as the events saw it ("" = tag absent). */
struct agg_policy {
	char *p, *sp, *np, *adkim, *aspf, *fo, *t, *psd, *rua, *discovery_method;
	int pct;                  /* -1 = absent */
};

struct agg_report {
	int64_t day;              /* UTC day number */
	char *policy_domain;
	struct agg_policy policy;
	char *policy_key;         /* canonical text of the policy, for report ids */
	size_t nrecords;
	struct agg_record *records;
	long long messages;       /* sum of the record counts */
};

typedef bool (*agg_report_fn)(void *arg, const struct agg_report *rep,
			      struct strbuf *err);

/* Groups the events of day (and of one policy domain when domain is not
 * NULL) and calls fn once per report, in policy-domain order (a domain's
 * reports ordered by policy_key); records with the most messages first. */
bool aggregate_day(sqlite3 *db, int64_t day, const char *domain,
		   agg_report_fn fn, void *arg, struct strbuf *err);

/* The days (ascending) before today_day that have events with a policy
 * domain and are not in reported_days. new; caller frees with free().
 * *n gets the count; NULL with *n == 0 and no error text when none. */
int64_t *aggregate_pending_days(sqlite3 *db, int64_t today_day, size_t *n,
				struct strbuf *err);

#endif
