/* config_test: the option table, every value type (good values and the exact
 * error text with file:line), file syntax (comments, blanks, quotes, CRLF,
 * limits), duplicate and unknown keys, missing files, and dump round trips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "strbuf.h"
#include "testlib.h"

#define CONF "test.conf"

struct good_case {
	const char *label;
	const char *text;
	const char *option;  /* option whose effective value is checked */
	const char *want;    /* its value as config_format_value() writes it */
};

static const struct good_case good_cases[] = {
	{"int value", "DNSTimeout 7\n", "DNSTimeout", "7"},
	{"keys are case-insensitive", "dnstimeout 7\n", "DNSTimeout", "7"},
	{"trailing blanks ignored", "DNSTimeout   7  \t \n", "DNSTimeout", "7"},
	{"trailing comment after a blank", "DNSTimeout 7 # seven\n", "DNSTimeout", "7"},
	{"quoted value", "DNSTimeout \"7\"\n", "DNSTimeout", "7"},
	{"tabs around key and value", "\tDNSTimeout\t7\n", "DNSTimeout", "7"},
	{"comments and blank lines", "# c\n\n   # indented comment\n\nDNSTimeout 7\n", "DNSTimeout", "7"},
	{"CRLF line ends", "DNSTimeout 7\r\nLogLevel debug\r\n", "LogLevel", "debug"},
	{"no newline at the end", "DNSTimeout 7", "DNSTimeout", "7"},
	{"int at its maximum", "ReportMaxSize 1073741824\n", "ReportMaxSize", "1073741824"},
	{"int 0 where allowed", "EventRetentionDays 0\n", "EventRetentionDays", "0"},
	{"bool yes", "RejectFailures yes\n", "RejectFailures", "yes"},
	{"bool TRUE", "RejectFailures TRUE\n", "RejectFailures", "yes"},
	{"bool on", "RejectFailures on\n", "RejectFailures", "yes"},
	{"bool 1", "RejectFailures 1\n", "RejectFailures", "yes"},
	{"bool off", "Background off\n", "Background", "no"},
	{"bool false", "Background false\n", "Background", "no"},
	{"enum, any case", "LogLevel DEBUG\n", "LogLevel", "debug"},
	{"syslog facility", "SyslogFacility local3\n", "SyslogFacility", "local3"},
	{"DMARC standard", "DMARCStandard rfc7489\n", "DMARCStandard", "rfc7489"},
	{"missing-From action", "MissingFromAction tempfail\n", "MissingFromAction", "tempfail"},
	{"octal mode, 4 digits", "UMask 0027\n", "UMask", "027"},
	{"octal mode, 2 digits", "UMask 77\n", "UMask", "077"},
	{"cidr list", "IgnoreHosts 10.0.0.0/8,192.0.2.1 2001:db8::/32\n", "IgnoreHosts",
	 "10.0.0.0/8, 192.0.2.1/32, 2001:db8::/32"},
	{"cidr list emptied", "IgnoreHosts \"\"\n", "IgnoreHosts", "\"\""},
	{"domain list lowered, trailing dot dropped", "IgnoreMailFrom Example.COM. , b.example\n",
	 "IgnoreMailFrom", "example.com, b.example"},
	{"List-Id list, brackets dropped", "MailingListIds <users.lists.example.org> dev.example.net\n",
	 "MailingListIds", "users.lists.example.org, dev.example.net"},
	{"nameservers with ports", "Nameservers 127.0.0.1@5353, ::1\n", "Nameservers", "127.0.0.1@5353, ::1"},
	{"socket local", "Socket local:/run/dmarc-milter/milter.sock\n", "Socket",
	 "local:/run/dmarc-milter/milter.sock"},
	{"socket inet6", "Socket inet6:8893@::1\n", "Socket", "inet6:8893@::1"},
	{"socket inet without host", "Socket inet:8893\n", "Socket", "inet:8893"},
	{"socket inet with host name", "Socket inet:8893@localhost\n", "Socket", "inet:8893@localhost"},
	{"user:group", "UserID dmarc:dmarc\n", "UserID", "dmarc:dmarc"},
	{"quoted value keeps # and blanks", "ReportOrgName \" Example # Corp \"\n", "ReportOrgName",
	 "\" Example # Corp \""},
	{"blanks inside a value", "ReportOrgName Example Corp\n", "ReportOrgName", "Example Corp"},
	{"# inside a word is data", "ReportContactInfo call#5\n", "ReportContactInfo", "call#5"},
	{"UTF-8 text", "ReportOrgName Bäckerei Müller\n", "ReportOrgName", "Bäckerei Müller"},
	{"mail address", "ReportEmail dmarc-reports@Example.com\n", "ReportEmail",
	 "dmarc-reports@example.com"},
	{"path", "PidFile /run/dmarc-milter.pid\n", "PidFile", "/run/dmarc-milter.pid"},
	{"explicit empty path", "PidFile \"\"\n", "PidFile", "\"\""},
	{"authserv-id", "AuthservID mx1.example.net\n", "AuthservID", "mx1.example.net"},
	{"SMTP host", "ReportSMTPHost 192.0.2.25\n", "ReportSMTPHost", "192.0.2.25"},
	{"message timeout equal to query timeout", "DNSTimeout 60\nDNSMessageTimeout 60\n",
	 "DNSMessageTimeout", "60"},
};

