/* config: the option table, the file parser and the dump of effective values. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "auth_types.h"
#include "config.h"

#define CONFIG_WHY_MAX 1024     /* bytes of one error reason */
#define CONFIG_SHOW_MAX 80      /* bytes of user text quoted in a message */
#define CONFIG_HOSTNAME_MAX 255 /* POSIX HOST_NAME_MAX on Linux is 64; be generous */

/* ---- Value checks (the "check" column of the table) --------------------- */

static bool config_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* True when s is valid UTF-8 without control characters (TAB allowed). */
static bool config_printable_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		unsigned char c = *p;
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return false;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* RFC 3629 §3: no overlongs, no surrogates, nothing past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

/* A host name or domain: LDH labels (underscore allowed, as in SRV-style
 * names), 1-63 bytes each, 253 in all (RFC 1035 §2.3.4); a trailing dot is
 * dropped and letters are lowered. */
static bool config_domain_ok(char *v)
{
	size_t len = strlen(v);
	if (len > 0 && v[len - 1] == '.')
		v[--len] = '\0';
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		if (c >= 'A' && c <= 'Z')
			v[i] = (char)(c - 'A' + 'a');
		else if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static bool config_check_domain(char *v, struct strbuf *why)
{
	if (config_domain_ok(v))
		return true;
	strbuf_puts(why, "expected a domain name such as example.com (internationalized names as A-labels, xn--...)");
	return false;
}

/* RFC 8601 §2.2: authserv-id is a "value" (RFC 2045 token or quoted-string);
 * we allow the token form only, since it is copied into headers verbatim. */
static bool config_check_authserv_id(char *v, struct strbuf *why)
{
	static const char tspecials[] = "()<>@,;:\\\"/[]?=";
	bool ok = *v != '\0';
	for (const char *p = v; ok && *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr(tspecials, c) != NULL)
			ok = false;
	}
	if (!ok)
		strbuf_puts(why, "expected a host name such as mx.example.com (an RFC 8601 authserv-id: no spaces, quotes or ()<>@,;:\\\"/[]?=)");
	return ok;
}

/* A decimal port 1-65535. */
static bool config_port_ok(const char *s)
{
	long v = 0;
	if (*s == '\0' || strlen(s) > 5)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535;
}

static bool config_path_ok(const char *v)
{
	return v[0] == '/' && config_printable_utf8(v);
}

/* Socket: the libmilter connection spec (smfi_setconn). */
static bool config_check_socket(char *v, struct strbuf *why)
{
	bool ok = false;
	if (strncasecmp(v, "local:", 6) == 0 || strncasecmp(v, "unix:", 5) == 0) {
		ok = config_path_ok(strchr(v, ':') + 1);
	} else if (strncasecmp(v, "inet:", 5) == 0 || strncasecmp(v, "inet6:", 6) == 0) {
		bool v6 = v[4] == '6';
		char buf[CONFIG_HOSTNAME_MAX + 8];
		const char *spec = strchr(v, ':') + 1;
		if (strlen(spec) < sizeof buf) {
			memcpy(buf, spec, strlen(spec) + 1);
			char *at = strchr(buf, '@');
			if (at != NULL)
				*at++ = '\0';
			ok = config_port_ok(buf);
			if (ok && at != NULL) {
				unsigned char raw[16];
				ok = inet_pton(v6 ? AF_INET6 : AF_INET, at, raw) == 1 ||
				     config_domain_ok(at);
			}
		}
	}
	if (!ok)
		strbuf_puts(why, "expected inet:port@host, inet6:port@host or local:/path (e.g. inet:8893@127.0.0.1)");
	return ok;
}

/* One user or group name: portable POSIX name characters or a number. */
static bool config_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 32 || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool config_check_user(char *v, struct strbuf *why)
{
	const char *colon = strchr(v, ':');
	bool ok = colon == NULL ? config_name_ok(v, strlen(v))
		: config_name_ok(v, (size_t)(colon - v)) && config_name_ok(colon + 1, strlen(colon + 1));
	if (!ok)
		strbuf_puts(why, "expected a user name or user:group, e.g. dmarc or dmarc:dmarc");
	return ok;
}

/* Nameservers item: an IPv4 or IPv6 address, optionally "@port". */
static bool config_check_nameserver(char *v, struct strbuf *why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char raw[16];
	bool ok = false;
	if (strlen(v) < sizeof buf) {
		memcpy(buf, v, strlen(v) + 1);
		char *at = strchr(buf, '@');
		if (at != NULL)
			*at++ = '\0';
		ok = (inet_pton(AF_INET, buf, raw) == 1 || inet_pton(AF_INET6, buf, raw) == 1) &&
		     (at == NULL || config_port_ok(at));
	}
	if (!ok)
		strbuf_puts(why, "expected an IPv4 or IPv6 address, optionally followed by @port, e.g. 127.0.0.1@5353");
	return ok;
}

