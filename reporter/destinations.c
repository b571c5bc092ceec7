/* destinations: rua mailto list and external destination verification. */
#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "destinations.h"
#include "dmarc_record.h"
#include "domain.h"

const char *dest_state_name(enum dest_state s)
{
	switch (s) {
	case DEST_AUTHORIZED: return "authorized";
	case DEST_UNAUTHORIZED: return "unauthorized";
	case DEST_TEMPFAIL: return "tempfail";
	case DEST_SKIPPED: return "skipped";
	}
	return "unknown";
}

void dest_list_clear(struct dest_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->d[i].address);
		free(l->d[i].published);
		free(l->d[i].uri);
		free(l->d[i].why);
	}
	memset(l, 0, sizeof *l);
}

/* Parses one URI of a rua list as published by wrapping it in a minimal
 * record, so the record parser's URI rules (percent-decoding, mailto
 * checks, control characters, !size) apply unchanged. Returns the record
 * (new; rua.count is 1 when the URI is usable) or NULL with the parser's
 * reason in why. */
static struct dmarc_record *parse_one_uri(const char *uri, size_t len, struct strbuf *why)
{
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, DMARC_RECORD_MAX_LEN);
	strbuf_puts(&sb, "v=DMARC1; p=none; rua=");
	strbuf_add(&sb, uri, len);
	struct dmarc_record *rec = NULL;
	if (strbuf_failed(&sb) || memchr(uri, ';', len) != NULL) {
		strbuf_puts(why, "URI too long or holding a ';'");
	} else if (dmarc_record_parse(strbuf_str(&sb), sb.len, &rec, why) != DMARC_RECORD_OK) {
		rec = dmarc_record_free(rec);
	} else if (rec->rua.count != 1) {
		if (why->len == 0)
			strbuf_puts(why, "unusable URI");
		rec = dmarc_record_free(rec);
	}
	strbuf_free(&sb);
	return rec;
}

static void dest_set(struct dest *d, enum dest_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void dest_set(struct dest *d, enum dest_state st, const char *fmt, ...)
{
	d->state = st;
	free(d->why);
	d->why = NULL;
	if (fmt == NULL)
		return;
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, 1024);
	va_list ap;
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	d->why = strbuf_finish(&sb);
}

/* The organizational domain of the policy domain, looked up once per
 * report and only when a destination needs it. */
struct policy_org {
	const char *policy_domain;
	char *org;            /* new, or NULL */
	bool looked_up;
	bool temp;            /* the lookup failed temporarily */
};

/* True when host belongs to the same organizational domain as the policy
 * domain (then no authorization record is needed). *temp set on DNS trouble. */
static bool same_organization(struct resolver *res, const struct policy_options *opt,
			      struct policy_org *po, const char *host, bool *temp)
{
	*temp = false;
	/* at or below the policy domain: the same organization, no DNS needed
	 * (its organizational domain is at or above the policy domain's) */
	if (domain_is_subdomain(host, po->policy_domain))
		return true;
	if (!po->looked_up) {
		po->looked_up = true;
		po->temp = orgdomain_find(res, opt, po->policy_domain, &po->org, NULL,
					  NULL) == POLICY_TEMPERROR;
	}
	if (po->temp) {
		*temp = true;
		return false;
	}
	if (po->org == NULL)
		return false;
	if (domain_is_subdomain(host, po->org))
		return true;
	char *org = NULL;
	enum policy_status st = orgdomain_find(res, opt, host, &org, NULL, NULL);
	bool same = st == POLICY_FOUND && domain_equal(org, po->org);
	*temp = st == POLICY_TEMPERROR;
	free(org);
	return same;
}

void destinations_judge_answer(const struct dns_answer *ans, const char *name,
			       const char *policy_domain, const char *host, struct dest *d)
{
	if (ans->status == DNS_STATUS_TEMPFAIL || ans->status == DNS_STATUS_TIMEOUT ||
	    ans->status == DNS_STATUS_ERROR) {
		dest_set(d, DEST_TEMPFAIL, "%s: %s; retried on the next run", name,
			 dns_status_name(ans->status));
		return;
	}
	bool authorized = false;
	struct dmarc_record *override = NULL;
	for (size_t i = 0; ans->status == DNS_STATUS_OK && i < ans->count; i++) {
		size_t len = 0;
		char *txt = dns_txt_join(&ans->rrs[i], &len);
		if (txt != NULL && dmarc_record_is_dmarc(txt, len)) {
			authorized = true;
			if (override == NULL &&
			    dmarc_record_parse(txt, len, &override, NULL) != DMARC_RECORD_OK)
				override = dmarc_record_free(override);
		}
		free(txt);
	}
	if (!authorized) {
		dest_set(d, DEST_UNAUTHORIZED, "%s: no v=DMARC1 record (%s): %s did not"
			 " authorize reports for %s", name,
			 ans->status == DNS_STATUS_OK ? "other TXT only" :
			 dns_status_name(ans->status), host, policy_domain);
		return;
	}
	if (override != NULL && override->rua.count > 0) {
		const struct dmarc_uri *same = NULL;
		for (size_t i = 0; i < override->rua.count && same == NULL; i++)
			if (override->rua.uris[i].is_mailto &&
			    domain_equal(override->rua.uris[i].domain, host))
				same = &override->rua.uris[i];
		if (same == NULL) {
			dest_set(d, DEST_UNAUTHORIZED, "%s points reports to another host:"
				 " not followed (RFC 9990 §3)", name);
		} else {
			char *addr = strdup(same->address);
			if (addr != NULL) {
				free(d->address);
				d->address = addr;
			}
			dest_set(d, DEST_AUTHORIZED, NULL);
		}
	} else {
		dest_set(d, DEST_AUTHORIZED, NULL);
	}
	dmarc_record_free(override);
}

