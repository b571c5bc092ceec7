/* auth_types: the result words shared by every module, and their names.
 *
 * SPF results are RFC 7208 §2.6 / RFC 8601 §2.7.2 words, DKIM results RFC 8601
 * §2.7.1, DMARC results RFC 9989 §5 / RFC 8601. Policies and dispositions
 * RFC 9989 §4.7. The prefixes AUTH_ and DMARC_ avoid libspf2's SPF_ and
 * libopendkim's DKIM_ name spaces.
 *
 * Ownership: the name functions return borrowed static strings.
 * Errors: an out-of-range value names itself "unknown". */
#ifndef DMARC_AUTH_TYPES_H
#define DMARC_AUTH_TYPES_H

#include <stdbool.h>

/* RFC 7208 results, each kept as itself (never folded into "fail"). */
enum auth_spf {
	AUTH_SPF_NONE = 0,
	AUTH_SPF_NEUTRAL,
	AUTH_SPF_PASS,
	AUTH_SPF_FAIL,
	AUTH_SPF_SOFTFAIL,
	AUTH_SPF_TEMPERROR,
	AUTH_SPF_PERMERROR,
};

/* RFC 8601 §2.7.1 DKIM results for one signature. */
enum auth_dkim {
	AUTH_DKIM_NONE = 0,
	AUTH_DKIM_PASS,
	AUTH_DKIM_FAIL,
	AUTH_DKIM_NEUTRAL,
	AUTH_DKIM_POLICY,
	AUTH_DKIM_TEMPERROR,
	AUTH_DKIM_PERMERROR,
};

/* DMARC result of a message (RFC 8601 words). */
enum auth_dmarc {
	AUTH_DMARC_NONE = 0,   /* no policy published */
	AUTH_DMARC_PASS,
	AUTH_DMARC_FAIL,
	AUTH_DMARC_TEMPERROR,  /* DNS kept us from a verdict */
	AUTH_DMARC_PERMERROR,  /* e.g. no usable From domain */
};

/* A published policy (p=, sp=, np=) or an applied disposition. */
enum dmarc_policy {
	DMARC_POLICY_UNSPECIFIED = 0, /* tag absent or invalid */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

/* Which standard governs discovery, sampling and report format. */
enum dmarc_standard {
	DMARC_STD_RFC9989 = 0, /* DMARCbis: DNS tree walk; pct/ri/rf historic */
	DMARC_STD_RFC7489,     /* compatibility: PSL organizational domain, pct */
};

const char *auth_spf_name(enum auth_spf r);         /* "pass", "softfail", ... */
const char *auth_dkim_name(enum auth_dkim r);       /* "pass", "temperror", ... */
const char *auth_dmarc_name(enum auth_dmarc r);     /* "pass", "fail", ... */
const char *dmarc_policy_name(enum dmarc_policy p); /* "none", "quarantine", "reject", "unspecified" */

/* Parses "none"/"quarantine"/"reject" (case-insensitive); false otherwise. */
bool dmarc_policy_parse(const char *s, enum dmarc_policy *out);

#endif
