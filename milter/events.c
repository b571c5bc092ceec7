/* events: turns each evaluated message into event-log rows for the writer. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event_writer.h"
#include "msg_event.h"

#include "events.h"
#include "log.h"

/* Set once at start-up (before any connection thread) and cleared at
 * shutdown (after the last one): start-up configuration, not shared
 * mutable state. The writer itself is thread safe. */
static struct event_writer *events_writer;

static void events_log(void *arg, enum event_writer_level level, const char *msg)
{
	(void)arg;
	log_msg(level == EVENT_WRITER_ERROR ? LOG_ERR :
		level == EVENT_WRITER_WARNING ? LOG_WARNING : LOG_INFO, "%s", msg);
}

bool events_start(const struct config *cfg, struct strbuf *err)
{
	if (cfg->event_database == NULL || cfg->event_database[0] == '\0') {
		/* EventDatabase "": the operator switched the event log off */
		log_msg(LOG_NOTICE, "event log: off (EventDatabase is empty); no events are"
			" recorded and no aggregate reports can be made");
		return true;
	}
	struct event_writer_config wc = {
		.path = cfg->event_database,
		.queue_max = (size_t)cfg->event_queue_size,
		.batch_rows = (size_t)cfg->event_batch_rows,
		.batch_ms = (unsigned)cfg->event_batch_ms,
		.busy_ms = 200,
		.retry_ms = 1000,
		.flush_timeout_ms = 10000,
		.log = events_log,
	};
	return event_writer_start(&wc, &events_writer, err);
}

void events_stop(void)
{
	if (events_writer == NULL)
		return;
	struct event_writer_stats st;
	event_writer_stats(events_writer, &st);
	event_writer_stop(events_writer);
	events_writer = NULL;
	log_msg(LOG_INFO, "event log: %llu events submitted, %llu dropped",
		(unsigned long long)st.submitted, (unsigned long long)st.dropped);
}

/* The rua/ruf list as published: URIs joined by commas, with the characters
 * that delimit URIs in a record percent-encoded again, and "!size" (in
 * bytes). NULL when the record has no (valid) URI, like every absent tag. */
static bool uri_list_text(const struct dmarc_uri_list *l, char **out)
{
	if (l->count == 0)
		return msg_event_set(out, NULL);
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, MSG_EVENT_MAX_FIELD);
	for (size_t i = 0; i < l->count; i++) {
		if (i > 0)
			strbuf_putc(&sb, ',');
		for (const unsigned char *p = (const unsigned char *)l->uris[i].uri; *p; p++) {
			if (*p == ',' || *p == ';' || *p == '!' || *p == '%' || *p <= ' ' || *p >= 0x7f)
				strbuf_printf(&sb, "%%%02X", *p);
			else
				strbuf_putc(&sb, (char)*p);
		}
		if (l->uris[i].has_max_size)
			strbuf_printf(&sb, "!%llu", (unsigned long long)l->uris[i].max_size_bytes);
	}
	bool ok = msg_event_set(out, strbuf_str(&sb)) && !strbuf_failed(&sb);
	strbuf_free(&sb);
	return ok;
}

/* The published record's tags, as seen ("" tags stay NULL). */
static bool event_record(struct msg_event *ev, const struct dmarc_record *r)
{
	bool ok = true;
	if (r->p != DMARC_POLICY_UNSPECIFIED || r->p_from_rua)
		ok &= msg_event_set(&ev->p, r->p_from_rua ? "none" : dmarc_policy_name(r->p));
	if (r->has_sp && r->sp != DMARC_POLICY_UNSPECIFIED)
		ok &= msg_event_set(&ev->sp, dmarc_policy_name(r->sp));
	if (r->has_np && r->np != DMARC_POLICY_UNSPECIFIED)
		ok &= msg_event_set(&ev->np, dmarc_policy_name(r->np));
	if (r->has_adkim)
		ok &= msg_event_set(&ev->adkim, r->adkim_strict ? "s" : "r");
	if (r->has_aspf)
		ok &= msg_event_set(&ev->aspf, r->aspf_strict ? "s" : "r");
	ok &= msg_event_set(&ev->fo, r->fo);
	if (r->has_t)
		ok &= msg_event_set(&ev->t, r->testing ? "y" : "n");
	if (r->has_psd)
		ok &= msg_event_set(&ev->psd, dmarc_psd_name(r->psd));
	ev->pct = r->has_pct ? (int)r->pct : -1;
	ok &= uri_list_text(&r->rua, &ev->rua) && uri_list_text(&r->ruf, &ev->ruf);
	return ok;
}

