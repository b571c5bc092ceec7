/* dkim_glue: streams a message into lib/dkim_verify. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_verify.h"
#include "strbuf.h"

#include "dkim_glue.h"
#include "milter.h"

#define DKIM_GLUE_FIELD_MAX (64 * 1024) /* one header field as fed */

struct dkim_glue {
	struct dkim_verify_msg *msg;
	size_t signatures;  /* DKIM-Signature fields seen */
	bool failed;        /* the verifier refused input: stop feeding */
	bool eoh_done;
};

struct dkim_glue *dkim_glue_new(struct snapshot *snap, const char *qid)
{
	struct dkim_glue *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	/* Deadline 0 for now: dkim_glue_finish() sets the message's. */
	g->msg = dkim_verify_begin(snap->dkim, qid, 0);
	if (g->msg == NULL) {
		free(g);
		return NULL;
	}
	return g;
}

void dkim_glue_free(struct dkim_glue *g)
{
	if (g == NULL)
		return;
	dkim_verify_free(g->msg);
	free(g);
}

bool dkim_glue_header(struct dkim_glue *g, const char *name, const char *value,
		      bool leadspc)
{
	if (g->failed)
		return false;
	if (strcasecmp(name, "DKIM-Signature") == 0)
		g->signatures++;
	char stack[1024];
	struct strbuf sb;
	strbuf_init(&sb, stack, sizeof stack, DKIM_GLUE_FIELD_MAX);
	strbuf_puts(&sb, name);
	strbuf_puts(&sb, leadspc ? ":" : ": ");
	strbuf_puts(&sb, value);
	/* A field over the limit is not fed at all: a signature that is that
	 * field or covers it then fails to verify, which is the honest result
	 * (feeding part of it would be a silent cut). */
	bool ok = strbuf_failed(&sb) || dkim_verify_header(g->msg, strbuf_str(&sb), sb.len);
	strbuf_free(&sb);
	if (!ok)
		g->failed = true;
	return ok;
}

bool dkim_glue_eoh(struct dkim_glue *g)
{
	if (g->failed || g->eoh_done)
		return false;
	g->eoh_done = true;
	if (!dkim_verify_eoh(g->msg)) {
		g->failed = true;
		return false;
	}
	return g->signatures > 0;
}

bool dkim_glue_body(struct dkim_glue *g, const unsigned char *data, size_t len)
{
	if (g->failed || g->signatures == 0)
		return false;
	if (!dkim_verify_body(g->msg, data, len)) {
		g->failed = true;
		return false;
	}
	return true;
}

size_t dkim_glue_finish(struct dkim_glue *g, uint64_t deadline_ms, struct arena *a,
			struct verdict_sig **out, bool *oom)
{
	*out = NULL;
	dkim_verify_set_deadline(g->msg, deadline_ms);
	if (!g->eoh_done)
		(void)dkim_glue_eoh(g);
	struct dkim_outcome res;
	memset(&res, 0, sizeof res);
	if (!dkim_verify_end(g->msg, &res))
		*oom = true;
	size_t n = res.count;
	struct verdict_sig *rows = n ? arena_alloc(a, n * sizeof *rows) : NULL;
	if (n > 0 && rows == NULL) {
		*oom = true;
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dkim_sig_result *s = &res.sigs[i];
		rows[i] = (struct verdict_sig){
			.result = s->result,
			.domain = arena_strdup(a, s->domain),
			.selector = arena_strdup(a, s->selector),
			.b = arena_strdup(a, s->b),
			.reason = arena_strdup(a, s->reason),
		};
		if ((s->domain && !rows[i].domain) || (s->selector && !rows[i].selector) ||
		    (s->b && !rows[i].b) || (s->reason && !rows[i].reason))
			*oom = true;
	}
	dkim_outcome_clear(&res);
	*out = rows;
	return n;
}
