/* spf_check: SPF (RFC 7208) with libspf2 over our resolver, with the limits libspf2 lacks. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>
#include <spf2/spf_record.h>

#include "resolver.h"
#include "spf_check.h"
#include "strbuf.h"

#define SPF_FOLLOW_MAX   10   /* = libspf2 max_dns_mx / max_dns_ptr (defaults) */
#define SPF_REASON_MAX   1024 /* bytes of reason text */
#define SPF_NAME_MAX     253  /* RFC 1035 §2.3.4, textual form without the dot */
#define SPF_ADDR_MAX     1024 /* bound for a sender address we build */

/* Why a check was cut short by us rather than finished by libspf2. */
enum spf_stop {
	SPF_STOP_NONE = 0,
	SPF_STOP_VOID,      /* RFC 7208 §4.6.4 void-lookup limit */
	SPF_STOP_TERMS,     /* RFC 7208 §4.6.4 10-term limit */
	SPF_STOP_DEADLINE,  /* the caller's per-message budget ran out */
	SPF_STOP_NOMEM,     /* an allocation failed in our DNS layer */
};

struct spf_checker {
	struct resolver *res;       /* borrowed */
	SPF_server_t *server;       /* owned; uses layer, never frees it */
	SPF_dns_server_t layer;     /* our DNS layer; layer.hook = this checker */

	/* Per-check state, reset by spf_state_reset(). */
	uint64_t deadline_ms;       /* absolute; 0 = none */
	unsigned terms;             /* DNS-querying terms so far */
	unsigned voids;             /* of which void */
	bool record_fetched;        /* the top-level TXT lookup has happened */
	enum spf_stop stop;         /* first limit hit, if any */
	char *follow[SPF_FOLLOW_MAX]; /* names of the last MX/PTR answer, in order */
	size_t follow_n;            /* entries in follow */
	size_t follow_next;         /* next expected follow-up lookup */
	SPF_dns_rr_t *spare;        /* handed out when malloc fails (libspf2 aborts on NULL) */
	struct strbuf dns_why;      /* last temporary DNS failure, for the reason */
};

/* ---- helpers ---------------------------------------------------------- */

static void spf_follow_clear(struct spf_checker *c)
{
	for (size_t i = 0; i < c->follow_n; i++)
		free(c->follow[i]);
	c->follow_n = 0;
	c->follow_next = 0;
}

static void spf_state_reset(struct spf_checker *c, uint64_t deadline_ms)
{
	c->deadline_ms = deadline_ms;
	c->terms = 0;
	c->voids = 0;
	c->record_fetched = false;
	c->stop = SPF_STOP_NONE;
	spf_follow_clear(c);
	strbuf_reset(&c->dns_why);
	if (c->spare == NULL)
		c->spare = SPF_dns_rr_new();
}

/* Records the first reason to stop; later ones do not replace it. */
static void spf_set_stop(struct spf_checker *c, enum spf_stop why)
{
	if (c->stop == SPF_STOP_NONE)
		c->stop = why;
}

/* Decodes an uncompressed wire-format name (RFC 1035 §3.1) into text without
 * the trailing dot. Compression pointers, dots or control bytes inside a
 * label, and over-long names are refused. */
static bool spf_wire_name(const unsigned char *p, size_t len, struct strbuf *out)
{
	size_t i = 0;

	strbuf_reset(out);
	while (i < len) {
		size_t lab = p[i++];
		if (lab == 0)
			return out->len > 0 && !strbuf_failed(out);
		if (lab > 63 || lab > len - i)
			return false;
		if (out->len > 0)
			strbuf_putc(out, '.');
		for (size_t k = 0; k < lab; k++) {
			unsigned char ch = p[i + k];
			if (ch <= 0x20 || ch >= 0x7f || ch == '.')
				return false;
		}
		strbuf_add(out, p + i, lab);
		i += lab;
	}
	return false; /* no root label */
}

/* A new rr for libspf2; on malloc failure the spare one (libspf2 aborts when
 * a layer returns NULL, so we keep one in reserve per check). */
static SPF_dns_rr_t *spf_rr_new(struct spf_checker *c, const char *domain,
				ns_type type, SPF_dns_stat_t herrno)
{
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(&c->layer, domain, type, 0, herrno);
	if (rr != NULL)
		return rr;
	spf_set_stop(c, SPF_STOP_NOMEM);
	rr = c->spare;
	c->spare = NULL;
	if (rr != NULL) {
		rr->rr_type = type;
		rr->herrno = TRY_AGAIN;
		rr->num_rr = 0;
	}
	return rr;
}

