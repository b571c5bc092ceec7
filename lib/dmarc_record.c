/* dmarc_record: the DMARC policy record parser (RFC 9989 §4.7-4.8, RFC 7489 §6.3). */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_types.h"
#include "strbuf.h"

#include "dmarc_record.h"

#define WARN_MAX_COUNT 16    /* warnings kept; later ones are only counted */
#define WARN_MAX_LEN 8192    /* 16 warnings of < 400 bytes each fit easily */
#define QUOTE_MAX_IN 64      /* input bytes quoted in one warning */
#define DEFAULT_RI_SEC 86400 /* RFC 7489 §6.3 ri default */

/* A piece of the record text (borrowed). */
struct span {
	const char *p;
	size_t n;
};

/* Parser state for one record. */
struct parse_ctx {
	struct dmarc_record *rec;
	struct strbuf warn;      /* "; "-joined warnings */
	unsigned warn_count;     /* warnings added to warn */
	unsigned warn_dropped;   /* warnings beyond WARN_MAX_COUNT */
	bool nomem;              /* a malloc failed */
	bool p_invalid;          /* p present with a bad value */
	bool sp_invalid, np_invalid;
	unsigned seen;           /* bit per known tag, for duplicates */
	const char *dup_tag;     /* name of the first duplicated tag */
};

enum tag_id {
	TAG_V, TAG_P, TAG_SP, TAG_NP, TAG_ADKIM, TAG_ASPF, TAG_FO, TAG_RUA,
	TAG_RUF, TAG_PSD, TAG_T, TAG_PCT, TAG_RF, TAG_RI, TAG_UNKNOWN,
};

/* The known tags: RFC 9989 §4.7 plus the historic pct, rf, ri. */
static const char *const tag_names[] = {
	"v", "p", "sp", "np", "adkim", "aspf", "fo", "rua",
	"ruf", "psd", "t", "pct", "rf", "ri",
};

/* ---- small text helpers ---- */

