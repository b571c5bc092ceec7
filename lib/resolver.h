/* resolver: the one DNS client every lookup goes through.
 *
 * DMARC records, SPF (via a libspf2 DNS layer), DKIM keys (via libopendkim's
 * key-lookup callback) and _report._dmarc records are all resolved here, so
 * they share one TTL-respecting cache (libunbound's, with a small answer
 * cache of our own in front of it that saves the hand-offs to libunbound's
 * threads; negative answers capped at negative_ttl_max_sec; at most 4096
 * answers, the oldest dropped first) and one set of upstream servers.
 *
 * Callers: lib/policy_discovery, lib/spf_check, lib/dkim_verify, reporter/.
 * Thread safety: one struct resolver is shared by all threads; every function
 * may be called concurrently.
 * Outcomes are kept apart (RFC 9989 §4.10 needs to know NXDOMAIN from "no
 * record" from "could not ask"): see enum dns_status.
 * Ownership: resolver_new() -> new; caller frees with resolver_free().
 *   resolver_query() answers are new; caller frees with dns_answer_free().
 * Errors: resolver_new() returns false and writes a reason into err.
 * Limits: at most DNS_MAX_RRS records kept per answer; a name longer than 253
 *   octets is answered DNS_STATUS_ERROR without a query.
 * Upstreams: always forwarders (the list given, else /etc/resolv.conf), like
 *   a stub resolver: test. names and private/documentation reverse zones are
 *   asked upstream too (libunbound would answer them locally); invalid. and
 *   localhost. are not. Behind a forwarder an upstream REFUSED arrives as
 *   SERVFAIL (both DNS_STATUS_TEMPFAIL).
 * Timing: resolver_query() never waits longer than min(query timeout,
 *   deadline - now); a query for a dead domain then lingers inside libunbound
 *   for up to about 6 s (two retries, 1 s minimum RTO). libunbound settings
 *   such as the minimum RTO are process-wide.
 * Not done: DNSSEC validation (no trust anchor; DMARC does not require it),
 *   /etc/hosts. Create the resolver after fork()/daemonizing: it runs threads.
 *   libunbound may print its own errors on stderr. */
#ifndef DMARC_RESOLVER_H
#define DMARC_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define DNS_MAX_RRS 64          /* records kept per answer; the rest dropped */

/* RR types we ask for. */
#define DNS_TYPE_A     1
#define DNS_TYPE_NS    2
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR   12
#define DNS_TYPE_MX    15
#define DNS_TYPE_TXT   16
#define DNS_TYPE_AAAA  28

enum dns_status {
	DNS_STATUS_OK = 0,     /* at least one record of the asked type */
	DNS_STATUS_NXDOMAIN,   /* the name does not exist */
	DNS_STATUS_NODATA,     /* the name exists, no record of that type */
	DNS_STATUS_TEMPFAIL,   /* SERVFAIL, REFUSED or another rcode: try later */
	DNS_STATUS_TIMEOUT,    /* no answer within the time allowed */
	DNS_STATUS_ERROR,      /* bad name or local failure (out of memory, ...) */
};

struct resolver_config {
	/* "addr[@port],addr[@port],..." (IPv4 or IPv6); NULL or "" = the
	 * nameservers of /etc/resolv.conf */
	const char *nameservers;
	unsigned query_timeout_ms;      /* one query; 0 = 5000 */
	unsigned negative_ttl_max_sec;  /* cap on caching NXDOMAIN/NODATA; 0 = 300 */
};

struct dns_rr {
	uint16_t type;          /* DNS_TYPE_* */
	uint32_t ttl;
	size_t len;             /* rdata length */
	unsigned char *rdata;   /* raw rdata as on the wire (owned by the answer) */
};

struct dns_answer {
	enum dns_status status;
	int rcode;              /* DNS rcode as received (or -1 when none) */
	size_t count;           /* number of rrs */
	struct dns_rr *rrs;     /* records of the asked type (after CNAMEs) */
	bool truncated;         /* more than DNS_MAX_RRS records were dropped */
	char *why;              /* human-readable reason for a non-OK status, or NULL */
};

struct resolver;

/* Creates the resolver. false on failure with the reason in err. */
bool resolver_new(const struct resolver_config *cfg, struct resolver **out,
		  struct strbuf *err);

/* Stops the resolver; waits for no query (in-flight queries must be done). */
void resolver_free(struct resolver *res);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
uint64_t resolver_now_ms(void);

/* Looks up name/type. deadline_ms is an absolute resolver_now_ms() value
 * bounding the whole per-message budget (0 = no budget: the per-query timeout
 * alone applies). The call waits at most min(query timeout, deadline - now).
 * Returns a new answer (caller frees with dns_answer_free()), or NULL only when
 * out of memory. */
struct dns_answer *resolver_query(struct resolver *res, const char *name,
				  uint16_t type, uint64_t deadline_ms);

/* Frees an answer; NULL is a no-op. */
void dns_answer_free(struct dns_answer *ans);

/* Concatenates the character-strings of a TXT rdata (RFC 7208 §3.3,
 * RFC 9989 §4.7: multi-string records are joined without separators).
 * new; caller frees with free(). NULL on malformed rdata or no memory.
 * *len_out (may be NULL) gets the length; embedded NULs are possible, so
 * callers that want text must check strlen(result) == *len_out. */
char *dns_txt_join(const struct dns_rr *rr, size_t *len_out);

/* "ok", "nxdomain", "nodata", "tempfail", "timeout", "error". */
const char *dns_status_name(enum dns_status st);

/* Counters since resolver_new(), one per resolver_query() outcome. */
struct resolver_stats {
	uint64_t queries;       /* resolver_query() calls */
	uint64_t ok, nxdomain, nodata, tempfail, timeout, error;
};

/* Copies the counters (consistent snapshot). */
void resolver_get_stats(struct resolver *res, struct resolver_stats *out);

#endif
