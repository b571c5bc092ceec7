/* cidr_test: parsing of addresses and blocks, error texts, list parsing and
 * matching of text and sockaddr addresses (IPv4, IPv6, IPv4-mapped). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "cidr.h"
#include "strbuf.h"
#include "testlib.h"

struct parse_case {
	const char *label;
	const char *input;
	const char *want;   /* canonical text, or the error reason */
	bool ok;
};

static const struct parse_case parse_cases[] = {
	{"v4 bare address is a /32", "192.0.2.1", "192.0.2.1/32", true},
	{"v4 block", "192.0.2.0/24", "192.0.2.0/24", true},
	{"v4 /0", "0.0.0.0/0", "0.0.0.0/0", true},
	{"v4 /32", "10.1.2.3/32", "10.1.2.3/32", true},
	{"v4 odd prefix", "172.16.0.0/12", "172.16.0.0/12", true},
	{"v6 bare address is a /128", "2001:db8::1", "2001:db8::1/128", true},
	{"v6 block", "2001:DB8::/32", "2001:db8::/32", true},
	{"v6 /0", "::/0", "::/0", true},
	{"v6 /128", "::1/128", "::1/128", true},
	{"v4-mapped address folds to v4", "::ffff:192.0.2.1", "192.0.2.1/32", true},
	{"v4-mapped block folds to v4", "::ffff:10.0.0.0/104", "10.0.0.0/8", true},
	{"v4 prefix too long", "10.0.0.0/33",
	 "\"10.0.0.0/33\": prefix length must be a number from 0 to 32", false},
	{"v6 prefix too long", "2001:db8::/129",
	 "\"2001:db8::/129\": prefix length must be a number from 0 to 128", false},
	{"host bits set", "10.1.2.3/8",
	 "\"10.1.2.3/8\": address has bits set past the /8 prefix; did you mean 10.0.0.0/8?", false},
	{"v6 host bits set", "2001:db8::1/32",
	 "\"2001:db8::1/32\": address has bits set past the /32 prefix; did you mean 2001:db8::/32?", false},
	{"empty prefix", "10.0.0.0/",
	 "\"10.0.0.0/\": prefix length must be a number from 0 to 32", false},
	{"negative prefix", "10.0.0.0/-1",
	 "\"10.0.0.0/-1\": prefix length must be a number from 0 to 32", false},
	{"host name", "example.com",
	 "\"example.com\": not an IPv4 or IPv6 address (expected e.g. 192.0.2.0/24, 2001:db8::/32 or 192.0.2.1)", false},
	{"short v4", "1.2.3",
	 "\"1.2.3\": not an IPv4 or IPv6 address (expected e.g. 192.0.2.0/24, 2001:db8::/32 or 192.0.2.1)", false},
	{"zone id", "fe80::1%eth0",
	 "\"fe80::1%eth0\": not an IPv4 or IPv6 address (expected e.g. 192.0.2.0/24, 2001:db8::/32 or 192.0.2.1)", false},
	{"empty", "", "empty address", false},
	{"overlong", "1111111111111111111111111111111111111111111111111111111111111111111",
	 "\"11111111111111111111...\": longer than 64 bytes; expected an IPv4 or IPv6 address or block", false},
};

struct match_case {
	const char *addr;
	bool want;
};

/* Against the list "10.0.0.0/8, 192.0.2.1, 2001:db8::/32, ::1". */
static const struct match_case match_cases[] = {
	{"10.255.0.1", true},
	{"11.0.0.1", false},
	{"192.0.2.1", true},
	{"192.0.2.2", false},
	{"2001:db8:1::5", true},
	{"2001:db9::", false},
	{"::ffff:10.1.1.1", true},
	{"::ffff:11.1.1.1", false},
	{"[2001:db8::1]", true},
	{"IPv6:2001:db8::1", true},
	{"::1", true},
	{"::2", false},
	{"garbage", false},
	{"", false},
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		struct cidr block;
		struct strbuf out;
		strbuf_init(&out, NULL, 0, 1000);
		bool ok = cidr_parse(c->input, &block, &out);
		if (ok)
			cidr_format(&block, &out);
		if (ok != c->ok)
			t_check(false, c->label, "parse %s, want %s (%s)", ok ? "ok" : "failed",
				c->ok ? "ok" : "failure", strbuf_str(&out));
		else
			t_str(c->label, strbuf_str(&out), c->want);
		strbuf_free(&out);
	}
}