/* Copies the records of an OK answer into rr; returns how many were usable.
 * For MX and PTR the names are also queued as expected follow-up lookups. */
static int spf_rr_fill(struct spf_checker *c, SPF_dns_rr_t *rr,
		       const struct dns_answer *ans, ns_type type)
{
	char nbuf[SPF_NAME_MAX + 2];
	struct strbuf name;
	int n = 0;

	strbuf_init(&name, nbuf, sizeof nbuf, SPF_NAME_MAX);
	for (size_t i = 0; i < ans->count && n < DNS_MAX_RRS; i++) {
		const struct dns_rr *src = &ans->rrs[i];
		const void *data = NULL;
		size_t dlen = 0;
		char *txt = NULL;

		if (src->type != (uint16_t)type)
			continue;
		if (type == ns_t_a && src->len == 4) {
			data = src->rdata;
			dlen = 4;
		} else if (type == ns_t_aaaa && src->len == 16) {
			data = src->rdata;
			dlen = 16;
		} else if (type == ns_t_mx && src->len > 2 &&
			   spf_wire_name(src->rdata + 2, src->len - 2, &name)) {
			data = name.data;
			dlen = name.len + 1;
		} else if (type == ns_t_ptr && spf_wire_name(src->rdata, src->len, &name)) {
			data = name.data;
			dlen = name.len + 1;
		} else if (type == ns_t_txt) {
			size_t tlen = 0;
			txt = dns_txt_join(src, &tlen);
			if (txt == NULL)
				continue; /* malformed rdata (or no memory): skip it */
			/* RFC 7208 §3: records are text; an embedded NUL becomes
			 * '?' so the record still counts but cannot parse. */
			for (size_t k = 0; k < tlen; k++)
				if (txt[k] == '\0')
					txt[k] = '?';
			data = txt;
			dlen = tlen + 1;
		} else {
			continue; /* wrong length or malformed name */
		}
		if (SPF_dns_rr_buf_realloc(rr, n, dlen) != SPF_E_SUCCESS) {
			free(txt);
			spf_set_stop(c, SPF_STOP_NOMEM);
			return -1;
		}
		memcpy(rr->rr[n], data, dlen);
		free(txt);
		if ((type == ns_t_mx || type == ns_t_ptr) && c->follow_n < SPF_FOLLOW_MAX) {
			char *dup = strdup(name.data);
			if (dup != NULL)
				c->follow[c->follow_n++] = dup;
		}
		n++;
		if (rr->ttl == 0 || src->ttl < rr->ttl)
			rr->ttl = src->ttl;
	}
	strbuf_free(&name);
	return n;
}

/* Is this lookup a DNS-querying term of its own (RFC 7208 §4.6.4), or part
 * of one (the top-level record, or an address lookup after mx/ptr)? */
static bool spf_is_term(struct spf_checker *c, const char *domain, ns_type type)
{
	if (type == ns_t_txt && !c->record_fetched) {
		c->record_fetched = true;
		spf_follow_clear(c);
		return false;
	}
	if ((type == ns_t_a || type == ns_t_aaaa) && c->follow_next < c->follow_n &&
	    strcasecmp(c->follow[c->follow_next], domain) == 0) {
		c->follow_next++;
		return false;
	}
	spf_follow_clear(c);
	return true;
}

static void spf_note_dns_failure(struct spf_checker *c, const char *domain,
				 const struct dns_answer *ans)
{
	strbuf_reset(&c->dns_why);
	if (ans != NULL && ans->why != NULL)
		strbuf_puts(&c->dns_why, ans->why); /* names the query already */
	else
		strbuf_printf(&c->dns_why, "%s: %s", domain,
			      ans != NULL ? dns_status_name(ans->status) : "out of memory");
}

/* ---- the libspf2 DNS layer ------------------------------------------- */