/* What was done with the message for this domain, and why it differs from
 * the published policy. Reports must tell what happened, not what the
 * policy asked: a reject we did not carry out is reported as such. Each
 * override type carries its own comment; when the milter then also did less
 * than the lowered disposition, the comment says so. */
static bool event_disposition(struct msg_event *ev, const struct conn_ctx *c,
			      const struct msg_ctx *m, const struct dmarc_check_domain *d,
			      const struct outcome *out)
{
	const struct verdict *v = &m->v;
	enum dmarc_policy want = v->override != NULL ? DMARC_POLICY_NONE : d->disposition;
	const char *done = "none", *otype = NULL, *local = NULL;
	if (out->action == OUTCOME_REJECT && want == DMARC_POLICY_REJECT)
		done = "reject";
	else if (out->action == OUTCOME_QUARANTINE && want != DMARC_POLICY_NONE)
		done = "quarantine";
	else if (want == DMARC_POLICY_REJECT || want == DMARC_POLICY_QUARANTINE)
		local = want == DMARC_POLICY_REJECT && !c->snap->cfg.reject_failures ?
			"RejectFailures off: delivered with verdict headers" :
			"delivered with verdict headers";
	char stack[160];
	struct strbuf comment;
	strbuf_init(&comment, stack, sizeof stack, 512);
	if (v->override != NULL) {
		otype = v->override;
		strbuf_puts(&comment, strcmp(v->override, "mailing_list") == 0 ?
			    "List-Id in MailingListIds" : "client in TrustedForwarders");
	} else if (d->test_mode || d->sampled_out) {
		const struct dmarc_record *r = d->discovery.record;
		otype = d->test_mode ? "policy_test_mode" : "sampled_out";
		if (d->test_mode)
			strbuf_puts(&comment, "t=y: disposition lowered one step");
		else
			strbuf_printf(&comment, "pct=%u: not sampled, disposition lowered one step",
				      r != NULL ? r->pct : 100u);
		if (local != NULL)
			strbuf_printf(&comment, "; %s", local);
	} else if (local != NULL) {
		otype = "local_policy";
		strbuf_puts(&comment, local);
	}
	bool ok = !strbuf_failed(&comment) &&
		  msg_event_set(&ev->disposition, done) &&
		  msg_event_set(&ev->override_type, otype) &&
		  msg_event_set(&ev->override_comment, comment.len ? strbuf_str(&comment) : NULL);
	strbuf_free(&comment);
	return ok;
}

/* The envelope-from domain: MAIL FROM's, or the HELO name for a null sender. */
static const char *envelope_domain(const struct conn_ctx *c, const struct msg_ctx *m)
{
	const char *at = m->mail_from ? strrchr(m->mail_from, '@') : NULL;
	return at != NULL && at[1] != '\0' ? at + 1 : c->helo;
}

