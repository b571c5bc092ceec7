/* strbuf: a length-tracked, always NUL-terminated, bounded string buffer.
 *
 * Used for every piece of text we build: header values, Authentication-Results,
 * error reasons, report XML. It may start on a caller's stack array and moves to
 * the heap when it grows. It has a hard maximum; once an append would exceed it
 * (or malloc fails) the buffer is marked failed, further appends do nothing,
 * and the caller checks once at the end (strbuf_failed()). Over-long input is
 * therefore a reported error, never a silent cut.
 *
 * Ownership: the buffer owns its heap storage; strbuf_free() releases it.
 * strbuf_finish() hands a heap copy to the caller (new; caller frees with free()).
 * Errors: appends return false when the buffer is (or becomes) failed.
 * Thread safety: none; a strbuf belongs to one thread at a time. */
#ifndef DMARC_STRBUF_H
#define DMARC_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct strbuf {
	char *data;   /* always NUL-terminated (when cap > 0) */
	size_t len;   /* bytes in use, without the NUL */
	size_t cap;   /* bytes allocated, including room for the NUL */
	size_t max;   /* hard limit on len */
	bool failed;  /* sticky: an append overflowed max or malloc failed */
	bool on_heap; /* data was malloc'ed by us */
};

/* Starts a buffer on stack (may be NULL with stack_len 0) limited to max bytes. */
void strbuf_init(struct strbuf *sb, char *stack, size_t stack_len, size_t max);

/* Releases heap storage; the buffer may be initialised again afterwards. */
void strbuf_free(struct strbuf *sb);

/* Empties the buffer and clears the failed flag; keeps the storage. */
void strbuf_reset(struct strbuf *sb);

/* Appends len bytes (binary safe). */
bool strbuf_add(struct strbuf *sb, const void *data, size_t len);

/* Appends a NUL-terminated string. */
bool strbuf_puts(struct strbuf *sb, const char *s);

/* Appends one byte. */
bool strbuf_putc(struct strbuf *sb, char c);

/* Appends formatted text. */
bool strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Appends s with XML metacharacters (& < > " ') escaped and control bytes
 * other than TAB, CR, LF dropped. */
bool strbuf_add_xml(struct strbuf *sb, const char *s);

/* Appends everything readable from f until end of file (binary safe).
 * false on a read error (errno says why) or when the buffer failed (over
 * its maximum: the caller reports "too large"). */
bool strbuf_add_file(struct strbuf *sb, FILE *f);

/* The text so far (borrowed; valid until the next append or strbuf_free).
 * Returns "" for an empty or failed-before-first-byte buffer. */
const char *strbuf_str(const struct strbuf *sb);

/* True once any append has failed. */
bool strbuf_failed(const struct strbuf *sb);

/* new; caller frees with free(). NULL if the buffer failed or malloc failed.
 * The buffer itself is released (as strbuf_free). */
char *strbuf_finish(struct strbuf *sb);

#endif