struct bad_case {
	const char *label;
	const char *text;
	const char *want;    /* the whole error line */
};

static const struct bad_case bad_cases[] = {
	{"int below minimum", "DNSTimeout 0\n",
	 CONF ":1: DNSTimeout \"0\": expected a whole number of seconds from 1 to 60"},
	{"int above maximum", "DNSTimeout 61\n",
	 CONF ":1: DNSTimeout \"61\": expected a whole number of seconds from 1 to 60"},
	{"int with a unit suffix", "DNSTimeout 5s\n",
	 CONF ":1: DNSTimeout \"5s\": expected a whole number of seconds from 1 to 60"},
	{"int overflow", "DNSTimeout 99999999999999999999\n",
	 CONF ":1: DNSTimeout \"99999999999999999999\": expected a whole number of seconds from 1 to 60"},
	{"negative int", "DNSTimeout -1\n",
	 CONF ":1: DNSTimeout \"-1\": expected a whole number of seconds from 1 to 60"},
	{"int without unit", "DKIMMaxSignatures 0\n",
	 CONF ":1: DKIMMaxSignatures \"0\": expected a whole number from 1 to 100"},
	{"bad bool", "RejectFailures maybe\n",
	 CONF ":1: RejectFailures \"maybe\": expected yes or no (or true/false, on/off, 1/0)"},
	{"bad enum", "LogLevel verbose\n",
	 CONF ":1: LogLevel \"verbose\": expected one of: error, warning, info, debug"},
	{"bad standard", "DMARCStandard dmarcbis\n",
	 CONF ":1: DMARCStandard \"dmarcbis\": expected one of: rfc9989, rfc7489"},
	{"bad facility", "SyslogFacility kern\n",
	 CONF ":1: SyslogFacility \"kern\": expected one of: mail, daemon, user, auth, authpriv, cron, "
	 "ftp, lpr, news, syslog, uucp, local0, local1, local2, local3, local4, local5, local6, local7"},
	{"mode with digit 8", "UMask 0800\n",
	 CONF ":1: UMask \"0800\": expected an octal mode from 000 to 777, e.g. 007"},
	{"mode with sticky bit", "UMask 1777\n",
	 CONF ":1: UMask \"1777\": expected an octal mode from 000 to 777, e.g. 007"},
	{"relative path", "PidFile run/x.pid\n",
	 CONF ":1: PidFile \"run/x.pid\": expected an absolute path (starting with /)"},
	{"empty path where not allowed", "ReportSendmail \"\"\n",
	 CONF ":1: ReportSendmail \"\": expected an absolute path (starting with /)"},
	{"socket port out of range", "Socket inet:99999@127.0.0.1\n",
	 CONF ":1: Socket \"inet:99999@127.0.0.1\": expected inet:port@host, inet6:port@host or "
	 "local:/path (e.g. inet:8893@127.0.0.1)"},
	{"socket unknown kind", "Socket tcp:25\n",
	 CONF ":1: Socket \"tcp:25\": expected inet:port@host, inet6:port@host or "
	 "local:/path (e.g. inet:8893@127.0.0.1)"},
	{"socket relative path", "Socket local:milter.sock\n",
	 CONF ":1: Socket \"local:milter.sock\": expected inet:port@host, inet6:port@host or "
	 "local:/path (e.g. inet:8893@127.0.0.1)"},
	{"user with two colons", "UserID root:wheel:x\n",
	 CONF ":1: UserID \"root:wheel:x\": expected a user name or user:group, e.g. dmarc or dmarc:dmarc"},
	{"authserv-id with a blank", "AuthservID \"mx example\"\n",
	 CONF ":1: AuthservID \"mx example\": expected a host name such as mx.example.com (an RFC 8601 "
	 "authserv-id: no spaces, quotes or ()<>@,;:\\\"/[]?=)"},
	{"cidr host bits", "IgnoreHosts 127.0.0.0/8, 10.1.2.3/8\n",
	 CONF ":1: IgnoreHosts \"127.0.0.0/8, 10.1.2.3/8\": \"10.1.2.3/8\": address has bits set "
	 "past the /8 prefix; did you mean 10.0.0.0/8?"},
	{"bad domain in a list", "IgnoreMailFrom a.example example..com\n",
	 CONF ":1: IgnoreMailFrom \"a.example example..com\": item \"example..com\": expected a domain "
	 "name such as example.com (internationalized names as A-labels, xn--...)"},
	{"nameserver port 0", "Nameservers 127.0.0.1@0\n",
	 CONF ":1: Nameservers \"127.0.0.1@0\": item \"127.0.0.1@0\": expected an IPv4 or IPv6 "
	 "address, optionally followed by @port, e.g. 127.0.0.1@5353"},
	{"List-Id without a dot", "MailingListIds <users>\n",
	 CONF ":1: MailingListIds \"<users>\": item \"<users>\": expected a List-Id identifier such as "
	 "users.lists.example.org"},
	{"mail address without @", "ReportEmail nobody\n",
	 CONF ":1: ReportEmail \"nobody\": expected a mail address such as dmarc-reports@example.com"},
	{"control character shown escaped", "ReportOrgName \"a\x01z\"\n",
	 CONF ":1: ReportOrgName \"a\\x01z\": expected printable UTF-8 text without control characters"},
	{"invalid UTF-8", "ReportOrgName \xc3\x28\n",
	 CONF ":1: ReportOrgName \"\\xc3(\": expected printable UTF-8 text without control characters"},
	{"unknown option", "DNSTimeout 5\nFoo bar\n",
	 CONF ":2: unknown option \"Foo\"; see dmarc-milter.conf(5) for the option names"},
	{"key=value is not our syntax", "DNSTimeout=5\n",
	 CONF ":1: unknown option \"DNSTimeout=5\"; see dmarc-milter.conf(5) for the option names"},
	{"duplicate key, any case", "DNSTimeout 5\nLogLevel info\ndnstimeout 6\n",
	 CONF ":3: DNSTimeout: set twice (first on line 1); keep one of the two lines"},
	{"missing value", "DNSTimeout\n",
	 CONF ":1: DNSTimeout: no value; expected a whole number of seconds from 1 to 60"},
	{"missing value before a comment", "DNSTimeout   # none\n",
	 CONF ":1: DNSTimeout: no value; expected a whole number of seconds from 1 to 60"},
	{"missing value of an option that may be empty", "PidFile\n",
	 CONF ":1: PidFile: no value; expected an absolute path (starting with /) (or \"\" for none)"},
	{"missing closing quote", "ReportOrgName \"Example\n",
	 CONF ":1: ReportOrgName: missing closing quote; a quoted value ends with \" on the same line"},
	{"text after the closing quote", "ReportOrgName \"Example\" Corp\n",
	 CONF ":1: ReportOrgName: text after the closing quote; quote the whole value"},
	{"line numbers count comments, blanks and CRLF", "# a\r\n\r\nDNSTimeout 0\r\n",
	 CONF ":3: DNSTimeout \"0\": expected a whole number of seconds from 1 to 60"},
	{"NUL byte", "DNSTimeout 5\nLogLevel in\0fo\n",
	 CONF ":2: NUL byte in the line; the file must be text"},
	{"message timeout shorter than query timeout", "DNSMessageTimeout 3\n",
	 CONF ":1: DNSMessageTimeout \"3\": must be at least DNSTimeout (5 seconds); raise it or lower DNSTimeout"},
};

