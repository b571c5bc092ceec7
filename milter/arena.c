/* arena: bump allocation freed all at once. */
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct arena_block {
	struct arena_block *next;
	size_t size;  /* usable bytes in data */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}

void *arena_alloc(struct arena *a, size_t len)
{
	const size_t align = alignof(max_align_t);
	if (len > ARENA_MAX_TOTAL)
		return NULL;
	len = (len + align - 1) & ~(align - 1);
	if (len == 0)
		len = align;
	struct arena_block *b = a->head;
	if (b == NULL || b->size - b->used < len) {
		size_t size = len > ARENA_BLOCK ? len : ARENA_BLOCK;
		if (a->total + size > ARENA_MAX_TOTAL)
			return NULL;
		b = malloc(sizeof *b + size);
		if (b == NULL)
			return NULL;
		b->size = size;
		b->used = 0;
		/* A block made for one big request goes behind the current
		 * block, so the current one keeps serving small requests. */
		if (a->head != NULL && size > ARENA_BLOCK) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
		a->total += size;
	}
	void *p = b->data + b->used;
	b->used += len;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	if (s == NULL)
		return NULL;
	char *p = arena_alloc(a, len + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}