static SPF_dns_rr_t *spf_layer_lookup(SPF_dns_server_t *layer, const char *domain,
				      ns_type type, int should_cache)
{
	struct spf_checker *c = layer->hook;
	(void)should_cache; /* the resolver caches */

	/* RFC 7208 §3.1, §14.1: the SPF RR type is obsolete; libspf2 still
	 * asks for it first. Answer "no data" without a query. */
	if (type == ns_t_spf)
		return spf_rr_new(c, domain, type, NO_DATA);
	/* Once a limit has ended the check, answer locally: the result is
	 * already decided (permerror/temperror) and no query is spent. */
	if (c->stop != SPF_STOP_NONE)
		return spf_rr_new(c, domain, type,
				  c->stop == SPF_STOP_VOID || c->stop == SPF_STOP_TERMS
				  ? HOST_NOT_FOUND : TRY_AGAIN);
	if (c->deadline_ms != 0 && resolver_now_ms() >= c->deadline_ms) {
		spf_set_stop(c, SPF_STOP_DEADLINE);
		return spf_rr_new(c, domain, type, TRY_AGAIN);
	}
	bool term = spf_is_term(c, domain, type);
	if (term && ++c->terms > SPF_CHECK_MAX_TERMS) {
		spf_set_stop(c, SPF_STOP_TERMS);
		return spf_rr_new(c, domain, type, HOST_NOT_FOUND);
	}

	struct dns_answer *ans = resolver_query(c->res, domain, (uint16_t)type,
						c->deadline_ms);
	SPF_dns_stat_t herrno;
	switch (ans != NULL ? ans->status : DNS_STATUS_ERROR) {
	case DNS_STATUS_OK: herrno = NETDB_SUCCESS; break;
	case DNS_STATUS_NXDOMAIN: herrno = HOST_NOT_FOUND; break;
	case DNS_STATUS_NODATA: herrno = NO_DATA; break;
	default: herrno = TRY_AGAIN; break;
	}
	if (herrno == TRY_AGAIN)
		spf_note_dns_failure(c, domain, ans);
	if ((herrno == HOST_NOT_FOUND || herrno == NO_DATA) && term &&
	    ++c->voids > SPF_CHECK_MAX_VOID)
		spf_set_stop(c, SPF_STOP_VOID);

	SPF_dns_rr_t *rr = spf_rr_new(c, domain, type, herrno);
	if (rr != NULL && herrno == NETDB_SUCCESS && rr->herrno == NETDB_SUCCESS) {
		int n = spf_rr_fill(c, rr, ans, type);
		if (n < 0) {
			rr->herrno = TRY_AGAIN;
			n = 0;
		} else if (n == 0) {
			rr->herrno = NO_DATA; /* nothing usable in the answer */
		}
		rr->num_rr = n;
	}
	dns_answer_free(ans);
	return rr;
}

/* exp= (RFC 7208 §6.2) is optional; we do not spend a lookup on it. Note:
 * libspf2 passes *bufp itself as domain, so read it before writing. */
static SPF_errcode_t spf_layer_get_exp(SPF_server_t *server, const char *domain,
				       char **bufp, size_t *buflenp)
{
	char tmp[320];
	struct strbuf sb;
	(void)server;

	strbuf_init(&sb, tmp, sizeof tmp, sizeof tmp - 1);
	strbuf_puts(&sb, "explanation not fetched (exp=");
	if (!strbuf_puts(&sb, domain))
		strbuf_reset(&sb);
	strbuf_putc(&sb, ')');
	size_t need = sb.len + 1;
	if (*bufp == NULL || *buflenp < need) {
		char *p = realloc(*bufp, need);
		if (p == NULL) {
			strbuf_free(&sb);
			return SPF_E_NO_MEMORY;
		}
		*bufp = p;
		*buflenp = need;
	}
	memcpy(*bufp, strbuf_str(&sb), need);
	strbuf_free(&sb);
	return SPF_E_SUCCESS;
}

/* ---- identities ------------------------------------------------------ */

/* RFC 7208 §4.3: a usable domain is a multi-label name with labels of
 * 1-63 octets, at most 253 octets, no blanks or control bytes. */
static bool spf_domain_ok(const char *d, size_t len)
{
	size_t label = 0;
	bool dots = false;

	if (len == 0 || len > SPF_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)d[i];
		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			dots = true;
		} else if (ch <= 0x20 || ch == 0x7f || ch == '@') {
			return false;
		} else if (++label > 63) {
			return false;
		}
	}
	return dots && label > 0;
}

/* Length of d without one trailing dot. */
static size_t spf_domain_len(const char *d)
{
	size_t n = strlen(d);
	return n > 0 && d[n - 1] == '.' ? n - 1 : n;
}

