/* dkim_verify: verifies every DKIM signature of a message (RFC 6376) with
 * libopendkim, keys fetched through lib/resolver, fed incrementally.
 *
 * Callers: milter/ (begin at the first header, header per field, eoh, body
 * per chunk, end at EOM), tests.
 *
 * Standards and the choices we made where libopendkim leaves room:
 * - RFC 6376 §3.6.2: the key is the TXT record at <s>._domainkey.<d>, asked
 *   through our resolver with the per-message deadline. NXDOMAIN/NODATA ->
 *   permerror ("no key"); SERVFAIL/timeout -> temperror (libopendkim itself
 *   leaves such a signature without any result); several TXT records at one
 *   selector -> permerror (§3.6.2.2: the result is undefined).
 * - RFC 8301 §3.1: rsa-sha1 signatures are never "pass": a signature that
 *   verifies with rsa-sha1 gets result fail ("rsa-sha1 not acceptable").
 *   RFC 8301 §3.2: RSA keys under min_key_bits (DKIMMinKeyBits, default
 *   1024) likewise give fail. Why fail and not permerror: the signature was
 *   checked and is invalid per RFC 8301 (RFC 6376 §6.1 PERMFAIL of a
 *   signature = RFC 8601 §2.7.1 "fail"), it is not a processing error.
 * - RFC 8463: ed25519-sha256 is verified (libopendkim built with it; the key
 *   size reported is 256).
 * - x= in the past (RFC 6376 §3.5): permerror "signature expired", like
 *   other signatures that could not be checked at all (syntax, t= in the
 *   future, unknown a= or c=, i= outside d=, revoked or malformed key).
 * - l= (RFC 6376 §3.4.5, §8.2): a signature that verifies but covers only
 *   part of the body gets result "policy" with reason "unsigned content
 *   after l=": RFC 8601 §2.7.1 "policy" is a signature that verified but is
 *   not acceptable to us, and appended unsigned content is the classic l=
 *   attack. An l= that covers the whole body is an ordinary pass; an l=
 *   larger than the body is fail (content was removed).
 * - Body or header changed: fail ("body hash did not verify" /
 *   "signature did not verify").
 * - At most max_signatures (DKIMMaxSignatures, default 10) DKIM-Signature
 *   fields, in header order, are evaluated; the rest are listed with result
 *   none and reason "not evaluated: over DKIMMaxSignatures".
 * - A message without DKIM-Signature gives zero entries (dkim=none).
 *
 * Ownership: dkim_verify_lib_new() -> new; caller frees with
 *   dkim_verify_lib_free() after every message handle is freed. The
 *   resolver is borrowed and must outlive the library handle.
 *   dkim_verify_begin() -> new; caller frees with dkim_verify_free().
 *   Outcome strings are new; caller frees them with dkim_outcome_clear().
 * Errors: feeding functions return false only when the message can no longer
 *   be verified (out of memory, calls out of order); dkim_verify_end() still
 *   fills the outcome then (temperror "out of memory" etc.). Nothing logged.
 * Thread safety: one library handle is shared by all threads (libopendkim
 *   allows concurrent message handles on one DKIM_LIB; options are set once
 *   in dkim_verify_lib_new()); a message handle belongs to one thread.
 * Limits: DKIM_VERIFY_LIST_MAX entries in an outcome (the rest counted in
 *   not_listed); key records longer than 1024 bytes (libopendkim's buffer)
 *   give permerror. */
#ifndef DMARC_DKIM_VERIFY_H
#define DMARC_DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_types.h"
#include "resolver.h"
#include "strbuf.h"

#define DKIM_VERIFY_MAX_SIGS_DEFAULT 10   /* DKIMMaxSignatures */
#define DKIM_VERIFY_MIN_KEY_BITS_DEFAULT 1024 /* DKIMMinKeyBits, RFC 8301 §3.2 */
#define DKIM_VERIFY_LIST_MAX  100  /* signatures listed in one outcome */
#define DKIM_VERIFY_B_PREFIX  12   /* minimum b= characters kept (RFC 6008 §4: >= 8) */

struct dkim_verify_config {
	unsigned max_signatures; /* 0 = DKIM_VERIFY_MAX_SIGS_DEFAULT */
	unsigned min_key_bits;   /* 0 = DKIM_VERIFY_MIN_KEY_BITS_DEFAULT */
};

/* One DKIM-Signature field, in header order. */
struct dkim_sig_result {
	enum auth_dkim result;
	char *domain;      /* d= as written, or NULL when absent */
	char *selector;    /* s= as written, or NULL */
	char *algorithm;   /* a= as written, or NULL */
	char *b;           /* the first >= 12 characters of b= (whitespace
	                      removed), longer when needed to tell this signature
	                      from another one (RFC 6008 §4); NULL when absent */
	unsigned key_bits; /* RSA modulus bits, 256 for ed25519, 0 = unknown */
	char *reason;      /* human-readable why; never NULL unless OOM */
};

struct dkim_outcome {
	size_t count;                 /* entries in sigs; 0 = no signature */
	struct dkim_sig_result *sigs; /* header order */
	size_t not_listed;            /* DKIM-Signature fields beyond LIST_MAX */
};

struct dkim_verify_lib;
struct dkim_verify_msg;

/* Creates the shared library handle (dkim_init, options, our key lookup).
 * false with a reason in err when libopendkim cannot be set up. */
bool dkim_verify_lib_new(struct resolver *res, const struct dkim_verify_config *cfg,
			 struct dkim_verify_lib **out, struct strbuf *err);

/* Frees the library handle; NULL is a no-op. */
void dkim_verify_lib_free(struct dkim_verify_lib *lib);

/* Starts a message. queue_id names it in libopendkim (may be NULL);
 * deadline_ms is an absolute resolver_now_ms() value bounding the key
 * lookups (0 = per-query timeouts only). NULL when out of memory. */
struct dkim_verify_msg *dkim_verify_begin(struct dkim_verify_lib *lib,
					  const char *queue_id, uint64_t deadline_ms);

/* Sets the DNS deadline of a message (an absolute resolver_now_ms() value,
 * 0 = per-query timeouts only), replacing the one given to
 * dkim_verify_begin(): the milter's per-message budget starts at end of
 * message, where the key lookups happen. */
void dkim_verify_set_deadline(struct dkim_verify_msg *v, uint64_t deadline_ms);

/* Feeds one header field as received: "Name: value", folded lines joined
 * by CRLF (a bare LF or CR is turned into CRLF), without the final CRLF;
 * at most 1 MiB (longer: false, every signature then reports why). */
bool dkim_verify_header(struct dkim_verify_msg *v, const char *field, size_t len);

/* Ends the header section. */
bool dkim_verify_eoh(struct dkim_verify_msg *v);

/* Feeds a body chunk (CRLF line ends, as on the wire); any chunking. */
bool dkim_verify_body(struct dkim_verify_msg *v, const void *chunk, size_t len);

/* Finishes: looks up the keys, verifies, fills out (previous contents are
 * not freed). Returns false only when out could not be filled completely
 * (out of memory); out is then still consistent. */
bool dkim_verify_end(struct dkim_verify_msg *v, struct dkim_outcome *out);

/* Frees a message handle; NULL is a no-op. */
void dkim_verify_free(struct dkim_verify_msg *v);

/* Frees the outcome's entries and zeroes it; safe on a zeroed outcome. */
void dkim_outcome_clear(struct dkim_outcome *out);

#endif
