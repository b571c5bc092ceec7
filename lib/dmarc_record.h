/* dmarc_record: parse one DMARC policy record, and pick the record out of a
 * TXT RRset.
 *
 * Callers: lib/policy_discovery (every _dmarc.<name> TXT answer), the
 * reporter (rua destinations), tests/fuzz/fuzz_dmarc_record.c.
 * Standards: RFC 9989 §4.7 (tags, defaults, fallbacks), §4.10 (record
 * selection); RFC 7489 §6.3, §6.6.3 (historic tags pct, rf, ri; one record).
 * The parser is standard-agnostic: it keeps every tag it knows, and
 * lib/dmarc_eval decides which ones a mode honours (pct only in RFC 7489
 * mode, t and np only in RFC 9989 mode).
 *
 * Syntax choices (see dmarc_record.c for the RFC text they rest on):
 *  - "v=DMARC1" must be the first tag, byte for byte (case-sensitive, no
 *    space inside "DMARC1"); whitespace before "v", around "=" and before
 *    the ";" is tolerated. Anything else is DMARC_RECORD_NOT_DMARC.
 *  - Tag names are matched case-insensitively (RFC 9989 §4.8 ABNF: "v"
 *    and the tag names are RFC 5234 literals, only %s"DMARC1" is
 *    case-sensitive); keyword values (none, quarantine, reject, y, n, u,
 *    r, s, k/m/g/t) likewise.
 *  - Unknown tags are ignored with a warning (RFC 9989 §4.7). Other syntax
 *    errors after v= (an element without "=", a tag name that is not
 *    1*ALPHA) are ignored with a warning (RFC 9989 §4.8: "discarded in
 *    favor of default values ... or ignored outright").
 *  - A known tag that appears twice makes the record DMARC_RECORD_INVALID:
 *    DMARC uses the DKIM tag-list syntax, and RFC 6376 §3.2 says a tag-list
 *    with a duplicate tag name is invalid as a whole.
 *  - An empty value ("p=") is an invalid value of that tag (the ABNF needs
 *    1*dmarc-value); an empty element (";;", a trailing ";") is tolerated.
 *  - An embedded NUL byte anywhere makes the record DMARC_RECORD_INVALID.
 *  - Invalid adkim/aspf/t/psd/pct/ri/fo/rf values: ignored (the default
 *    applies) with a warning.
 *  - p missing or invalid, or sp or np invalid (RFC 9989 §4.10.1, RFC 7489
 *    §6.6.3 step 6): with at least one syntactically valid rua URI the
 *    record acts as a record with just "p=none" (p = NONE, sp/np dropped,
 *    p_from_rua set, warning); otherwise DMARC_RECORD_INVALID (no DMARC
 *    processing for the message).
 *  - RFC 7489's "p must follow v" order rule is not enforced (RFC 9989
 *    dropped it).
 *  - rua/ruf: URIs separated by "," with optional whitespace; each is
 *    checked for URI characters and a scheme, percent-decoded, and its
 *    obsolete "!size" suffix parsed. A mailto: URI must hold exactly one
 *    plausible ASCII addr-spec (dot-atom or quoted local part, a domain of
 *    at least two LDH labels; "?hfields" are ignored). Other schemes are
 *    kept with is_mailto false (reporters ignore them, RFC 9989 §4.7).
 *    Invalid URIs are dropped with a warning.
 *  - Warnings quote at most 64 bytes of input, with control and non-ASCII
 *    bytes shown as \xNN, so they are safe for logs and header comments;
 *    at most 16 warnings are kept, the rest are counted.
 *
 * Ownership: dmarc_record_parse() returns a new record; caller frees with
 * dmarc_record_free(). All strings inside belong to the record.
 * Errors: a status plus human-readable text (warnings and the reason for a
 * non-OK status) in the caller's strbuf and, for an OK record, a copy in
 * record->warnings. Never logs, never exits, no global state.
 * Limits: record text at most DMARC_RECORD_MAX_LEN bytes (longer is
 * INVALID); at most DMARC_RECORD_MAX_URIS URIs kept per rua/ruf list, the
 * excess counted in dmarc_uri_list.excess and reported as a warning. */
#ifndef DMARC_DMARC_RECORD_H
#define DMARC_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_types.h"
#include "strbuf.h"

#define DMARC_RECORD_MAX_LEN 4096  /* bytes of record text we accept */
#define DMARC_RECORD_MAX_URIS 32   /* URIs kept per rua / ruf list */

enum dmarc_record_status {
	DMARC_RECORD_OK = 0,    /* a usable policy record (maybe with warnings) */
	DMARC_RECORD_NOT_DMARC, /* does not start with "v=DMARC1": not a DMARC record */
	DMARC_RECORD_INVALID,   /* starts with v=DMARC1 but gives no usable policy */
	DMARC_RECORD_NOMEM,     /* out of memory */
};

