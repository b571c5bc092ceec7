/* authres: the text of the header fields we add, built as pure functions.
 *
 * - Authentication-Results (RFC 8601 §2.2): one field per message, with an
 *   spf, one dkim per signature, and one dmarc per author domain resinfo.
 *   Reasons go into RFC 5322 comments (§3.2.2): balanced, escaped, no CR/LF,
 *   ASCII only ("§" is spelt "section", other non-ASCII becomes "?").
 *   Long values are folded with "\n\t" (the milter protocol's line ending).
 * - Received-SPF (RFC 7208 §9.1).
 * - SES-style one-word verdicts: X-SPF-Verdict, X-DKIM-Verdict,
 *   X-DMARC-Verdict (PASS, FAIL, GRAY, PROCESSING_FAILED) and X-DMARC-Policy
 *   (NONE, QUARANTINE, REJECT).
 * - The authserv-id of an incoming Authentication-Results field, so that the
 *   milter can delete forged ones carrying our id (RFC 8601 §5).
 *
 * Callers: milter/headers.c (daemon and test mode), tests/unit/authres_test.c,
 * tests/fuzz/fuzz_authres.c.
 *
 * Verdict mapping (documented in dmarc-milter(8)):
 *   SPF  pass -> PASS; fail, softfail -> FAIL (the domain owner said the host
 *        is not, or probably not, authorised); neutral, none -> GRAY (RFC 7208
 *        §8.2: neutral is treated exactly like none); temperror, permerror ->
 *        PROCESSING_FAILED.
 *   DKIM (over all signatures) any pass -> PASS; else any fail or policy ->
 *        FAIL; else any temperror, permerror or neutral (RFC 8601 §2.7.1: a
 *        signature that could not be processed) -> PROCESSING_FAILED; no
 *        signature -> GRAY.
 *   DMARC pass -> PASS; fail -> FAIL; none -> GRAY; temperror, permerror ->
 *        PROCESSING_FAILED.
 *
 * Ownership: inputs are borrowed for the duration of a call; output is
 * appended to a caller's strbuf. Name functions return static strings.
 * Errors: builders return false when an input cannot be represented (e.g. an
 * authserv-id that is not a token, a missing domain) or the strbuf failed;
 * the reason is appended to err (may be NULL). Nothing is logged.
 * Limits: a reason comment is cut at AUTHRES_REASON_MAX bytes, marked with
 * "..." (a comment is for humans; the cut is visible, not silent). */
#ifndef DMARC_AUTHRES_H
#define DMARC_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "auth_types.h"
#include "strbuf.h"

#define AUTHRES_REASON_MAX  200  /* bytes of reason text kept in a comment */
#define AUTHRES_B_PREFIX    12   /* chars of DKIM b= reported (RFC 6008 §4) */
#define AUTHRES_FOLD_COLUMN 78   /* RFC 5322 §2.1.1 SHOULD line length */
#define AUTHRES_MAX_LEN     60000 /* bound for one built header value: room
				      for 100 signatures with their reasons,
				      under libmilter's 64 KiB packet */

/* SES-style verdict words. */
enum authres_verdict {
	AUTHRES_VERDICT_GRAY = 0,          /* nothing to check */
	AUTHRES_VERDICT_PASS,
	AUTHRES_VERDICT_FAIL,
	AUTHRES_VERDICT_PROCESSING_FAILED, /* an error kept us from a verdict */
};

/* SPF, as checked at MAIL FROM (RFC 7208 §2.4 for the null sender). */
struct authres_spf {
	enum auth_spf result;
	const char *mailfrom; /* envelope sender address; NULL or "" = null sender */
	const char *helo;     /* HELO/EHLO name; used for the null sender */
	const char *reason;   /* NULL or text for a comment */
};