/* Loads text; returns the error line ("" on success) in a new string. */
static char *load(const char *text, size_t len, struct config *cfg)
{
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	if (config_load_buffer(text, len, CONF, cfg, &err))
		strbuf_puts(&err, "");
	else if (strbuf_str(&err)[0] == '\0')
		strbuf_puts(&err, "(failed without a reason)");
	char *out = strbuf_finish(&err);
	return out != NULL ? out : strdup("(error text overflowed)");
}

static char *value_of(const struct config *cfg, const char *name)
{
	const struct config_option *opt = config_option_find(name);
	struct strbuf sb;
	if (opt == NULL)
		return strdup("(no such option)");
	strbuf_init(&sb, NULL, 0, 100000);
	config_format_value(cfg, opt, &sb);
	return strbuf_finish(&sb);
}

static void test_good(void)
{
	for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
		const struct good_case *c = &good_cases[i];
		struct config cfg;
		char *err = load(c->text, strlen(c->text), &cfg);
		if (err[0] != '\0') {
			t_check(false, c->label, "load failed: %s", err);
		} else {
			char *got = value_of(&cfg, c->option);
			t_str(c->label, got, c->want);
			free(got);
		}
		free(err);
		config_free(&cfg);
	}
}

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];
		struct config cfg;
		/* Bad cases may hold a NUL: measure with the literal's length. */
		size_t len = strlen(c->text);
		if (strcmp(c->label, "NUL byte") == 0)
			len = sizeof "DNSTimeout 5\nLogLevel in\0fo\n" - 1;
		char *err = load(c->text, len, &cfg);
		t_str(c->label, err, c->want);
		struct config zero;
		memset(&zero, 0, sizeof zero);
		if (err[0] != '\0' && memcmp(&cfg, &zero, sizeof cfg) != 0)
			t_check(false, c->label, "a failed load left data in cfg");
		free(err);
		config_free(&cfg);
	}
}