/* MailingListIds item: an RFC 2919 list identifier, with or without the
 * angle brackets of the List-Id field. */
static bool config_check_list_id(char *v, struct strbuf *why)
{
	size_t len = strlen(v);
	bool ok = true;
	if (len >= 2 && v[0] == '<' && v[len - 1] == '>') {
		memmove(v, v + 1, len - 2);
		v[len - 2] = '\0';
		len -= 2;
	}
	/* RFC 2919 §2: list-label "." list-id-namespace, dot-atom-text (RFC 5322 §3.2.3). */
	if (len == 0 || len > 255 || strchr(v, '.') == NULL || v[0] == '.' || v[len - 1] == '.')
		ok = false;
	for (size_t i = 0; ok && i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>[]:;@\\,\"", c) != NULL)
			ok = false;
		else if (c == '.' && v[i + 1] == '.')
			ok = false;
	}
	if (!ok)
		strbuf_puts(why, "expected a List-Id identifier such as users.lists.example.org");
	return ok;
}

static bool config_check_email(char *v, struct strbuf *why)
{
	char *at = strrchr(v, '@');
	bool ok = at != NULL && at != v && strlen(v) <= 254;
	for (const char *p = v; ok && p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("()<>[]:;\\,\"", c) != NULL)
			ok = false;
	}
	if (ok)
		ok = config_domain_ok(at + 1);
	if (!ok)
		strbuf_puts(why, "expected a mail address such as dmarc-reports@example.com");
	return ok;
}

static bool config_check_host(char *v, struct strbuf *why)
{
	unsigned char raw[16];
	if (inet_pton(AF_INET, v, raw) == 1 || inet_pton(AF_INET6, v, raw) == 1 || config_domain_ok(v))
		return true;
	strbuf_puts(why, "expected a host name or IP address, e.g. smtp.example.com");
	return false;
}

/* ---- The table ----------------------------------------------------------- */