/* One DKIM signature (RFC 8601 §2.7.1, RFC 6008). */
struct authres_dkim {
	enum auth_dkim result;
	const char *domain;   /* d= (NULL when unparsable) */
	const char *selector; /* s= (NULL when unparsable) */
	const char *b;        /* b= as in the signature (whitespace ignored) or NULL */
	const char *reason;   /* NULL or text for a comment */
};

/* DMARC for one author domain (RFC 9989 §5; policy.dmarc from its IANA
 * registration). */
struct authres_dmarc {
	enum auth_dmarc result;
	const char *from_domain;        /* RFC5322.From domain; NULL = none usable */
	enum dmarc_policy published;    /* p= of the record (comment "p=") */
	enum dmarc_policy disposition;  /* what we did (comment "dis=") */
	enum dmarc_policy applied;      /* p, sp or np as applicable (policy.dmarc) */
	const char *override;           /* NULL or "trusted_forwarder", "mailing_list" */
	const char *reason;             /* NULL or text for a comment */
};

/* Everything one Authentication-Results value says. */
struct authres_input {
	const char *authserv_id;            /* ours; must be an RFC 2045 token */
	const struct authres_spf *spf;      /* NULL = not evaluated: left out */
	const struct authres_dkim *dkim;    /* dkim_count entries; 0 -> "dkim=none" */
	size_t dkim_count;
	const struct authres_dmarc *dmarc;  /* dmarc_count entries */
	size_t dmarc_count;                 /* 0 -> no dmarc resinfo */
};

/* Appends the Authentication-Results value (without the field name) to out,
 * e.g. "mx.example; spf=pass smtp.mailfrom=a@b.example;\n\tdkim=none; ...".
 * Folded with "\n\t" before a resinfo or property that would pass
 * AUTHRES_FOLD_COLUMN (counting the field name). */
bool authres_build(const struct authres_input *in, struct strbuf *out,
		   struct strbuf *err);

/* Received-SPF inputs (RFC 7208 §9.1). */
struct authres_received_spf {
	enum auth_spf result;
	const char *client_ip;   /* textual IP address */
	const char *mailfrom;    /* NULL or "" = null sender: identity=helo */
	const char *helo;        /* HELO/EHLO name, may be NULL */
	const char *receiver;    /* our authserv-id / host name */
	const char *reason;      /* NULL or text for the comment */
};

/* Appends the Received-SPF value, e.g. "pass (reason) client-ip=192.0.2.1;
 * envelope-from=a@b.example; helo=mail.b.example; receiver=mx.example;
 * identity=mailfrom". */
bool authres_received_spf(const struct authres_received_spf *in,
			  struct strbuf *out, struct strbuf *err);

enum authres_verdict authres_spf_verdict(enum auth_spf r);
/* Verdict over all signatures; results may be NULL when n is 0. */
enum authres_verdict authres_dkim_verdict(const enum auth_dkim *results, size_t n);
enum authres_verdict authres_dmarc_verdict(enum auth_dmarc r);

/* "PASS", "FAIL", "GRAY", "PROCESSING_FAILED". */
const char *authres_verdict_name(enum authres_verdict v);

/* X-DMARC-Policy word: "NONE", "QUARANTINE", "REJECT" (unspecified -> "NONE",
 * RFC 9989 §4.7: an invalid or absent p= is treated as none). */
const char *authres_policy_word(enum dmarc_policy p);

/* Extracts the authserv-id of an incoming Authentication-Results value
 * (RFC 8601 §2.2: [CFWS] value, value = token / quoted-string), skipping
 * comments and folding; quoted-pairs are unescaped. Appends it to out.
 * false when the value has no authserv-id. */
bool authres_parse_authserv_id(const char *value, struct strbuf *out);

/* True when an incoming Authentication-Results value carries authserv_id
 * (case-insensitive, RFC 8601 §5). */
bool authres_is_ours(const char *value, const char *authserv_id);

/* True when s is usable as our authserv-id: a non-empty RFC 2045 token that is
 * also a dot-atom (what parsers expect), at most 255 bytes. */
bool authres_authserv_id_valid(const char *s);

#endif