static void test_defaults(void)
{
	struct config cfg;
	t_true("defaults load", config_defaults(&cfg));
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	t_str("AuthservID defaults to the host name", cfg.authserv_id, host[0] ? host : "localhost");
	t_str("Socket default", cfg.socket, "inet:8893@127.0.0.1");
	t_int("UMask default", cfg.umask_mode, 07);
	t_true("IgnoreHosts default matches 127.0.0.1", cidr_list_match_text(&cfg.ignore_hosts, "127.0.0.1"));
	t_true("IgnoreHosts default matches ::1", cidr_list_match_text(&cfg.ignore_hosts, "::1"));
	t_true("IgnoreHosts default ignores no one else", !cidr_list_match_text(&cfg.ignore_hosts, "192.0.2.1"));
	t_str("EventDatabase default", cfg.event_database, LOCALSTATEDIR "/lib/dmarc-milter/events.db");
	t_str("empty string defaults are \"\", not NULL", cfg.pid_file, "");
	t_int("DNSTimeout default", cfg.dns_timeout_sec, 5);
	t_int("DMARCStandard default", cfg.dmarc_standard, DMARC_STD_RFC9989);
	t_int("LogLevel default", cfg.log_level, CONFIG_LOG_INFO);
	t_true("boolean defaults", cfg.background && cfg.syslog && !cfg.reject_failures &&
	       cfg.add_authentication_results && !cfg.add_received_spf);
	t_int("ReportMaxSize default", cfg.report_max_size, 10485760);
	config_free(&cfg);
	t_true("config_free leaves the struct zeroed", cfg.socket == NULL && cfg.ignore_hosts.count == 0);
	config_free(&cfg);
	config_free(NULL);
	t_true("config_free twice leaves the struct zeroed",
	       cfg.socket == NULL && cfg.ignore_hosts.count == 0 && cfg.authserv_id == NULL);
}

