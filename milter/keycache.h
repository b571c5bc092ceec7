/* keycache: DKIM public keys decoded once, not once per signature.
 *
 * libopendkim turns the p= of every key record it fetches into an EVP_PKEY
 * with OpenSSL's d2i_PUBKEY_bio(). In OpenSSL 3.0 (Debian 12) that call
 * sets up the provider decoder framework from scratch each time: about a
 * million instructions and a dozen lock round trips per signature, a quarter
 * of dmarc-milter's CPU per message (BENCHMARKS). keycache.c defines
 * d2i_PUBKEY_bio() in the executable, which the dynamic linker prefers to
 * libcrypto's for libopendkim's calls: the DER bytes are read from the BIO,
 * and a key whose exact bytes were decoded before is handed out again with
 * one more reference (EVP_PKEY_up_ref); others are decoded with d2i_PUBKEY()
 * and kept. A key is found by its bytes, never by its name, so a rotated or
 * revoked key record (fetched through the resolver, TTL respected) is never
 * answered with an old key. Keys are only read after decoding (libopendkim
 * verifies with them and frees its reference), so sharing one between
 * threads is safe.
 *
 * This is a deliberate exception to our rule of no global mutable state: a
 * stand-in for a libcrypto function cannot be handed a context, so the table
 * is process-wide, behind its own mutex. Deleting keycache.[ch] (and the
 * keycache_shutdown() call) restores libcrypto's own function unchanged.
 * Limits: KEYCACHE_SLOTS keys (direct-mapped; a collision replaces the older
 *   key), keys of at most KEYCACHE_MAX_DER octets (larger ones are decoded
 *   every time). Thread safety: one mutex around the table.
 * Callers: libopendkim (through the dynamic linker); milter/main.c calls
 *   keycache_shutdown() at exit, before OpenSSL cleans up. */
#ifndef DMARC_MILTER_KEYCACHE_H
#define DMARC_MILTER_KEYCACHE_H

#define KEYCACHE_SLOTS 512
#define KEYCACHE_MAX_DER 4096   /* an RSA-8192 SubjectPublicKeyInfo is ~1.1 KB */

/* Frees every cached key. Call once, when no verification runs any more. */
void keycache_shutdown(void);

#endif
