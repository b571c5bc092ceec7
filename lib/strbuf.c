/* strbuf: bounded, NUL-terminated string buffer with a sticky failure flag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static char strbuf_empty[1];

/* Makes room for extra more bytes plus the NUL; marks failure when it cannot. */
static bool strbuf_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->failed)
		return false;
	if (extra > sb->max - sb->len) {
		sb->failed = true;
		return false;
	}
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	if (cap > sb->max + 1)
		cap = sb->max + 1;
	char *p = sb->on_heap ? realloc(sb->data, cap) : malloc(cap);
	if (p == NULL) {
		sb->failed = true;
		return false;
	}
	if (!sb->on_heap && sb->len > 0)
		memcpy(p, sb->data, sb->len);
	if (!sb->on_heap)
		p[sb->len] = '\0';
	sb->data = p;
	sb->cap = cap;
	sb->on_heap = true;
	return true;
}

void strbuf_init(struct strbuf *sb, char *stack, size_t stack_len, size_t max)
{
	sb->data = stack;
	sb->cap = stack ? stack_len : 0;
	sb->len = 0;
	sb->max = max;
	sb->failed = false;
	sb->on_heap = false;
	if (sb->cap > 0)
		sb->data[0] = '\0';
}

void strbuf_free(struct strbuf *sb)
{
	if (sb->on_heap)
		free(sb->data);
	sb->data = NULL;
	sb->cap = 0;
	sb->len = 0;
	sb->on_heap = false;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->failed = false;
	if (sb->cap > 0)
		sb->data[0] = '\0';
}

bool strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (!strbuf_reserve(sb, len))
		return false;
	if (len > 0)
		memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
	return true;
}

bool strbuf_puts(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

bool strbuf_putc(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

bool strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	if (sb->failed)
		return false;
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0) {
		sb->failed = true;
		return false;
	}
	if (!strbuf_reserve(sb, (size_t)n))
		return false;
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return true;
}

bool strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return ok;
}

bool strbuf_add_xml(struct strbuf *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': strbuf_puts(sb, "&amp;"); break;
		case '<': strbuf_puts(sb, "&lt;"); break;
		case '>': strbuf_puts(sb, "&gt;"); break;
		case '"': strbuf_puts(sb, "&quot;"); break;
		case '\'': strbuf_puts(sb, "&apos;"); break;
		default:
			if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
				break;
			if (c == 0x7f)
				break;
			strbuf_putc(sb, (char)c);
		}
	}
	return !sb->failed;
}

bool strbuf_add_file(struct strbuf *sb, FILE *f)
{
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (!strbuf_add(sb, chunk, n))
			return false;
	return ferror(f) == 0;
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->cap > 0 ? sb->data : strbuf_empty;
}

bool strbuf_failed(const struct strbuf *sb)
{
	return sb->failed;
}

char *strbuf_finish(struct strbuf *sb)
{
	char *out = NULL;
	if (!sb->failed) {
		out = malloc(sb->len + 1);
		if (out != NULL) {
			if (sb->len > 0)
				memcpy(out, sb->data, sb->len);
			out[sb->len] = '\0';
		}
	}
	strbuf_free(sb);
	return out;
}
