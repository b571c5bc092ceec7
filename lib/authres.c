/* authres: Authentication-Results, Received-SPF and verdict header values. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "auth_types.h"
#include "authres.h"
#include "strbuf.h"

/* ---- character classes ------------------------------------------------ */

/* RFC 5322 §3.2.3 atext. */
static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 2045 §5.1 token character: printable ASCII without tspecials. */
static bool is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Control characters, which no header value may carry raw. */
static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* True when s[0..len) is an RFC 5322 dot-atom-text (whose chars also pass
 * extra_ok when given). */
static bool is_dot_atom(const char *s, size_t len, bool (*extra_ok)(unsigned char))
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
			continue;
		}
		if (!is_atext(c) || (extra_ok && !extra_ok(c)))
			return false;
	}
	return true;
}

static bool is_token(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_token_char((unsigned char)s[i]))
			return false;
	return true;
}

/* ---- value encoders --------------------------------------------------- */

/* True when s[0..len) already is an RFC 5322 §3.2.4 quoted-string (as an
 * SMTP local-part may be, RFC 5321 §4.1.2). */
static bool is_quoted_string(const char *s, size_t len)
{
	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	for (size_t i = 1; i < len - 1; i++) {
		if (s[i] == '\\') {
			if (++i == len - 1)
				return false; /* the closing quote was escaped */
		} else if (s[i] == '"') {
			return false;
		}
	}
	return true;
}

/* Appends s[0..len) as an RFC 5322 quoted-string. UTF-8 bytes pass (RFC 6532
 * §3.2); the caller has ruled out control characters. */
static void put_quoted(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_putc(sb, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			strbuf_putc(sb, '\\');
		strbuf_putc(sb, s[i]);
	}
	strbuf_putc(sb, '"');
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if (is_ctl((unsigned char)*s))
			return true;
	return false;
}

/* Appends an RFC 8601 §2.2 pvalue: [[local-part] "@"] domain-name, or value
 * (token / quoted-string). Raw when the grammar allows, quoted otherwise.
 * false (nothing appended) when v holds a control character. */
static bool put_pvalue(struct strbuf *sb, const char *v)
{
	if (has_ctl(v))
		return false;
	size_t len = strlen(v);
	const char *at = strrchr(v, '@');
	if (at != NULL) {
		size_t local_len = (size_t)(at - v);
		const char *dom = at + 1;
		if (!is_dot_atom(dom, strlen(dom), NULL)) {
			put_quoted(sb, v, len);
		} else {
			if (local_len > 0 && !is_dot_atom(v, local_len, NULL) &&
			    !is_quoted_string(v, local_len))
				put_quoted(sb, v, local_len);
			else
				strbuf_add(sb, v, local_len);
			strbuf_putc(sb, '@');
			strbuf_puts(sb, dom);
		}
		return true;
	}
	if (is_token(v, len))
		strbuf_add(sb, v, len);
	else
		put_quoted(sb, v, len);
	return true;
}

/* Appends "(text)" as an RFC 5322 §3.2.2 comment: "(", ")" and "\" become
 * quoted-pairs, control characters (CR, LF included) become spaces, and text
 * past AUTHRES_REASON_MAX bytes is replaced by "...". The result is ASCII
 * (ctext is ASCII outside SMTPUTF8 mail, and parsers insist): "§" becomes
 * "section ", any other non-ASCII character one "?". */
static void put_comment(struct strbuf *sb, const char *text)
{
	size_t len = strlen(text);
	bool cut = len > AUTHRES_REASON_MAX;
	if (cut)
		len = AUTHRES_REASON_MAX;
	strbuf_putc(sb, '(');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == 0xc2 && i + 1 < len && (unsigned char)text[i + 1] == 0xa7) {
			strbuf_puts(sb, "section ");
			i++;
			continue;
		}
		if (c >= 0x80) {
			if (c >= 0xc0 || i == 0 || (unsigned char)text[i - 1] < 0x80)
				strbuf_putc(sb, '?'); /* one per character, not per byte */
			continue;
		}
		if (c == '(' || c == ')' || c == '\\')
			strbuf_putc(sb, '\\');
		strbuf_putc(sb, is_ctl(c) ? ' ' : (char)c);
	}
	if (cut)
		strbuf_puts(sb, "...");
	strbuf_putc(sb, ')');
}

