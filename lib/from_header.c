/* from_header: author domains from RFC 5322 From field values (RFC 5322 §3.4, §4.4; RFC 6854). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "from_header.h"
#include "strbuf.h"

/* How much input a reason quotes. */
#define FROM_QUOTE_MAX 32

/* ---- Lexer: RFC 5322 §3.2 tokens, with CFWS skipped ---------------------- */

enum tok_kind {
	TOK_END,     /* end of the field value */
	TOK_ATOM,    /* 1*atext (RFC 6532: UTF-8 bytes count as atext) */
	TOK_QSTRING, /* "..." with quoted-pairs, quotes included */
	TOK_LITERAL, /* [...] domain literal, brackets included */
	TOK_SPECIAL, /* one of < > @ , : ; . */
	TOK_OTHER,   /* any other single byte: ) ] \ or a control byte */
};

struct token {
	enum tok_kind kind;
	const char *s;    /* first byte of the token */
	size_t len;       /* its length */
	const char *next; /* where lexing continues after it */
};

struct lexer {
	const char *base;   /* start of the field value */
	const char *p;      /* current position */
	const char *end;    /* one past the last byte */
	const char *err;    /* first lexical error (unterminated ...), or NULL */
	size_t err_off;     /* its offset from base */
};

static void lex_error(struct lexer *lx, const char *what, const char *at)
{
	if (lx->err == NULL) {
		lx->err = what;
		lx->err_off = (size_t)(at - lx->base);
	}
}

/* RFC 5322 §3.2.3 atext, plus every byte >= 0x80 (RFC 6532 §3.2 UTF8-non-ascii;
 * its well-formedness is checked once for the whole value in prescan()). */
