/* arena: a per-message (or per-connection) bump allocator for small strings.
 *
 * Everything a message collects (sender, From values, List-Id, queue id, the
 * text of the header fields we add) comes from its arena, so that EOM, abort
 * and close free it all with one arena_free(): nothing can leak when a
 * client disconnects at any stage. Over-large requests get their own block.
 *
 * Ownership: arena_* results are borrowed; valid until arena_free().
 * Errors: NULL when out of memory or over ARENA_MAX_TOTAL (the caller
 *   TEMPFAILs the message). Thread safety: one arena belongs to one thread. */
#ifndef DMARC_MILTER_ARENA_H
#define DMARC_MILTER_ARENA_H

#include <stddef.h>

#define ARENA_BLOCK 4096                 /* default block size */
#define ARENA_MAX_TOTAL (4u * 1024 * 1024) /* bytes one arena may hold */

struct arena_block;

struct arena {
	struct arena_block *head; /* newest block first */
	size_t total;             /* bytes allocated in blocks */
};

/* A zeroed struct arena is empty and valid. */
void arena_free(struct arena *a);

/* len bytes, aligned for any object; NULL when out of memory or over limit. */
void *arena_alloc(struct arena *a, size_t len);

/* A copy of s (NULL gives NULL). */
char *arena_strdup(struct arena *a, const char *s);

/* A NUL-terminated copy of len bytes at s. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

#endif
