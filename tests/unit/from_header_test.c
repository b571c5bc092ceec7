/* from_header_test: author domains, statuses and limits of the RFC 5322 From parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "from_header.h"
#include "strbuf.h"
#include "testlib.h"

#define MAXV 4
#define ANY -1

struct from_case {
	const char *label;
	const char *values[MAXV]; /* the From field values; NULL ends the list */
	enum from_status want;
	const char *want_domains; /* joined by "," */
	int want_naddrs;          /* ANY: not checked */
	int want_complete;        /* authors_complete: 1, 0 or ANY */
	const char *want_reason;  /* substring of the reason, or NULL */
};

static const struct from_case cases[] = {
	/* Plain forms. */
	{"bare addr-spec", {"user@example.com"}, FROM_OK, "example.com", 1, 1, NULL},
	{"leading space as after the colon", {" user@example.com"}, FROM_OK, "example.com", 1, 1, NULL},
	{"name-addr", {"Joe Public <joe@example.com>"}, FROM_OK, "example.com", 1, 1, NULL},
	{"angle-addr without display name", {"<joe@example.com>"}, FROM_OK, "example.com", 1, 1, NULL},
	{"quoted display name with specials",
	 {"\"Public, Joe <boss@evil.example>\" <joe@example.com>"}, FROM_OK, "example.com", 1, 1, NULL},
	{"quoted display name with escapes",
	 {"\"Joe \\\"The Boss\\\" \\\\ P\" <joe@example.com>"}, FROM_OK, "example.com", 1, 1, NULL},
	{"obs-phrase with dots", {"Joe Q. Public <joe@example.com>"}, FROM_OK, "example.com", 1, 1, NULL},
	{"encoded word display name",
	 {"=?UTF-8?B?SsO2cmc=?= <joerg@example.de>"}, FROM_OK, "example.de", 1, 1, NULL},
	{"upper case and trailing dot", {"Joe <Joe@Mail.EXAMPLE.COM.>"}, FROM_OK, "mail.example.com", 1, 1, NULL},
	{"underscore in domain kept", {"a@mail_1.example.com"}, FROM_OK, "mail_1.example.com", 1, 1, NULL},

	/* Comments and folding. */
	{"comments everywhere",
	 {"(c1) Joe (c2) <(c3) joe (c4) @ (c5) example (c6) . (c7) com (c8)> (c9)"},
	 FROM_OK, "example.com", 1, 1, NULL},
	{"nested comment with an address in it",
	 {"(outer (inner x@evil.example) \\) more) joe@example.com"}, FROM_OK, "example.com", 1, 1, NULL},
	{"comment after addr-spec", {"joe@example.com (Joe Public)"}, FROM_OK, "example.com", 1, 1, NULL},
	{"CRLF folding", {"Joe Public\r\n <joe@example.com>"}, FROM_OK, "example.com", 1, 1, NULL},
	{"LF folding and tab", {"Joe Public\n\t<joe@example.com>,\n a@b.example"},
	 FROM_OK, "example.com,b.example", 2, 1, NULL},
	{"trailing CRLF tolerated", {"joe@example.com\r\n"}, FROM_OK, "example.com", 1, 1, NULL},

	/* Obsolete syntax, RFC 5322 §4.4. */
	{"obs-route", {"<@relay1.example,@relay2.example:joe@example.com>"},
	 FROM_OK, "example.com", 1, 1, NULL},
	{"obs-route with display name and spaces",
	 {"Joe < @relay.example : joe@example.com >"}, FROM_OK, "example.com", 1, 1, NULL},
	{"CFWS around dots in local part and domain", {"joe . q @ example . com"},
	 FROM_OK, "example.com", 1, 1, NULL},
	{"obs-local-part with quoted words", {"\"joe\".\"q\"@example.com"}, FROM_OK, "example.com", 1, 1, NULL},
	{"quoted local part with @ and spaces", {"\"joe@evil.example x\"@example.com"},
	 FROM_OK, "example.com", 1, 1, NULL},
	{"empty list elements", {", a@example.com,, ,b@example.org,"},
	 FROM_OK, "example.com,example.org", 2, 1, NULL},
	{"doubled dot in local part tolerated", {"a..b@docomo.example.jp"}, FROM_OK, "docomo.example.jp", 1, 1, NULL},

	/* Several addresses and domains. */
	{"two mailboxes, two domains", {"a@example.com, Bob <b@example.org>"},
	 FROM_OK, "example.com,example.org", 2, 1, NULL},
	{"two mailboxes, one domain (dedup)", {"a@Example.com, b@example.COM."},
	 FROM_OK, "example.com", 2, 1, NULL},
	{"group with members", {"Team: a@x.example, Bob <b@y.example>;"},
	 FROM_OK, "x.example,y.example", 2, 1, NULL},
	{"group not closed at the end", {"Team: a@x.example"}, FROM_OK, "x.example", 1, 1, NULL},
	{"group and mailbox", {"Team: a@x.example;, c@z.example"},
	 FROM_OK, "x.example,z.example", 2, 1, NULL},

	/* IDN and UTF-8 (RFC 6532). */
	{"U-label domain to A-label", {"j\xc3\xb6rg@b\xc3\xbc" "cher.example"},
	 FROM_OK, "xn--bcher-kva.example", 1, 1, NULL},
	{"UTF-8 display name", {"J\xc3\xb6rg M\xc3\xbcller <j@example.de>"}, FROM_OK, "example.de", 1, 1, NULL},
	{"UTF-8 quoted display name", {"\"\xe5\xb1\xb1\xe7\x94\xb0\" <y@example.jp>"}, FROM_OK, "example.jp", 1, 1, NULL},
	{"A-label input kept", {"x@XN--BCHER-KVA.example"}, FROM_OK, "xn--bcher-kva.example", 1, 1, NULL},

	/* Several From fields. */
	{"no field", {NULL}, FROM_NONE, "", 0, 0, "no From field"},
	{"two fields", {"a@example.com", "b@example.org"}, FROM_MULTIPLE_FIELDS,
	 "example.com,example.org", 2, 1, "several From fields"},
	{"two identical fields", {"a@example.com", "a@example.com"}, FROM_MULTIPLE_FIELDS,
	 "example.com", 2, 1, NULL},
	{"second field without domain", {"a@example.com", "undisclosed-recipients:;"},
	 FROM_NO_DOMAIN, "example.com", 1, 0, "From field 2: only an empty group"},

	/* No usable domain. */
	{"empty group", {"undisclosed-recipients:;"}, FROM_NO_DOMAIN, "", 0, 0, "empty group"},
	{"bare word", {"joe"}, FROM_NO_DOMAIN, "", 1, 0, "no '@'"},
	{"angle without domain", {"Joe <joe>"}, FROM_NO_DOMAIN, "", 1, 0, "no '@'"},
	{"null address", {"<>"}, FROM_NO_DOMAIN, "", 1, 0, "empty address"},
	{"empty value", {""}, FROM_NO_DOMAIN, "", 0, 0, "no mailbox"},
	{"blank value", {"  (just a comment) "}, FROM_NO_DOMAIN, "", 0, 0, "no mailbox"},
	{"IPv4 domain literal", {"joe@[192.0.2.1]"}, FROM_NO_DOMAIN, "", 1, 0, "domain literal"},
	{"IPv6 domain literal", {"Joe <joe@[IPv6:2001:db8::1]>"}, FROM_NO_DOMAIN, "", 1, 0, "domain literal"},
	{"invalid domain name", {"joe@exa!mple.com"}, FROM_NO_DOMAIN, "", 1, 0, "outside letters"},
	{"label with trailing hyphen", {"joe@bad-.example"}, FROM_NO_DOMAIN, "", 1, 0, "hyphen"},
	{"empty label", {"joe@example..com"}, FROM_NO_DOMAIN, "", 1, 0, "empty label"},
	{"nothing after @", {"joe@"}, FROM_NO_DOMAIN, "", 1, 0, "no domain after '@'"},
	{"empty local part", {"@example.com"}, FROM_NO_DOMAIN, "", 1, 0, "empty local part"},
	{"missing comma: ambiguous", {"a@x.example b@y.example"}, FROM_NO_DOMAIN, "", 1, 0,
	 "unexpected text after the address at \"b\""},
	{"addr-spec then angle: ambiguous", {"a@evil.example <ceo@bank.example>"},
	 FROM_NO_DOMAIN, "", 1, 0, "unexpected text"},
	{"two angle-addrs: ambiguous", {"Bank <ceo@bank.example> <a@evil.example>"},
	 FROM_NO_DOMAIN, "", 1, 0, NULL},
	{"two words before @: ambiguous", {"John Doe@example.com"}, FROM_NO_DOMAIN, "", 1, 0, "two words"},
	{"missing '>'", {"Joe <joe@example.com"}, FROM_NO_DOMAIN, "", 1, 0, "expected '>'"},
	{"unquoted comma in display name", {"Doe, John <john@example.com>"},
	 FROM_NO_DOMAIN, "example.com", 2, 0, "mailbox 1: no '@'"},
	{"bad mailbox does not hide the next", {"<<>>, a@example.com"}, FROM_NO_DOMAIN,
	 "example.com", 2, 0, NULL},
	{"nested group refused", {"A: B: b@x.example;;"}, FROM_NO_DOMAIN, "", ANY, 0, NULL},
	{"obs-route without colon", {"<@relay.example joe@example.com>"}, FROM_NO_DOMAIN, "", 1, 0, "obs-route"},
	{"garbage", {")(*&^%$ ]["}, FROM_SYNTAX, "", ANY, 0, NULL},
	{"stray specials", {"@@@ ;;; >>>"}, FROM_NO_DOMAIN, "", 1, 0, NULL},
	{"text after a group", {"G: a@x.example; junk"}, FROM_NO_DOMAIN, "x.example", 2, 0, "after a group"},

	/* Malformed values. */
	{"unterminated quoted string", {"\"Joe <joe@example.com>"}, FROM_SYNTAX, "", ANY, 0,
	 "unterminated quoted string"},
	{"unterminated comment hides the rest", {"joe@example.com (c, b@evil.example"}, FROM_SYNTAX,
	 "example.com", 1, 0, "unterminated comment"},
	{"unterminated domain literal", {"joe@[192.0.2.1"}, FROM_SYNTAX, "", 1, 0,
	 "unterminated domain literal"},
	{"bare LF (not folding)", {"a@example.com\nBcc: b@evil.example"}, FROM_SYNTAX, "", ANY, 0,
	 "not folding"},
	{"bare CR", {"a@example.com\rx"}, FROM_SYNTAX, "", ANY, 0, "CR without LF"},
	{"invalid UTF-8 in display name", {"J\xf6rg <j@example.de>"}, FROM_SYNTAX, "example.de", 1, 1,
	 "invalid UTF-8 at offset 1"},
	{"overlong UTF-8", {"\xc0\xaf <j@example.de>"}, FROM_SYNTAX, "example.de", 1, 1, "invalid UTF-8"},
	{"invalid UTF-8 in domain", {"j@b\xfc" "cher.example"}, FROM_SYNTAX, "", 1, 0, "invalid UTF-8"},
	{"control character in a quoted string (obs-qtext)", {"\"Joe\x01\" <joe@example.com>"},
	 FROM_SYNTAX, "example.com", 1, 1, "control character at offset 4"},
	{"control character in an atom: no parse", {"Joe\x01 <joe@example.com>"}, FROM_SYNTAX, "", 1, 0,
	 "control"},
	{"syntax error outranks multiple fields", {"a@example.com", "\"b@example.org"},
	 FROM_SYNTAX, "example.com", ANY, 0, "From field 2: unterminated"},
};