static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	if (c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Returns the position after the closing delimiter of a construct opened at s
 * (a quoted string, a domain literal, or a comment that may nest), honouring
 * quoted-pairs (RFC 5322 §3.2.1). Reports an unterminated one and returns end. */
static const char *skip_delimited(struct lexer *lx, const char *s, char open, char close,
				  const char *what)
{
	const char *start = s;
	size_t depth = 0;

	for (; s < lx->end; s++) {
		if (*s == '\\') {
			if (s + 1 < lx->end)
				s++;
			continue;
		}
		if (*s == open && (open == '(' || s == start)) {
			/* Only comments nest (RFC 5322 §3.2.2 ccontent). */
			depth++;
		} else if (*s == close) {
			if (--depth == 0)
				return s + 1;
		}
	}
	lex_error(lx, what, start);
	return lx->end;
}

/* Skips CFWS (RFC 5322 §3.2.2): blanks, line breaks (their placement was
 * checked by prescan()) and comments, which nest. */
static const char *skip_cfws(struct lexer *lx, const char *s)
{
	while (s < lx->end) {
		char c = *s;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			s++;
		else if (c == '(')
			s = skip_delimited(lx, s, '(', ')', "unterminated comment");
		else
			break;
	}
	return s;
}

/* Reads the next token without consuming it. */
static void lex_peek(struct lexer *lx, struct token *t)
{
	const char *s = skip_cfws(lx, lx->p);
	const char *e = s;

	t->s = s;
	if (s == lx->end) {
		t->kind = TOK_END;
	} else if (*s == '"') {
		t->kind = TOK_QSTRING;
		e = skip_delimited(lx, s, '"', '"', "unterminated quoted string");
	} else if (*s == '[') {
		t->kind = TOK_LITERAL;
		e = skip_delimited(lx, s, '[', ']', "unterminated domain literal");
	} else if (is_atext((unsigned char)*s)) {
		t->kind = TOK_ATOM;
		while (e < lx->end && is_atext((unsigned char)*e))
			e++;
	} else {
		switch (*s) {
		case '<': case '>': case '@': case ',': case ':': case ';': case '.':
			t->kind = TOK_SPECIAL;
			break;
		default:
			t->kind = TOK_OTHER;
			break;
		}
		e = s + 1;
	}
	t->len = (size_t)(e - s);
	t->next = e;
}

static void lex_advance(struct lexer *lx, const struct token *t)
{
	lx->p = t->next;
}

static bool is_special(const struct token *t, char c)
{
	return t->kind == TOK_SPECIAL && t->s[0] == c;
}

static bool is_word(const struct token *t)
{
	return t->kind == TOK_ATOM || t->kind == TOK_QSTRING;
}

/* What may follow a complete address: ',' or the end, and ';' inside a group. */
static bool is_separator(const struct token *t, bool in_group)
{
	return t->kind == TOK_END || is_special(t, ',') || (in_group && is_special(t, ';'));
}

/* ---- One mailbox ---------------------------------------------------------- */

enum mbox_kind {
	MB_DOMAIN,    /* an addr-spec with a dot-atom domain (still to normalise) */
	MB_NO_DOMAIN, /* well formed, but no domain we can use */
	MB_BAD,       /* does not parse; we do not guess */
};

struct mbox {
	enum mbox_kind kind;
	const char *why;     /* MB_NO_DOMAIN / MB_BAD: what is wrong */
	const char *at;      /* the input to quote after why (may be NULL) */
	size_t at_len;
	bool at_end;         /* why ends in "at" and the problem is the field's end */
	bool in_angle;       /* stopped inside <...> */
	struct strbuf dom;   /* MB_DOMAIN: the domain, atoms joined by dots */
	char dom_stack[DOMAIN_MAX_INPUT_LEN + 1];
};

static void mbox_init(struct mbox *mb)
{
	mb->kind = MB_DOMAIN;
	mb->why = NULL;
	mb->at = NULL;
	mb->at_len = 0;
	mb->at_end = false;
	mb->in_angle = false;
	strbuf_init(&mb->dom, mb->dom_stack, sizeof mb->dom_stack, DOMAIN_MAX_INPUT_LEN);
}

static void mbox_set(struct mbox *mb, enum mbox_kind kind, const char *why,
		     const struct token *t)
{
	mb->kind = kind;
	mb->why = why;
	mb->at = NULL;
	mb->at_len = 0;
	mb->at_end = t != NULL && t->kind == TOK_END;
	if (t != NULL && t->kind != TOK_END) {
		mb->at = t->s;
		mb->at_len = t->len;
	}
}

/* domain = dot-atom / domain-literal / obs-domain (RFC 5322 §3.4.1, §4.4):
 * atoms separated by dots, CFWS allowed around the dots. A trailing dot is
 * tolerated (domain_normalize drops it); empty labels are left for
 * domain_normalize to refuse. */
static void parse_domain(struct lexer *lx, struct mbox *mb)
{
	struct token t;
	bool prev_atom = false, any = false;

	lex_peek(lx, &t);
	if (t.kind == TOK_LITERAL) {
		lex_advance(lx, &t);
		mbox_set(mb, MB_NO_DOMAIN, "domain literal is not a domain name", &t);
		return;
	}
	for (;;) {
		lex_peek(lx, &t);
		if (t.kind == TOK_ATOM && !prev_atom) {
			strbuf_add(&mb->dom, t.s, t.len);
			prev_atom = true;
		} else if (is_special(&t, '.')) {
			strbuf_putc(&mb->dom, '.');
			prev_atom = false;
		} else {
			break;
		}
		any = true;
		lex_advance(lx, &t);
	}
	if (!any)
		mbox_set(mb, MB_BAD, "no domain after '@' at", &t);
	else if (strbuf_failed(&mb->dom))
		mbox_set(mb, MB_NO_DOMAIN, "domain longer than 1024 octets", NULL);
}

/* addr-spec = local-part "@" domain (RFC 5322 §3.4.1). The local part is
 * words and dots (obs-local-part, §4.4); dots may lead, trail or repeat, since
 * the local part does not matter to DMARC, but two words in a row ("john
 * doe@x") make the mailbox ambiguous and it is refused. Without "@" the
 * mailbox is a bare local part: well formed for us, but domain-less. */
static void parse_addr_spec(struct lexer *lx, struct mbox *mb)
{
	struct token t;
	bool prev_word = false;
	size_t nwords = 0;

	for (;;) {
		lex_peek(lx, &t);
		if (is_word(&t)) {
			if (prev_word) {
				mbox_set(mb, MB_BAD, "two words without a dot in the local part at", &t);
				return;
			}
			prev_word = true;
			nwords++;
		} else if (is_special(&t, '.')) {
			prev_word = false;
		} else {
			break;
		}
		lex_advance(lx, &t);
	}
	if (!is_special(&t, '@')) {
		if (nwords > 0)
			mbox_set(mb, MB_NO_DOMAIN, "no '@' and no domain in the address", NULL);
		else
			mbox_set(mb, MB_BAD, "expected an address at", &t);
		return;
	}
	if (nwords == 0) {
		mbox_set(mb, MB_BAD, "empty local part before", &t);
		return;
	}
	lex_advance(lx, &t);
	parse_domain(lx, mb);
}

/* obs-route = obs-domain-list ":" (RFC 5322 §4.4), e.g. "@a.example,@b.example:".
 * The route is ignored (RFC 5322: it must not be used for delivery). */
static bool skip_obs_route(struct lexer *lx, struct mbox *mb)
{
	struct token t;

	for (;;) {
		lex_peek(lx, &t);
		if (is_special(&t, ',')) {
			lex_advance(lx, &t);
		} else if (is_special(&t, '@')) {
			lex_advance(lx, &t);
			lex_peek(lx, &t);
			if (t.kind == TOK_LITERAL) {
				lex_advance(lx, &t);
				continue;
			}
			/* The route's domain: atoms and dots, never two atoms in a row. */
			bool prev_atom = false;
			while (lex_peek(lx, &t), (t.kind == TOK_ATOM && !prev_atom) ||
						 is_special(&t, '.')) {
				prev_atom = t.kind == TOK_ATOM;
				lex_advance(lx, &t);
			}
		} else {
			break;
		}
	}
	if (!is_special(&t, ':')) {
		mbox_set(mb, MB_BAD, "source route (obs-route) not ended by ':' at", &t);
		return false;
	}
	lex_advance(lx, &t);
	return true;
}

/* angle-addr = "<" [obs-route] addr-spec ">" (RFC 5322 §3.4, §4.4); the "<"
 * has been consumed. "<>" (the null sender) and "<joe>" give no domain. */
static void parse_angle(struct lexer *lx, struct mbox *mb)
{
	struct token t;

	mb->in_angle = true;
	lex_peek(lx, &t);
	if (is_special(&t, '>')) {
		lex_advance(lx, &t);
		mb->in_angle = false;
		mbox_set(mb, MB_NO_DOMAIN, "empty address <>", NULL);
		return;
	}
	if ((is_special(&t, '@') || is_special(&t, ',')) && !skip_obs_route(lx, mb))
		return;
	parse_addr_spec(lx, mb);
	if (mb->kind == MB_BAD)
		return;
	lex_peek(lx, &t);
	if (!is_special(&t, '>')) {
		mbox_set(mb, MB_BAD, "expected '>' at", &t);
		return;
	}
	lex_advance(lx, &t);
	mb->in_angle = false;
}

/* After a mailbox that does not parse: skips to the next ',' (or ';' in a
 * group) outside angle brackets, so one bad mailbox does not hide the next. */
static void skip_element(struct lexer *lx, bool in_group, bool in_angle)
{
	struct token t;
	size_t depth = in_angle ? 1 : 0;

	for (;;) {
		lex_peek(lx, &t);
		if (t.kind == TOK_END)
			return;
		if (depth == 0 && is_separator(&t, in_group))
			return;
		if (is_special(&t, '<'))
			depth++;
		else if (is_special(&t, '>') && depth > 0)
			depth--;
		lex_advance(lx, &t);
	}
}

/* ---- The parse of all fields ---------------------------------------------- */

struct parser {
	struct from_result *res;
	size_t field;          /* 1-based index of the field being parsed */
	size_t field_mailboxes;/* mailboxes seen in this field */
	bool stop;             /* a limit or out-of-memory ended the parse */
	bool incomplete;       /* some author may be missing (see authors_complete) */
};

static int severity(enum from_status st)
{
	switch (st) {
	case FROM_OK: return 0;
	case FROM_MULTIPLE_FIELDS: return 1;
	case FROM_NO_DOMAIN: return 2;
	case FROM_SYNTAX: return 3;
	case FROM_NONE: return 4;
	case FROM_NOMEM: return 5;
	}
	return 5;
}

/* Appends s to sb, cut with "..." if it does not fit: a reason is a log
 * line, and a shortened one is better than none. */
static void reason_add(struct strbuf *sb, const char *s)
{
	size_t room = sb->max - sb->len, n = strlen(s);

	if (n <= room) {
		strbuf_add(sb, s, n);
	} else if (room >= 3) {
		strbuf_add(sb, s, room - 3);
		strbuf_puts(sb, "...");
	}
}

/* Appends "s" with non-printable bytes, quotes and backslashes as \xHH. */
static void reason_quote(struct strbuf *sb, const char *s, size_t len)
{
	char stack[FROM_QUOTE_MAX * 4 + 8];
	struct strbuf q;
	size_t n = len < FROM_QUOTE_MAX ? len : FROM_QUOTE_MAX;

	strbuf_init(&q, stack, sizeof stack, sizeof stack - 1);
	strbuf_putc(&q, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			strbuf_putc(&q, (char)c);
		else
			strbuf_printf(&q, "\\x%02x", c);
	}
	strbuf_puts(&q, n < len ? "...\"" : "\"");
	reason_add(sb, strbuf_str(&q));
	strbuf_free(&q);
}

/* Records a condition of status st. The reason of the most serious condition
 * (the first one of that severity) is kept. mailbox is 0 for a field-level
 * condition; quote/quote_len (may be NULL) is input shown after the text. */
static void problem(struct parser *p, enum from_status st, size_t mailbox,
		    const char *text, const char *quote, size_t quote_len)
{
	struct from_result *res = p->res;
	struct strbuf sb;
	char num[64];
	struct strbuf nb;

	if (severity(st) <= severity(res->status))
		return;
	res->status = st;
	strbuf_init(&sb, res->reason, sizeof res->reason, sizeof res->reason - 1);
	strbuf_init(&nb, num, sizeof num, sizeof num - 1);
	if (res->nfields > 1 && p->field > 0)
		strbuf_printf(&nb, "From field %zu%s", p->field, mailbox ? ", " : ": ");
	if (mailbox > 0)
		strbuf_printf(&nb, "mailbox %zu: ", mailbox);
	reason_add(&sb, strbuf_str(&nb));
	reason_add(&sb, text);
	if (quote != NULL) {
		reason_add(&sb, " ");
		reason_quote(&sb, quote, quote_len);
	}
	strbuf_free(&nb);
	strbuf_free(&sb);
}

/* Counts a mailbox; false (and the parse stops) once FROM_MAX_ADDRESSES
 * have been seen: we keep and evaluate the first ones, and say so. */
static bool begin_mailbox(struct parser *p)
{
	if (p->res->naddrs >= FROM_MAX_ADDRESSES) {
		problem(p, FROM_SYNTAX, 0, "more than 64 mailboxes; only the first 64 were evaluated",
			NULL, 0);
		p->res->truncated = true;
		p->incomplete = true;
		p->stop = true;
		return false;
	}
	p->res->naddrs++;
	p->field_mailboxes++;
	return true;
}

static void no_domain(struct parser *p, const char *why, const char *at, size_t at_len)
{
	p->res->nno_domain++;
	p->incomplete = true;
	problem(p, FROM_NO_DOMAIN, p->field_mailboxes, why, at, at_len);
}

/* Adds a normalised domain unless it is already listed. */
static void add_domain(struct parser *p, const char *d)
{
	struct from_result *res = p->res;

	for (size_t i = 0; i < res->ndomains; i++)
		if (strcmp(res->domains[i], d) == 0)
			return;
	if (res->domains == NULL) {
		/* One block for the most we can ever need: ndomains <= naddrs <=
		 * FROM_MAX_ADDRESSES == FROM_MAX_DOMAINS. */
		res->domains = calloc(FROM_MAX_DOMAINS, sizeof *res->domains);
		if (res->domains == NULL) {
			problem(p, FROM_NOMEM, 0, "out of memory", NULL, 0);
			p->incomplete = true;
			p->stop = true;
			return;
		}
	}
	if (res->ndomains >= FROM_MAX_DOMAINS)
		return; /* cannot happen, see above */
	memcpy(res->domains[res->ndomains], d, strlen(d) + 1);
	res->ndomains++;
}

/* Turns a parsed mailbox into a domain or a recorded problem. */
static void record_mailbox(struct parser *p, struct mbox *mb)
{
	if (mb->kind != MB_DOMAIN && mb->at_end) {
		char stack[128];
		struct strbuf sb;
		strbuf_init(&sb, stack, sizeof stack, sizeof stack - 1);
		strbuf_printf(&sb, "%s the end of the field", mb->why);
		no_domain(p, strbuf_str(&sb), NULL, 0);
		strbuf_free(&sb);
		return;
	}
	if (mb->kind != MB_DOMAIN) {
		no_domain(p, mb->why, mb->at, mb->at_len);
		return;
	}
	char d[DOMAIN_BUF_SIZE];
	char rstack[FROM_REASON_SIZE];
	struct strbuf why;

	strbuf_init(&why, rstack, sizeof rstack, sizeof rstack - 1);
	/* '_' allowed: RFC 5322 dot-atom permits it, see domain.h. */
	enum domain_status st = domain_normalize(strbuf_str(&mb->dom), mb->dom.len,
						 DOMAIN_ALLOW_UNDERSCORE, d, &why);
	if (st == DOMAIN_ERR_NOMEM) {
		problem(p, FROM_NOMEM, 0, "out of memory", NULL, 0);
		p->incomplete = true;
		p->stop = true;
	} else if (st != DOMAIN_OK) {
		no_domain(p, strbuf_str(&why), NULL, 0);
	} else {
		add_domain(p, d);
	}
	strbuf_free(&why);
}

static void parse_address(struct parser *p, struct lexer *lx, bool in_group);

/* group = display-name ":" [group-list] ";" (RFC 5322 §3.4; in From since
 * RFC 6854). The ":" has been consumed. A missing ";" at the end of the
 * field is tolerated. Members are mailboxes (groups do not nest). */
static void parse_group(struct parser *p, struct lexer *lx)
{
	struct token t;

	for (;;) {
		lex_peek(lx, &t);
		if (is_special(&t, ';')) {
			lex_advance(lx, &t);
			return;
		}
		if (t.kind == TOK_END)
			return;
		if (is_special(&t, ',')) {
			lex_advance(lx, &t);
			continue;
		}
		parse_address(p, lx, true);
		if (p->stop)
			return;
	}
}

/* address = mailbox / group; mailbox = name-addr / addr-spec (RFC 5322 §3.4).
 * Looks over the leading words (display name or local part) to decide which,
 * then parses; always leaves the lexer at a separator or the end. */
static void parse_address(struct parser *p, struct lexer *lx, bool in_group)
{
	const char *start = lx->p;
	struct token t;
	size_t nwords = 0;
	struct mbox mb;

	for (;;) {
		lex_peek(lx, &t);
		if (is_word(&t))
			nwords++;
		else if (!is_special(&t, '.'))
			break;
		lex_advance(lx, &t);
	}
	if (is_special(&t, ':') && !in_group && nwords > 0) {
		lex_advance(lx, &t);
		parse_group(p, lx);
		if (p->stop)
			return;
		lex_peek(lx, &t);
		if (is_separator(&t, false))
			return;
		/* Text after the group's ";": something we cannot account for. */
		if (!begin_mailbox(p))
			return;
		no_domain(p, "unexpected text after a group at", t.s, t.len);
		skip_element(lx, false, false);
		return;
	}
	if (!begin_mailbox(p))
		return;
	mbox_init(&mb);
	if (is_special(&t, '<')) {
		lex_advance(lx, &t);
		parse_angle(lx, &mb);
	} else if (is_special(&t, '@')) {
		lx->p = start;
		parse_addr_spec(lx, &mb);
	} else if (nwords > 0 && is_separator(&t, in_group)) {
		mbox_set(&mb, MB_NO_DOMAIN, "no '@' and no domain in", NULL);
		mb.at = start;
		mb.at_len = (size_t)(t.s - start);
	} else {
		mbox_set(&mb, MB_BAD, "expected an address at", &t);
	}
	if (mb.kind != MB_BAD) {
		lex_peek(lx, &t);
		if (!is_separator(&t, in_group))
			mbox_set(&mb, MB_BAD, "unexpected text after the address at", &t);
	}
	if (mb.kind == MB_BAD)
		skip_element(lx, in_group, mb.in_angle);
	record_mailbox(p, &mb);
	strbuf_free(&mb.dom);
}

/* Length of a well-formed UTF-8 sequence starting at s[0] (RFC 3629 §4:
 * no overlongs, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Checks the bytes of a field value before parsing: NUL and control bytes,
 * CR/LF that are not folding (RFC 5322 §2.2.3: a line break inside a field
 * must be followed by WSP; one at the very end is tolerated), and UTF-8
 * (RFC 6532 §3.1). Reports the first problem; the parse goes on regardless. */
static void prescan(struct parser *p, const char *v, size_t len)
{
	const unsigned char *s = (const unsigned char *)v;
	const char *what = NULL;
	size_t i = 0;

	while (i < len && what == NULL) {
		unsigned char c = s[i];
		if (c == '\r' || c == '\n') {
			size_t j = i + 1;
			if (c == '\r' && j < len && s[j] == '\n')
				j++;
			if (c == '\r' && (j == i + 1) && j < len)
				what = "CR without LF at offset";
			else if (j < len && s[j] != ' ' && s[j] != '\t')
				what = "line break not followed by white space (not folding) at offset";
			else
				i = j;
		} else if (c == '\0') {
			what = "NUL byte at offset";
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			what = "control character at offset";
		} else if (c >= 0x80) {
			size_t n = utf8_seq_len(s + i, len - i);
			if (n == 0)
				what = "invalid UTF-8 at offset";
			else
				i += n;
		} else {
			i++;
		}
	}
	if (what == NULL)
		return;
	/* A NUL or a line break can hide text from other parsers (or end the
	 * field early for the MTA): some author may be missing. */
	if (s[i] == '\0' || s[i] == '\r' || s[i] == '\n')
		p->incomplete = true;

	char stack[128];
	struct strbuf sb;
	strbuf_init(&sb, stack, sizeof stack, sizeof stack - 1);
	strbuf_printf(&sb, "%s %zu", what, i);
	problem(p, FROM_SYNTAX, 0, strbuf_str(&sb), NULL, 0);
	strbuf_free(&sb);
}

/* address-list / mailbox-list with obs- empty elements (RFC 5322 §3.4, §4.4). */
static void parse_field(struct parser *p, const char *v, size_t len)
{
	struct lexer lx = { .base = v, .p = v, .end = v + len, .err = NULL, .err_off = 0 };
	struct token t;
	bool group_seen = false;

	p->field_mailboxes = 0;
	if (len > FROM_MAX_FIELD_LEN) {
		problem(p, FROM_SYNTAX, 0, "field longer than 16384 octets, not parsed", NULL, 0);
		p->res->truncated = true;
		p->incomplete = true;
		return;
	}
	prescan(p, v, len);
	for (;;) {
		lex_peek(&lx, &t);
		if (t.kind == TOK_END || p->stop)
			break;
		if (is_special(&t, ',')) {
			lex_advance(&lx, &t);
			continue;
		}
		const char *before = lx.p;
		size_t nbefore = p->field_mailboxes;
		parse_address(p, &lx, false);
		if (p->field_mailboxes == nbefore)
			group_seen = true;
		if (lx.p == before) /* defensive: always make progress */
			lex_advance(&lx, &t);
	}
	if (lx.err != NULL) {
		char stack[128];
		struct strbuf sb;
		strbuf_init(&sb, stack, sizeof stack, sizeof stack - 1);
		strbuf_printf(&sb, "%s at offset %zu", lx.err, lx.err_off);
		problem(p, FROM_SYNTAX, 0, strbuf_str(&sb), NULL, 0);
		strbuf_free(&sb);
		p->incomplete = true;
	}
	if (p->field_mailboxes == 0 && !p->stop) {
		p->incomplete = true;
		problem(p, FROM_NO_DOMAIN, 0,
			group_seen ? "only an empty group, no mailbox" : "no mailbox", NULL, 0);
	}
}

enum from_status from_header_parse(const char *const *values, const size_t *lens,
				   size_t nvalues, struct from_result *out)
{
	struct parser p = { .res = out, .field = 0, .field_mailboxes = 0,
			    .stop = false, .incomplete = false };
	size_t nparse = nvalues;

	memset(out, 0, sizeof *out);
	out->status = FROM_OK;
	out->nfields = nvalues;
	if (nvalues == 0 || values == NULL || lens == NULL) {
		out->nfields = 0;
		problem(&p, FROM_NONE, 0, "no From field (RFC 5322 §3.6 requires one)", NULL, 0);
		return out->status;
	}
	if (nvalues > 1) {
		out->multiple_fields = true;
		problem(&p, FROM_MULTIPLE_FIELDS, 0,
			"several From fields (RFC 5322 §3.6 allows exactly one)", NULL, 0);
	}
	if (nvalues > FROM_MAX_FIELDS) {
		nparse = FROM_MAX_FIELDS;
		out->truncated = true;
		p.incomplete = true;
		problem(&p, FROM_SYNTAX, 0, "more than 16 From fields; only the first 16 were parsed",
			NULL, 0);
	}
	for (size_t i = 0; i < nparse && !p.stop; i++) {
		p.field = i + 1;
		parse_field(&p, values[i] != NULL ? values[i] : "", values[i] != NULL ? lens[i] : 0);
	}
	out->multiple_domains = out->ndomains > 1;
	out->authors_complete = !p.incomplete && out->nno_domain == 0;
	return out->status;
}

enum from_status from_header_parse_str(const char *value, struct from_result *out)
{
	size_t len = value != NULL ? strlen(value) : 0;

	if (value == NULL)
		return from_header_parse(NULL, NULL, 0, out);
	return from_header_parse(&value, &len, 1, out);
}

void from_result_free(struct from_result *res)
{
	if (res == NULL)
		return;
	free(res->domains);
	memset(res, 0, sizeof *res);
}

const char *from_status_str(enum from_status st)
{
	switch (st) {
	case FROM_OK: return "ok";
	case FROM_NONE: return "no From field";
	case FROM_MULTIPLE_FIELDS: return "multiple From fields";
	case FROM_NO_DOMAIN: return "no usable domain";
	case FROM_SYNTAX: return "syntax error";
	case FROM_NOMEM: return "out of memory";
	}
	return "unknown";
}