/* RFC 9990 §3: asks for <policy>._report._dmarc.<host> and judges the
 * answer. */
static void verify_external(struct resolver *res, const struct policy_options *opt,
			    const char *policy_domain, const char *host, struct dest *d)
{
	struct strbuf name;
	strbuf_init(&name, NULL, 0, 1024);
	strbuf_printf(&name, "%s._report._dmarc.%s", policy_domain, host);
	struct dns_answer *ans = strbuf_failed(&name) ? NULL :
		resolver_query(res, strbuf_str(&name), DNS_TYPE_TXT, opt->deadline_ms);
	if (ans == NULL)
		dest_set(d, DEST_TEMPFAIL, "%s: lookup failed (out of memory or name too long)",
			 strbuf_str(&name));
	else
		destinations_judge_answer(ans, strbuf_str(&name), policy_domain, host, d);
	dns_answer_free(ans);
	strbuf_free(&name);
}

/* Fills d from one usable parsed URI and checks its authorization. */
static void dest_check(struct resolver *res, const struct policy_options *opt,
		       struct policy_org *po, const struct dmarc_uri *u, struct dest *d)
{
	d->has_max_size = u->has_max_size;
	d->max_size_bytes = u->max_size_bytes;
	if (!u->is_mailto) {
		dest_set(d, DEST_SKIPPED, "%s: only mailto: URIs are supported", u->uri);
		return;
	}
	d->address = strdup(u->address);
	d->published = strdup(u->address);
	if (d->address == NULL || d->published == NULL) {
		dest_set(d, DEST_TEMPFAIL, "out of memory");
		return;
	}
	bool temp = false;
	if (same_organization(res, opt, po, u->domain, &temp)) {
		dest_set(d, DEST_AUTHORIZED, NULL);
		return;
	}
	if (temp) {
		dest_set(d, DEST_TEMPFAIL, "organizational domain lookup failed;"
			 " retried on the next run");
		return;
	}
	verify_external(res, opt, po->policy_domain, u->domain, d);
}

void destinations_build(struct resolver *res, const struct policy_options *opt,
			const char *policy_domain, const char *rua_text,
			size_t max, struct dest_list *out)
{
	memset(out, 0, sizeof *out);
	if (max > DEST_MAX)
		max = DEST_MAX;
	struct policy_org po = { .policy_domain = policy_domain };
	struct strbuf why;
	strbuf_init(&why, NULL, 0, 2048);
	/* RFC 9989 §4.8: a comma-separated list; each URI is parsed alone so a
	 * refused one gets its own destination row and reason */
	for (const char *p = rua_text ? rua_text : ""; *p != '\0';) {
		size_t len = strcspn(p, ",");
		const char *one = p;
		p += len;
		if (*p == ',')
			p++;
		while (len > 0 && (*one == ' ' || *one == '\t')) {
			one++;
			len--;
		}
		while (len > 0 && (one[len - 1] == ' ' || one[len - 1] == '\t'))
			len--;
		if (len == 0)
			continue;
		strbuf_reset(&why);
		struct dmarc_record *rec = parse_one_uri(one, len, &why);
		const char *key = rec ? rec->rua.uris[0].uri : NULL;
		bool dup = false;
		for (size_t j = 0; j < out->n && !dup; j++)
			dup = out->d[j].uri != NULL &&
			      (key ? strcasecmp(out->d[j].uri, key) == 0
				   : strncmp(out->d[j].uri, one, len) == 0 &&
				     out->d[j].uri[len] == '\0');
		if (dup) {
			dmarc_record_free(rec);
			continue;
		}
		if (out->n >= max) {
			out->excess++;
			dmarc_record_free(rec);
			continue;
		}
		struct dest *d = &out->d[out->n++];
		d->uri = key ? strdup(key) : strndup(one, len);
		if (d->uri == NULL)
			dest_set(d, DEST_TEMPFAIL, "out of memory");
		else if (rec == NULL)
			dest_set(d, DEST_SKIPPED, "invalid URI: %s", strbuf_str(&why));
		else
			dest_check(res, opt, &po, &rec->rua.uris[0], d);
		dmarc_record_free(rec);
	}
	free(po.org);
	strbuf_free(&why);
}