static const struct config_word config_words_bool[] = {
	{"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0},
	{"on", 1}, {"off", 0}, {"1", 1}, {"0", 0}, {NULL, 0},
};

static const struct config_word config_words_facility[] = {
	{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"auth", LOG_AUTH}, {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
	{"ftp", LOG_FTP}, {"lpr", LOG_LPR}, {"news", LOG_NEWS},
	{"syslog", LOG_SYSLOG}, {"uucp", LOG_UUCP},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}, {NULL, 0},
};

static const struct config_word config_words_log_level[] = {
	{"error", CONFIG_LOG_ERROR}, {"warning", CONFIG_LOG_WARNING},
	{"info", CONFIG_LOG_INFO}, {"debug", CONFIG_LOG_DEBUG}, {NULL, 0},
};

static const struct config_word config_words_missing_from[] = {
	{"accept", CONFIG_MISSING_FROM_ACCEPT}, {"reject", CONFIG_MISSING_FROM_REJECT},
	{"tempfail", CONFIG_MISSING_FROM_TEMPFAIL}, {NULL, 0},
};

static const struct config_word config_words_standard[] = {
	{"rfc9989", DMARC_STD_RFC9989}, {"rfc7489", DMARC_STD_RFC7489}, {NULL, 0},
};

/* offsetof(struct config, f), refusing to compile when f is not of type T. */
#define CFG_FIELD(f, T) _Generic(((struct config *)0)->f, T: offsetof(struct config, f))

#define ROW_BOOL(n, d, f, h) \
	{ .name = n, .type = CONFIG_BOOL, .default_text = d, .words = config_words_bool, \
	  .offset = CFG_FIELD(f, bool), .help = h }
#define ROW_INT(n, d, lo, hi, u, f, h) \
	{ .name = n, .type = CONFIG_INT, .default_text = d, .min = lo, .max = hi, .unit = u, \
	  .offset = CFG_FIELD(f, int), .help = h }
#define ROW_STR(n, d, e, c, f, h) \
	{ .name = n, .type = CONFIG_STRING, .default_text = d, .empty_ok = e, .check = c, \
	  .offset = CFG_FIELD(f, char *), .help = h }
#define ROW_PATH(n, d, e, f, h) \
	{ .name = n, .type = CONFIG_PATH, .default_text = d, .empty_ok = e, \
	  .offset = CFG_FIELD(f, char *), .help = h }
#define ROW_LIST(n, d, c, f, h) \
	{ .name = n, .type = CONFIG_LIST, .default_text = d, .empty_ok = true, .check = c, \
	  .offset = CFG_FIELD(f, struct config_list), .help = h }
#define ROW_CIDR(n, d, f, h) \
	{ .name = n, .type = CONFIG_CIDR_LIST, .default_text = d, .empty_ok = true, \
	  .offset = CFG_FIELD(f, struct cidr_list), .help = h }
#define ROW_ENUM(n, d, w, f, h) \
	{ .name = n, .type = CONFIG_ENUM, .default_text = d, .words = w, \
	  .offset = CFG_FIELD(f, int), .help = h }
#define ROW_MODE(n, d, f, h) \
	{ .name = n, .type = CONFIG_MODE, .default_text = d, \
	  .offset = CFG_FIELD(f, unsigned), .help = h }

static const struct config_option config_options[] = {
	ROW_STR("AuthservID", NULL, false, config_check_authserv_id, authserv_id,
		"authserv-id written in our Authentication-Results headers (default: the host name)"),
	ROW_STR("Socket", "inet:8893@127.0.0.1", false, config_check_socket, socket,
		"where the milter listens: inet:port@host, inet6:port@host or local:/path"),
	ROW_STR("UserID", "", true, config_check_user, user_id,
		"user (and group) to switch to after start; empty = stay as started"),
	ROW_MODE("UMask", "007", umask_mode, "umask for files the milter creates (socket, PID file, database)"),
	ROW_PATH("PidFile", "", true, pid_file, "file to write the process id to; empty = none"),
	ROW_BOOL("Background", "yes", background, "detach from the terminal and run as a daemon"),
	ROW_BOOL("Syslog", "yes", syslog, "log to syslog (otherwise to standard error)"),
	ROW_ENUM("SyslogFacility", "mail", config_words_facility, syslog_facility,
		 "syslog facility for log lines"),
	ROW_ENUM("LogLevel", "info", config_words_log_level, log_level,
		 "least severe level logged: error, warning, info or debug"),
	ROW_CIDR("IgnoreHosts", "127.0.0.0/8, ::1/128", ignore_hosts,
		 "clients whose mail is passed without any check"),
	ROW_BOOL("IgnoreAuthenticatedClients", "yes", ignore_authenticated_clients,
		 "pass mail from SMTP-AUTH clients without any check"),
	ROW_LIST("IgnoreMailFrom", "", config_check_domain, ignore_mail_from,
		 "author (From) domains whose mail is passed without any check"),
	ROW_BOOL("RejectFailures", "no", reject_failures,
		 "reject mail that fails DMARC with p=reject (local policy, RFC 9989 section 5.4)"),
	ROW_BOOL("HoldQuarantinedMessages", "no", hold_quarantined_messages,
		 "put mail that fails DMARC with p=quarantine on hold in the MTA queue"),
	ROW_BOOL("TempFailOnDnsError", "no", tempfail_on_dns_error,
		 "answer 4xx when a DNS error keeps us from a DMARC verdict"),
	ROW_BOOL("RejectMultiValueFrom", "no", reject_multi_value_from,
		 "reject mail whose From names authors in more than one domain"),
	ROW_ENUM("MissingFromAction", "accept", config_words_missing_from, missing_from_action,
		 "what to do with mail without a From field or a usable author domain"),
	ROW_CIDR("TrustedForwarders", "", trusted_forwarders,
		 "relays whose DMARC failures are not acted on (override reason trusted_forwarder)"),
	ROW_LIST("MailingListIds", "", config_check_list_id, mailing_list_ids,
		 "List-Id values whose DMARC failures are not acted on (override reason mailing_list)"),
	ROW_ENUM("DMARCStandard", "rfc9989", config_words_standard, dmarc_standard,
		 "rfc9989 (DNS tree walk) or rfc7489 (Public Suffix List, pct sampling)"),
	ROW_PATH("PublicSuffixList", "", true, public_suffix_list,
		 "Public Suffix List file for rfc7489 mode; empty = libpsl's built-in list"),
	ROW_LIST("Nameservers", "", config_check_nameserver, nameservers,
		 "DNS servers to ask (addr or addr@port); empty = those of /etc/resolv.conf"),
	ROW_INT("DNSTimeout", "5", 1, 60, "seconds", dns_timeout_sec, "time allowed for one DNS query"),
	ROW_INT("DNSMessageTimeout", "20", 1, 300, "seconds", dns_message_timeout_sec,
		"time allowed for all DNS queries of one message"),
	ROW_INT("DNSNegativeCacheMax", "300", 0, 86400, "seconds", dns_negative_cache_max_sec,
		"longest time a missing record (NXDOMAIN, no data) is cached"),
	ROW_INT("DKIMMaxSignatures", "10", 1, 100, NULL, dkim_max_signatures,
		"most DKIM signatures verified per message"),
	ROW_INT("DKIMMinKeyBits", "1024", 1024, 8192, "bits", dkim_min_key_bits,
		"smallest RSA key accepted for DKIM (RFC 8301 section 3.2)"),
	ROW_BOOL("AddReceivedSPF", "no", add_received_spf, "add a Received-SPF header (RFC 7208 section 9.1)"),
	ROW_BOOL("AddAuthenticationResults", "yes", add_authentication_results,
		 "add an Authentication-Results header (RFC 8601)"),
	ROW_BOOL("AddSPFVerdict", "yes", add_spf_verdict, "add an X-SPF-Verdict header"),
	ROW_BOOL("AddDKIMVerdict", "yes", add_dkim_verdict, "add an X-DKIM-Verdict header"),
	ROW_BOOL("AddDMARCVerdict", "yes", add_dmarc_verdict, "add an X-DMARC-Verdict header"),
	ROW_BOOL("AddDMARCPolicy", "yes", add_dmarc_policy,
		 "add an X-DMARC-Policy header when the DMARC verdict is FAIL"),
	ROW_PATH("EventDatabase", LOCALSTATEDIR "/lib/dmarc-milter/events.db", true, event_database,
		 "SQLite database of per-message events, read by dmarc-reporter; empty = no event log"),
	ROW_INT("EventQueueSize", "10000", 100, 10000000, "events", event_queue_size,
		"events waiting for the database writer; when full, new events are dropped and logged"),
	ROW_INT("EventBatchRows", "1000", 1, 100000, "rows", event_batch_rows,
		"most events written in one database transaction"),
	ROW_INT("EventBatchMs", "200", 10, 10000, "milliseconds", event_batch_ms,
		"longest time an event waits before its batch is written"),
	ROW_INT("EventRetentionDays", "180", 0, 3650, "days", event_retention_days,
		"days events are kept before dmarc-reporter deletes them; 0 = keep forever"),
	ROW_STR("ReportOrgName", "", true, NULL, report_org_name,
		"org_name in aggregate reports (RFC 9990)"),
	ROW_STR("ReportEmail", "", true, config_check_email, report_email,
		"From address of aggregate reports; dmarc-reporter needs it"),
	ROW_STR("ReportContactInfo", "", true, NULL, report_contact_info,
		"extra_contact_info in aggregate reports"),
	ROW_PATH("ReportSendmail", "/usr/sbin/sendmail", false, report_sendmail,
		 "sendmail(1) program that mails reports when ReportSMTPHost is empty"),
	ROW_STR("ReportSMTPHost", "", true, config_check_host, report_smtp_host,
		"SMTP server to mail reports through; empty = use ReportSendmail"),
	ROW_INT("ReportSMTPPort", "25", 1, 65535, NULL, report_smtp_port, "port of ReportSMTPHost"),
	ROW_INT("ReportMaxDestinations", "5", 1, 50, NULL, report_max_destinations,
		"most rua destinations one report is sent to"),
	ROW_INT("ReportMaxPerRun", "10000", 1, 1000000, "reports", report_max_per_run,
		"most reports sent by one dmarc-reporter run"),
	ROW_INT("ReportMaxAttempts", "5", 1, 100, "attempts", report_max_attempts,
		"delivery attempts of one report before it is given up"),
	ROW_INT("ReportMaxSize", "10485760", 1024, 1073741824, "bytes", report_max_size,
		"largest report sent (compressed); larger ones are not sent and are logged"),
};

#define CONFIG_NROWS (sizeof config_options / sizeof config_options[0])

const struct config_option *config_table(size_t *n)
{
	*n = CONFIG_NROWS;
	return config_options;
}

const struct config_option *config_option_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_NROWS; i++)
		if (strcasecmp(config_options[i].name, name) == 0)
			return &config_options[i];
	return NULL;
}