static void test_match_text(void)
{
	struct cidr_list list = {NULL, 0};
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1000);
	t_true("list with commas and blanks parses",
	       cidr_list_parse("10.0.0.0/8, 192.0.2.1,2001:db8::/32\t::1", &list, &err));
	t_int("list has 4 entries", (long long)list.count, 4);
	for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
		char label[128];
		snprintf(label, sizeof label, "match \"%s\" is %s", match_cases[i].addr,
			 match_cases[i].want ? "true" : "false");
		t_true(label, cidr_list_match_text(&list, match_cases[i].addr) == match_cases[i].want);
	}
	struct strbuf out;
	strbuf_init(&out, NULL, 0, 1000);
	cidr_list_format(&list, &out);
	t_str("list format", strbuf_str(&out), "10.0.0.0/8, 192.0.2.1/32, 2001:db8::/32, ::1/128");
	strbuf_free(&out);

	t_true("a bad entry fails the list", !cidr_list_parse("192.0.2.9, nonsense", &list, &err));
	t_int("a failed parse leaves the list as it was", (long long)list.count, 4);
	cidr_list_free(&list);
	t_true("free empties the list", list.count == 0 && list.items == NULL);
	strbuf_free(&err);
}

static void test_match_sockaddr(void)
{
	struct cidr_list list = {NULL, 0};
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1000);
	cidr_list_parse("10.0.0.0/8 2001:db8::/32", &list, &err);

	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "10.9.8.7", &sin.sin_addr);
	t_true("sockaddr_in inside", cidr_list_match(&list, (struct sockaddr *)&sin));
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	t_true("sockaddr_in outside", !cidr_list_match(&list, (struct sockaddr *)&sin));

	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:ff::1", &sin6.sin6_addr);
	t_true("sockaddr_in6 inside", cidr_list_match(&list, (struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr);
	t_true("sockaddr_in6 v4-mapped matches the v4 block", cidr_list_match(&list, (struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "2001:db9::1", &sin6.sin6_addr);
	t_true("sockaddr_in6 outside", !cidr_list_match(&list, (struct sockaddr *)&sin6));

	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	t_true("AF_UNIX never matches", !cidr_list_match(&list, (struct sockaddr *)&sun));
	t_true("NULL address never matches", !cidr_list_match(&list, NULL));
	cidr_list_free(&list);

	cidr_list_parse("0.0.0.0/0", &list, &err);
	t_true("0.0.0.0/0 matches any IPv4", cidr_list_match_text(&list, "203.0.113.77"));
	t_true("0.0.0.0/0 matches v4-mapped", cidr_list_match_text(&list, "::ffff:203.0.113.77"));
	t_true("0.0.0.0/0 does not match IPv6", !cidr_list_match_text(&list, "2001:db8::1"));
	cidr_list_free(&list);

	cidr_list_parse("::/0", &list, &err);
	t_true("::/0 matches any IPv6", cidr_list_match_text(&list, "2001:db8::1"));
	t_true("::/0 does not match IPv4", !cidr_list_match_text(&list, "10.0.0.1"));
	cidr_list_free(&list);

	cidr_list_parse("", &list, &err);
	t_true("empty text is an empty list", list.count == 0);
	t_true("an empty list matches nothing", !cidr_list_match_text(&list, "10.0.0.1"));
	strbuf_free(&err);
}

static void test_list_limit(void)
{
	struct strbuf text, err;
	struct cidr_list list = {NULL, 0};
	strbuf_init(&text, NULL, 0, 100000);
	strbuf_init(&err, NULL, 0, 1000);
	for (int i = 0; i < CIDR_LIST_MAX; i++)
		strbuf_printf(&text, "10.%d.%d.0/24,", i / 256, i % 256);
	t_true("a list of CIDR_LIST_MAX entries parses", cidr_list_parse(strbuf_str(&text), &list, &err));
	cidr_list_free(&list);
	strbuf_puts(&text, "192.0.2.1");
	t_true("one entry more fails", !cidr_list_parse(strbuf_str(&text), &list, &err));
	t_str("limit error text", strbuf_str(&err), "more than 1024 addresses in one list");
	t_true("failed list holds nothing", list.count == 0 && list.items == NULL);
	strbuf_free(&text);
	strbuf_free(&err);
}

int main(void)
{
	test_parse();
	test_match_text();
	test_match_sockaddr();
	test_list_limit();
	return t_done();
}