/* psd= (RFC 9989 §4.7): is this a Public Suffix Domain's record? */
enum dmarc_psd {
	DMARC_PSD_U = 0, /* default: unknown, let the tree walk decide */
	DMARC_PSD_Y,     /* the domain is a PSD */
	DMARC_PSD_N,     /* the domain is an organizational domain */
};

/* One rua/ruf destination. */
struct dmarc_uri {
	char *uri;        /* percent-decoded URI without the "!size" suffix */
	bool is_mailto;   /* scheme is mailto (case-insensitive) */
	char *address;    /* mailto only: decoded local@domain, domain lower-cased; else NULL */
	char *domain;     /* mailto only: the lower-cased domain; else NULL */
	bool has_max_size;       /* an obsolete "!size" suffix was given */
	uint64_t max_size_bytes; /* its value in bytes (k/m/g/t = 2^10..2^40) */
};

/* A rua= or ruf= list, in record order. */
struct dmarc_uri_list {
	struct dmarc_uri uris[DMARC_RECORD_MAX_URIS];
	size_t count;   /* valid entries in uris[] */
	size_t excess;  /* valid URIs beyond DMARC_RECORD_MAX_URIS, dropped */
	size_t invalid; /* URIs dropped as invalid */
};

struct dmarc_record {
	/* Policies: DMARC_POLICY_UNSPECIFIED when the tag is absent or invalid. */
	enum dmarc_policy p;
	enum dmarc_policy sp;
	enum dmarc_policy np;
	bool has_p, has_sp, has_np; /* the tag was present with a valid value */
	bool p_from_rua;     /* p missing/invalid or sp/np invalid, and rua valid:
				the record acts as just "p=none" (§4.10.1) */

	bool adkim_strict;   /* adkim=s (default r) */
	bool aspf_strict;    /* aspf=s (default r) */
	bool has_adkim, has_aspf;

	enum dmarc_psd psd;  /* default u */
	bool has_psd;
	bool testing;        /* t=y (default n) */
	bool has_t;

	/* Historic tags (RFC 7489 §6.3). */
	unsigned pct;        /* 0..100, default 100 */
	bool has_pct;
	uint32_t ri_sec;     /* aggregate report interval, default 86400 */
	bool has_ri;
	char *rf;            /* rf= text as published; NULL when absent (default "afrf") */

	char *fo;            /* fo= text as published; NULL when absent (default "0") */

	struct dmarc_uri_list rua;
	struct dmarc_uri_list ruf;

	char *warnings;      /* "; "-joined warnings, or NULL when there were none */
};

/* Parses the record text (len bytes; NUL bytes inside are a syntax error,
 * never read past len). On DMARC_RECORD_OK *out is a new record (caller
 * frees with dmarc_record_free()); otherwise *out is NULL. reason (may be
 * NULL) receives the warnings and, for a non-OK status, why, e.g.
 * "unknown tag \"pctx\" ignored" or "p: invalid value \"bogus\" and no
 * valid rua: no usable policy". */
enum dmarc_record_status dmarc_record_parse(const char *text, size_t len,
					    struct dmarc_record **out,
					    struct strbuf *reason);

/* Frees a record and everything in it; NULL is a no-op. Returns NULL. */
struct dmarc_record *dmarc_record_free(struct dmarc_record *rec);

/* True when text starts with the "v=DMARC1" tag (RFC 9989 §4.10 / RFC 7489
 * §6.6.3: records that don't are discarded), whatever follows. */
bool dmarc_record_is_dmarc(const char *text, size_t len);

/* One TXT record of an RRset, its strings already joined (borrowed). */
struct dmarc_txt {
	const char *data;
	size_t len;
};

enum dmarc_select_status {
	DMARC_SELECT_ONE = 0, /* exactly one v=DMARC1 record; *index says which */
	DMARC_SELECT_NONE,    /* no v=DMARC1 record among them (or n == 0) */
	DMARC_SELECT_SEVERAL, /* more than one: treated as no record (RFC 9989 §4.10) */
};

/* Picks the DMARC record out of the n TXT records at one name, ignoring the
 * ones that do not start with v=DMARC1. *index is set only for ONE. reason
 * (may be NULL) gets "no DMARC record" or "several DMARC records (N): no
 * record" for the other statuses. */
enum dmarc_select_status dmarc_record_select(const struct dmarc_txt *txts, size_t n,
					     size_t *index, struct strbuf *reason);

/* "ok", "not a DMARC record", "invalid", "out of memory". */
const char *dmarc_record_status_name(enum dmarc_record_status st);

/* "y", "n", "u". */
const char *dmarc_psd_name(enum dmarc_psd psd);

#endif