static void test_table(void)
{
	size_t n;
	const struct config_option *tab = config_table(&n);
	bool unique = true, helped = true, defaults_ok = true;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			if (strcasecmp(tab[i].name, tab[j].name) == 0)
				unique = false;
		if (tab[i].help == NULL || tab[i].help[0] == '\0')
			helped = false;
		if (config_option_find(tab[i].name) != &tab[i])
			unique = false;
	}
	/* Every default, written as an explicit line, must load. */
	struct strbuf text;
	strbuf_init(&text, NULL, 0, 100000);
	for (size_t i = 0; i < n; i++)
		if (tab[i].default_text != NULL)
			strbuf_printf(&text, "%s \"%s\"\n", tab[i].name, tab[i].default_text);
	struct config cfg;
	char *err = load(strbuf_str(&text), text.len, &cfg);
	defaults_ok = err[0] == '\0';
	t_check(defaults_ok, "every default written out loads", "%s", err);
	free(err);
	config_free(&cfg);
	strbuf_free(&text);
	t_true("option names are unique (ignoring case)", unique);
	t_true("every option has a help line", helped);
	t_true("the table has the 48 options of the brief", n == 48);
	t_true("unknown name is not found", config_option_find("NoSuchOption") == NULL);
}

/* Dumps cfg with config_format_value into file syntax. */
static char *dump_text(const struct config *cfg)
{
	size_t n;
	const struct config_option *tab = config_table(&n);
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, 1000000);
	for (size_t i = 0; i < n; i++) {
		strbuf_printf(&sb, "%s ", tab[i].name);
		config_format_value(cfg, &tab[i], &sb);
		strbuf_putc(&sb, '\n');
	}
	return strbuf_finish(&sb);
}

static void test_round_trip(void)
{
	static const char text[] =
		"ReportOrgName \" Example # Corp \"\n"
		"IgnoreHosts 10.0.0.0/8 ::ffff:192.0.2.0/120\n"
		"IgnoreMailFrom a.example,B.example\n"
		"UMask 022\n"
		"SyslogFacility local7\n"
		"PidFile \"\"\n";
	struct config a, b;
	char *err = load(text, sizeof text - 1, &a);
	t_str("round trip: first load", err, "");
	free(err);
	char *d1 = dump_text(&a);
	err = load(d1, strlen(d1), &b);
	t_str("round trip: the dump loads again", err, "");
	free(err);
	char *d2 = dump_text(&b);
	t_str("round trip: the second dump equals the first", d2, d1);
	free(d1);
	free(d2);

	FILE *f = tmpfile();
	t_true("config_dump writes to a stream", f != NULL && config_dump(&a, f));
	if (f != NULL)
		fclose(f);
	config_free(&a);
	config_free(&b);
}