/* Joins the result's domains with ",". */
static void join_domains(const struct from_result *r, struct strbuf *sb)
{
	for (size_t i = 0; i < r->ndomains; i++)
		strbuf_printf(sb, "%s%s", i ? "," : "", r->domains[i]);
}

static void run_case(const struct from_case *c)
{
	size_t n = 0, lens[MAXV];
	struct from_result r;
	char stack[512];
	struct strbuf got;

	while (n < MAXV && c->values[n] != NULL) {
		lens[n] = strlen(c->values[n]);
		n++;
	}
	from_header_parse(c->values, lens, n, &r);
	strbuf_init(&got, stack, sizeof stack, 4096);
	join_domains(&r, &got);
	bool ok = r.status == c->want && strcmp(strbuf_str(&got), c->want_domains) == 0;
	if (c->want_naddrs != ANY)
		ok = ok && r.naddrs == (size_t)c->want_naddrs;
	if (c->want_complete != ANY)
		ok = ok && r.authors_complete == (c->want_complete == 1);
	if (c->want_reason != NULL)
		ok = ok && strstr(r.reason, c->want_reason) != NULL;
	ok = ok && (r.status == FROM_OK) == (r.reason[0] == '\0');
	ok = ok && r.multiple_domains == (r.ndomains > 1);
	t_check(ok, c->label,
		"got %s [%s] naddrs=%zu complete=%d reason \"%s\"; want %s [%s] naddrs=%d complete=%d reason ~\"%s\"",
		from_status_str(r.status), strbuf_str(&got), r.naddrs, r.authors_complete, r.reason,
		from_status_str(c->want), c->want_domains, c->want_naddrs, c->want_complete,
		c->want_reason ? c->want_reason : "");
	strbuf_free(&got);
	from_result_free(&r);
}