/* ---- folding ---------------------------------------------------------- */

/* Writes pieces separated by a space, or by "\n\t" when the line would pass
 * AUTHRES_FOLD_COLUMN or a new line is asked for. */
struct fold {
	struct strbuf *out;
	size_t col;      /* current column, counting the field name */
	bool line_empty; /* nothing on the current line yet */
	bool failed;     /* a piece overflowed or ran out of memory */
};

static void fold_piece(struct fold *f, const struct strbuf *piece, bool newline)
{
	size_t len = piece->len;
	if (strbuf_failed(piece))
		f->failed = true;
	if (len == 0 || f->failed)
		return;
	if (!f->line_empty) {
		if (newline || f->col + 1 + len > AUTHRES_FOLD_COLUMN) {
			strbuf_puts(f->out, "\n\t");
			f->col = 8; /* a TAB displays as up to 8 columns */
		} else {
			strbuf_putc(f->out, ' ');
			f->col++;
		}
	}
	strbuf_add(f->out, piece->data, len);
	f->col += len;
	f->line_empty = false;
}

/* Appends a separator (";") to the current line. */
static void fold_sep(struct fold *f, char c)
{
	strbuf_putc(f->out, c);
	f->col++;
}

/* ---- Authentication-Results --------------------------------------------- */

static void err_add(struct strbuf *err, const char *what)
{
	if (err)
		strbuf_puts(err, what);
}

/* Emits "ptype.prop=value" as one piece; an unrepresentable value is left
 * out (RFC 8601 §2.3: properties are optional). */
static void emit_prop(struct fold *f, struct strbuf *piece, const char *name,
		      const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	strbuf_reset(piece);
	strbuf_printf(piece, "%s=", name);
	if (put_pvalue(piece, value))
		fold_piece(f, piece, false);
}

/* Emits a comment word by word, so that long reasons fold at their spaces
 * (RFC 5322 §3.2.2 allows FWS inside a comment). Runs of spaces collapse. */
static void emit_comment(struct fold *f, struct strbuf *piece, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return;
	char stack[256];
	struct strbuf whole;
	strbuf_init(&whole, stack, sizeof stack, AUTHRES_MAX_LEN);
	put_comment(&whole, text);
	const char *p = strbuf_str(&whole);
	while (*p) {
		size_t n = strcspn(p, " ");
		strbuf_reset(piece);
		strbuf_add(piece, p, n);
		fold_piece(f, piece, false);
		p += n;
		p += strspn(p, " ");
	}
	if (strbuf_failed(&whole))
		f->failed = true;
	strbuf_free(&whole);
}

/* Starts a resinfo on a new line: ";\n\tmethod=result". */
static void emit_method(struct fold *f, struct strbuf *piece, const char *method,
			const char *result)
{
	fold_sep(f, ';');
	strbuf_reset(piece);
	strbuf_printf(piece, "%s=%s", method, result);
	fold_piece(f, piece, true);
}

static void emit_spf(struct fold *f, struct strbuf *piece, const struct authres_spf *spf)
{
	emit_method(f, piece, "spf", auth_spf_name(spf->result));
	emit_comment(f, piece, spf->reason);
	/* RFC 7208 §2.4 / RFC 8601 §2.7.2: the null sender is checked (and
	 * reported) through the HELO identity. */
	if (spf->mailfrom != NULL && spf->mailfrom[0] != '\0')
		emit_prop(f, piece, "smtp.mailfrom", spf->mailfrom);
	else
		emit_prop(f, piece, "smtp.helo", spf->helo);
}