const char *config_enum_name(const struct config_option *opt, int value)
{
	for (const struct config_word *w = opt->words; w != NULL && w->name != NULL; w++)
		if (w->value == value)
			return w->name;
	return "?";
}

/* ---- Setting one value --------------------------------------------------- */

static void *config_field(struct config *cfg, const struct config_option *opt)
{
	return (char *)cfg + opt->offset;
}

static const void *config_field_const(const struct config *cfg, const struct config_option *opt)
{
	return (const char *)cfg + opt->offset;
}

/* Appends what a value of opt must look like ("expected ..."). */
static void config_expect(const struct config_option *opt, struct strbuf *why)
{
	switch (opt->type) {
	case CONFIG_BOOL:
		strbuf_puts(why, "expected yes or no (or true/false, on/off, 1/0)");
		break;
	case CONFIG_INT:
		strbuf_puts(why, "expected a whole number ");
		if (opt->unit != NULL)
			strbuf_printf(why, "of %s ", opt->unit);
		strbuf_printf(why, "from %ld to %ld", opt->min, opt->max);
		break;
	case CONFIG_PATH:
		strbuf_puts(why, "expected an absolute path (starting with /)");
		break;
	case CONFIG_ENUM:
		strbuf_puts(why, "expected one of:");
		for (const struct config_word *w = opt->words; w->name != NULL; w++)
			strbuf_printf(why, "%s %s", w == opt->words ? "" : ",", w->name);
		break;
	case CONFIG_MODE:
		strbuf_puts(why, "expected an octal mode from 000 to 777, e.g. 007");
		break;
	case CONFIG_CIDR_LIST:
		strbuf_puts(why, "expected IPv4 or IPv6 addresses or blocks, e.g. 127.0.0.0/8, ::1/128");
		break;
	case CONFIG_STRING:
	case CONFIG_LIST: {
		/* The check of a string states its own expectation: ask it about
		 * an empty value, which no check accepts without comment. */
		char scratch[1] = "";
		size_t before = why->len;
		if (opt->check != NULL)
			(void)opt->check(scratch, why);
		if (why->len == before)
			strbuf_puts(why, "expected a value");
		break;
	}
	}
}