static bool is_wsp(char c)
{
	/* RFC 5234 WSP, plus CR/LF that zone files sometimes leave in */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static struct span trim(struct span s)
{
	while (s.n > 0 && is_wsp(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_wsp(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* ASCII case-insensitive comparison of a span with a keyword. */
static bool span_eq(struct span s, const char *word)
{
	size_t n = strlen(word);

	if (s.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower(word[i]))
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Appends s as a quoted, log-safe excerpt: at most QUOTE_MAX_IN bytes,
 * '"' and '\' escaped, control and non-ASCII bytes as \xNN. */
static void add_quoted(struct strbuf *sb, struct span s)
{
	size_t n = s.n > QUOTE_MAX_IN ? QUOTE_MAX_IN : s.n;

	strbuf_putc(sb, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == '"' || c == '\\')
			strbuf_printf(sb, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			strbuf_printf(sb, "\\x%02X", c);
		else
			strbuf_putc(sb, (char)c);
	}
	if (n < s.n)
		strbuf_puts(sb, "...");
	strbuf_putc(sb, '"');
}

/* Starts a new warning; false when the cap is reached (then it is only
 * counted and the caller skips the text). */
static bool warn_begin(struct parse_ctx *ctx)
{
	if (ctx->warn_count >= WARN_MAX_COUNT) {
		ctx->warn_dropped++;
		return false;
	}
	if (ctx->warn_count > 0)
		strbuf_puts(&ctx->warn, "; ");
	ctx->warn_count++;
	return true;
}

static void warn(struct parse_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct parse_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!warn_begin(ctx))
		return;
	va_start(ap, fmt);
	strbuf_vprintf(&ctx->warn, fmt, ap);
	va_end(ap);
}

/* A warning of the form: <pre>"<quoted value>"<post>. */
static void warn_q(struct parse_ctx *ctx, const char *pre, struct span val,
		   const char *post)
{
	if (!warn_begin(ctx))
		return;
	strbuf_puts(&ctx->warn, pre);
	add_quoted(&ctx->warn, val);
	strbuf_puts(&ctx->warn, post);
}

static char *dup_span(struct parse_ctx *ctx, struct span s)
{
	char *d = malloc(s.n + 1);

	if (d == NULL) {
		ctx->nomem = true;
		return NULL;
	}
	memcpy(d, s.p, s.n);
	d[s.n] = '\0';
	return d;
}

/* ---- the v=DMARC1 prefix ---- */

/* Length of the "v=DMARC1" element up to (not including) the first ';' or
 * the end, or 0 when the text does not start with it (RFC 9989 §4.7 "v"). */
static size_t version_len(const char *text, size_t len)
{
	static const char want[] = "DMARC1";
	size_t i = 0;

	if (text == NULL)
		return 0;
	while (i < len && is_wsp(text[i]))
		i++;
	if (i >= len || lower(text[i]) != 'v')
		return 0;
	i++;
	while (i < len && is_wsp(text[i]))
		i++;
	if (i >= len || text[i] != '=')
		return 0;
	i++;
	while (i < len && is_wsp(text[i]))
		i++;
	/* %s"DMARC1": case-sensitive */
	if (len - i < sizeof want - 1 || memcmp(text + i, want, sizeof want - 1) != 0)
		return 0;
	i += sizeof want - 1;
	while (i < len && is_wsp(text[i]))
		i++;
	if (i < len && text[i] != ';')
		return 0; /* "v=DMARC10" or "v=DMARC1 p=none" */
	return i;
}

bool dmarc_record_is_dmarc(const char *text, size_t len)
{
	return version_len(text, len) > 0;
}

/* ---- tag value parsers ---- */

static bool parse_policy(struct span v, enum dmarc_policy *out)
{
	if (span_eq(v, "none"))
		*out = DMARC_POLICY_NONE;
	else if (span_eq(v, "quarantine"))
		*out = DMARC_POLICY_QUARANTINE;
	else if (span_eq(v, "reject"))
		*out = DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}

/* Decimal digits only, value <= max; false on anything else. */
static bool parse_uint(struct span v, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (v.n == 0)
		return false;
	for (size_t i = 0; i < v.n; i++) {
		if (!is_digit(v.p[i]))
			return false;
		uint64_t d = (uint64_t)(v.p[i] - '0');
		if (x > (max - d) / 10)
			return false; /* x * 10 + d would exceed max (or wrap) */
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

/* fo: colon-separated options from 0, 1, d, s; each at most once; 0 and 1
 * exclusive (RFC 9989 §4.8 dmarc-fo). */
static bool valid_fo(struct span v)
{
	unsigned seen = 0;
	size_t i = 0;

	for (;;) {
		size_t start = i;
		unsigned bit;

		while (i < v.n && v.p[i] != ':')
			i++;
		struct span opt = trim((struct span){ v.p + start, i - start });
		if (span_eq(opt, "0"))
			bit = 1;
		else if (span_eq(opt, "1"))
			bit = 2;
		else if (span_eq(opt, "d"))
			bit = 4;
		else if (span_eq(opt, "s"))
			bit = 8;
		else
			return false;
		if (seen & bit)
			return false;
		seen |= bit;
		if (i >= v.n)
			break;
		i++; /* the ':' */
	}
	return (seen & 3) != 3;
}

/* rf: Keyword *(":" Keyword) (RFC 7489 §6.4), Keyword = alnum / "-". */
static bool valid_rf(struct span v)
{
	bool need = true; /* a keyword character is needed next */

	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];

		if (c == ':') {
			if (need)
				return false;
			need = true;
		} else if (is_alpha(c) || is_digit(c) || (c == '-' && !need)) {
			need = false;
		} else {
			return false;
		}
	}
	return !need;
}

/* ---- rua / ruf URIs ---- */

/* RFC 3986 characters that may appear raw in a URI (',' and ';' cannot
 * reach us: they split the record and the list). */
static bool is_uri_char(char c)
{
	return is_alpha(c) || is_digit(c) || strchr("-._~:/?#[]@!$&'()*+=%", c) != NULL;
}

/* "!" 1*DIGIT [k/m/g/t] (RFC 7489 §6.4, obs-dmarc-report-size in RFC
 * 9989): the units are powers of two (RFC 7489 §6.2). */
static bool parse_size(struct span s, uint64_t *out)
{
	uint64_t mult = 1;

	if (s.n > 0 && !is_digit(s.p[s.n - 1])) {
		switch (lower(s.p[s.n - 1])) {
		case 'k': mult = UINT64_C(1) << 10; break;
		case 'm': mult = UINT64_C(1) << 20; break;
		case 'g': mult = UINT64_C(1) << 30; break;
		case 't': mult = UINT64_C(1) << 40; break;
		default: return false;
		}
		s.n--;
	}
	uint64_t x;
	if (!parse_uint(s, UINT64_MAX, &x) || x > UINT64_MAX / mult)
		return false;
	*out = x * mult;
	return true;
}

/* Percent-decodes s (already checked well-formed) into a new string. */
static char *pct_decode(struct parse_ctx *ctx, struct span s, size_t *out_len)
{
	char *d = malloc(s.n + 1);
	size_t j = 0;

	if (d == NULL) {
		ctx->nomem = true;
		return NULL;
	}
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '%' && i + 2 < s.n && hexval(s.p[i + 1]) >= 0 &&
		    hexval(s.p[i + 2]) >= 0) {
			d[j++] = (char)(hexval(s.p[i + 1]) * 16 + hexval(s.p[i + 2]));
			i += 2;
		} else {
			d[j++] = s.p[i];
		}
	}
	d[j] = '\0';
	*out_len = j;
	return d;
}

/* dot-atom or quoted-string local part (RFC 5322 §3.4.1), ASCII only. */
static const char *check_local(struct span l)
{
	if (l.n == 0)
		return "empty local part";
	if (l.n > 64)
		return "local part longer than 64 bytes";
	if (l.p[0] == '"') {
		if (l.n < 2 || l.p[l.n - 1] != '"')
			return "unterminated quoted local part";
		for (size_t i = 1; i + 1 < l.n; i++) {
			char c = l.p[i];

			if (c == '\\') {
				if (i + 2 >= l.n)
					return "bad escape in quoted local part";
				i++;
				c = l.p[i];
			} else if (c == '"') {
				return "bad quote in local part";
			}
			if (c < 0x20 || c > 0x7e)
				return "bad character in local part";
		}
		return NULL;
	}
	for (size_t i = 0; i < l.n; i++) {
		char c = l.p[i];

		if (c == '.') {
			if (i == 0 || i + 1 == l.n || l.p[i - 1] == '.')
				return "misplaced dot in local part";
		} else if (!is_alpha(c) && !is_digit(c) &&
			   strchr("!#$%&'*+-/=?^_`{|}~", c) == NULL) {
			return "bad character in local part";
		}
	}
	return NULL;
}

/* A plausible mail domain: LDH labels of 1-63 bytes, at least two, total
 * at most 253, the last one not all digits; one trailing dot allowed.
 * On success *d is shortened to drop the trailing dot. */
static const char *check_domain(struct span *d)
{
	if (d->n > 0 && d->p[d->n - 1] == '.')
		d->n--;
	if (d->n == 0)
		return "empty domain";
	if (d->n > 253)
		return "domain longer than 253 bytes";
	size_t labels = 0, start = 0;
	bool all_digits = true;
	for (size_t i = 0; i <= d->n; i++) {
		if (i < d->n && d->p[i] != '.') {
			char c = d->p[i];

			if (!is_alpha(c) && !is_digit(c) && c != '-')
				return "bad character in domain";
			if (!is_digit(c))
				all_digits = false;
			continue;
		}
		size_t n = i - start;
		if (n == 0)
			return "empty label in domain";
		if (n > 63)
			return "domain label longer than 63 bytes";
		if (d->p[start] == '-' || d->p[i - 1] == '-')
			return "domain label starts or ends with '-'";
		labels++;
		if (i < d->n)
			all_digits = true; /* only the last label is checked */
		start = i + 1;
	}
	if (labels < 2)
		return "domain has a single label";
	if (all_digits)
		return "domain ends in a numeric label";
	return NULL;
}

/* Checks the decoded "mailto:" body and fills u->address and u->domain. */
static const char *fill_mailto(struct parse_ctx *ctx, struct dmarc_uri *u,
			       struct span body)
{
	const char *why;
	bool quoted = false;
	size_t at = SIZE_MAX;

	for (size_t i = 0; i < body.n; i++) {
		char c = body.p[i];

		if (c == '"' && (i == 0 || body.p[i - 1] != '\\'))
			quoted = !quoted;
		else if (c == ',' && !quoted)
			return "more than one address in one URI";
		else if (c == '@' && !quoted)
			at = i;
	}
	if (at == SIZE_MAX)
		return "no '@' in address";
	struct span local = { body.p, at };
	struct span dom = { body.p + at + 1, body.n - at - 1 };
	if ((why = check_local(local)) != NULL)
		return why;
	if ((why = check_domain(&dom)) != NULL)
		return why;
	u->domain = dup_span(ctx, dom);
	u->address = malloc(local.n + 1 + dom.n + 1);
	if (u->domain == NULL || u->address == NULL) {
		ctx->nomem = true;
		return "out of memory";
	}
	for (size_t i = 0; i < dom.n; i++)
		u->domain[i] = lower(u->domain[i]);
	memcpy(u->address, local.p, local.n);
	u->address[local.n] = '@';
	memcpy(u->address + local.n + 1, u->domain, dom.n + 1);
	return NULL;
}

static void uri_clear(struct dmarc_uri *u)
{
	free(u->uri);
	free(u->address);
	free(u->domain);
	memset(u, 0, sizeof *u);
}

/* Parses one URI of a list into *u; returns NULL or why it is invalid. */
static const char *parse_uri(struct parse_ctx *ctx, struct span s, struct dmarc_uri *u)
{
	/* the first raw '!' starts the size: a '!' in the URI is %21-encoded */
	const char *bang = memchr(s.p, '!', s.n);
	if (bang != NULL) {
		struct span size = { bang + 1, s.n - (size_t)(bang - s.p) - 1 };
		if (!parse_size(size, &u->max_size_bytes))
			return "bad !size suffix";
		u->has_max_size = true;
		s.n = (size_t)(bang - s.p);
	}
	if (s.n == 0)
		return "empty URI";
	for (size_t i = 0; i < s.n; i++) {
		if (!is_uri_char(s.p[i]))
			return "character not allowed in a URI";
		if (s.p[i] == '%' &&
		    (i + 2 >= s.n || hexval(s.p[i + 1]) < 0 || hexval(s.p[i + 2]) < 0))
			return "bad percent-encoding";
	}
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" (RFC 3986 §3.1) */
	size_t colon = 0;
	if (!is_alpha(s.p[0]))
		return "no URI scheme";
	while (colon < s.n && s.p[colon] != ':') {
		char c = s.p[colon];

		if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
			return "no URI scheme";
		colon++;
	}
	if (colon >= s.n)
		return "no URI scheme";
	if (colon + 1 == s.n)
		return "nothing after the URI scheme";

	size_t dlen;
	u->uri = pct_decode(ctx, s, &dlen);
	if (u->uri == NULL)
		return "out of memory";
	for (size_t i = 0; i < dlen; i++) {
		unsigned char c = (unsigned char)u->uri[i];

		if (c < 0x20 || c == 0x7f)
			return "control character in decoded URI";
	}
	u->is_mailto = span_eq((struct span){ s.p, colon }, "mailto");
	if (!u->is_mailto)
		return NULL;
	/* RFC 6068: the addresses end at '?', which starts the hfields; split
	 * the raw text so an encoded %3F stays part of the address */
	struct span raw = { s.p + colon + 1, s.n - colon - 1 };
	const char *q = memchr(raw.p, '?', raw.n);
	if (q != NULL)
		raw.n = (size_t)(q - raw.p);
	char *addr = pct_decode(ctx, raw, &dlen);
	if (addr == NULL)
		return "out of memory";
	for (size_t i = 0; i < dlen; i++) {
		if ((unsigned char)addr[i] >= 0x80) {
			free(addr);
			return "non-ASCII address";
		}
	}
	const char *why = fill_mailto(ctx, u, (struct span){ addr, dlen });
	free(addr);
	return why;
}

/* rua= / ruf=: dmarc-urilist (RFC 9989 §4.8). */
static void parse_uri_list(struct parse_ctx *ctx, const char *tag,
			   struct span v, struct dmarc_uri_list *list)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < v.n && v.p[i] != ',')
			i++;
		struct span one = trim((struct span){ v.p + start, i - start });
		struct dmarc_uri u;
		memset(&u, 0, sizeof u);
		const char *why = parse_uri(ctx, one, &u);
		if (ctx->nomem) {
			uri_clear(&u);
			return;
		}
		if (why != NULL) {
			list->invalid++;
			if (warn_begin(ctx)) {
				strbuf_printf(&ctx->warn, "%s: URI ", tag);
				add_quoted(&ctx->warn, one);
				strbuf_printf(&ctx->warn, " dropped: %s", why);
			}
			uri_clear(&u);
		} else if (list->count >= DMARC_RECORD_MAX_URIS) {
			list->excess++;
			uri_clear(&u);
		} else {
			list->uris[list->count++] = u;
		}
		if (i >= v.n)
			break;
		i++; /* the ',' */
	}
	if (list->excess > 0)
		warn(ctx, "%s: %zu URIs beyond the first %d ignored", tag,
		     list->excess, DMARC_RECORD_MAX_URIS);
}

