/* from_header: author domain(s) from the RFC 5322 From field(s) of a message.
 *
 * Called by milter/ at end of headers with the value of every From field it
 * saw (the text after "From:", folded or not), and by the fuzz target.
 * Standards: RFC 5322 §3.2 (lexical tokens, comments, quoted strings),
 * §3.4 (address lists, groups), §3.6.2 (From), §4.4 (obsolete syntax:
 * obs-route, CFWS around dots, obs-local-part, obs-phrase, empty list
 * elements); RFC 6854 (groups allowed in From); RFC 6532 (UTF-8 in local parts,
 * display names and domains); RFC 9989 §4.4 / RFC 7489 §6.6.1 (one author
 * domain; several From fields or domains are for the receiver to judge).
 *
 * Output: the distinct author domains, normalised with domain_normalize()
 * (A-label, lower case, no trailing dot), in order of first appearance; the
 * number of mailboxes; flags; a status and a reason.
 *
 * Status (the most serious condition wins: NOMEM, NONE, SYNTAX, NO_DOMAIN,
 * MULTIPLE_FIELDS, OK). The flags below report every condition separately.
 * - FROM_OK: one From field; every mailbox has a usable domain.
 * - FROM_NONE: no From field at all (nvalues == 0).
 * - FROM_MULTIPLE_FIELDS: several From fields (RFC 5322 §3.6 allows one);
 *   otherwise fine. domains[] holds the domains of all of them.
 * - FROM_NO_DOMAIN: the field bytes are fine, but at least one mailbox gave
 *   no usable domain: an empty group ("undisclosed-recipients:;"), a bare
 *   local part ("joe"), "<>", a domain literal ("[192.0.2.1]": not a name we
 *   can look up), a domain that is not a valid DNS name, or a mailbox that
 *   does not parse ("a@b.example c@d.example", "x@y <z@w>"): we never guess
 *   which of two candidates an ambiguous mailbox means.
 * - FROM_SYNTAX: the value itself is malformed or over a limit: longer than
 *   FROM_MAX_FIELD_LEN (that field is skipped), NUL or other control bytes,
 *   CR or LF not part of folding, invalid UTF-8, an unterminated quoted
 *   string / comment / domain literal, more than FROM_MAX_ADDRESSES mailboxes
 *   (the first ones are kept) or more than FROM_MAX_FIELDS fields (the first
 *   ones are parsed).
 * - FROM_NOMEM: out of memory; the message should be TEMPFAILed.
 * In every case domains[] lists what could be extracted. Use
 * authors_complete to know whether every author is accounted for: when it is
 * false, a DMARC pass for the listed domains is not a pass for the message.
 * authors_complete stays true for FROM_SYNTAX caused only by invalid UTF-8 or
 * a control byte that did not stop any mailbox from parsing (legacy 8-bit
 * display names are common); it is false after a NUL byte, a CR/LF that is
 * not folding, an unterminated construct, a limit, or any mailbox without a
 * usable domain. FROM_OK and FROM_MULTIPLE_FIELDS imply it is true.
 *
 * Lenient on purpose (the local part does not matter to DMARC): local parts
 * may have leading, trailing or doubled dots ("a..b@docomo.ne.jp"); a group
 * not closed by ';' at the end of the field is accepted; a trailing dot and
 * upper case in the domain are normalised away; encoded words (RFC 2047) are
 * treated as the atoms they are and never decoded.
 *
 * Ownership: from_header_parse() fills a caller's struct from_result; the
 * result owns domains[]; release it with from_result_free() (also after an
 * error; freeing a zeroed or freed result is a no-op).
 * Errors: the status and result.reason; never logs, never exits, no global
 * state; thread safe. Input bytes quoted in reasons are made printable
 * (\xHH), so a reason can go straight into a log line. */
#ifndef DMARC_FROM_HEADER_H
#define DMARC_FROM_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"

#define FROM_MAX_ADDRESSES 64    /* mailboxes parsed over all fields */
#define FROM_MAX_DOMAINS FROM_MAX_ADDRESSES
#define FROM_MAX_FIELDS 16       /* From fields looked at */
#define FROM_MAX_FIELD_LEN 16384 /* octets per field value, folding included */
#define FROM_REASON_SIZE 256     /* reason text, with its NUL */

enum from_status {
	FROM_OK = 0,
	FROM_NONE,            /* no From field */
	FROM_MULTIPLE_FIELDS, /* several From fields, each otherwise fine */
	FROM_NO_DOMAIN,       /* some mailbox has no usable domain */
	FROM_SYNTAX,          /* malformed value or a limit hit; see reason */
	FROM_NOMEM,           /* out of memory */
};

struct from_result {
	enum from_status status;
	size_t nfields;          /* From fields given (nvalues) */
	size_t naddrs;           /* mailboxes seen, usable or not (group names excluded) */
	size_t nno_domain;       /* of which gave no usable domain */
	size_t ndomains;         /* entries in domains[] */
	char (*domains)[DOMAIN_BUF_SIZE]; /* distinct normalised domains; owned by
				   * the result, NULL when ndomains == 0 */
	bool multiple_fields;    /* nfields > 1 */
	bool multiple_domains;   /* ndomains > 1: the milter decides (RFC 9989 §4.4) */
	bool truncated;          /* a limit cut the parse short (too many mailboxes
				  * or fields, an over-long field) */
	bool authors_complete;   /* every mailbox of every field was parsed, gave a
				  * usable domain, and nothing was cut: domains[]
				  * names every author */
	char reason[FROM_REASON_SIZE]; /* "" for FROM_OK; else what was wrong, e.g.
				  * "From field 1, mailbox 2: domain literal
				  * [192.0.2.1] is not a domain name" */
};

/* Parses nvalues From field values (values[i] of lens[i] octets, need not be
 * NUL-terminated; NUL bytes inside are reported, not trusted) into *out, which
 * is overwritten (call from_result_free() first if it held a result).
 * Returns out->status. values and lens may be NULL when nvalues is 0. */
enum from_status from_header_parse(const char *const *values, const size_t *lens,
				   size_t nvalues, struct from_result *out);

/* Shorthand for one NUL-terminated field value (tests, tools). */
enum from_status from_header_parse_str(const char *value, struct from_result *out);

/* Releases what the result owns and zeroes it. NULL is a no-op. */
void from_result_free(struct from_result *res);

/* A short constant name for a status ("ok", "no From field", ...); borrowed
 * static string. */
const char *from_status_str(enum from_status st);

#endif