static bool config_parse_int(const char *v, long lo, long hi, long *out)
{
	long long n = 0;
	bool neg = false;
	if (*v == '-' && lo < 0) {
		neg = true;
		v++;
	}
	if (*v == '\0' || strlen(v) > 12)
		return false;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return false;
		n = n * 10 + (*v - '0');
	}
	if (neg)
		n = -n;
	if (n < lo || n > hi)
		return false;
	*out = (long)n;
	return true;
}

static bool config_parse_word(const struct config_word *words, const char *v, int *out)
{
	for (const struct config_word *w = words; w->name != NULL; w++)
		if (strcasecmp(w->name, v) == 0) {
			*out = w->value;
			return true;
		}
	return false;
}

static bool config_parse_mode(const char *v, unsigned *out)
{
	unsigned m = 0;
	size_t len = strlen(v);
	if (len == 0 || len > 4)
		return false;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '7')
			return false;
		m = m * 8 + (unsigned)(*v - '0');
	}
	if (m > 0777)
		return false;
	*out = m;
	return true;
}

static bool config_is_list_sep(char c)
{
	return c == ',' || config_is_blank(c);
}

static void config_list_clear(struct config_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/* Splits v into items, checks each, and replaces *list with them. */
static bool config_set_list(const struct config_option *opt, char *v,
			    struct config_list *list, struct strbuf *why)
{
	struct config_list fresh = {NULL, 0};
	char *p = v;
	while (*p != '\0') {
		while (config_is_list_sep(*p))
			p++;
		if (*p == '\0')
			break;
		char *item = p;
		while (*p != '\0' && !config_is_list_sep(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
		if (fresh.count >= CONFIG_LIST_MAX) {
			strbuf_printf(why, "more than %d entries; a list holds at most %d",
				      CONFIG_LIST_MAX, CONFIG_LIST_MAX);
			goto fail;
		}
		char shown[CONFIG_SHOW_MAX + 1];
		size_t n = strlen(item);
		memcpy(shown, item, n > CONFIG_SHOW_MAX ? CONFIG_SHOW_MAX : n);
		shown[n > CONFIG_SHOW_MAX ? CONFIG_SHOW_MAX : n] = '\0';
		if (opt->check != NULL && !opt->check(item, why)) {
			/* Name the bad item: the rest of the list may be fine. */
			struct strbuf tmp;
			strbuf_init(&tmp, NULL, 0, CONFIG_WHY_MAX);
			strbuf_printf(&tmp, "item \"%s%s\": %s", shown, n > CONFIG_SHOW_MAX ? "..." : "",
				      strbuf_str(why));
			strbuf_reset(why);
			strbuf_puts(why, strbuf_str(&tmp));
			strbuf_free(&tmp);
			goto fail;
		}
		char **items = realloc(fresh.items, (fresh.count + 1) * sizeof *items);
		if (items == NULL)
			goto oom;
		fresh.items = items;
		if ((fresh.items[fresh.count] = strdup(item)) == NULL)
			goto oom;
		fresh.count++;
	}
	config_list_clear(list);
	*list = fresh;
	return true;
oom:
	strbuf_puts(why, "out of memory");
fail:
	config_list_clear(&fresh);
	return false;
}

static bool config_set_cidr(char *v, struct cidr_list *list, struct strbuf *why)
{
	struct cidr_list fresh = {NULL, 0};
	if (!cidr_list_parse(v, &fresh, why))
		return false;
	cidr_list_free(list);
	*list = fresh;
	return true;
}

static bool config_set_string(const struct config_option *opt, char *v, char **field,
			      struct strbuf *why)
{
	bool ok;
	if (*v == '\0')
		ok = opt->empty_ok;
	else if (opt->type == CONFIG_PATH)
		ok = config_path_ok(v);
	else if (!config_printable_utf8(v)) {
		strbuf_puts(why, "expected printable UTF-8 text without control characters");
		return false;
	} else
		ok = opt->check == NULL || opt->check(v, why);
	if (!ok) {
		if (strbuf_str(why)[0] == '\0')
			config_expect(opt, why);
		return false;
	}
	char *copy = strdup(v);
	if (copy == NULL) {
		strbuf_puts(why, "out of memory");
		return false;
	}
	free(*field);
	*field = copy;
	return true;
}

/* Sets opt in cfg from the text v (modified in place). On failure appends the
 * reason to why (empty on entry) and leaves the field as it was. */
static bool config_set(struct config *cfg, const struct config_option *opt, char *v,
		       struct strbuf *why)
{
	void *field = config_field(cfg, opt);
	long n;
	int w;
	unsigned m;
	switch (opt->type) {
	case CONFIG_BOOL:
		if (!config_parse_word(opt->words, v, &w))
			break;
		*(bool *)field = w != 0;
		return true;
	case CONFIG_INT:
		if (!config_parse_int(v, opt->min, opt->max, &n))
			break;
		*(int *)field = (int)n;
		return true;
	case CONFIG_ENUM:
		if (!config_parse_word(opt->words, v, &w))
			break;
		*(int *)field = w;
		return true;
	case CONFIG_MODE:
		if (!config_parse_mode(v, &m))
			break;
		*(unsigned *)field = m;
		return true;
	case CONFIG_STRING:
	case CONFIG_PATH:
		return config_set_string(opt, v, field, why);
	case CONFIG_LIST:
		return config_set_list(opt, v, field, why);
	case CONFIG_CIDR_LIST:
		return config_set_cidr(v, field, why);
	}
	config_expect(opt, why);
	return false;
}

/* ---- Defaults, free ------------------------------------------------------ */

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		const struct config_option *opt = &config_options[i];
		void *field = config_field(cfg, opt);
		switch (opt->type) {
		case CONFIG_STRING:
		case CONFIG_PATH:
			free(*(char **)field);
			break;
		case CONFIG_LIST:
			config_list_clear(field);
			break;
		case CONFIG_CIDR_LIST:
			cidr_list_free(field);
			break;
		default:
			break;
		}
	}
	memset(cfg, 0, sizeof *cfg);
}

/* The computed default of AuthservID: this host's name. */
static void config_default_authserv_id(char *buf, size_t len)
{
	struct strbuf why;
	strbuf_init(&why, NULL, 0, CONFIG_WHY_MAX);
	if (gethostname(buf, len - 1) != 0)
		buf[0] = '\0';
	buf[len - 1] = '\0';
	if (!config_check_authserv_id(buf, &why))
		memcpy(buf, "localhost", sizeof "localhost");
	strbuf_free(&why);
}

bool config_defaults(struct config *cfg)
{
	char host[CONFIG_HOSTNAME_MAX + 1];
	char text[CONFIG_LINE_MAX + 1];
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		const struct config_option *opt = &config_options[i];
		const char *def = opt->default_text;
		if (def == NULL) {
			config_default_authserv_id(host, sizeof host);
			def = host;
		}
		struct strbuf why;
		strbuf_init(&why, NULL, 0, CONFIG_WHY_MAX);
		size_t len = strlen(def);
		/* A failure here is an out-of-memory (the table's defaults are
		 * valid: config_test checks every one). */
		bool ok = len < sizeof text;
		if (ok) {
			memcpy(text, def, len + 1);
			ok = config_set(cfg, opt, text, &why);
		}
		strbuf_free(&why);
		if (!ok) {
			config_free(cfg);
			return false;
		}
	}
	return true;
}

