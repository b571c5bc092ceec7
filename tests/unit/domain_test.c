/* domain_test: normalisation (IDN, case, trailing dot, LDH rules, limits) and comparisons. */
#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "strbuf.h"
#include "testlib.h"

struct norm_case {
	const char *label;
	const char *in;
	size_t len;       /* 0: strlen(in) */
	unsigned flags;
	enum domain_status want;
	const char *want_out; /* "" on error */
};

/* 63 and 64 octet labels, a 253 and a 254 octet name. */
#define L63 "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abc"
#define L64 L63 "d"
#define N253 L63 "." L63 "." L63 "." "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789a"
#define N254 N253 "b"

static const struct norm_case norm_cases[] = {
	{"plain name", "example.com", 0, 0, DOMAIN_OK, "example.com"},
	{"upper case folded", "Mail.EXAMPLE.Com", 0, 0, DOMAIN_OK, "mail.example.com"},
	{"trailing dot dropped", "example.com.", 0, 0, DOMAIN_OK, "example.com"},
	{"single label", "localhost", 0, 0, DOMAIN_OK, "localhost"},
	{"digits and inner hyphen", "a-1.x-y.example", 0, 0, DOMAIN_OK, "a-1.x-y.example"},
	{"double hyphen inside is LDH", "ab--cd.example", 0, 0, DOMAIN_OK, "ab--cd.example"},
	{"A-label kept, lower-cased", "XN--BCHER-KVA.de", 0, 0, DOMAIN_OK, "xn--bcher-kva.de"},
	{"U-label to A-label", "b\xc3\xbc" "cher.de", 0, 0, DOMAIN_OK, "xn--bcher-kva.de"},
	{"upper-case U-label mapped", "B\xc3\x9c" "CHER.DE", 0, 0, DOMAIN_OK, "xn--bcher-kva.de"},
	{"U-label with trailing dot", "b\xc3\xbc" "cher.de.", 0, 0, DOMAIN_OK, "xn--bcher-kva.de"},
	{"sharp s is non-transitional", "fa\xc3\x9f.de", 0, 0, DOMAIN_OK, "xn--fa-hia.de"},
	{"ideographic full stop separates labels",
	 "\xe4\xbe\x8b\xe3\x81\x88\xe3\x80\x82\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 0, 0,
	 DOMAIN_OK, "xn--r8jz45g.xn--zckzah"},
	{"emoji: transitional fallback", "a\xf0\x9f\x98\x80.de", 0, 0, DOMAIN_OK, "xn--a-jv3s.de"},
	{"underscore refused by default", "_dmarc.example.com", 0, 0, DOMAIN_ERR_BAD_CHAR, ""},
	{"underscore with DOMAIN_ALLOW_UNDERSCORE", "_DMARC.Example.com.", 0,
	 DOMAIN_ALLOW_UNDERSCORE, DOMAIN_OK, "_dmarc.example.com"},
	{"selector._domainkey", "sel-1._domainkey.example.org", 0, DOMAIN_ALLOW_UNDERSCORE,
	 DOMAIN_OK, "sel-1._domainkey.example.org"},
	{"underscore next to a U-label", "_dmarc.b\xc3\xbc" "cher.de", 0,
	 DOMAIN_ALLOW_UNDERSCORE, DOMAIN_OK, "_dmarc.xn--bcher-kva.de"},
	{"empty", "", 0, 0, DOMAIN_ERR_EMPTY, ""},
	{"root only", ".", 0, 0, DOMAIN_ERR_EMPTY, ""},
	{"empty label inside", "a..example", 0, 0, DOMAIN_ERR_EMPTY_LABEL, ""},
	{"leading dot", ".example.com", 0, 0, DOMAIN_ERR_EMPTY_LABEL, ""},
	{"two trailing dots", "example.com..", 0, 0, DOMAIN_ERR_EMPTY_LABEL, ""},
	{"63-octet label ok", L63 ".com", 0, 0, DOMAIN_OK, L63 ".com"},
	{"64-octet label", L64 ".com", 0, 0, DOMAIN_ERR_LABEL_TOO_LONG, ""},
	{"253-octet name ok", N253, 0, 0, DOMAIN_OK, N253},
	{"253-octet name plus trailing dot ok", N253 ".", 0, 0, DOMAIN_OK, N253},
	{"254-octet name", N254, 0, 0, DOMAIN_ERR_TOO_LONG, ""},
	{"leading hyphen", "-bad.example", 0, 0, DOMAIN_ERR_HYPHEN, ""},
	{"trailing hyphen", "bad-.example", 0, 0, DOMAIN_ERR_HYPHEN, ""},
	{"hyphen next to U-label refused by IDNA", "\xc3\xbc-.de", 0, 0, DOMAIN_ERR_IDN, ""},
	{"space", "exa mple.com", 0, 0, DOMAIN_ERR_BAD_CHAR, ""},
	{"at sign", "user@example.com", 0, 0, DOMAIN_ERR_BAD_CHAR, ""},
	{"IPv4 literal brackets", "[192.0.2.1]", 0, 0, DOMAIN_ERR_BAD_CHAR, ""},
	{"NUL inside", "exa\0mple.com", 12, 0, DOMAIN_ERR_BAD_CHAR, ""},
	{"invalid UTF-8", "a\xc3.example", 0, 0, DOMAIN_ERR_IDN, ""},
	{"bogus punycode next to a U-label", "xn--zz.\xc3\xbc", 0, 0, DOMAIN_ERR_IDN, ""},
	{"space after a U-label", "a b.\xc3\xbc", 0, 0, DOMAIN_ERR_BAD_CHAR, ""},
	{"U-label label too long after conversion",
	 "\xc3\xbc" L63 ".de", 0, 0, DOMAIN_ERR_IDN, ""},
	{"length counts only len bytes", "example.comXYZ", 11, 0, DOMAIN_OK, "example.com"},
};