/* True when helo is an address literal ("[192.0.2.1]", "[IPv6:...]") or a
 * bare IP address. */
static bool spf_helo_is_literal(const char *helo)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return helo[0] == '[' || inet_pton(AF_INET, helo, buf) == 1 ||
	       inet_pton(AF_INET6, helo, buf) == 1;
}

static bool spf_set_client(SPF_request_t *req, const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS;
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		/* ::ffff:a.b.c.d is an IPv4 client */
		memcpy(&a4.s_addr, &a6.s6_addr[12], 4);
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS;
	}
	return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS;
}

/* ---- outcome --------------------------------------------------------- */

static void spf_outcome_start(struct spf_outcome *out, enum spf_check_scope scope)
{
	memset(out, 0, sizeof *out);
	out->scope = scope;
}

/* Sets result and reason (formatted); on out of memory reason stays NULL. */
static enum auth_spf spf_finish(struct spf_outcome *out, enum auth_spf r,
				const char *reason)
{
	out->result = r;
	free(out->reason);
	out->reason = reason != NULL ? strdup(reason) : NULL;
	return r;
}

static enum auth_spf spf_map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return AUTH_SPF_PASS;
	case SPF_RESULT_FAIL: return AUTH_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL: return AUTH_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return AUTH_SPF_NEUTRAL;
	case SPF_RESULT_NONE: return AUTH_SPF_NONE;
	case SPF_RESULT_TEMPERROR: return AUTH_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR: return AUTH_SPF_PERMERROR;
	case SPF_RESULT_INVALID: break; /* a record that did not compile */
	}
	return AUTH_SPF_PERMERROR;
}

/* libspf2's header comment without its "<receiver>: " prefix, then its
 * error messages, then our last DNS failure. */
static void spf_build_reason(struct spf_checker *c, SPF_response_t *resp,
			     enum auth_spf r, struct strbuf *sb)
{
	const char *hc = SPF_response_get_header_comment(resp);
	const char *rec = SPF_request_get_rec_dom(resp->spf_request);
	size_t rl = rec != NULL ? strlen(rec) : 0;

	if (hc != NULL) {
		if (rl > 0 && strncmp(hc, rec, rl) == 0 && hc[rl] == ':' && hc[rl + 1] == ' ')
			hc += rl + 2;
		strbuf_puts(sb, hc);
	}
	if (r == AUTH_SPF_PERMERROR || r == AUTH_SPF_TEMPERROR || r == AUTH_SPF_NONE) {
		int n = SPF_response_messages(resp);
		for (int i = 0; i < n; i++) {
			SPF_error_t *e = SPF_response_message(resp, i);
			if (e == NULL || !SPF_error_errorp(e) || SPF_error_message(e) == NULL)
				continue;
			strbuf_puts(sb, sb->len > 0 ? "; " : "");
			strbuf_puts(sb, SPF_error_message(e));
		}
	}
	if (r == AUTH_SPF_TEMPERROR && c->dns_why.len > 0)
		strbuf_printf(sb, "%s%s", sb->len > 0 ? "; " : "", strbuf_str(&c->dns_why));
}

/* Our limits override libspf2's verdict (RFC 7208 §4.6.4). */
static bool spf_apply_stop(struct spf_checker *c, struct spf_outcome *out)
{
	switch (c->stop) {
	case SPF_STOP_NONE:
		return false;
	case SPF_STOP_VOID:
		spf_finish(out, AUTH_SPF_PERMERROR,
			   "more than 2 void lookups, RFC 7208 section 4.6.4");
		break;
	case SPF_STOP_TERMS:
		spf_finish(out, AUTH_SPF_PERMERROR,
			   "more than 10 DNS-querying terms, RFC 7208 section 4.6.4");
		break;
	case SPF_STOP_DEADLINE:
		spf_finish(out, AUTH_SPF_TEMPERROR,
			   "DNS time budget for this message exhausted");
		break;
	case SPF_STOP_NOMEM:
		spf_finish(out, AUTH_SPF_TEMPERROR, "out of memory");
		break;
	}
	return true;
}

/* Evaluates the record of domain for the prepared request, like libspf2's
 * SPF_request_query_mailfrom() minus its free pass for loopback clients. */