/* ---- The parser ---------------------------------------------------------- */

/* State of one load: where we are, for messages. */
struct config_reader {
	const char *name;          /* file name for messages */
	unsigned line_no;          /* current line, from 1 */
	unsigned seen[CONFIG_NROWS]; /* line where each option was set; 0 = not set */
	struct strbuf *err;
};

/* Appends s (len bytes) for a message: at most CONFIG_SHOW_MAX bytes, with
 * control and non-ASCII bytes as \xNN, so no message carries raw bytes. */
static void config_show(struct strbuf *out, const char *s, size_t len)
{
	size_t n = len > CONFIG_SHOW_MAX ? CONFIG_SHOW_MAX : len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			strbuf_printf(out, "\\x%02x", c);
		else
			strbuf_putc(out, (char)c);
	}
	if (n < len)
		strbuf_puts(out, "...");
}

/* Starts an error line "name:line: ". */
static void config_error_at(struct config_reader *rd)
{
	strbuf_printf(rd->err, "%s:%u: ", rd->name, rd->line_no);
}

/* Extracts the value of a line: after the key and its blanks (p), up to a
 * trailing comment and without trailing blanks; or the text between quotes.
 * On success *value is NUL-terminated inside the line. */
static bool config_split_value(struct config_reader *rd, const struct config_option *opt,
			       char *p, char **value)
{
	if (*p == '"') {
		char *close = strchr(p + 1, '"');
		if (close == NULL) {
			config_error_at(rd);
			strbuf_printf(rd->err, "%s: missing closing quote; a quoted value ends with \" on the same line",
				      opt->name);
			return false;
		}
		char *after = close + 1;
		while (config_is_blank(*after))
			after++;
		if (*after != '\0' && !(*after == '#' && config_is_blank(after[-1]))) {
			config_error_at(rd);
			strbuf_printf(rd->err, "%s: text after the closing quote; quote the whole value",
				      opt->name);
			return false;
		}
		*close = '\0';
		*value = p + 1;
		return true;
	}
	char *end = p;
	while (*end != '\0' && !(*end == '#' && end > p && config_is_blank(end[-1])))
		end++;
	while (end > p && config_is_blank(end[-1]))
		end--;
	*end = '\0';
	*value = p;
	return true;
}

