/* report_xml: aggregate report XML in the RFC 9990 and RFC 7489 formats. */
#include <arpa/inet.h>
#include <string.h>

#include "report_xml.h"

/* <name>escaped text</name> (no printf: a big day renders millions) */
static void el(struct strbuf *o, const char *indent, const char *name, const char *text)
{
	strbuf_puts(o, indent);
	strbuf_putc(o, '<');
	strbuf_puts(o, name);
	strbuf_putc(o, '>');
	strbuf_add_xml(o, text);
	strbuf_puts(o, "</");
	strbuf_puts(o, name);
	strbuf_puts(o, ">\n");
}

static const char *or_default(const char *v, const char *def)
{
	return v != NULL && *v != '\0' ? v : def;
}

/* A published policy word, or def when absent or not a policy word. */
static const char *policy_word(const char *v, const char *def)
{
	enum dmarc_policy p;
	return v != NULL && dmarc_policy_parse(v, &p) ? dmarc_policy_name(p) : def;
}

bool report_xml_ip7489(const char *ip, struct strbuf *out)
{
	unsigned char a[16];
	if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char mapped[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};
		if (memcmp(a, mapped, 12) == 0)
			return strbuf_printf(out, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		for (int i = 0; i < 8; i++)
			strbuf_printf(out, "%s%x", i ? ":" : "", (unsigned)(a[2 * i] << 8 | a[2 * i + 1]));
		return !strbuf_failed(out);
	}
	return strbuf_add_xml(out, ip);
}

/* word when it is in list, else def: a result word the schema does not
 * know (the event log holds RFC 8601 words, but this keeps every report
 * valid whatever a database holds) */
static const char *known_word(const char *word, const char *const *list, const char *def)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(word, list[i]) == 0)
			return word;
	return def;
}

/* DKIMResultType of both schemas (RFC 8601 §2.7.1). */
static const char *dkim_word(const char *r)
{
	static const char *const ok[] = { "none", "pass", "fail", "policy", "neutral",
					  "temperror", "permerror", NULL };
	return known_word(or_default(r, "none"), ok, "temperror");
}

/* SPFResultType (RFC 8601 §2.7.2); RFC 7489's schema lacks "policy". */
static const char *spf_word(const char *r, enum dmarc_standard std)
{
	static const char *const v9990[] = { "none", "pass", "fail", "softfail", "policy",
					     "neutral", "temperror", "permerror", NULL };
	static const char *const v7489[] = { "none", "pass", "fail", "softfail",
					     "neutral", "temperror", "permerror", NULL };
	return known_word(or_default(r, "none"), std == DMARC_STD_RFC7489 ? v7489 : v9990,
			  "temperror");
}

/* Override types each schema knows; others become "other". */
static const char *override_word(const char *t, enum dmarc_standard std)
{
	static const char *const v9990[] = { "local_policy", "mailing_list", "other",
					     "policy_test_mode", "trusted_forwarder", NULL };
	static const char *const v7489[] = { "forwarded", "sampled_out", "trusted_forwarder",
					     "mailing_list", "local_policy", "other", NULL };
	const char *const *ok = std == DMARC_STD_RFC7489 ? v7489 : v9990;
	for (size_t i = 0; ok[i] != NULL; i++)
		if (strcmp(t, ok[i]) == 0)
			return t;
	return "other";
}

static void render_metadata(struct strbuf *o, const struct report_meta *m,
			    enum dmarc_standard std)
{
	strbuf_puts(o, "  <report_metadata>\n");
	el(o, "    ", "org_name", m->org_name);
	el(o, "    ", "email", m->email);
	if (m->contact_info != NULL && *m->contact_info != '\0')
		el(o, "    ", "extra_contact_info", m->contact_info);
	el(o, "    ", "report_id", m->report_id);
	strbuf_printf(o, "    <date_range>\n      <begin>%lld</begin>\n"
		      "      <end>%lld</end>\n    </date_range>\n",
		      (long long)m->begin, (long long)m->end);
	if (std == DMARC_STD_RFC9989)
		el(o, "    ", "generator", m->generator);
	strbuf_puts(o, "  </report_metadata>\n");
}