static SPF_response_t *spf_evaluate(struct spf_checker *c, SPF_request_t *req,
				    const char *domain)
{
	SPF_response_t *resp = SPF_response_new(req);
	SPF_record_t *rec = NULL;

	if (resp == NULL)
		return NULL;
	req->cur_dom = domain;
	SPF_errcode_t err = SPF_server_get_record(c->server, req, resp, &rec);
	if (err != SPF_E_SUCCESS) {
		if (rec != NULL)
			SPF_record_free(rec);
		/* libspf2 1.2.10 leaves the result unset (INVALID) after a
		 * temporary DNS failure or a record that does not compile. */
		if (resp->result == SPF_RESULT_INVALID)
			resp->result = err == SPF_E_DNS_ERROR ? SPF_RESULT_TEMPERROR
				       : SPF_RESULT_PERMERROR;
		/* fills the header comment and Received-SPF for the error */
		SPF_i_done(resp, resp->result, resp->reason, err);
		return resp;
	}
	resp->spf_record_exp = rec;
	(void)SPF_record_interpret(rec, req, resp, 0);
	resp->spf_record_exp = NULL;
	SPF_record_free(rec);
	return resp;
}

/* Runs one check of sender (local@domain) for the client and fills out. */
static enum auth_spf spf_run(struct spf_checker *c, const char *client_ip,
			     const char *helo, const char *sender,
			     const char *domain, uint64_t deadline_ms,
			     struct spf_outcome *out)
{
	char rbuf[256];
	struct strbuf reason;
	SPF_request_t *req = SPF_request_new(c->server);

	if (req == NULL)
		return spf_finish(out, AUTH_SPF_TEMPERROR, "out of memory");
	if (!spf_set_client(req, client_ip)) {
		SPF_request_free(req);
		return spf_finish(out, AUTH_SPF_NONE,
				  "client address is not an IP address: not checked");
	}
	if ((helo != NULL && helo[0] != '\0' &&
	     SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS) ||
	    SPF_request_set_env_from(req, sender) != SPF_E_SUCCESS) {
		SPF_request_free(req);
		return spf_finish(out, AUTH_SPF_TEMPERROR, "out of memory");
	}

	spf_state_reset(c, deadline_ms);
	SPF_response_t *resp = spf_evaluate(c, req, domain);
	out->terms = c->terms;
	out->void_lookups = c->voids;
	if (resp == NULL) {
		SPF_request_free(req);
		spf_follow_clear(c);
		return spf_finish(out, AUTH_SPF_TEMPERROR, "out of memory");
	}
	if (!spf_apply_stop(c, out)) {
		enum auth_spf r = spf_map_result(SPF_response_result(resp));
		strbuf_init(&reason, rbuf, sizeof rbuf, SPF_REASON_MAX);
		spf_build_reason(c, resp, r, &reason);
		spf_finish(out, r, strbuf_failed(&reason) ? "reason too long"
			   : strbuf_str(&reason));
		strbuf_free(&reason);
		const char *rs = SPF_response_get_received_spf_value(resp);
		out->received_spf = rs != NULL ? strdup(rs) : NULL;
	}
	SPF_response_free(resp);
	SPF_request_free(req);
	spf_follow_clear(c);
	return out->result;
}

/* Builds "postmaster@<domain>" or copies an address; NULL when OOM/too long. */
static char *spf_address(const char *local, size_t llen, const char *domain, size_t dlen)
{
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, SPF_ADDR_MAX);
	strbuf_add(&sb, local, llen);
	strbuf_putc(&sb, '@');
	strbuf_add(&sb, domain, dlen);
	return strbuf_finish(&sb);
}

static char *spf_strndup(const char *s, size_t n)
{
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, SPF_ADDR_MAX);
	strbuf_add(&sb, s, n);
	return strbuf_finish(&sb);
}

/* ---- public ---------------------------------------------------------- */

struct spf_checker *spf_checker_new(struct resolver *res, const char *receiver)
{
	struct spf_checker *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->res = res;
	c->layer.destroy = NULL; /* embedded: libspf2 must never free it */
	c->layer.lookup = spf_layer_lookup;
	c->layer.get_spf = NULL;
	c->layer.get_exp = spf_layer_get_exp;
	c->layer.add_cache = NULL;
	c->layer.layer_below = NULL;
	c->layer.name = "dmarc-milter";
	c->layer.debug = 0;
	c->layer.hook = c;
	strbuf_init(&c->dns_why, NULL, 0, 512);
	c->server = SPF_server_new_dns(&c->layer, 0);
	c->spare = SPF_dns_rr_new();
	if (c->server == NULL || c->spare == NULL ||
	    (receiver != NULL && SPF_server_set_rec_dom(c->server, receiver) != SPF_E_SUCCESS)) {
		spf_checker_free(c);
		return NULL;
	}
	/* RFC 7208 §4.6.4 limits; libspf2's own counters back ours up. */
	SPF_server_set_max_dns_mech(c->server, SPF_CHECK_MAX_TERMS);
	SPF_server_set_max_dns_mx(c->server, SPF_FOLLOW_MAX);
	SPF_server_set_max_dns_ptr(c->server, SPF_FOLLOW_MAX);
	SPF_server_set_sanitize(c->server, 1); /* non-printables -> '?' in comments */
	return c;
}

