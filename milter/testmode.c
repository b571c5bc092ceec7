/* testmode: one .eml file through the daemon's pipeline, result on stdout. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_check.h"
#include "strbuf.h"

#include "actions.h"
#include "log.h"
#include "pipeline.h"
#include "testmode.h"

#define BODY_CHUNK 65536 /* bytes per body call, like an MTA's chunks */

/* Reads the whole file (test mode only; the daemon never buffers a
 * message). new; caller frees with free(). */
static char *read_file(const char *path, size_t *len_out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "dmarc-milter: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, TESTMODE_MAX_FILE);
	bool err = !strbuf_add_file(&sb, f) && !strbuf_failed(&sb);
	if (f != stdin)
		fclose(f);
	if (err || strbuf_failed(&sb)) {
		fprintf(stderr, "dmarc-milter: %s: %s\n", path, err ? "read error" :
			"larger than 64 MiB or out of memory");
		strbuf_free(&sb);
		return NULL;
	}
	*len_out = sb.len;
	char *data = strbuf_finish(&sb);
	if (data == NULL)
		fprintf(stderr, "dmarc-milter: %s: out of memory\n", path);
	return data;
}

/* Length of the line at p (up to and including its LF, or to end). */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
}

/* Feeds one header field starting at p; returns the position after it, or
 * NULL when the line is not a header field (the body starts there). */
static const char *feed_field(struct conn_ctx *c, const char *p, const char *end,
			      struct strbuf *name, struct strbuf *value)
{
	size_t len = line_len(p, end);
	const char *colon = memchr(p, ':', len);
	if (colon == NULL || colon == p)
		return NULL;
	size_t nlen = (size_t)(colon - p);
	while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
		nlen--; /* RFC 5322 §4.5.1 obsolete: blanks before the colon */
	strbuf_reset(name);
	strbuf_reset(value);
	strbuf_add(name, p, nlen);
	/* Value: rest of the line plus continuation lines; line ends become
	 * LF as the MTA hands them over, the last one is dropped. */
	const char *q = colon + 1;
	for (;;) {
		size_t l = line_len(q, end);
		size_t text = l;
		if (text > 0 && q[text - 1] == '\n')
			text--;
		if (text > 0 && q[text - 1] == '\r')
			text--;
		strbuf_add(value, q, text);
		q += l;
		if (q >= end || (*q != ' ' && *q != '\t'))
			break;
		strbuf_putc(value, '\n');
	}
	if (strbuf_failed(name) || strbuf_failed(value))
		fprintf(stderr, "dmarc-milter: a header field over 1 MiB was left out\n");
	else
		pipe_header(c, strbuf_str(name), strbuf_str(value));
	return q;
}

/* Feeds the body with CRLF line ends, in BODY_CHUNK pieces. */
static void feed_body(struct conn_ctx *c, const char *p, const char *end)
{
	struct strbuf chunk;
	strbuf_init(&chunk, NULL, 0, BODY_CHUNK + 2);
	bool wanted = true;
	while (p < end && wanted) {
		size_t l = line_len(p, end);
		size_t text = l;
		bool nl = text > 0 && p[text - 1] == '\n';
		if (nl)
			text--;
		if (text > 0 && p[text - 1] == '\r')
			text--;
		if (chunk.len + text + 2 > BODY_CHUNK && chunk.len > 0) {
			wanted = pipe_body(c, (const unsigned char *)chunk.data, chunk.len);
			strbuf_reset(&chunk);
		}
		/* a line longer than a chunk goes in pieces */
		for (size_t off = 0; off < text && wanted;) {
			size_t part = text - off;
			if (part > BODY_CHUNK - chunk.len)
				part = BODY_CHUNK - chunk.len;
			strbuf_add(&chunk, p + off, part);
			off += part;
			if (chunk.len == BODY_CHUNK) {
				wanted = pipe_body(c, (const unsigned char *)chunk.data, chunk.len);
				strbuf_reset(&chunk);
			}
		}
		if (nl)
			strbuf_add(&chunk, "\r\n", 2);
		p += l;
	}
	if (wanted && chunk.len > 0)
		(void)pipe_body(c, (const unsigned char *)chunk.data, chunk.len);
	strbuf_free(&chunk);
}

