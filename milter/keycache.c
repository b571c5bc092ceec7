/* keycache: libopendkim's d2i_PUBKEY_bio() calls answered from a cache of
 * decoded keys (see keycache.h for why). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keycache.h"

#define KEYCACHE_MAX_READ (64 * 1024) /* a DNS TXT record holds less */

struct keyslot {
	unsigned char *der;   /* the key's DER bytes (malloc), NULL = empty */
	size_t len;
	EVP_PKEY *pkey;       /* our reference */
};

/* Process-wide by nature: it stands in for a libcrypto function. */
static pthread_mutex_t keycache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keyslot keycache_slots[KEYCACHE_SLOTS];

static size_t keycache_index(const unsigned char *der, size_t len)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ der[i]) * 1099511628211ULL;
	return (size_t)(h % KEYCACHE_SLOTS);
}

/* The key cached for der, with a new reference, or NULL. */
static EVP_PKEY *keycache_get(size_t idx, const unsigned char *der, size_t len)
{
	EVP_PKEY *pkey = NULL;
	pthread_mutex_lock(&keycache_lock);
	struct keyslot *s = &keycache_slots[idx];
	if (s->der != NULL && s->len == len && memcmp(s->der, der, len) == 0 &&
	    EVP_PKEY_up_ref(s->pkey) == 1)
		pkey = s->pkey;
	pthread_mutex_unlock(&keycache_lock);
	return pkey;
}

/* Keeps a reference to pkey for der (best effort: no memory, no caching). */
static void keycache_put(size_t idx, const unsigned char *der, size_t len, EVP_PKEY *pkey)
{
	unsigned char *copy = malloc(len);
	if (copy == NULL || EVP_PKEY_up_ref(pkey) != 1) {
		free(copy);
		return;
	}
	memcpy(copy, der, len);
	pthread_mutex_lock(&keycache_lock);
	struct keyslot *s = &keycache_slots[idx];
	unsigned char *old_der = s->der;
	EVP_PKEY *old_pkey = s->pkey;
	s->der = copy;
	s->len = len;
	s->pkey = pkey;
	pthread_mutex_unlock(&keycache_lock);
	free(old_der);
	EVP_PKEY_free(old_pkey); /* NULL is fine; a verifier may still hold it */
}

/* A key longer than the cache takes: the rest of bp is read too (up to
 * KEYCACHE_MAX_READ octets) and decoded, uncached. */
static EVP_PKEY *keycache_decode_long(BIO *bp, const unsigned char *head, size_t len,
				      EVP_PKEY **a)
{
	unsigned char *big = malloc(KEYCACHE_MAX_READ);
	if (big == NULL)
		return NULL;
	memcpy(big, head, len);
	while (len < KEYCACHE_MAX_READ) {
		int n = BIO_read(bp, big + len, (int)(KEYCACHE_MAX_READ - len));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	const unsigned char *p = big;
	EVP_PKEY *pkey = d2i_PUBKEY(a, &p, (long)len);
	free(big);
	return pkey;
}

/* Replaces libcrypto's d2i_PUBKEY_bio() for this process: same contract
 * (reads a DER SubjectPublicKeyInfo from bp; new reference, caller frees
 * with EVP_PKEY_free(); NULL on error). It reads bp to its end, which is
 * what libopendkim gives it: a memory BIO holding the key and nothing else
 * (libcrypto's reads one DER object and leaves what follows). */
EVP_PKEY *d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	unsigned char buf[KEYCACHE_MAX_DER];
	size_t len = 0;
	while (len < sizeof buf) {
		int n = BIO_read(bp, buf + len, (int)(sizeof buf - len));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	const unsigned char *p = buf;
	if (len == sizeof buf)
		return keycache_decode_long(bp, buf, len, a);
	if (len == 0 || a != NULL)
		return d2i_PUBKEY(a, &p, (long)len); /* not ours to cache */
	size_t idx = keycache_index(buf, len);
	EVP_PKEY *pkey = keycache_get(idx, buf, len);
	if (pkey != NULL)
		return pkey;
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey != NULL)
		keycache_put(idx, buf, len, pkey);
	return pkey;
}

void keycache_shutdown(void)
{
	pthread_mutex_lock(&keycache_lock);
	for (size_t i = 0; i < KEYCACHE_SLOTS; i++) {
		free(keycache_slots[i].der);
		EVP_PKEY_free(keycache_slots[i].pkey);
		keycache_slots[i] = (struct keyslot){ NULL, 0, NULL };
	}
	pthread_mutex_unlock(&keycache_lock);
}