/* Handles one line (NUL-terminated, without its line end). */
static bool config_line(struct config_reader *rd, struct config *cfg, char *line)
{
	char *p = line;
	while (config_is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return true;
	char *key = p;
	while (*p != '\0' && !config_is_blank(*p))
		p++;
	size_t key_len = (size_t)(p - key);
	bool has_blank = *p != '\0';
	*p = '\0';
	if (has_blank)
		p++;
	while (config_is_blank(*p))
		p++;
	const struct config_option *opt = config_option_find(key);
	if (opt == NULL) {
		config_error_at(rd);
		strbuf_puts(rd->err, "unknown option \"");
		config_show(rd->err, key, key_len);
		strbuf_puts(rd->err, "\"; see dmarc-milter.conf(5) for the option names");
		return false;
	}
	size_t idx = (size_t)(opt - config_options);
	if (rd->seen[idx] != 0) {
		config_error_at(rd);
		strbuf_printf(rd->err, "%s: set twice (first on line %u); keep one of the two lines",
			      opt->name, rd->seen[idx]);
		return false;
	}
	if (*p == '\0' || *p == '#') {
		config_error_at(rd);
		strbuf_printf(rd->err, "%s: no value; ", opt->name);
		config_expect(opt, rd->err);
		if (opt->empty_ok)
			strbuf_puts(rd->err, " (or \"\" for none)");
		return false;
	}
	char *value;
	if (!config_split_value(rd, opt, p, &value))
		return false;
	char why_stack[256];
	struct strbuf why;
	strbuf_init(&why, why_stack, sizeof why_stack, CONFIG_WHY_MAX);
	char shown[CONFIG_LINE_MAX + 1];
	size_t value_len = strlen(value);
	memcpy(shown, value, value_len + 1); /* config_set may change value in place */
	bool ok = config_set(cfg, opt, value, &why);
	if (!ok) {
		config_error_at(rd);
		strbuf_printf(rd->err, "%s \"", opt->name);
		config_show(rd->err, shown, value_len);
		strbuf_printf(rd->err, "\": %s", strbuf_failed(&why) ? "invalid value" : strbuf_str(&why));
	}
	strbuf_free(&why);
	if (ok)
		rd->seen[idx] = rd->line_no;
	return ok;
}

/* Checks that involve more than one option. */
static bool config_cross_check(struct config_reader *rd, const struct config *cfg)
{
	if (cfg->dns_message_timeout_sec < cfg->dns_timeout_sec) {
		const struct config_option *mt = config_option_find("DNSMessageTimeout");
		const struct config_option *qt = config_option_find("DNSTimeout");
		unsigned line = rd->seen[mt - config_options];
		rd->line_no = line != 0 ? line : rd->seen[qt - config_options];
		config_error_at(rd);
		strbuf_printf(rd->err, "DNSMessageTimeout \"%d\": must be at least DNSTimeout (%d seconds); raise it or lower DNSTimeout",
			      cfg->dns_message_timeout_sec, cfg->dns_timeout_sec);
		return false;
	}
	return true;
}

bool config_load_buffer(const char *text, size_t len, const char *name,
			struct config *cfg, struct strbuf *err)
{
	struct config_reader rd;
	char line[CONFIG_LINE_MAX + 2];
	memset(&rd, 0, sizeof rd);
	rd.name = name;
	rd.err = err;
	if (!config_defaults(cfg)) {
		strbuf_printf(err, "%s: out of memory", name);
		return false;
	}
	size_t pos = 0;
	bool ok = true;
	while (ok && pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;
		pos += n + (nl != NULL);
		rd.line_no++;
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (n > CONFIG_LINE_MAX) {
			config_error_at(&rd);
			strbuf_printf(err, "line longer than %d bytes; shorten it", CONFIG_LINE_MAX);
			ok = false;
		} else if (memchr(start, '\0', n) != NULL) {
			config_error_at(&rd);
			strbuf_puts(err, "NUL byte in the line; the file must be text");
			ok = false;
		} else {
			memcpy(line, start, n);
			line[n] = '\0';
			ok = config_line(&rd, cfg, line);
		}
	}
	if (ok)
		ok = config_cross_check(&rd, cfg);
	if (!ok)
		config_free(cfg);
	return ok;
}

bool config_load(const char *path, struct config *cfg, struct strbuf *err)
{
	memset(cfg, 0, sizeof *cfg);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		strbuf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return false;
	}
	struct strbuf text;
	strbuf_init(&text, NULL, 0, CONFIG_FILE_MAX);
	bool read_error = !strbuf_add_file(&text, f) && !strbuf_failed(&text);
	int saved_errno = errno;
	fclose(f);
	bool ok = false;
	if (read_error)
		strbuf_printf(err, "cannot read %s: %s", path, strerror(saved_errno));
	else if (strbuf_failed(&text))
		strbuf_printf(err, "%s: larger than %d bytes (or out of memory); is it the right file?",
			      path, CONFIG_FILE_MAX);
	else
		ok = config_load_buffer(strbuf_str(&text), text.len, path, cfg, err);
	strbuf_free(&text);
	return ok;
}