/* Prints the DMARC report as "# " lines. */
static void print_report(const struct msg_ctx *m)
{
	if (!m->v.dmarc_done)
		return;
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, 256 * 1024);
	if (dmarc_check_format(&m->v.dmarc, &sb)) {
		const char *p = strbuf_str(&sb);
		while (*p) {
			size_t n = strcspn(p, "\n");
			printf("# %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	strbuf_free(&sb);
}

static void print_outcome(const struct outcome *out)
{
	for (size_t i = 0; i < out->ndel; i++)
		printf("delete: %s[%u]: %s\n", out->edits[i].name, out->edits[i].index,
		       out->edits[i].value);
	for (size_t i = out->ndel; i < out->nedits; i++)
		printf("add: %s: %s\n", out->edits[i].name, out->edits[i].value);
	switch (out->action) {
	case OUTCOME_ACCEPT:
		if (out->skip_reason != NULL)
			printf("action: accept (skipped: %s)\n", out->skip_reason);
		else
			printf("action: accept\n");
		break;
	case OUTCOME_QUARANTINE:
		printf("action: quarantine %s\n", out->quarantine_reason);
		break;
	case OUTCOME_REJECT:
	case OUTCOME_TEMPFAIL:
		printf("action: %s %s %s %s\n", outcome_action_name(out->action),
		       out->rcode, out->xcode, out->text);
		break;
	}
}

/* Drives the pipeline over the file's bytes. */
static void run_message(struct conn_ctx *c, const struct testmode_args *args,
			const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	/* An mbox "From " separator line is not part of the message. */
	if (len > 5 && memcmp(p, "From ", 5) == 0)
		p += line_len(p, end);
	pipe_helo(c, args->helo);
	if (!pipe_msg_start(c, args->mail_from, false)) {
		printf("action: tempfail 451 4.3.0 out of memory\n");
		return;
	}
	pipe_msg_qid(c, "TEST");
	for (size_t i = 0; i < args->nrcpt; i++)
		pipe_rcpt(c, args->rcpt[i]);
	struct strbuf name, value;
	strbuf_init(&name, NULL, 0, 1024);
	strbuf_init(&value, NULL, 0, 1024 * 1024);
	while (p < end && *p != '\r' && *p != '\n') {
		const char *next = feed_field(c, p, end, &name, &value);
		if (next == NULL)
			break;
		p = next;
	}
	strbuf_free(&name);
	strbuf_free(&value);
	if (p < end && (*p == '\r' || *p == '\n'))
		p += line_len(p, end); /* the empty line */
	if (pipe_eoh(c) == NULL)
		feed_body(c, p, end);
	struct outcome *out = calloc(1, sizeof *out);
	if (out == NULL) {
		printf("action: tempfail 451 4.3.0 out of memory\n");
		return;
	}
	pipe_eom(c, out);
	print_report(c->msg);
	print_outcome(out);
	free(out);
	pipe_msg_end(c);
}

int testmode_run(const struct testmode_args *args, struct snapshot *snap)
{
	size_t len = 0;
	char *data = read_file(args->file, &len);
	if (data == NULL) {
		snapshot_release(snap);
		return 1;
	}
	struct conn_ctx *c = pipe_conn_new(snap, args->client_ip, NULL);
	if (c == NULL) {
		fprintf(stderr, "dmarc-milter: out of memory\n");
		free(data);
		return 1;
	}
	c->leadspc = true; /* values are read raw, leading space included */
	if (c->skip_reason != NULL) {
		/* The daemon would accept the connection at once. */
		printf("action: accept (skipped: %s)\n", c->skip_reason);
	} else {
		run_message(c, args, data, len);
	}
	fflush(stdout);
	pipe_conn_free(c);
	free(data);
	return ferror(stdout) ? 1 : 0;
}
