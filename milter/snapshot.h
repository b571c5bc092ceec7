/* snapshot: the immutable, reference-counted configuration a connection runs
 * with, and the resources built from it (resolver, Public Suffix List).
 *
 * A reload (SIGHUP/SIGUSR1) builds a new snapshot and swaps it in under a
 * lock; connections keep the snapshot they started with until they close, so
 * a reload never changes the rules in the middle of a message and never drops
 * a connection. The last release frees a snapshot (with its resolver: a
 * reload starts with an empty DNS cache).
 *
 * Settings that only take effect at start (Socket, UserID, UMask, PidFile,
 * Background) are read from the first snapshot; a reload that changes them
 * logs a warning and keeps the running values.
 *
 * Ownership: snapshot_build() -> new, refcount 1 (the caller's reference).
 *   snapshot_acquire() -> a new reference; give it back with
 *   snapshot_release(). snapshot_install() takes the caller's reference.
 * Thread safety: acquire/release/install may be called from any thread. */
#ifndef DMARC_MILTER_SNAPSHOT_H
#define DMARC_MILTER_SNAPSHOT_H

#include <stdbool.h>

#include "config.h"
#include "dkim_verify.h"
#include "policy_discovery.h"
#include "resolver.h"
#include "strbuf.h"

struct snapshot {
	struct config cfg;          /* owned; never changed after build */
	struct resolver *resolver;  /* owned; shared by all its connections */
	struct policy_psl *psl;     /* owned; RFC 7489 mode only, else NULL */
	struct dkim_verify_lib *dkim; /* owned; libopendkim handle on resolver */
	unsigned long generation;   /* 1 for the first, +1 per reload */
	unsigned refs;              /* under the module's lock */
};

/* Builds a snapshot from a loaded configuration (takes ownership of *cfg's
 * contents; *cfg is zeroed). false with the reason in err (cfg is then freed). */
bool snapshot_build(struct config *cfg, struct snapshot **out, struct strbuf *err);

/* Makes s the current snapshot (takes the caller's reference) and releases
 * the previous one. */
void snapshot_install(struct snapshot *s);

/* The current snapshot with one more reference, or NULL before the first
 * install or after snapshot_shutdown(). */
struct snapshot *snapshot_acquire(void);

/* Gives back a reference; the last one frees the snapshot. NULL is a no-op. */
void snapshot_release(struct snapshot *s);

/* Releases the current snapshot (at exit). */
void snapshot_shutdown(void);

/* Loads path and builds a snapshot; false with one line in err. */
bool snapshot_load(const char *path, struct snapshot **out, struct strbuf *err);

#endif
