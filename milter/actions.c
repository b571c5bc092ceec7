/* actions: overrides, reject/tempfail/quarantine decisions, the verdict line. */
#include <string.h>

#include "auth_types.h"
#include "cidr.h"
#include "config.h"
#include "strbuf.h"

#include "actions.h"
#include "log.h"

const char *outcome_action_name(enum outcome_action a)
{
	switch (a) {
	case OUTCOME_ACCEPT: return "accept";
	case OUTCOME_QUARANTINE: return "quarantine";
	case OUTCOME_REJECT: return "reject";
	case OUTCOME_TEMPFAIL: return "tempfail";
	}
	return "accept";
}

/* RFC 2919 §2: List-Id: [phrase] "<" list-id ">". True when the list-id (or,
 * without angle brackets, the whole value) is in MailingListIds. */
static bool list_id_listed(struct msg_ctx *m, const struct config_list *ids)
{
	if (m->list_id == NULL || ids->count == 0)
		return false;
	const char *lt = strrchr(m->list_id, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	const char *id = m->list_id;
	size_t len = strlen(id);
	if (lt != NULL && gt != NULL) {
		id = lt + 1;
		len = (size_t)(gt - id);
	}
	while (len > 0 && strchr(" \t\r\n", id[len - 1]))
		len--;
	char *copy = arena_strndup(&m->arena, id, len);
	if (copy == NULL) {
		m->oom = true;
		return false;
	}
	return config_list_contains(ids, copy);
}

/* Rule 1: local overrides of a quarantine/reject disposition. */
static void apply_overrides(struct conn_ctx *c, struct msg_ctx *m)
{
	const struct config *cfg = &c->snap->cfg;
	struct verdict *v = &m->v;
	if (v->result != AUTH_DMARC_FAIL || v->disposition == DMARC_POLICY_NONE ||
	    v->disposition == DMARC_POLICY_UNSPECIFIED)
		return;
	if (c->client_addr[0] != '\0' &&
	    cidr_list_match_text(&cfg->trusted_forwarders, c->client_addr))
		v->override = "trusted_forwarder";
	else if (list_id_listed(m, &cfg->mailing_list_ids))
		v->override = "mailing_list";
	if (v->override == NULL)
		return;
	log_qid(LOG_INFO, m->qid, "DMARC %s disposition of %s overridden: %s (%s)",
		dmarc_policy_name(v->disposition), v->policy_domain ? v->policy_domain : "?",
		v->override, strcmp(v->override, "mailing_list") == 0 ?
		"List-Id in MailingListIds" : "client in TrustedForwarders");
	v->disposition = DMARC_POLICY_NONE;
}

/* Sets a reject/tempfail reply: text is prefix, then domain (if any), then
 * suffix. The domain came out of the From parser normalised (LDH), so it
 * cannot smuggle CR/LF into the SMTP reply. */
static void set_reply(struct msg_ctx *m, struct outcome *out, enum outcome_action a,
		      const char *prefix, const char *domain, const char *suffix)
{
	char stack[256];
	struct strbuf sb;
	strbuf_init(&sb, stack, sizeof stack, 512);
	strbuf_puts(&sb, prefix);
	if (domain != NULL)
		strbuf_puts(&sb, domain);
	strbuf_puts(&sb, suffix);
	out->action = a;
	out->rcode = a == OUTCOME_REJECT ? "550" : "451";
	out->xcode = a == OUTCOME_REJECT ? "5.7.1" : "4.7.1";
	out->text = arena_strdup(&m->arena, strbuf_str(&sb));
	if (out->text == NULL || strbuf_failed(&sb))
		m->oom = true;
	strbuf_free(&sb);
}

void actions_decide(struct conn_ctx *c, struct msg_ctx *m, struct outcome *out)
{
	const struct config *cfg = &c->snap->cfg;
	struct verdict *v = &m->v;
	apply_overrides(c, m);
	out->action = OUTCOME_ACCEPT;
	if (m->from.ndomains == 0) {
		if (cfg->missing_from_action == CONFIG_MISSING_FROM_REJECT)
			set_reply(m, out, OUTCOME_REJECT, "message has no usable From "
				  "header field (RFC 5322 section 3.6)", NULL, "");
		else if (cfg->missing_from_action == CONFIG_MISSING_FROM_TEMPFAIL)
			set_reply(m, out, OUTCOME_TEMPFAIL, "message has no usable "
				  "From header field (RFC 5322 section 3.6)", NULL, "");
		return;
	}
	if (cfg->reject_multi_value_from && (m->from.naddrs > 1 || m->from.nfields > 1)) {
		set_reply(m, out, OUTCOME_REJECT, "multiple From addresses are not "
			  "accepted here", NULL, "");
		return;
	}
	if (v->result == AUTH_DMARC_TEMPERROR && cfg->tempfail_on_dns_error) {
		set_reply(m, out, OUTCOME_TEMPFAIL, "temporary DNS failure checking the "
			  "DMARC policy of ", v->policy_domain ? v->policy_domain :
			  "the author domain", ", try again later");
		return;
	}
	if (v->result != AUTH_DMARC_FAIL)
		return;
	if (v->disposition == DMARC_POLICY_REJECT && cfg->reject_failures) {
		set_reply(m, out, OUTCOME_REJECT, "rejected by DMARC policy of ",
			  v->policy_domain ? v->policy_domain : "the author domain", "");
	} else if (v->disposition == DMARC_POLICY_QUARANTINE && cfg->hold_quarantined_messages) {
		char stack[256];
		struct strbuf sb;
		strbuf_init(&sb, stack, sizeof stack, 512);
		strbuf_printf(&sb, "DMARC quarantine policy of %s",
			      v->policy_domain ? v->policy_domain : "the author domain");
		out->action = OUTCOME_QUARANTINE;
		out->quarantine_reason = arena_strdup(&m->arena, strbuf_str(&sb));
		if (out->quarantine_reason == NULL)
			m->oom = true;
		strbuf_free(&sb);
	}
}

void actions_log(struct conn_ctx *c, struct msg_ctx *m, const struct outcome *out)
{
	const struct verdict *v = &m->v;
	char stack[512];
	struct strbuf sb;
	strbuf_init(&sb, stack, sizeof stack, 2048);
	strbuf_printf(&sb, "dmarc=%s", auth_dmarc_name(v->result));
	if (v->result == AUTH_DMARC_PASS || v->result == AUTH_DMARC_FAIL)
		strbuf_printf(&sb, " (p=%s dis=%s)", dmarc_policy_name(v->policy),
			      dmarc_policy_name(v->disposition));
	if (v->dmarc.author_domain != NULL)
		strbuf_printf(&sb, " header.from=%s", v->dmarc.author_domain);
	if (v->policy_domain != NULL)
		strbuf_printf(&sb, " policy.domain=%s", v->policy_domain);
	if (v->override != NULL)
		strbuf_printf(&sb, " override=%s", v->override);
	strbuf_printf(&sb, " spf=%s dkim=", auth_spf_name(v->spf.result));
	if (v->nsigs == 0)
		strbuf_puts(&sb, "none");
	for (size_t i = 0; i < v->nsigs; i++)
		strbuf_printf(&sb, "%s%s:%s", i ? "," : "", auth_dkim_name(v->sigs[i].result),
			      v->sigs[i].domain ? v->sigs[i].domain : "?");
	strbuf_printf(&sb, " client=%s action=%s", c->client_addr[0] ? c->client_addr : "unknown",
		      outcome_action_name(out->action));
	if (v->reason != NULL && v->result != AUTH_DMARC_PASS)
		strbuf_printf(&sb, " reason=\"%s\"", v->reason);
	log_qid(LOG_INFO, m->qid, "%s", strbuf_str(&sb));
	strbuf_free(&sb);
}