/* Copies the first AUTHRES_B_PREFIX non-whitespace chars of a b= value. */
static void b_prefix(const char *b, char out[AUTHRES_B_PREFIX + 1])
{
	size_t n = 0;
	for (; *b && n < AUTHRES_B_PREFIX; b++)
		if (!strchr(" \t\r\n", *b))
			out[n++] = *b;
	out[n] = '\0';
}

static void emit_dkim(struct fold *f, struct strbuf *piece, const struct authres_dkim *d)
{
	emit_method(f, piece, "dkim", auth_dkim_name(d->result));
	emit_comment(f, piece, d->reason);
	emit_prop(f, piece, "header.d", d->domain);
	emit_prop(f, piece, "header.s", d->selector);
	if (d->b != NULL) {
		char pre[AUTHRES_B_PREFIX + 1];
		b_prefix(d->b, pre);
		emit_prop(f, piece, "header.b", pre);
	}
}

static void emit_dmarc(struct fold *f, struct strbuf *piece, const struct authres_dmarc *d)
{
	emit_method(f, piece, "dmarc", auth_dmarc_name(d->result));
	/* The policy words only mean something once a record was found. */
	if (d->result == AUTH_DMARC_PASS || d->result == AUTH_DMARC_FAIL) {
		strbuf_reset(piece);
		strbuf_printf(piece, "(p=%s dis=%s", dmarc_policy_name(d->published),
			      dmarc_policy_name(d->disposition));
		if (d->override != NULL && d->override[0] != '\0') {
			/* Strip the override name to comment-safe chars. */
			strbuf_puts(piece, " override=");
			for (const char *o = d->override; *o; o++)
				if (is_token_char((unsigned char)*o))
					strbuf_putc(piece, *o);
		}
		strbuf_putc(piece, ')');
		fold_piece(f, piece, false);
	}
	emit_comment(f, piece, d->reason);
	emit_prop(f, piece, "header.from", d->from_domain);
	if (d->result == AUTH_DMARC_PASS || d->result == AUTH_DMARC_FAIL)
		emit_prop(f, piece, "policy.dmarc", dmarc_policy_name(
				  d->applied == DMARC_POLICY_UNSPECIFIED ?
				  DMARC_POLICY_NONE : d->applied));
}

bool authres_authserv_id_valid(const char *s)
{
	size_t len = s ? strlen(s) : 0;
	return len > 0 && len <= 255 && is_dot_atom(s, len, is_token_char);
}

bool authres_build(const struct authres_input *in, struct strbuf *out,
		   struct strbuf *err)
{
	if (!authres_authserv_id_valid(in->authserv_id)) {
		err_add(err, "authserv-id is not a valid token (RFC 8601 §2.2)");
		return false;
	}
	char stack[256];
	struct strbuf piece;
	strbuf_init(&piece, stack, sizeof stack, AUTHRES_MAX_LEN);
	struct fold f = { out, strlen("Authentication-Results: "), true, false };

	strbuf_reset(&piece);
	strbuf_puts(&piece, in->authserv_id);
	fold_piece(&f, &piece, false);
	if (in->spf != NULL)
		emit_spf(&f, &piece, in->spf);
	for (size_t i = 0; i < in->dkim_count; i++)
		emit_dkim(&f, &piece, &in->dkim[i]);
	if (in->dkim_count == 0)
		emit_method(&f, &piece, "dkim", "none");
	for (size_t i = 0; i < in->dmarc_count; i++)
		emit_dmarc(&f, &piece, &in->dmarc[i]);

	bool ok = !f.failed && !strbuf_failed(out);
	strbuf_free(&piece);
	if (!ok)
		err_add(err, "Authentication-Results value too long or out of memory");
	return ok;
}

/* ---- Received-SPF ------------------------------------------------------- */

/* Appends a key=value pair of RFC 7208 §9.1 (dot-atom / quoted-string).
 * Values with control characters are left out. */