void spf_checker_free(struct spf_checker *c)
{
	if (c == NULL)
		return;
	if (c->server != NULL)
		SPF_server_free(c->server);
	if (c->spare != NULL)
		SPF_dns_rr_free(c->spare);
	spf_follow_clear(c);
	strbuf_free(&c->dns_why);
	free(c);
}

enum auth_spf spf_check_helo(struct spf_checker *c, const char *client_ip,
			     const char *helo, uint64_t deadline_ms,
			     struct spf_outcome *out)
{
	spf_outcome_start(out, SPF_CHECK_SCOPE_HELO);
	if (helo == NULL || helo[0] == '\0')
		return spf_finish(out, AUTH_SPF_NONE, "no HELO name: nothing to check");
	size_t dlen = spf_domain_len(helo);
	out->sender = spf_address("postmaster", 10, helo, dlen);
	out->domain = spf_strndup(helo, dlen);
	if (out->sender == NULL || out->domain == NULL)
		return spf_finish(out, AUTH_SPF_TEMPERROR, "out of memory");
	/* RFC 7208 §2.3: only a HELO that is a domain name is checked */
	if (spf_helo_is_literal(helo) || !spf_domain_ok(helo, dlen))
		return spf_finish(out, AUTH_SPF_NONE,
				  "HELO name is not a multi-label domain name: not checked, "
				  "RFC 7208 section 2.3");
	return spf_run(c, client_ip, helo, out->sender, out->domain, deadline_ms, out);
}

enum auth_spf spf_check_mailfrom(struct spf_checker *c, const char *client_ip,
				 const char *helo, const char *mail_from,
				 uint64_t deadline_ms, struct spf_outcome *out)
{
	const char *mf = mail_from != NULL ? mail_from : "";
	size_t len = strlen(mf);

	if (len >= 2 && mf[0] == '<' && mf[len - 1] == '>') {
		mf++;
		len -= 2;
	}
	if (len == 0) {
		/* RFC 7208 §2.4: null sender -> postmaster@HELO, scope helo */
		spf_check_helo(c, client_ip, helo, deadline_ms, out);
		return out->result;
	}

	spf_outcome_start(out, SPF_CHECK_SCOPE_MFROM);
	const char *at = memrchr(mf, '@', len);
	const char *dom = at != NULL ? at + 1 : mf;
	size_t dlen = len - (size_t)(dom - mf);
	if (dlen > 0 && dom[dlen - 1] == '.')
		dlen--;
	/* RFC 7208 §4.3: no local-part -> "postmaster" */
	if (at == NULL || at == mf)
		out->sender = spf_address("postmaster", 10, dom, dlen);
	else
		out->sender = spf_address(mf, (size_t)(at - mf), dom, dlen);
	out->domain = spf_strndup(dom, dlen);
	if (out->sender == NULL || out->domain == NULL)
		return spf_finish(out, AUTH_SPF_TEMPERROR,
				  "out of memory (or sender address too long)");
	if (!spf_domain_ok(dom, dlen))
		return spf_finish(out, AUTH_SPF_NONE,
				  "sender domain is malformed or not multi-label: "
				  "no SPF policy, RFC 7208 section 4.3");
	return spf_run(c, client_ip, helo, out->sender, out->domain, deadline_ms, out);
}

void spf_outcome_clear(struct spf_outcome *out)
{
	if (out == NULL)
		return;
	free(out->domain);
	free(out->sender);
	free(out->reason);
	free(out->received_spf);
	memset(out, 0, sizeof *out);
}

const char *spf_check_scope_name(enum spf_check_scope s)
{
	return s == SPF_CHECK_SCOPE_HELO ? "helo" : "mailfrom";
}