static struct msg_event *event_build(const struct conn_ctx *c, const struct msg_ctx *m,
				     const struct dmarc_check_domain *d,
				     const struct outcome *out, time_t now)
{
	const struct verdict *v = &m->v;
	const struct config *cfg = &c->snap->cfg;
	struct msg_event *ev = msg_event_new();
	if (ev == NULL)
		return NULL;
	ev->time = (int64_t)now;
	bool ok = msg_event_set(&ev->queue_id, m->qid) &&
		  msg_event_set(&ev->client_ip, c->client_addr) &&
		  msg_event_set(&ev->helo, c->helo) &&
		  msg_event_set(&ev->envelope_from, envelope_domain(c, m)) &&
		  msg_event_set(&ev->envelope_to, m->rcpt_domain) &&
		  msg_event_set(&ev->header_from, d ? d->author_domain : "") &&
		  msg_event_set(&ev->spf_result, auth_spf_name(v->spf.result)) &&
		  msg_event_set(&ev->spf_domain, v->spf.domain) &&
		  msg_event_set(&ev->spf_scope, v->spf.scope == SPF_CHECK_SCOPE_HELO ? "helo" : "mfrom") &&
		  msg_event_set(&ev->spf_verdict, cfg->add_spf_verdict ?
				authres_verdict_name(v->spf_verdict) : NULL) &&
		  msg_event_set(&ev->dkim_verdict, cfg->add_dkim_verdict ?
				authres_verdict_name(v->dkim_verdict) : NULL) &&
		  msg_event_set(&ev->dmarc_verdict, cfg->add_dmarc_verdict ?
				authres_verdict_name(v->dmarc_verdict) : NULL);
	/* the verdict fields as headers_plan() adds them: NULL when switched off,
	 * X-DMARC-Policy only with a FAIL verdict */
	if (ok && cfg->add_dmarc_policy && v->dmarc_verdict == AUTHRES_VERDICT_FAIL)
		ok = msg_event_set(&ev->policy_verdict, authres_policy_word(v->policy));
	if (ok && d != NULL) {
		const struct policy_result *p = &d->discovery;
		ev->spf_aligned = d->spf_aligned;
		ev->dkim_aligned = d->dkim_aligned;
		ok = msg_event_set(&ev->policy_domain, p->policy_domain) &&
		     msg_event_set(&ev->org_domain, p->org_domain) &&
		     msg_event_set(&ev->dmarc_result, auth_dmarc_name(d->result)) &&
		     event_disposition(ev, c, m, d, out);
		if (ok && p->origin != POLICY_ORIGIN_NONE)
			ok = msg_event_set(&ev->policy_origin, policy_origin_name(p->origin)) &&
			     msg_event_set(&ev->discovery_method, policy_method_name(p->method));
		if (ok && d->policy != DMARC_POLICY_UNSPECIFIED)
			ok = msg_event_set(&ev->policy_applied, dmarc_policy_name(d->policy));
		if (ok && p->record != NULL)
			ok = event_record(ev, p->record);
	} else if (ok) {
		ok = msg_event_set(&ev->dmarc_result, auth_dmarc_name(v->result)) &&
		     msg_event_set(&ev->disposition, "none");
	}
	for (size_t i = 0; ok && i < v->nsigs; i++) {
		const struct verdict_sig *s = &v->sigs[i];
		bool aligned = d != NULL && d->dkim_aligned && d->dkim_index == i;
		ok = msg_event_add_dkim(ev, s->domain, s->selector, auth_dkim_name(s->result),
					s->reason, aligned) || ev->ndkim >= MSG_EVENT_MAX_DKIM;
	}
	if (!ok) {
		msg_event_free(ev);
		return NULL;
	}
	return ev;
}

void events_message(const struct conn_ctx *c, const struct msg_ctx *m,
		    const struct outcome *out)
{
	if (events_writer == NULL)
		return;
	const struct dmarc_check_result *r = &m->v.dmarc;
	size_t n = m->v.dmarc_done ? r->ndomains : 0;
	time_t now = time(NULL);
	/* one row per author domain; a message without one still gets a row */
	for (size_t i = 0; i < (n > 0 ? n : 1); i++) {
		struct msg_event *ev = event_build(c, m, n > 0 ? &r->domains[i] : NULL, out, now);
		if (ev == NULL) {
			log_qid(LOG_WARNING, m->qid, "event log: out of memory; event dropped");
			continue;
		}
		event_writer_submit(events_writer, ev); /* drops are counted and logged there */
	}
}