/* ---- one tag ---- */

static enum tag_id lookup_tag(struct span name)
{
	for (size_t i = 0; i < sizeof tag_names / sizeof tag_names[0]; i++)
		if (span_eq(name, tag_names[i]))
			return (enum tag_id)i;
	return TAG_UNKNOWN;
}

/* Warns about an invalid value: `<tag>: invalid value "..." ignored<what>`. */
static void warn_value(struct parse_ctx *ctx, enum tag_id id, struct span v,
		       const char *what)
{
	if (!warn_begin(ctx))
		return;
	strbuf_printf(&ctx->warn, "%s: invalid value ", tag_names[id]);
	add_quoted(&ctx->warn, v);
	strbuf_puts(&ctx->warn, what);
}

static void apply_tag(struct parse_ctx *ctx, enum tag_id id, struct span v)
{
	struct dmarc_record *r = ctx->rec;
	uint64_t x;

	switch (id) {
	case TAG_P:
		if (parse_policy(v, &r->p)) {
			r->has_p = true;
		} else {
			ctx->p_invalid = true;
			warn_value(ctx, id, v, "");
		}
		break;
	case TAG_SP:
		if (parse_policy(v, &r->sp)) {
			r->has_sp = true;
		} else {
			ctx->sp_invalid = true;
			warn_value(ctx, id, v, "");
		}
		break;
	case TAG_NP:
		if (parse_policy(v, &r->np)) {
			r->has_np = true;
		} else {
			ctx->np_invalid = true;
			warn_value(ctx, id, v, "");
		}
		break;
	case TAG_ADKIM:
	case TAG_ASPF: {
		bool strict;
		if (span_eq(v, "s"))
			strict = true;
		else if (span_eq(v, "r"))
			strict = false;
		else {
			warn_value(ctx, id, v, " ignored (default r)");
			break;
		}
		if (id == TAG_ADKIM) {
			r->adkim_strict = strict;
			r->has_adkim = true;
		} else {
			r->aspf_strict = strict;
			r->has_aspf = true;
		}
		break;
	}
	case TAG_T:
		if (span_eq(v, "y") || span_eq(v, "n")) {
			r->testing = span_eq(v, "y");
			r->has_t = true;
		} else {
			warn_value(ctx, id, v, " ignored (default n)");
		}
		break;
	case TAG_PSD:
		if (span_eq(v, "y"))
			r->psd = DMARC_PSD_Y;
		else if (span_eq(v, "n"))
			r->psd = DMARC_PSD_N;
		else if (span_eq(v, "u"))
			r->psd = DMARC_PSD_U;
		else {
			warn_value(ctx, id, v, " ignored (default u)");
			break;
		}
		r->has_psd = true;
		break;
	case TAG_PCT:
		if (parse_uint(v, 100, &x)) {
			r->pct = (unsigned)x;
			r->has_pct = true;
		} else {
			warn_value(ctx, id, v, " ignored (default 100)");
		}
		break;
	case TAG_RI:
		if (parse_uint(v, UINT32_MAX, &x)) {
			r->ri_sec = (uint32_t)x;
			r->has_ri = true;
		} else {
			warn_value(ctx, id, v, " ignored (default 86400)");
		}
		break;
	case TAG_FO:
		if (valid_fo(v))
			r->fo = dup_span(ctx, v);
		else
			warn_value(ctx, id, v, " ignored (default 0)");
		break;
	case TAG_RF:
		if (valid_rf(v))
			r->rf = dup_span(ctx, v);
		else
			warn_value(ctx, id, v, " ignored (default afrf)");
		break;
	case TAG_RUA:
		parse_uri_list(ctx, "rua", v, &r->rua);
		break;
	case TAG_RUF:
		parse_uri_list(ctx, "ruf", v, &r->ruf);
		break;
	case TAG_V:
	case TAG_UNKNOWN:
		break;
	}
}

