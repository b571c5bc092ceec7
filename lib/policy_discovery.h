/* policy_discovery: find the DMARC policy record of an author domain, and
 * the organizational domain of any domain.
 *
 * Callers: lib/dmarc_check (once per author domain, and orgdomain_find()
 * for SPF/DKIM identifier domains when relaxed alignment needs it), the
 * reporter (org domains), tests/discovery/.
 *
 * Two methods, chosen by policy_options.standard:
 *  - DMARC_STD_RFC9989 (default): the DNS Tree Walk, RFC 9989 §4.10.
 *    _dmarc.<author domain> first; when it holds no valid record, walk up
 *    from the parent (a name of 8 or more labels is first cut to its last 7
 *    labels), one label at a time down to the TLD: at most 8 TXT queries.
 *    A name with several v=DMARC1 records has no record (§4.10 steps 2, 6)
 *    and the walk goes on; a record with psd=y or psd=n stops it.
 *    The organizational domain is chosen as in §4.10.2 (psd=n: this name;
 *    psd=y: the name one label below; otherwise the valid record with the
 *    fewest labels; no record: the domain itself). The policy record is the
 *    author domain's, else the organizational domain's, else the Public
 *    Suffix Domain's (§4.10.1). A record found above the author domain
 *    applies sp, or np when the author domain does not exist (RFC 9989
 *    §3.2.13: an NXDOMAIN answer, RFC 8020; we ask one A query for the
 *    author domain, and only when sp and np would differ).
 *  - DMARC_STD_RFC7489 (compatibility): RFC 7489 §6.6.3 exactly:
 *    _dmarc.<author domain>; if it has no DMARC record, _dmarc.<org domain>
 *    where the org domain comes from the Public Suffix List (RFC 7489 §3.2,
 *    libpsl). Several records at the author domain end discovery (no
 *    fallback, step 5). sp applies to any subdomain; np is not used.
 *
 * A record that starts with v=DMARC1 but gives no usable policy (no valid p
 * and no valid rua, see lib/dmarc_record) means "no DMARC processing for
 * this message" when it is the record that would apply (RFC 9989 §4.10.1,
 * RFC 7489 §6.6.3 step 6): status POLICY_NONE. In the walk above the author
 * domain such a record is not a valid record for the §4.10.2 selection.
 *
 * Temporary DNS failures (SERVFAIL, REFUSED, timeout, local errors) on any
 * query whose answer could change the outcome give POLICY_TEMPERROR, never a
 * silent "no policy". Queries not made (the record was found at the author
 * domain) cannot fail. The per-message deadline bounds every query.
 *
 * Domains are normalised with lib/domain (lower-case A-labels, no trailing
 * dot; '_' allowed) before they are compared or queried.
 *
 * Ownership: policy_discover() fills a caller's struct policy_result whose
 * pointer members are new; release them with policy_result_clear().
 * orgdomain_find() returns a new string; caller frees with free().
 * policy_psl_load() returns a new handle; caller frees with
 * policy_psl_free() after every user is done. The handle is immutable and
 * may be shared by all threads.
 * Errors: a status and a human-readable reason; never logs, never exits.
 * Thread safety: reentrant; the resolver is thread safe.
 * Limits: domains of at most 253 octets, labels of at most 63. A name whose
 *   _dmarc. form would exceed 253 octets cannot hold a record and is not
 *   queried. In the 8-or-more-label case, when psd=y is found at the 7-label
 *   cut name, the organizational domain (8 labels) is not queried (it would
 *   be a 9th query): the PSD's record applies. */
#ifndef DMARC_POLICY_DISCOVERY_H
#define DMARC_POLICY_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_types.h"
#include "dmarc_eval.h"
#include "dmarc_record.h"
#include "resolver.h"
#include "strbuf.h"

#define POLICY_MAX_QUERIES 8     /* RFC 9989 §4.10: TXT queries per tree walk */
#define POLICY_DOMAIN_MAX 253    /* octets in a domain name, no trailing dot */

/* A loaded Public Suffix List (RFC 7489 mode). Opaque, immutable. */
struct policy_psl;

enum policy_status {
	POLICY_FOUND = 0,  /* a usable record applies: result.record is set */
	POLICY_NONE,       /* no record applies: DMARC does not apply */
	POLICY_TEMPERROR,  /* a DNS failure (or out of memory) kept us from knowing */
	POLICY_PERMERROR,  /* the domain itself is unusable (empty, too long, bad IDN) */
};

