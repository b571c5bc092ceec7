/* pipeline: the message steps shared by the daemon and test mode. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "authres.h"
#include "cidr.h"
#include "config.h"
#include "dmarc_eval.h"
#include "from_header.h"
#include "spf_check.h"

#include "actions.h"
#include "dkim_glue.h"
#include "evaluate.h"
#include "events.h"
#include "headers.h"
#include "log.h"
#include "pipeline.h"

/* ---- helpers ------------------------------------------------------------ */

/* The address inside optional angle brackets and blanks: "<a@b>" -> "a@b". */
static char *strip_address(struct arena *a, const char *s)
{
	if (s == NULL)
		return arena_strdup(a, "");
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	return arena_strndup(a, s, len);
}

static void msg_free(struct msg_ctx *m)
{
	if (m == NULL)
		return;
	dkim_glue_free(m->dkim);
	from_result_free(&m->from);
	spf_outcome_clear(&m->v.spf);
	dmarc_check_result_clear(&m->v.dmarc);
	arena_free(&m->arena);
	free(m);
}

/* Seeds a connection's pct sampler: it only has to differ between
 * connections, not be unpredictable (RFC 7489 §6.6.4 sampling). */
static uint64_t sampler_seed(const struct conn_ctx *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
	       (uint64_t)(uintptr_t)c ^ ((uint64_t)getpid() << 40);
}

/* ---- connection --------------------------------------------------------- */

struct conn_ctx *pipe_conn_new(struct snapshot *snap, const char *addr, const char *host)
{
	struct conn_ctx *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snapshot_release(snap);
		return NULL;
	}
	c->snap = snap;
	c->client_addr = arena_strdup(&c->arena, addr ? addr : "");
	c->client_host = arena_strdup(&c->arena, host ? host : "");
	c->helo = "";
	if (c->client_addr == NULL || c->client_host == NULL) {
		pipe_conn_free(c);
		return NULL;
	}
	dmarc_sampler_init(&c->sampler, sampler_seed(c));
	if (c->client_addr[0] != '\0' &&
	    cidr_list_match_text(&snap->cfg.ignore_hosts, c->client_addr)) {
		c->skip_reason = "client in IgnoreHosts";
		log_msg(LOG_INFO, "connection from %s%s[%s] skipped: %s", c->client_host,
			c->client_host[0] ? " " : "", c->client_addr, c->skip_reason);
	}
	return c;
}

void pipe_conn_free(struct conn_ctx *c)
{
	if (c == NULL)
		return;
	msg_free(c->msg);
	spf_checker_free(c->spf);
	arena_free(&c->arena);
	snapshot_release(c->snap);
	free(c);
}

void pipe_helo(struct conn_ctx *c, const char *helo)
{
	/* Connection arena: a client that says HELO many times grows it a
	 * little each time, bounded by ARENA_MAX_TOTAL. */
	const char *copy = arena_strdup(&c->arena, helo ? helo : "");
	if (copy != NULL)
		c->helo = copy;
}

/* ---- message ------------------------------------------------------------ */

bool pipe_msg_start(struct conn_ctx *c, const char *mail_from, bool authenticated)
{
	msg_free(c->msg);
	c->msg = NULL;
	struct msg_ctx *m = calloc(1, sizeof *m);
	if (m == NULL)
		return false;
	c->msg = m;
	c->messages++;
	m->qid = "";
	m->authenticated = authenticated;
	m->mail_from = strip_address(&m->arena, mail_from);
	if (m->mail_from == NULL) {
		m->oom = true;
		m->mail_from = "";
	}
	const struct config *cfg = &c->snap->cfg;
	if (c->skip_reason != NULL)
		m->skip_reason = c->skip_reason;
	else if (authenticated && cfg->ignore_authenticated_clients)
		m->skip_reason = "SMTP-authenticated client (IgnoreAuthenticatedClients)";
	if (m->skip_reason == NULL && !m->oom) {
		m->dkim = dkim_glue_new(c->snap, NULL);
		if (m->dkim == NULL)
			m->oom = true;
	}
	return true;
}

void pipe_msg_qid(struct conn_ctx *c, const char *qid)
{
	struct msg_ctx *m = c->msg;
	if (m == NULL || qid == NULL || qid[0] == '\0' || strcmp(m->qid, qid) == 0)
		return;
	const char *copy = arena_strdup(&m->arena, qid);
	if (copy != NULL)
		m->qid = copy;
}