/* One "name=value" element after the v tag. */
static void parse_element(struct parse_ctx *ctx, struct span el)
{
	el = trim(el);
	if (el.n == 0)
		return; /* ";;" or a trailing ";" */
	const char *eq = memchr(el.p, '=', el.n);
	if (eq == NULL) {
		warn_q(ctx, "malformed tag ", el, " ignored (no \"=\")");
		return;
	}
	struct span name = trim((struct span){ el.p, (size_t)(eq - el.p) });
	struct span val = trim((struct span){ eq + 1, el.n - (size_t)(eq - el.p) - 1 });
	bool alpha = name.n > 0;
	for (size_t i = 0; i < name.n; i++)
		if (!is_alpha(name.p[i]))
			alpha = false;
	if (!alpha) {
		warn_q(ctx, "malformed tag name ", name, " ignored");
		return;
	}
	enum tag_id id = lookup_tag(name);
	if (id == TAG_UNKNOWN) {
		warn_q(ctx, "unknown tag ", name, " ignored");
		return;
	}
	if (ctx->seen & (1u << id)) {
		if (ctx->dup_tag == NULL)
			ctx->dup_tag = tag_names[id];
		return;
	}
	ctx->seen |= 1u << id;
	/* dmarc-value = %x20-3A / %x3C-7E, at least one */
	bool printable = val.n > 0;
	for (size_t i = 0; i < val.n; i++) {
		unsigned char c = (unsigned char)val.p[i];

		if (c < 0x20 || c > 0x7e)
			printable = false;
	}
	if (!printable) {
		if (id == TAG_P)
			ctx->p_invalid = true;
		else if (id == TAG_SP)
			ctx->sp_invalid = true;
		else if (id == TAG_NP)
			ctx->np_invalid = true;
		warn_value(ctx, id, val, val.n == 0 ? " (empty)" : " (not printable ASCII)");
		return;
	}
	apply_tag(ctx, id, val);
}