/* Limits: mailboxes, fields, field length; NUL bytes. */
static void test_limits(void)
{
	struct strbuf sb;
	struct from_result r;
	char *v;

	/* 65 mailboxes, each in its own domain: the first 64 are kept. */
	strbuf_init(&sb, NULL, 0, 100000);
	for (int i = 0; i < FROM_MAX_ADDRESSES + 1; i++)
		strbuf_printf(&sb, "%su%d@d%d.example", i ? ", " : "", i, i);
	v = strbuf_finish(&sb);
	from_header_parse_str(v, &r);
	t_check(r.status == FROM_SYNTAX && r.truncated && !r.authors_complete &&
		r.naddrs == FROM_MAX_ADDRESSES && r.ndomains == FROM_MAX_DOMAINS &&
		strcmp(r.domains[63], "d63.example") == 0 && strstr(r.reason, "more than 64"),
		"65 mailboxes: first 64 kept, flagged", "got %s naddrs=%zu ndomains=%zu \"%s\"",
		from_status_str(r.status), r.naddrs, r.ndomains, r.reason);
	from_result_free(&r);
	free(v);

	/* Exactly 64 is fine. */
	strbuf_init(&sb, NULL, 0, 100000);
	for (int i = 0; i < FROM_MAX_ADDRESSES; i++)
		strbuf_printf(&sb, "%su%d@example.com", i ? "," : "", i);
	v = strbuf_finish(&sb);
	from_header_parse_str(v, &r);
	t_check(r.status == FROM_OK && r.naddrs == 64 && r.ndomains == 1 && !r.truncated,
		"64 mailboxes are within the limit", "got %s naddrs=%zu",
		from_status_str(r.status), r.naddrs);
	from_result_free(&r);
	free(v);

	/* A field over FROM_MAX_FIELD_LEN is skipped, the others are parsed. */
	size_t biglen = FROM_MAX_FIELD_LEN + 1;
	char *big = malloc(biglen);
	if (big == NULL)
		abort();
	memset(big, ' ', biglen);
	memcpy(big + biglen - 15, "a@evil.example", 14);
	const char *vals[2] = {"b@example.com", big};
	size_t lens[2] = {13, biglen};
	from_header_parse(vals, lens, 2, &r);
	t_check(r.status == FROM_SYNTAX && r.ndomains == 1 && r.truncated && !r.authors_complete &&
		strstr(r.reason, "longer than 16384"), "over-long field skipped and reported",
		"got %s ndomains=%zu \"%s\"", from_status_str(r.status), r.ndomains, r.reason);
	from_result_free(&r);
	free(big);

	/* 17 fields: the first 16 are parsed. */
	const char *many[FROM_MAX_FIELDS + 1];
	size_t mlens[FROM_MAX_FIELDS + 1];
	for (int i = 0; i < FROM_MAX_FIELDS + 1; i++) {
		many[i] = "a@example.com";
		mlens[i] = 13;
	}
	from_header_parse(many, mlens, FROM_MAX_FIELDS + 1, &r);
	t_check(r.status == FROM_SYNTAX && r.multiple_fields && r.truncated && r.naddrs == 16,
		"17 fields: first 16 parsed", "got %s naddrs=%zu \"%s\"",
		from_status_str(r.status), r.naddrs, r.reason);
	from_result_free(&r);

	/* NUL inside the value: the length is trusted, the NUL reported. */
	const char nul[] = "a@example.com\0, b@evil.example";
	const char *nv[1] = {nul};
	size_t nl[1] = {sizeof nul - 1};
	from_header_parse(nv, nl, 1, &r);
	t_check(r.status == FROM_SYNTAX && !r.authors_complete && strstr(r.reason, "NUL byte at offset 13"),
		"NUL byte reported", "got %s \"%s\"", from_status_str(r.status), r.reason);
	from_result_free(&r);

	/* Reasons are printable even when the input is not. */
	from_header_parse_str("a@x.example \x1b[31m", &r);
	bool printable = true;
	for (const char *s = r.reason; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			printable = false;
	t_check(printable && r.reason[0] != '\0', "reason is printable", "got \"%s\"", r.reason);
	from_result_free(&r);

	/* A long domain: the reason is cut, not overflowed. */
	strbuf_init(&sb, NULL, 0, 100000);
	strbuf_puts(&sb, "a@");
	for (int i = 0; i < 300; i++)
		strbuf_puts(&sb, "\xc3\xbc");
	strbuf_puts(&sb, ".example");
	v = strbuf_finish(&sb);
	from_header_parse_str(v, &r);
	t_check(r.status == FROM_NO_DOMAIN && strlen(r.reason) < FROM_REASON_SIZE,
		"over-long U-label refused", "got %s \"%s\"", from_status_str(r.status), r.reason);
	from_result_free(&r);
	free(v);

	from_result_free(&r); /* freeing a freed result is a no-op */
	from_result_free(NULL);
	t_str("status name", from_status_str(FROM_NO_DOMAIN), "no usable domain");
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_limits();
	return t_done();
}
