/* milter_msg: one SMTP transaction for the milter client (see milter_msg.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* strdup */
#endif
#include <stdlib.h>
#include <string.h>

#include "milter_msg.h"

static char *dup_mem(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Next line of text from *pos: [start, start+len) without its line end. */
static bool next_line(const char *text, size_t tlen, size_t *pos, const char **start,
		      size_t *len, bool *had_eol)
{
	if (*pos >= tlen)
		return false;
	*start = text + *pos;
	const char *nl = memchr(*start, '\n', tlen - *pos);
	size_t l = nl ? (size_t)(nl - *start) : tlen - *pos;
	*pos += l + (nl ? 1 : 0);
	*had_eol = nl != NULL;
	if (l > 0 && (*start)[l - 1] == '\r')
		l--;
	*len = l;
	return true;
}

/* Adds a header field "name:value" line; continuation lines are appended. */
static bool add_header(struct milter_msg *msg, const char *line, size_t len,
		       unsigned lineno, struct strbuf *err)
{
	const char *colon = memchr(line, ':', len);
	if (colon == NULL || colon == line) {
		strbuf_printf(err, "line %u: not a header field (no \"name:\")", lineno);
		return false;
	}
	if (msg->nheaders >= MILTER_MSG_MAX_HEADERS) {
		strbuf_printf(err, "line %u: more than %d header fields", lineno,
			      MILTER_MSG_MAX_HEADERS);
		return false;
	}
	if (msg->nheaders % 16 == 0) {
		struct milter_header *h = realloc(msg->headers,
						  (msg->nheaders + 16) * sizeof *h);
		if (h == NULL) {
			strbuf_puts(err, "out of memory");
			return false;
		}
		msg->headers = h;
	}
	struct milter_header *h = &msg->headers[msg->nheaders];
	h->name = dup_mem(line, (size_t)(colon - line));
	h->value = dup_mem(colon + 1, len - (size_t)(colon - line) - 1);
	msg->nheaders++;
	if (h->name == NULL || h->value == NULL) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	return true;
}

/* Appends "\n" + line to the last header value (a folded line). */
static bool fold_header(struct milter_msg *msg, const char *line, size_t len,
			unsigned lineno, struct strbuf *err)
{
	if (msg->nheaders == 0) {
		strbuf_printf(err, "line %u: continuation line before any header field", lineno);
		return false;
	}
	struct milter_header *h = &msg->headers[msg->nheaders - 1];
	size_t old = strlen(h->value);
	char *v = realloc(h->value, old + len + 2);
	if (v == NULL) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	v[old] = '\n';
	memcpy(v + old + 1, line, len);
	v[old + 1 + len] = '\0';
	h->value = v;
	return true;
}

bool milter_msg_load(struct milter_msg *msg, const char *text, size_t tlen,
		     struct strbuf *err)
{
	size_t pos = 0, len = 0;
	const char *line = NULL;
	bool eol = false;
	unsigned lineno = 0;
	while (next_line(text, tlen, &pos, &line, &len, &eol)) {
		lineno++;
		if (len == 0)
			break;
		bool ok = (line[0] == ' ' || line[0] == '\t')
			? fold_header(msg, line, len, lineno, err)
			: add_header(msg, line, len, lineno, err);
		if (!ok)
			return false;
	}
	/* The body: every line end becomes CRLF (SMTP DATA, RFC 5321 §2.3.8). */
	struct strbuf body;
	strbuf_init(&body, NULL, 0, MILTER_MSG_MAX_BODY);
	while (next_line(text, tlen, &pos, &line, &len, &eol)) {
		strbuf_add(&body, line, len);
		strbuf_add(&body, "\r\n", 2);
	}
	if (strbuf_failed(&body)) {
		strbuf_free(&body);
		strbuf_puts(err, "body too long or out of memory");
		return false;
	}
	msg->body_len = body.len;
	msg->body = strbuf_finish(&body);
	if (msg->body == NULL) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	return true;
}

bool milter_msg_macro(struct milter_msg *msg, const char *name, const char *value,
		      struct strbuf *err)
{
	struct strbuf nb;
	strbuf_init(&nb, NULL, 0, 256);
	if (strlen(name) > 1 && name[0] != '{')
		strbuf_printf(&nb, "{%s}", name);
	else
		strbuf_puts(&nb, name);
	char *n = strbuf_finish(&nb);
	char *v = strdup(value);
	if (n == NULL || v == NULL || n[0] == '\0') {
		strbuf_printf(err, "bad macro name \"%s\" or out of memory", name);
		free(n);
		free(v);
		return false;
	}
	for (size_t i = 0; i < msg->nmacros; i++) {
		if (strcmp(msg->macros[i].name, n) == 0) {
			free(msg->macros[i].name);
			free(msg->macros[i].value);
			msg->macros[i].name = n;
			msg->macros[i].value = v;
			return true;
		}
	}
	if (msg->nmacros >= MILTER_MSG_MAX_MACROS) {
		strbuf_printf(err, "more than %d macros", MILTER_MSG_MAX_MACROS);
		free(n);
		free(v);
		return false;
	}
	msg->macros[msg->nmacros].name = n;
	msg->macros[msg->nmacros].value = v;
	msg->nmacros++;
	return true;
}

void milter_msg_free(struct milter_msg *msg)
{
	free(msg->client_ip);
	free(msg->client_name);
	free(msg->helo);
	free(msg->mail_from);
	for (size_t i = 0; i < msg->nrcpts; i++)
		free(msg->rcpts[i]);
	for (size_t i = 0; i < msg->nmacros; i++) {
		free(msg->macros[i].name);
		free(msg->macros[i].value);
	}
	for (size_t i = 0; i < msg->nheaders; i++) {
		free(msg->headers[i].name);
		free(msg->headers[i].value);
	}
	free(msg->headers);
	free(msg->body);
	memset(msg, 0, sizeof *msg);
}