/* RFC 9989 §4.10.1 / RFC 7489 §6.6.3 step 6: a bad or missing p, or a bad
 * sp or np, makes the record act as "p=none" when rua has a valid URI,
 * and gives no usable policy otherwise. Returns false for the latter. */
static bool apply_fallback(struct parse_ctx *ctx, struct strbuf *why)
{
	struct dmarc_record *r = ctx->rec;
	const char *what;

	if (!r->has_p)
		what = ctx->p_invalid ? "p is invalid" : "p is missing";
	else if (ctx->sp_invalid)
		what = "sp is invalid";
	else if (ctx->np_invalid)
		what = "np is invalid";
	else
		return true;
	if (r->rua.count == 0) {
		strbuf_printf(why, "%s and rua has no valid URI: no usable policy "
			      "(RFC 9989 §4.10.1)", what);
		return false;
	}
	warn(ctx, "%s: the record acts as p=none because rua is valid (RFC 9989 §4.10.1)",
	     what);
	r->p = DMARC_POLICY_NONE;
	r->has_p = false;
	r->sp = r->np = DMARC_POLICY_UNSPECIFIED;
	r->has_sp = r->has_np = false;
	r->p_from_rua = true;
	return true;
}

/* ---- public ---- */

struct dmarc_record *dmarc_record_free(struct dmarc_record *rec)
{
	if (rec == NULL)
		return NULL;
	for (size_t i = 0; i < rec->rua.count; i++)
		uri_clear(&rec->rua.uris[i]);
	for (size_t i = 0; i < rec->ruf.count; i++)
		uri_clear(&rec->ruf.uris[i]);
	free(rec->rf);
	free(rec->fo);
	free(rec->warnings);
	free(rec);
	return NULL;
}

