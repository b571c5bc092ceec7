/* domain: domain name normalisation and comparison, shared by every module.
 *
 * Callers: from_header (author domains), dmarc_record (rua/ruf hosts),
 * policy_discovery (tree walk), spf_check / dkim_verify (d=, MAIL FROM), milter.
 * Every domain we compare or look up goes through domain_normalize() once, so
 * the rest of the code can compare names with domain_equal() / strcmp().
 *
 * Canonical form ("normalised"): the A-label form (RFC 5890 §2.3.2.1) in
 * lower case, without the trailing dot, at most DOMAIN_MAX_LEN (253) octets
 * (RFC 1035 §2.3.4 / RFC 2181 §11: 255 octets on the wire), labels of 1 to
 * DOMAIN_LABEL_MAX (63) octets.
 *
 * Choices (and why):
 * - U-labels (UTF-8) are converted with libidn2 using UTS #46 non-transitional
 *   processing (IDNA2008 semantics: "faß.de" -> "xn--fa-hia.de", as browsers
 *   and registries do today). If libidn2 refuses the name under
 *   non-transitional rules (IDN2_DISALLOWED), we retry with transitional
 *   processing (UTS #46 §4, IDNA2003 compatible mappings), as curl and other
 *   clients do, so that names valid only under the old rules still resolve.
 *   Input is NFC-normalised first (IDN2_NFC_INPUT).
 * - Pure ASCII names never go through libidn2: they are only lower-cased and
 *   checked. "xn--" labels are accepted as they are (we do not decode them):
 *   the A-label is what the DNS holds, and refusing a bogus one would only
 *   keep a message from being evaluated.
 * - Labels are LDH (RFC 5890 §2.3.1, RFC 1123 §2.1): letters, digits and
 *   hyphens; a label must not begin or end with a hyphen.
 * - '_' is refused unless the caller passes DOMAIN_ALLOW_UNDERSCORE. DNS
 *   owner names such as _dmarc.example.com (RFC 9989), DKIM selectors
 *   (RFC 6376 §3.6.2.1) and SRV-style names need it; from_header passes it too,
 *   because RFC 5322 dot-atom allows '_' and an author domain we cannot
 *   evaluate is worse for DMARC than one with an odd character.
 * - Single-label names ("localhost", "com") are accepted: they are valid
 *   names; whether they make sense is the caller's business.
 *
 * Ownership: domain_normalize() writes into a caller's DOMAIN_BUF_SIZE array;
 * the other functions return borrowed pointers into their argument.
 * Errors: a domain_status, plus an optional human-readable reason appended to a
 * caller's strbuf (input bytes are quoted with non-printables as \xHH).
 * Never logs, no global state; thread safe (libidn2 is reentrant).
 * Limits: input at most DOMAIN_MAX_INPUT_LEN octets (UTF-8 U-labels are longer
 * than their A-labels); output at most DOMAIN_MAX_LEN. */
#ifndef DMARC_DOMAIN_H
#define DMARC_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define DOMAIN_MAX_LEN 253                 /* octets, without the trailing dot */
#define DOMAIN_LABEL_MAX 63                /* octets per label (RFC 1035 §2.3.4) */
#define DOMAIN_BUF_SIZE (DOMAIN_MAX_LEN + 1) /* output array size, with the NUL */
#define DOMAIN_MAX_INPUT_LEN 1024          /* longest input we try to convert */

/* Flags for domain_normalize(). */
#define DOMAIN_ALLOW_UNDERSCORE 0x1u /* accept '_' in labels (DNS owner names) */

enum domain_status {
	DOMAIN_OK = 0,
	DOMAIN_ERR_EMPTY,         /* empty name, or only "." */
	DOMAIN_ERR_TOO_LONG,      /* over DOMAIN_MAX_LEN (or the input limit) */
	DOMAIN_ERR_EMPTY_LABEL,   /* "a..b", ".a" */
	DOMAIN_ERR_LABEL_TOO_LONG,/* a label over 63 octets (after IDN conversion) */
	DOMAIN_ERR_BAD_CHAR,      /* outside LDH (and '_' if allowed), NUL, ... */
	DOMAIN_ERR_HYPHEN,        /* a label begins or ends with '-' */
	DOMAIN_ERR_IDN,           /* libidn2 refused the U-label form (or bad UTF-8) */
	DOMAIN_ERR_NOMEM,         /* out of memory inside libidn2 */
};

/* Normalises the len octets at in (need not be NUL-terminated) into out:
 * A-label form, lower case, no trailing dot, NUL-terminated. flags is 0 or
 * DOMAIN_ALLOW_UNDERSCORE. On error out holds "" and, if reason is not NULL,
 * a sentence saying what was wrong is appended to it. */
enum domain_status domain_normalize(const char *in, size_t len, unsigned flags,
				   char out[DOMAIN_BUF_SIZE], struct strbuf *reason);

/* A short constant name for a status ("ok", "empty label", ...); borrowed
 * static string. */
const char *domain_status_str(enum domain_status st);

/* True if a and b name the same domain: ASCII case-insensitive, one trailing
 * dot on either side ignored. Meant for normalised names (A-labels); it does
 * not convert U-labels. NULL is equal to nothing. */
bool domain_equal(const char *a, const char *b);

/* True if child is parent or lies below it ("mail.example.com" is a
 * subdomain of "example.com" and of itself; "badexample.com" is not).
 * Same comparison rules as domain_equal(). An empty parent (the root) gives
 * false: no caller wants "everything". */
bool domain_is_subdomain(const char *child, const char *parent);

/* Number of labels: "a.b.example" -> 3, "example." -> 1, "" or "." -> 0. */
size_t domain_label_count(const char *d);

/* The name with its first label removed: "a.b.example" -> "b.example".
 * borrowed; points into d, valid as long as d. NULL for a single-label,
 * empty or NULL name (there is no parent to walk to). */
const char *domain_parent(const char *d);

/* The last n labels of d: ("a.b.c.example", 2) -> "c.example". borrowed;
 * points into d. Returns d itself when d has n labels or fewer; NULL when d is
 * NULL or n is 0. For the RFC 9989 §4.10 tree walk shortcut. */
const char *domain_last_labels(const char *d, size_t n);

#endif