/* ---- Output -------------------------------------------------------------- */

/* True when s must be quoted to read back as itself. */
static bool config_needs_quotes(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || s[0] == '#' || s[0] == '"' || config_is_blank(s[0]) ||
	    config_is_blank(s[len - 1]))
		return true;
	for (size_t i = 1; i < len; i++)
		if (s[i] == '#' && config_is_blank(s[i - 1]))
			return true;
	return false;
}

bool config_list_join(const struct config_list *list, const char *sep, struct strbuf *out)
{
	for (size_t i = 0; i < list->count; i++) {
		if (i > 0)
			strbuf_puts(out, sep);
		strbuf_puts(out, list->items[i]);
	}
	return !strbuf_failed(out);
}

bool config_list_contains(const struct config_list *list, const char *value)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcasecmp(list->items[i], value) == 0)
			return true;
	return false;
}

bool config_format_value(const struct config *cfg, const struct config_option *opt,
			 struct strbuf *out)
{
	const void *field = config_field_const(cfg, opt);
	struct strbuf v;
	strbuf_init(&v, NULL, 0, CONFIG_FILE_MAX);
	switch (opt->type) {
	case CONFIG_BOOL:
		strbuf_puts(&v, *(const bool *)field ? "yes" : "no");
		break;
	case CONFIG_INT:
		strbuf_printf(&v, "%d", *(const int *)field);
		break;
	case CONFIG_ENUM:
		strbuf_puts(&v, config_enum_name(opt, *(const int *)field));
		break;
	case CONFIG_MODE:
		strbuf_printf(&v, "%03o", *(const unsigned *)field);
		break;
	case CONFIG_STRING:
	case CONFIG_PATH: {
		const char *s = *(char *const *)field;
		strbuf_puts(&v, s != NULL ? s : "");
		break;
	}
	case CONFIG_LIST:
		config_list_join(field, ", ", &v);
		break;
	case CONFIG_CIDR_LIST:
		cidr_list_format(field, &v);
		break;
	}
	bool quote = config_needs_quotes(strbuf_str(&v));
	if (quote)
		strbuf_putc(out, '"');
	strbuf_puts(out, strbuf_str(&v));
	if (quote)
		strbuf_putc(out, '"');
	bool ok = !strbuf_failed(&v);
	strbuf_free(&v);
	return ok && !strbuf_failed(out);
}

bool config_dump(const struct config *cfg, FILE *out)
{
	bool ok = true;
	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		struct strbuf line;
		strbuf_init(&line, NULL, 0, CONFIG_FILE_MAX);
		strbuf_printf(&line, "%-27s ", config_options[i].name);
		ok = config_format_value(cfg, &config_options[i], &line) && ok;
		strbuf_putc(&line, '\n');
		if (fputs(strbuf_str(&line), out) == EOF)
			ok = false;
		strbuf_free(&line);
	}
	return ok;
}
