/* spf_check: RFC 7208 SPF checks of MAIL FROM and HELO with libspf2, every
 * DNS lookup going through lib/resolver.
 *
 * Callers: milter/ (one checker per connection: libmilter runs a thread per
 * connection and a libspf2 SPF_server_t is not thread safe), tests.
 *
 * What we add to libspf2 1.2.10 (RFC 7208 §4.6.4, §2.3, §2.4, §3.1):
 * - our own libspf2 DNS layer: A, AAAA, MX, PTR, TXT come from
 *   resolver_query() with the caller's deadline; NXDOMAIN -> HOST_NOT_FOUND,
 *   NODATA -> NO_DATA, TEMPFAIL/TIMEOUT/ERROR -> TRY_AGAIN. The obsolete SPF
 *   RR type (99) is never asked for (RFC 7208 §3.1, §14.1).
 * - the void-lookup limit libspf2 lacks: a DNS-querying term (a, mx, ptr,
 *   exists, include, redirect) answered NXDOMAIN or NODATA is a void lookup;
 *   the third one ends the check with permerror "more than 2 void lookups".
 * - the 10-term limit across include/redirect levels: libspf2 counts DNS terms
 *   per record only (its counter restarts inside each include), so we count
 *   them over the whole check as well; the 11th ends it with permerror.
 *   Address lookups that follow an mx or ptr answer are part of that term
 *   (at most 10 each, libspf2's max_dns_mx / max_dns_ptr).
 * - no free pass for loopback clients (libspf2's SPF_request_query_mailfrom
 *   passes 127.0.0.0/8 and ::1 unconditionally; RFC 7208 has no such rule).
 * - exp= explanations are not fetched (RFC 7208 §6.2 makes them optional and
 *   they cost a lookup); reasons come from libspf2's header comment instead.
 * Known limit: the PTR lookup behind the %{p} macro counts as a term.
 *
 * Identities: MAIL FROM; a null sender ("", "<>") is checked as
 * postmaster@<HELO> with scope helo (RFC 7208 §2.4). A HELO that is not a
 * domain name (IP literal, no dot) is not checked: result none (§2.3). A
 * malformed sender domain gives none (§4.3). IPv4-mapped IPv6 clients are
 * checked as IPv4.
 *
 * Ownership: spf_checker_new() -> new; caller frees with spf_checker_free().
 *   The resolver is borrowed and must outlive the checker. Outcome strings
 *   are new; caller frees them with spf_outcome_clear().
 * Errors: every check fills the outcome; out of memory gives temperror with
 *   reason "out of memory" (strings may then be NULL). Nothing is logged, but
 *   libspf2 itself prints warnings through its global SPF_*_handler hooks:
 *   the milter sets those at startup.
 * Thread safety: one checker belongs to one thread at a time; checkers in
 *   different threads are independent.
 * Limits: RFC 7208 §4.6.4 (10 terms, 2 void lookups, 10 MX/PTR names), the
 *   caller's deadline, libspf2's recursion depth (20). */
#ifndef DMARC_SPF_CHECK_H
#define DMARC_SPF_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "auth_types.h"
#include "resolver.h"

#define SPF_CHECK_MAX_TERMS 10 /* RFC 7208 §4.6.4: DNS-querying terms per check */
#define SPF_CHECK_MAX_VOID  2  /* RFC 7208 §4.6.4: void lookups allowed */

/* Which identity was checked (RFC 7208 §2.3, §2.4; RFC 8601 smtp.mailfrom /
 * smtp.helo). */
enum spf_check_scope {
	SPF_CHECK_SCOPE_MFROM = 0,
	SPF_CHECK_SCOPE_HELO,
};

struct spf_outcome {
	enum auth_spf result;       /* each RFC 7208 result kept as itself */
	enum spf_check_scope scope; /* helo for spf_check_helo() and null senders */
	char *domain;               /* domain whose policy was checked, or NULL */
	char *sender;               /* address used: MAIL FROM or postmaster@HELO */
	char *reason;               /* human-readable why, never NULL unless OOM */
	char *received_spf;         /* libspf2's Received-SPF value, or NULL when
	                               we overrode its result (limits, deadline) */
	unsigned terms;             /* DNS-querying terms evaluated */
	unsigned void_lookups;      /* of which answered NXDOMAIN/NODATA */
};

struct spf_checker;

/* Creates a checker. receiver is our host name (the %{r} macro and the
 * Received-SPF comment); NULL = gethostname(). Returns NULL when out of
 * memory. Cost: one SPF_server_t, about 2 microseconds to create and free
 * (measured by tests/unit/spf_check_test), so one per connection is cheap. */
struct spf_checker *spf_checker_new(struct resolver *res, const char *receiver);

/* Frees the checker; NULL is a no-op. */
void spf_checker_free(struct spf_checker *c);

/* Checks the MAIL FROM identity (RFC 7208 §2.4). client_ip is textual IPv4
 * or IPv6; mail_from may carry angle brackets; NULL, "" or "<>" is the null
 * sender, checked as postmaster@helo with scope helo. deadline_ms is an
 * absolute resolver_now_ms() value (0 = per-query timeouts only). Fills out
 * (previous contents are not freed) and returns out->result. */
enum auth_spf spf_check_mailfrom(struct spf_checker *c, const char *client_ip,
				 const char *helo, const char *mail_from,
				 uint64_t deadline_ms, struct spf_outcome *out);

/* Checks the HELO identity (RFC 7208 §2.3) as postmaster@helo. */
enum auth_spf spf_check_helo(struct spf_checker *c, const char *client_ip,
			     const char *helo, uint64_t deadline_ms,
			     struct spf_outcome *out);

/* Frees the outcome's strings and zeroes it; safe on a zeroed outcome. */
void spf_outcome_clear(struct spf_outcome *out);

/* "mailfrom" or "helo" (RFC 8601 smtp.mailfrom / smtp.helo). */
const char *spf_check_scope_name(enum spf_check_scope s);

#endif
