/* evaluate: SPF + DKIM + DMARC -> the verdict of one message. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "authres.h"
#include "config.h"
#include "dmarc_check.h"
#include "from_header.h"
#include "resolver.h"
#include "spf_check.h"

#include "dkim_glue.h"
#include "evaluate.h"
#include "log.h"

static void run_spf(struct conn_ctx *c, struct msg_ctx *m, uint64_t deadline_ms)
{
	struct verdict *v = &m->v;
	if (c->client_addr[0] == '\0') {
		/* RFC 7208 §4.1: no client address, nothing to check. */
		v->spf.result = AUTH_SPF_NONE;
		v->spf.scope = m->mail_from[0] ? SPF_CHECK_SCOPE_MFROM : SPF_CHECK_SCOPE_HELO;
		v->spf_done = true;
		return;
	}
	if (c->spf == NULL) {
		c->spf = spf_checker_new(c->snap->resolver, c->snap->cfg.authserv_id);
		if (c->spf == NULL) {
			m->oom = true;
			return;
		}
	}
	spf_check_mailfrom(c->spf, c->client_addr, c->helo, m->mail_from, deadline_ms,
			   &v->spf);
	v->spf_done = true;
	if (v->spf.result == AUTH_SPF_TEMPERROR && v->spf.reason != NULL &&
	    strcmp(v->spf.reason, "out of memory") == 0)
		m->oom = true;
}

static void run_dkim(struct msg_ctx *m, uint64_t deadline_ms)
{
	bool oom = false;
	if (m->dkim != NULL)
		m->v.nsigs = dkim_glue_finish(m->dkim, deadline_ms, &m->arena, &m->v.sigs,
					      &oom);
	if (oom)
		m->oom = true;
}

/* The message-level verdict when no author domain can be evaluated. */
static void no_author(struct msg_ctx *m)
{
	struct verdict *v = &m->v;
	v->result = AUTH_DMARC_PERMERROR;
	v->policy = DMARC_POLICY_UNSPECIFIED;
	v->disposition = DMARC_POLICY_NONE;
	if (m->from.status == FROM_NONE)
		v->reason = "no From header field";
	else
		v->reason = arena_strdup(&m->arena, m->from.reason[0] ? m->from.reason
					  : "no usable author domain in From");
	if (v->reason == NULL)
		m->oom = true;
}

static void run_dmarc(struct conn_ctx *c, struct msg_ctx *m, uint64_t deadline_ms)
{
	struct verdict *v = &m->v;
	const struct from_result *fr = &m->from;
	if (fr->ndomains == 0) {
		no_author(m);
		return;
	}
	const char *authors[FROM_MAX_DOMAINS];
	size_t na = fr->ndomains < FROM_MAX_DOMAINS ? fr->ndomains : FROM_MAX_DOMAINS;
	for (size_t i = 0; i < na; i++)
		authors[i] = fr->domains[i];
	struct dmarc_check_dkim sigs[DMARC_CHECK_MAX_DKIM];
	size_t ns = v->nsigs < DMARC_CHECK_MAX_DKIM ? v->nsigs : DMARC_CHECK_MAX_DKIM;
	for (size_t i = 0; i < ns; i++)
		sigs[i] = (struct dmarc_check_dkim){ v->sigs[i].domain, v->sigs[i].selector,
						     v->sigs[i].result };
	const struct config *cfg = &c->snap->cfg;
	struct dmarc_check_options opt = {
		.standard = (enum dmarc_standard)cfg->dmarc_standard,
		.psl = c->snap->psl,
		.deadline_ms = deadline_ms,
		.sample = dmarc_sampler_next(&c->sampler),
	};
	struct dmarc_check_input in = {
		.author_domains = authors, .author_count = na,
		.spf_result = v->spf.result, .spf_domain = v->spf.domain,
		.dkim = ns ? sigs : NULL, .dkim_count = ns,
	};
	dmarc_check_run(c->snap->resolver, &opt, &in, &v->dmarc);
	v->dmarc_done = true;
	v->result = v->dmarc.result;
	v->policy = v->dmarc.policy;
	v->disposition = v->dmarc.disposition;
	v->policy_domain = v->dmarc.policy_domain ? v->dmarc.policy_domain
						  : v->dmarc.author_domain;
	v->reason = v->dmarc.reason;
	if (v->reason != NULL && strcmp(v->reason, "out of memory") == 0)
		m->oom = true;
	if (v->result == AUTH_DMARC_PASS && !fr->authors_complete) {
		v->result = AUTH_DMARC_PERMERROR;
		v->reason = "not every From mailbox has a usable domain: "
			    "a pass for the others does not cover the message";
	}
}

void evaluate_message(struct conn_ctx *c, struct msg_ctx *m)
{
	struct verdict *v = &m->v;
	uint64_t deadline_ms = resolver_now_ms() +
		(uint64_t)c->snap->cfg.dns_message_timeout_sec * 1000u;
	run_spf(c, m, deadline_ms);
	if (m->oom)
		return;
	run_dkim(m, deadline_ms);
	if (m->oom)
		return;
	run_dmarc(c, m, deadline_ms);
	if (m->oom)
		return;

	enum auth_dkim results[DMARC_CHECK_MAX_DKIM];
	size_t n = v->nsigs < DMARC_CHECK_MAX_DKIM ? v->nsigs : DMARC_CHECK_MAX_DKIM;
	for (size_t i = 0; i < n; i++)
		results[i] = v->sigs[i].result;
	v->spf_verdict = authres_spf_verdict(v->spf.result);
	v->dkim_verdict = authres_dkim_verdict(results, n);
	v->dmarc_verdict = authres_dmarc_verdict(v->result);
}