static void render_policy(struct strbuf *o, const struct agg_report *rep,
			  enum dmarc_standard std)
{
	const struct agg_policy *p = &rep->policy;
	const char *pw = policy_word(p->p, "none");
	strbuf_puts(o, "  <policy_published>\n");
	el(o, "    ", "domain", rep->policy_domain);
	el(o, "    ", "adkim", strcmp(p->adkim, "s") == 0 ? "s" : "r");
	el(o, "    ", "aspf", strcmp(p->aspf, "s") == 0 ? "s" : "r");
	el(o, "    ", "p", pw);
	if (std == DMARC_STD_RFC7489) {
		/* RFC 7489's schema requires sp, pct and fo: write the defaults */
		el(o, "    ", "sp", policy_word(p->sp, pw));
		strbuf_printf(o, "    <pct>%d</pct>\n", p->pct >= 0 ? p->pct : 100);
		el(o, "    ", "fo", or_default(p->fo, "0"));
	} else {
		if (*p->sp)
			el(o, "    ", "sp", policy_word(p->sp, pw));
		if (*p->np)
			el(o, "    ", "np", policy_word(p->np, pw));
		el(o, "    ", "discovery_method",
		   strcmp(p->discovery_method, "psl") == 0 ? "psl" : "treewalk");
		if (*p->fo)
			el(o, "    ", "fo", p->fo);
		el(o, "    ", "testing", strcmp(p->t, "y") == 0 ? "y" : "n");
	}
	strbuf_puts(o, "  </policy_published>\n");
}

static void render_record(struct strbuf *o, const struct agg_record *r,
			  enum dmarc_standard std)
{
	strbuf_puts(o, "  <record>\n    <row>\n      <source_ip>");
	if (std == DMARC_STD_RFC7489)
		report_xml_ip7489(r->source_ip, o);
	else
		strbuf_add_xml(o, r->source_ip);
	strbuf_printf(o, "</source_ip>\n      <count>%lld</count>\n"
		      "      <policy_evaluated>\n", r->count);
	el(o, "        ", "disposition", policy_word(r->disposition, "none"));
	el(o, "        ", "dkim", r->dkim_aligned ? "pass" : "fail");
	el(o, "        ", "spf", r->spf_aligned ? "pass" : "fail");
	if (*r->override_type) {
		strbuf_puts(o, "        <reason>\n");
		el(o, "          ", "type", override_word(r->override_type, std));
		if (*r->override_comment)
			el(o, "          ", "comment", r->override_comment);
		strbuf_puts(o, "        </reason>\n");
	}
	strbuf_puts(o, "      </policy_evaluated>\n    </row>\n    <identifiers>\n");
	el(o, "      ", "header_from", r->header_from);
	/* RFC 7489 requires envelope_from; an unknown one is written empty */
	if (*r->envelope_from || std == DMARC_STD_RFC7489)
		el(o, "      ", "envelope_from", r->envelope_from);
	strbuf_puts(o, "    </identifiers>\n    <auth_results>\n");
	for (size_t i = 0; i < r->ndkim; i++) {
		const struct agg_dkim *d = &r->dkim[i];
		strbuf_puts(o, "      <dkim>\n");
		el(o, "        ", "domain", d->domain);
		el(o, "        ", "selector", d->selector);
		el(o, "        ", "result", dkim_word(d->result));
		if (*d->human_result)
			el(o, "        ", "human_result", d->human_result);
		strbuf_puts(o, "      </dkim>\n");
	}
	strbuf_puts(o, "      <spf>\n");
	el(o, "        ", "domain", *r->spf_domain ? r->spf_domain : r->envelope_from);
	/* RFC 9990 knows only the mfrom scope; RFC 7489 requires one */
	if (std == DMARC_STD_RFC7489)
		el(o, "        ", "scope", strcmp(r->spf_scope, "helo") == 0 ? "helo" : "mfrom");
	else if (strcmp(r->spf_scope, "helo") != 0)
		el(o, "        ", "scope", "mfrom");
	el(o, "        ", "result", spf_word(r->spf_result, std));
	strbuf_puts(o, "      </spf>\n    </auth_results>\n  </record>\n");
}

bool report_xml_render(const struct agg_report *rep, const struct report_meta *meta,
		       enum dmarc_standard std, struct strbuf *out)
{
	strbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	if (std == DMARC_STD_RFC7489)
		strbuf_puts(out, "<feedback>\n");
	else
		strbuf_puts(out, "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n");
	strbuf_puts(out, "  <version>1.0</version>\n");
	render_metadata(out, meta, std);
	render_policy(out, rep, std);
	for (size_t i = 0; i < rep->nrecords; i++)
		render_record(out, &rep->records[i], std);
	strbuf_puts(out, "</feedback>\n");
	return !strbuf_failed(out);
}