static void emit_kv(struct fold *f, struct strbuf *piece, const char *key,
		    const char *value, bool last)
{
	if (value == NULL || has_ctl(value))
		return;
	strbuf_reset(piece);
	strbuf_printf(piece, "%s=", key);
	size_t len = strlen(value);
	if (is_dot_atom(value, len, NULL))
		strbuf_add(piece, value, len);
	else
		put_quoted(piece, value, len);
	if (!last)
		strbuf_putc(piece, ';');
	fold_piece(f, piece, false);
}

/* Our default comment, in the usual Received-SPF phrasing. */
static void spf_default_comment(const struct authres_received_spf *in,
				const char *who, struct strbuf *sb)
{
	const char *ip = in->client_ip ? in->client_ip : "unknown";
	switch (in->result) {
	case AUTH_SPF_PASS:
		strbuf_printf(sb, "%s: domain of %s designates %s as permitted sender",
			      in->receiver, who, ip);
		break;
	case AUTH_SPF_FAIL:
		strbuf_printf(sb, "%s: domain of %s does not designate %s as permitted sender",
			      in->receiver, who, ip);
		break;
	case AUTH_SPF_SOFTFAIL:
		strbuf_printf(sb, "%s: domain of transitioning %s does not designate %s as permitted sender",
			      in->receiver, who, ip);
		break;
	case AUTH_SPF_NEUTRAL:
		strbuf_printf(sb, "%s: %s is neither permitted nor denied by domain of %s",
			      in->receiver, ip, who);
		break;
	case AUTH_SPF_NONE:
		strbuf_printf(sb, "%s: domain of %s does not publish an SPF record",
			      in->receiver, who);
		break;
	case AUTH_SPF_TEMPERROR:
		strbuf_printf(sb, "%s: temporary error checking %s", in->receiver, who);
		break;
	case AUTH_SPF_PERMERROR:
		strbuf_printf(sb, "%s: permanent error in the SPF record of %s",
			      in->receiver, who);
		break;
	}
}

bool authres_received_spf(const struct authres_received_spf *in,
			  struct strbuf *out, struct strbuf *err)
{
	if (!authres_authserv_id_valid(in->receiver)) {
		err_add(err, "receiver is not a valid dot-atom (RFC 7208 §9.1)");
		return false;
	}
	bool null_sender = in->mailfrom == NULL || in->mailfrom[0] == '\0';
	const char *who = null_sender ? (in->helo ? in->helo : "unknown") : in->mailfrom;
	char stack[256], cstack[256];
	struct strbuf piece, text;
	strbuf_init(&piece, stack, sizeof stack, AUTHRES_MAX_LEN);
	strbuf_init(&text, cstack, sizeof cstack, AUTHRES_MAX_LEN);
	struct fold f = { out, strlen("Received-SPF: "), true, false };

	strbuf_puts(&piece, auth_spf_name(in->result));
	fold_piece(&f, &piece, false);
	if (in->reason != NULL && in->reason[0] != '\0')
		strbuf_puts(&text, in->reason);
	else
		spf_default_comment(in, who, &text);
	emit_comment(&f, &piece, strbuf_str(&text));
	emit_kv(&f, &piece, "client-ip", in->client_ip, false);
	if (!null_sender)
		emit_kv(&f, &piece, "envelope-from", in->mailfrom, false);
	emit_kv(&f, &piece, "helo", in->helo, false);
	emit_kv(&f, &piece, "receiver", in->receiver, false);
	emit_kv(&f, &piece, "identity", null_sender ? "helo" : "mailfrom", true);

	bool ok = !f.failed && !strbuf_failed(&text) && !strbuf_failed(out);
	strbuf_free(&piece);
	strbuf_free(&text);
	if (!ok)
		err_add(err, "Received-SPF value too long or out of memory");
	return ok;
}

/* ---- verdicts ----------------------------------------------------------- */