/* Copies the warnings (and a count of dropped ones) to the caller. */
static void report(struct parse_ctx *ctx, struct strbuf *reason, const char *why)
{
	if (ctx->warn_dropped > 0)
		strbuf_printf(&ctx->warn, "; %u more warnings", ctx->warn_dropped);
	if (reason == NULL)
		return;
	if (why != NULL && why[0] != '\0') {
		strbuf_puts(reason, why);
		if (ctx->warn.len > 0)
			strbuf_puts(reason, "; ");
	}
	strbuf_add(reason, ctx->warn.data, ctx->warn.len);
}

enum dmarc_record_status dmarc_record_parse(const char *text, size_t len,
					    struct dmarc_record **out,
					    struct strbuf *reason)
{
	struct parse_ctx ctx;
	struct strbuf why;
	char why_stack[256];
	enum dmarc_record_status st = DMARC_RECORD_OK;

	*out = NULL;
	size_t vlen = version_len(text, len);
	if (vlen == 0) {
		if (reason != NULL)
			strbuf_puts(reason, "not a DMARC record (does not start with v=DMARC1)");
		return DMARC_RECORD_NOT_DMARC;
	}
	if (len > DMARC_RECORD_MAX_LEN) {
		if (reason != NULL)
			strbuf_printf(reason, "record is %zu bytes, longer than the %d we accept",
				      len, DMARC_RECORD_MAX_LEN);
		return DMARC_RECORD_INVALID;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul != NULL) {
		if (reason != NULL)
			strbuf_printf(reason, "NUL byte at offset %zu in the record",
				      (size_t)(nul - text));
		return DMARC_RECORD_INVALID;
	}