void pipe_rcpt(struct conn_ctx *c, const char *rcpt)
{
	struct msg_ctx *m = c->msg;
	if (m == NULL || m->rcpt_domain != NULL || rcpt == NULL)
		return;
	char *addr = strip_address(&m->arena, rcpt);
	const char *at = addr ? strrchr(addr, '@') : NULL;
	if (at != NULL && at[1] != '\0')
		m->rcpt_domain = at + 1;
}

void pipe_header(struct conn_ctx *c, const char *name, const char *value)
{
	struct msg_ctx *m = c->msg;
	if (m == NULL || m->skip_reason != NULL || m->oom)
		return;
	m->nheaders++;
	if (!headers_collect(c, m, name, value))
		m->oom = true;
	if (m->dkim != NULL)
		(void)dkim_glue_header(m->dkim, name, value, c->leadspc); /* failures show at EOM */
}

/* IgnoreMailFrom: skip only when every author domain is listed, so that a
 * second From address in a listed domain cannot switch checks off. */
static bool from_all_ignored(const struct config *cfg, const struct from_result *fr)
{
	if (fr->ndomains == 0 || cfg->ignore_mail_from.count == 0)
		return false;
	for (size_t i = 0; i < fr->ndomains; i++)
		if (!config_list_contains(&cfg->ignore_mail_from, fr->domains[i]))
			return false;
	return true;
}

const char *pipe_eoh(struct conn_ctx *c)
{
	struct msg_ctx *m = c->msg;
	if (m == NULL)
		return NULL;
	if (m->skip_reason == NULL && !m->oom) {
		size_t n = m->nfrom < MSG_MAX_FROM ? m->nfrom : MSG_MAX_FROM;
		from_header_parse(m->from_values, m->from_lens, n, &m->from);
		m->from_parsed = true;
		if (m->from.status == FROM_NOMEM)
			m->oom = true;
		else if (from_all_ignored(&c->snap->cfg, &m->from))
			m->skip_reason = "From domain in IgnoreMailFrom";
		if (m->dkim != NULL)
			m->body_wanted = dkim_glue_eoh(m->dkim);
	}
	if (m->skip_reason != NULL)
		log_qid(LOG_INFO, m->qid, "skipped: %s", m->skip_reason);
	return m->skip_reason;
}

bool pipe_body(struct conn_ctx *c, const unsigned char *data, size_t len)
{
	struct msg_ctx *m = c->msg;
	if (m == NULL || m->skip_reason != NULL || m->oom || m->dkim == NULL ||
	    !m->body_wanted)
		return false;
	m->body_wanted = dkim_glue_body(m->dkim, data, len);
	return m->body_wanted;
}

static void eom_tempfail_oom(struct msg_ctx *m, struct outcome *out)
{
	log_qid(LOG_ERR, m->qid, "out of memory while processing the message: "
		"answering TEMPFAIL (the MTA will retry)");
	out->action = OUTCOME_TEMPFAIL;
	out->rcode = "451";
	out->xcode = "4.3.0";
	out->text = "temporary local problem, try again later";
}

void pipe_eom(struct conn_ctx *c, struct outcome *out)
{
	memset(out, 0, sizeof *out);
	struct msg_ctx *m = c->msg;
	if (m == NULL) {
		/* MAIL FROM failed to allocate the message. */
		out->action = OUTCOME_TEMPFAIL;
		out->rcode = "451";
		out->xcode = "4.3.0";
		out->text = "temporary local problem, try again later";
		log_msg(LOG_ERR, "message without state (out of memory at MAIL FROM): TEMPFAIL");
		return;
	}
	if (m->skip_reason != NULL) {
		out->skip_reason = m->skip_reason;
		return;
	}
	if (!m->oom && !m->from_parsed)
		(void)pipe_eoh(c); /* an MTA that sent no EOH */
	if (m->skip_reason != NULL) {
		out->skip_reason = m->skip_reason;
		return;
	}
	if (!m->oom)
		evaluate_message(c, m);
	if (!m->oom)
		actions_decide(c, m, out);
	if (!m->oom && (out->action == OUTCOME_ACCEPT || out->action == OUTCOME_QUARANTINE))
		headers_plan(c, m, out);
	if (m->oom) {
		memset(out, 0, sizeof *out);
		eom_tempfail_oom(m, out);
		return;
	}
	actions_log(c, m, out);
	events_message(c, m, out);
}

void pipe_msg_end(struct conn_ctx *c)
{
	msg_free(c->msg);
	c->msg = NULL;
}