enum authres_verdict authres_spf_verdict(enum auth_spf r)
{
	switch (r) {
	case AUTH_SPF_PASS:
		return AUTHRES_VERDICT_PASS;
	case AUTH_SPF_FAIL:
	case AUTH_SPF_SOFTFAIL: /* "probably not authorised": still a no */
		return AUTHRES_VERDICT_FAIL;
	case AUTH_SPF_NEUTRAL:  /* RFC 7208 §8.2: treated exactly like none */
	case AUTH_SPF_NONE:
		return AUTHRES_VERDICT_GRAY;
	case AUTH_SPF_TEMPERROR:
	case AUTH_SPF_PERMERROR:
		return AUTHRES_VERDICT_PROCESSING_FAILED;
	}
	return AUTHRES_VERDICT_PROCESSING_FAILED;
}

enum authres_verdict authres_dkim_verdict(const enum auth_dkim *results, size_t n)
{
	bool fail = false, error = false;
	for (size_t i = 0; i < n; i++) {
		switch (results[i]) {
		case AUTH_DKIM_PASS:
			return AUTHRES_VERDICT_PASS;
		case AUTH_DKIM_FAIL:
		case AUTH_DKIM_POLICY:
			fail = true;
			break;
		case AUTH_DKIM_NEUTRAL:
		case AUTH_DKIM_TEMPERROR:
		case AUTH_DKIM_PERMERROR:
			error = true;
			break;
		case AUTH_DKIM_NONE:
			break;
		}
	}
	if (fail)
		return AUTHRES_VERDICT_FAIL;
	return error ? AUTHRES_VERDICT_PROCESSING_FAILED : AUTHRES_VERDICT_GRAY;
}

enum authres_verdict authres_dmarc_verdict(enum auth_dmarc r)
{
	switch (r) {
	case AUTH_DMARC_PASS:
		return AUTHRES_VERDICT_PASS;
	case AUTH_DMARC_FAIL:
		return AUTHRES_VERDICT_FAIL;
	case AUTH_DMARC_NONE:
		return AUTHRES_VERDICT_GRAY;
	case AUTH_DMARC_TEMPERROR:
	case AUTH_DMARC_PERMERROR:
		return AUTHRES_VERDICT_PROCESSING_FAILED;
	}
	return AUTHRES_VERDICT_PROCESSING_FAILED;
}

const char *authres_verdict_name(enum authres_verdict v)
{
	switch (v) {
	case AUTHRES_VERDICT_GRAY: return "GRAY";
	case AUTHRES_VERDICT_PASS: return "PASS";
	case AUTHRES_VERDICT_FAIL: return "FAIL";
	case AUTHRES_VERDICT_PROCESSING_FAILED: return "PROCESSING_FAILED";
	}
	return "PROCESSING_FAILED";
}

const char *authres_policy_word(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_QUARANTINE: return "QUARANTINE";
	case DMARC_POLICY_REJECT: return "REJECT";
	case DMARC_POLICY_NONE:
	case DMARC_POLICY_UNSPECIFIED:
		return "NONE";
	}
	return "NONE";
}

/* ---- incoming authserv-id ----------------------------------------------- */

/* Skips RFC 5322 CFWS: whitespace, CR/LF of folding, nested comments with
 * quoted-pairs. Returns NULL on an unterminated comment. */
static const char *skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		unsigned depth = 0;
		do {
			if (*p == '\0')
				return NULL;
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (depth > 0);
	}
}

bool authres_parse_authserv_id(const char *value, struct strbuf *out)
{
	const char *p = skip_cfws(value);
	if (p == NULL)
		return false;
	size_t start = out->len;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				return false;
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (*p == '\r' || *p == '\n')
				continue; /* folding inside the quoted-string */
			strbuf_putc(out, *p);
		}
	} else {
		/* RFC 8601 §2.2: value = token; stop at CFWS or ";". */
		for (; is_token_char((unsigned char)*p); p++)
			strbuf_putc(out, *p);
	}
	return out->len > start && !strbuf_failed(out);
}

bool authres_is_ours(const char *value, const char *authserv_id)
{
	char stack[256];
	struct strbuf id;
	strbuf_init(&id, stack, sizeof stack, 1024);
	bool ours = authres_parse_authserv_id(value, &id) &&
		    strcasecmp(strbuf_str(&id), authserv_id) == 0;
	strbuf_free(&id);
	return ours;
}