static void test_limits(void)
{
	struct strbuf text;
	struct config cfg;
	char *err;

	strbuf_init(&text, NULL, 0, 100000);
	strbuf_putc(&text, '#');
	for (int i = 1; i < CONFIG_LINE_MAX; i++)
		strbuf_putc(&text, 'x');
	strbuf_puts(&text, "\r\nDNSTimeout 7\n");
	err = load(strbuf_str(&text), text.len, &cfg);
	t_str("a line of exactly CONFIG_LINE_MAX bytes is fine", err, "");
	free(err);
	config_free(&cfg);

	strbuf_reset(&text);
	strbuf_puts(&text, "DNSTimeout 7\n#");
	for (int i = 0; i < CONFIG_LINE_MAX; i++)
		strbuf_putc(&text, 'x');
	err = load(strbuf_str(&text), text.len, &cfg);
	t_str("an overlong line is an error", err, CONF ":2: line longer than 4096 bytes; shorten it");
	free(err);
	config_free(&cfg);

	strbuf_reset(&text);
	strbuf_puts(&text, "IgnoreMailFrom");
	for (int i = 0; i <= CONFIG_LIST_MAX; i++)
		strbuf_puts(&text, i % 2 ? ",d" : " d"); /* short items: 1025 fit in one line */
	err = load(strbuf_str(&text), text.len, &cfg);
	t_check(strstr(err, "more than 1024 entries; a list holds at most 1024") != NULL,
		"a list over CONFIG_LIST_MAX entries is an error", "got \"%.200s\"", err);
	free(err);
	config_free(&cfg);
	strbuf_free(&text);
}

static void test_files(void)
{
	struct config cfg;
	struct strbuf err;
	const char *srcdir = getenv("top_srcdir");
	char path[4096];

	strbuf_init(&err, NULL, 0, 4096);
	t_true("missing file fails", !config_load("/nonexistent/dmarc-milter.conf", &cfg, &err));
	t_str("missing file error text", strbuf_str(&err),
	      "cannot open /nonexistent/dmarc-milter.conf: No such file or directory");
	config_free(&cfg);

	strbuf_reset(&err);
	snprintf(path, sizeof path, "%s/tests/unit/config/good.conf", srcdir ? srcdir : ".");
	bool ok = config_load(path, &cfg, &err);
	t_check(ok, "fixture good.conf loads", "%s", strbuf_str(&err));
	if (ok) {
		t_true("good.conf: RejectFailures", cfg.reject_failures);
		t_true("good.conf: TrustedForwarders", cidr_list_match_text(&cfg.trusted_forwarders, "198.51.100.7"));
		t_true("good.conf: MailingListIds", config_list_contains(&cfg.mailing_list_ids, "USERS.lists.example.org"));
		struct strbuf ns;
		strbuf_init(&ns, NULL, 0, 1000);
		config_list_join(&cfg.nameservers, ",", &ns);
		t_str("good.conf: Nameservers joined for the resolver", strbuf_str(&ns), "127.0.0.1@5353,::1@5353");
		strbuf_free(&ns);
	}
	config_free(&cfg);

	strbuf_reset(&err);
	snprintf(path, sizeof path, "%s/tests/unit/config/bad-crlf.conf", srcdir ? srcdir : ".");
	char want[4200];
	snprintf(want, sizeof want, "%s:4: DNSTimeout: set twice (first on line 2); keep one of the two lines", path);
	t_true("fixture bad-crlf.conf fails", !config_load(path, &cfg, &err));
	t_str("bad-crlf.conf error names the file and line", strbuf_str(&err), want);
	config_free(&cfg);

	strbuf_reset(&err);
	snprintf(path, sizeof path, "%s/tests/unit/config", srcdir ? srcdir : ".");
	snprintf(want, sizeof want, "cannot read %s: Is a directory", path);
	t_true("a directory fails", !config_load(path, &cfg, &err));
	t_str("directory error text", strbuf_str(&err), want);
	config_free(&cfg);
	strbuf_free(&err);
}

int main(void)
{
	test_defaults();
	test_table();
	test_good();
	test_bad();
	test_round_trip();
	test_limits();
	test_files();
	return t_done();
}
