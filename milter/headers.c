/* headers: incoming fields we track, and the fields we delete and add. */
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "config.h"
#include "dmarc_check.h"
#include "strbuf.h"

#include "headers.h"
#include "log.h"

/* ---- collecting --------------------------------------------------------- */

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

/* Records one occurrence to delete; the value is kept for test mode. */
static bool add_delete(struct msg_ctx *m, const char *name, unsigned index,
		       const char *value)
{
	if (m->ndels == MSG_MAX_DELETES) {
		if (!m->too_many_deletes)
			log_qid(LOG_WARNING, m->qid, "more than %d forged %s and verdict "
				"fields: the rest stay in the message", MSG_MAX_DELETES, name);
		m->too_many_deletes = true;
		return true;
	}
	const char *copy = arena_strdup(&m->arena, value);
	if (copy == NULL)
		return false;
	m->dels[m->ndels++] = (struct header_edit){ true, name, index, copy };
	return true;
}

/* Our verdict fields: the counter for name, and whether we add that field. */
static unsigned *verdict_counter(struct msg_ctx *m, const struct config *cfg,
				 const char *name, const char **canon, bool *ours)
{
	static const char *const names[] = {
		HDR_SPF_VERDICT, HDR_DKIM_VERDICT, HDR_DMARC_VERDICT, HDR_DMARC_POLICY,
	};
	unsigned *counters[] = { &m->spfv_seen, &m->dkimv_seen, &m->dmarcv_seen, &m->polv_seen };
	const bool added[] = { cfg->add_spf_verdict, cfg->add_dkim_verdict,
			       cfg->add_dmarc_verdict, cfg->add_dmarc_policy };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcasecmp(name, names[i]) == 0) {
			*canon = names[i];
			*ours = added[i];
			return counters[i];
		}
	}
	return NULL;
}

bool headers_collect(struct conn_ctx *c, struct msg_ctx *m, const char *name,
		     const char *value)
{
	const struct config *cfg = &c->snap->cfg;
	const char *v = skip_ws(value);
	if (strcasecmp(name, "From") == 0) {
		if (m->nfrom < MSG_MAX_FROM) {
			/* Raw value: the parser handles folding and comments. */
			const char *copy = arena_strdup(&m->arena, value);
			if (copy == NULL)
				return false;
			m->from_values[m->nfrom] = copy;
			m->from_lens[m->nfrom] = strlen(copy);
		}
		m->nfrom++;
		return true;
	}
	if (strcasecmp(name, "List-Id") == 0) {
		if (m->list_id == NULL && (m->list_id = arena_strdup(&m->arena, v)) == NULL)
			return false;
		return true;
	}
	if (strcasecmp(name, HDR_AR) == 0) {
		/* RFC 8601 §5: an A-R field with our authserv-id that reaches us
		 * from outside is forged (or stale) and must go. */
		m->ar_seen++;
		if (authres_is_ours(v, cfg->authserv_id))
			return add_delete(m, HDR_AR, m->ar_seen, v);
		return true;
	}
	const char *canon;
	bool ours;
	unsigned *seen = verdict_counter(m, cfg, name, &canon, &ours);
	if (seen != NULL) {
		(*seen)++;
		if (ours)
			return add_delete(m, canon, *seen, v);
	}
	return true;
}

/* ---- planning ----------------------------------------------------------- */

static void add_field(struct msg_ctx *m, struct outcome *out, const char *name,
		      const char *value)
{
	if (value == NULL) {
		m->oom = true;
		return;
	}
	if (out->nedits < MSG_MAX_EDITS)
		out->edits[out->nedits++] = (struct header_edit){ false, name, 0, value };
}

/* A reason worth a comment: the why of anything but a plain pass/none. */
static const char *maybe_reason(bool interesting, const char *reason)
{
	return interesting && reason != NULL && reason[0] != '\0' ? reason : NULL;
}

/* One authres_dmarc row per author domain (one permerror row without any). */
static size_t dmarc_rows(struct msg_ctx *m, struct authres_dmarc *rows, size_t max)
{
	const struct verdict *v = &m->v;
	const struct dmarc_check_result *r = &v->dmarc;
	/* milter/evaluate.c turns a pass into permerror when some From mailbox
	 * had no usable domain: a domain's own pass must then not be shown as
	 * "dmarc=pass" either, or a reader of this field would trust the
	 * mailbox we could not check (the multi-From bypass, CVE-2019-16378). */
	bool demoted = v->dmarc_done && r->result == AUTH_DMARC_PASS &&
		       v->result == AUTH_DMARC_PERMERROR;
	size_t n = 0;
	for (size_t i = 0; v->dmarc_done && i < r->ndomains && n < max; i++) {
		const struct dmarc_check_domain *d = &r->domains[i];
		const struct dmarc_record *rec = d->discovery.record;
		bool overridden = v->override != NULL && d->disposition != DMARC_POLICY_NONE;
		bool bad = d->result != AUTH_DMARC_PASS && d->result != AUTH_DMARC_FAIL &&
			   d->result != AUTH_DMARC_NONE;
		if (demoted && d->result == AUTH_DMARC_PASS) {
			rows[n++] = (struct authres_dmarc){
				.result = AUTH_DMARC_PERMERROR,
				.from_domain = d->author_domain,
				.published = rec ? rec->p : DMARC_POLICY_UNSPECIFIED,
				.disposition = DMARC_POLICY_NONE,
				.applied = d->policy,
				.reason = v->reason,
			};
			continue;
		}
		rows[n++] = (struct authres_dmarc){
			.result = d->result,
			.from_domain = d->author_domain,
			.published = rec ? rec->p : DMARC_POLICY_UNSPECIFIED,
			.disposition = overridden ? DMARC_POLICY_NONE : d->disposition,
			.applied = d->policy,
			.override = overridden ? v->override : NULL,
			.reason = maybe_reason(bad, d->reason),
		};
	}
	if (n == 0) {
		/* No author domain (or no evaluation): a message-level row. */
		rows[n++] = (struct authres_dmarc){
			.result = v->result,
			.from_domain = NULL,
			.published = DMARC_POLICY_UNSPECIFIED,
			.disposition = DMARC_POLICY_NONE,
			.applied = DMARC_POLICY_UNSPECIFIED,
			.reason = v->reason,
		};
	}
	return n;
}