	memset(&ctx, 0, sizeof ctx);
	strbuf_init(&ctx.warn, NULL, 0, WARN_MAX_LEN);
	strbuf_init(&why, why_stack, sizeof why_stack, sizeof why_stack - 1);
	ctx.seen = 1u << TAG_V;
	ctx.rec = calloc(1, sizeof *ctx.rec);
	if (ctx.rec == NULL) {
		if (reason != NULL)
			strbuf_puts(reason, "out of memory");
		return DMARC_RECORD_NOMEM;
	}
	ctx.rec->pct = 100;
	ctx.rec->ri_sec = DEFAULT_RI_SEC;

	for (size_t i = vlen; i < len && !ctx.nomem;) {
		size_t start = ++i; /* skip the ';' */

		while (i < len && text[i] != ';')
			i++;
		parse_element(&ctx, (struct span){ text + start, i - start });
	}

	if (ctx.nomem || strbuf_failed(&ctx.warn)) {
		st = DMARC_RECORD_NOMEM;
		strbuf_puts(&why, "out of memory");
	} else if (ctx.dup_tag != NULL) {
		st = DMARC_RECORD_INVALID;
		strbuf_printf(&why, "tag \"%s\" appears more than once: the record is "
			      "invalid (RFC 6376 §3.2)", ctx.dup_tag);
	} else if (!apply_fallback(&ctx, &why)) {
		st = DMARC_RECORD_INVALID;
	}
	report(&ctx, reason, strbuf_str(&why));
	if (st == DMARC_RECORD_OK && ctx.warn.len > 0) {
		ctx.rec->warnings = strbuf_finish(&ctx.warn);
		if (ctx.rec->warnings == NULL) {
			st = DMARC_RECORD_NOMEM;
			if (reason != NULL)
				strbuf_puts(reason, "; out of memory");
		}
	}
	strbuf_free(&ctx.warn);
	strbuf_free(&why);
	if (st != DMARC_RECORD_OK) {
		dmarc_record_free(ctx.rec);
		return st;
	}
	*out = ctx.rec;
	return DMARC_RECORD_OK;
}

enum dmarc_select_status dmarc_record_select(const struct dmarc_txt *txts, size_t n,
					     size_t *index, struct strbuf *reason)
{
	size_t found = 0, first = 0;

	/* RFC 9989 §4.10 step 2: records not starting with v=DMARC1 are
	 * discarded; if several remain, they are all discarded */
	for (size_t i = 0; i < n; i++) {
		if (dmarc_record_is_dmarc(txts[i].data, txts[i].len)) {
			if (found == 0)
				first = i;
			found++;
		}
	}
	if (found == 1) {
		*index = first;
		return DMARC_SELECT_ONE;
	}
	if (found == 0) {
		if (reason != NULL)
			strbuf_printf(reason, "no DMARC record (%zu TXT records, none "
				      "starts with v=DMARC1)", n);
		return DMARC_SELECT_NONE;
	}
	if (reason != NULL)
		strbuf_printf(reason, "several DMARC records (%zu): no record "
			      "(RFC 9989 §4.10)", found);
	return DMARC_SELECT_SEVERAL;
}

const char *dmarc_record_status_name(enum dmarc_record_status st)
{
	switch (st) {
	case DMARC_RECORD_OK: return "ok";
	case DMARC_RECORD_NOT_DMARC: return "not a DMARC record";
	case DMARC_RECORD_INVALID: return "invalid";
	case DMARC_RECORD_NOMEM: return "out of memory";
	}
	return "unknown";
}

const char *dmarc_psd_name(enum dmarc_psd psd)
{
	switch (psd) {
	case DMARC_PSD_U: return "u";
	case DMARC_PSD_Y: return "y";
	case DMARC_PSD_N: return "n";
	}
	return "unknown";
}