static void test_normalize(void)
{
	for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
		const struct norm_case *c = &norm_cases[i];
		char out[DOMAIN_BUF_SIZE];
		char rstack[256];
		struct strbuf reason;
		size_t len = c->len ? c->len : strlen(c->in);

		memset(out, 'X', sizeof out);
		strbuf_init(&reason, rstack, sizeof rstack, 1024);
		enum domain_status st = domain_normalize(c->in, len, c->flags, out, &reason);
		t_check(st == c->want && strcmp(out, c->want_out) == 0, c->label,
			"got %s \"%s\" (%s), want %s \"%s\"", domain_status_str(st), out,
			strbuf_str(&reason), domain_status_str(c->want), c->want_out);
		if (c->want != DOMAIN_OK)
			t_check(reason.len > 0 && strstr(strbuf_str(&reason), "\"") != NULL,
				c->label, "reason \"%s\" should quote the input",
				strbuf_str(&reason));
		strbuf_free(&reason);
	}
}

static void test_reason_printable(void)
{
	char out[DOMAIN_BUF_SIZE];
	char rstack[256];
	struct strbuf reason;

	strbuf_init(&reason, rstack, sizeof rstack, 1024);
	domain_normalize("a\x01\"b", 4, 0, out, &reason);
	t_check(strstr(strbuf_str(&reason), "\"a\\x01\\x22b\"") != NULL,
		"reason shows control bytes and quotes as \\xHH", "got %s",
		strbuf_str(&reason));
	strbuf_free(&reason);
	t_int("NULL reason buffer is fine",
	      domain_normalize("-x", 2, 0, out, NULL), DOMAIN_ERR_HYPHEN);
	t_int("NULL input is empty", domain_normalize(NULL, 0, 0, out, NULL), DOMAIN_ERR_EMPTY);
}

struct pair_case {
	const char *label;
	const char *a, *b;
	bool want_equal, want_sub; /* domain_equal(a,b), domain_is_subdomain(a,b) */
};

static const struct pair_case pair_cases[] = {
	{"same", "example.com", "example.com", true, true},
	{"case differs", "Example.COM", "example.com", true, true},
	{"trailing dot on one side", "example.com.", "example.com", true, true},
	{"child below parent", "mail.example.com", "example.com", false, true},
	{"deep child", "a.b.c.example.com", "EXAMPLE.com.", false, true},
	{"suffix without dot boundary", "badexample.com", "example.com", false, false},
	{"parent is not below child", "example.com", "mail.example.com", false, false},
	{"different", "example.org", "example.com", false, false},
	{"empty parent", "example.com", "", false, false},
	{"NULL", NULL, "example.com", false, false},
};

static void test_pairs(void)
{
	for (size_t i = 0; i < sizeof pair_cases / sizeof pair_cases[0]; i++) {
		const struct pair_case *c = &pair_cases[i];
		bool eq = domain_equal(c->a, c->b);
		bool sub = domain_is_subdomain(c->a, c->b);
		t_check(eq == c->want_equal && sub == c->want_sub, c->label,
			"got equal=%d sub=%d, want equal=%d sub=%d", eq, sub,
			c->want_equal, c->want_sub);
	}
}

static void test_labels(void)
{
	t_int("label count of a.b.example", (long long)domain_label_count("a.b.example"), 3);
	t_int("label count ignores trailing dot", (long long)domain_label_count("example."), 1);
	t_int("label count of empty", (long long)domain_label_count(""), 0);
	t_int("label count of root", (long long)domain_label_count("."), 0);
	t_str("parent of a.b.example", domain_parent("a.b.example"), "b.example");
	t_true("single label has no parent", domain_parent("example") == NULL);
	t_true("\"example.\" has no parent", domain_parent("example.") == NULL);
	t_true("NULL has no parent", domain_parent(NULL) == NULL);

	/* The tree walk: parents until the top. */
	const char *d = "x.y.example.com";
	struct strbuf walk;
	char wstack[128];
	strbuf_init(&walk, wstack, sizeof wstack, 1024);
	for (; d != NULL; d = domain_parent(d))
		strbuf_printf(&walk, "%s|", d);
	t_str("walk up the tree", strbuf_str(&walk), "x.y.example.com|y.example.com|example.com|com|");
	strbuf_free(&walk);

	t_str("last 2 labels", domain_last_labels("a.b.c.example", 2), "c.example");
	t_str("last 7 of a short name is the name", domain_last_labels("a.b", 7), "a.b");
	t_true("last 0 labels is NULL", domain_last_labels("a.b", 0) == NULL);
	t_str("status names", domain_status_str(DOMAIN_ERR_HYPHEN), "hyphen at label edge");
}

int main(void)
{
	test_normalize();
	test_reason_printable();
	test_pairs();
	test_labels();
	return t_done();
}