/* Where the applicable record was published. */
enum policy_origin {
	POLICY_ORIGIN_NONE = 0,
	POLICY_ORIGIN_AUTHOR,          /* _dmarc.<author domain> */
	POLICY_ORIGIN_ORGANIZATIONAL,  /* _dmarc.<organizational domain> */
	POLICY_ORIGIN_PUBLIC_SUFFIX,   /* _dmarc.<PSD> (psd=y), RFC 9989 §4.10.1 */
};

enum policy_method {
	POLICY_METHOD_TREEWALK = 0,    /* RFC 9989 §4.10 */
	POLICY_METHOD_PSL,             /* RFC 7489 §3.2 + §6.6.3 */
};

struct policy_options {
	enum dmarc_standard standard;    /* DMARC_STD_RFC9989 or DMARC_STD_RFC7489 */
	const struct policy_psl *psl;    /* RFC 7489 mode; NULL = libpsl's built-in list */
	uint64_t deadline_ms;            /* absolute resolver_now_ms() bound; 0 = none */
};

struct policy_result {
	enum policy_status status;
	struct dmarc_record *record;     /* new (owned); set only for POLICY_FOUND */
	char *author_domain;             /* new; the normalised author domain (A-labels) */
	char *policy_domain;             /* new; where the applicable record (or the
					    unusable one) was, without "_dmarc."; NULL if none */
	char *org_domain;                /* new; the author domain's organizational
					    domain, or NULL when not determined: RFC 9989
					    mode with a psd=u record at the author domain
					    needs no walk for the policy, so call
					    orgdomain_find() if relaxed alignment needs it */
	enum policy_origin origin;
	enum policy_method method;
	bool author_domain_exists;       /* false only after an NXDOMAIN for it */
	bool existence_checked;          /* the A query for the author domain was made
					    and answered */
	enum dmarc_policy_source applies; /* which tag governs: P, SP or NP */
	enum dmarc_policy policy;        /* that tag's value with the np->sp->p
					    fallbacks; UNSPECIFIED unless FOUND */
	unsigned txt_queries;            /* _dmarc TXT queries made (<= 8 per walk) */
	unsigned dns_queries;            /* all queries made (TXT + existence) */
	char *reason;                    /* new; human-readable account, never NULL
					    after policy_discover() unless out of memory */
};

/* Loads a Public Suffix List. path NULL or "": libpsl's built-in list (or,
 * if the library has none, the distribution's file). Otherwise the file in
 * PSL format at path. Returns a new handle (caller frees with
 * policy_psl_free()), or NULL with the reason in err (may be NULL). */
struct policy_psl *policy_psl_load(const char *path, struct strbuf *err);

/* Frees a handle; NULL is a no-op. Returns NULL. */
struct policy_psl *policy_psl_free(struct policy_psl *psl);

/* Finds the policy of author_domain (as in the From header; U-labels,
 * upper case and one trailing dot allowed). Fills *out completely (it need
 * not be initialised) and returns out->status. */
enum policy_status policy_discover(struct resolver *res,
				   const struct policy_options *opt,
				   const char *author_domain,
				   struct policy_result *out);

/* Releases the members of a result and zeroes it; NULL is a no-op. */
void policy_result_clear(struct policy_result *r);

/* The organizational domain of domain (RFC 9989 §4.10.2 tree walk, or the
 * PSL in RFC 7489 mode, which needs no DNS). On POLICY_FOUND *org_out is a
 * new string (caller frees with free()); POLICY_TEMPERROR when a walk query
 * failed, POLICY_PERMERROR for an unusable domain (then *org_out is NULL).
 * *queries (may be NULL) is increased by the number of DNS queries made.
 * reason (may be NULL) receives an account of the walk. The caller need
 * not call this when the two domains are identical or alignment is strict
 * (RFC 9989 §4.10.2 note): dmarc_check does that. */
enum policy_status orgdomain_find(struct resolver *res,
				  const struct policy_options *opt,
				  const char *domain, char **org_out,
				  unsigned *queries, struct strbuf *reason);

/* The names a tree walk starting at domain (already normalised) queries, in
 * order (RFC 9989 §4.10 steps 1-7): domain, then its parent or, for 8 or
 * more labels, its last 7 labels, then one label less each time down to
 * the TLD. names[i] are borrowed pointers into domain. Returns the count
 * (at most POLICY_MAX_QUERIES). Pure; exposed for tests. */
size_t policy_walk_names(const char *domain, const char *names[POLICY_MAX_QUERIES]);

/* "found", "none", "temperror", "permerror". */
const char *policy_status_name(enum policy_status st);

/* "none", "author", "organizational", "public-suffix". */
const char *policy_origin_name(enum policy_origin o);

/* "treewalk", "psl". */
const char *policy_method_name(enum policy_method m);

/* "p", "sp", "np". */
const char *policy_source_name(enum dmarc_policy_source s);

#endif