static const char *build_ar(struct conn_ctx *c, struct msg_ctx *m)
{
	const struct verdict *v = &m->v;
	struct authres_spf spf = {
		.result = v->spf.result,
		.mailfrom = v->spf.scope == SPF_CHECK_SCOPE_MFROM ? m->mail_from : NULL,
		.helo = c->helo,
		.reason = maybe_reason(v->spf.result != AUTH_SPF_PASS &&
				       v->spf.result != AUTH_SPF_NONE, v->spf.reason),
	};
	struct authres_dkim dkim[DMARC_CHECK_MAX_DKIM];
	size_t nd = 0;
	for (size_t i = 0; i < v->nsigs && nd < DMARC_CHECK_MAX_DKIM; i++, nd++) {
		const struct verdict_sig *s = &v->sigs[i];
		dkim[nd] = (struct authres_dkim){ s->result, s->domain, s->selector, s->b,
			maybe_reason(s->result != AUTH_DKIM_PASS, s->reason) };
	}
	struct authres_dmarc dmarc[DMARC_CHECK_MAX_AUTHORS];
	size_t nm = dmarc_rows(m, dmarc, DMARC_CHECK_MAX_AUTHORS);
	struct authres_input in = {
		.authserv_id = c->snap->cfg.authserv_id,
		.spf = v->spf_done ? &spf : NULL,
		.dkim = dkim, .dkim_count = nd,
		.dmarc = dmarc, .dmarc_count = nm,
	};
	struct strbuf sb, err;
	char estack[128];
	strbuf_init(&sb, NULL, 0, AUTHRES_MAX_LEN);
	strbuf_init(&err, estack, sizeof estack, 512);
	const char *out = NULL;
	if (authres_build(&in, &sb, &err)) {
		if ((out = arena_strdup(&m->arena, strbuf_str(&sb))) == NULL)
			m->oom = true;
	} else {
		log_qid(LOG_ERR, m->qid, "Authentication-Results not added: %s",
			strbuf_str(&err));
	}
	strbuf_free(&sb);
	strbuf_free(&err);
	return out;
}

static const char *build_received_spf(struct conn_ctx *c, struct msg_ctx *m)
{
	const struct spf_outcome *o = &m->v.spf;
	struct authres_received_spf in = {
		.result = o->result,
		.client_ip = c->client_addr[0] ? c->client_addr : NULL,
		.mailfrom = o->scope == SPF_CHECK_SCOPE_MFROM ? m->mail_from : NULL,
		.helo = c->helo[0] ? c->helo : NULL,
		.receiver = c->snap->cfg.authserv_id,
		.reason = NULL, /* our standard phrasing */
	};
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, AUTHRES_MAX_LEN);
	const char *out = NULL;
	if (authres_received_spf(&in, &sb, NULL) &&
	    (out = arena_strdup(&m->arena, strbuf_str(&sb))) == NULL)
		m->oom = true;
	strbuf_free(&sb);
	return out;
}

void headers_plan(struct conn_ctx *c, struct msg_ctx *m, struct outcome *out)
{
	const struct config *cfg = &c->snap->cfg;
	const struct verdict *v = &m->v;
	/* Deletions, last occurrence first: earlier indexes stay valid. */
	for (size_t i = m->ndels; i-- > 0;)
		out->edits[out->nedits++] = m->dels[i];
	out->ndel = out->nedits;

	if (cfg->add_authentication_results) {
		const char *ar = build_ar(c, m);
		if (ar != NULL)
			add_field(m, out, HDR_AR, ar);
	}
	if (cfg->add_received_spf && v->spf_done) {
		const char *rs = build_received_spf(c, m);
		if (rs != NULL)
			add_field(m, out, HDR_RECEIVED_SPF, rs);
	}
	if (cfg->add_spf_verdict)
		add_field(m, out, HDR_SPF_VERDICT, authres_verdict_name(v->spf_verdict));
	if (cfg->add_dkim_verdict)
		add_field(m, out, HDR_DKIM_VERDICT, authres_verdict_name(v->dkim_verdict));
	if (cfg->add_dmarc_verdict)
		add_field(m, out, HDR_DMARC_VERDICT, authres_verdict_name(v->dmarc_verdict));
	/* The published policy, only for a FAIL (SES semantics). */
	if (cfg->add_dmarc_policy && v->dmarc_verdict == AUTHRES_VERDICT_FAIL)
		add_field(m, out, HDR_DMARC_POLICY, authres_policy_word(v->policy));
}
