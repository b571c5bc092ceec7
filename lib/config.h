/* config: the configuration file shared by dmarc-milter and dmarc-reporter.
 *
 * Every option is one row of a single table (lib/config.c, STYLE.md §8): name,
 * type, bounds or allowed words, default, the struct config field it sets and
 * a one-line help. The parser, config_dump() (`dmarc-milter -n`), the man page
 * test and the sample-file test all read that table through config_table().
 *
 * File syntax (documented in dmarc-milter.conf(5)):
 *   - one "Key value" per line; Key and value separated by spaces or tabs;
 *     keys are case-insensitive (OpenDMARC-compatible names);
 *   - "#" at the start of a line (after optional blanks) makes a comment line;
 *     " #" (a "#" after a blank) outside quotes starts a trailing comment;
 *     a "#" inside a word ("a#b") is part of the value;
 *   - blank lines are ignored; LF or CRLF line ends; trailing blanks ignored;
 *   - a value may be wrapped in double quotes to keep "#" or outer blanks;
 *     there are no escapes, so a quoted value cannot contain '"'; "" is an
 *     explicit empty value, allowed only for options whose default is empty;
 *   - booleans: yes/no, true/false, on/off, 1/0 (case-insensitive);
 *   - lists: items separated by commas and/or blanks;
 *   - modes (UMask): octal, 0-0777;
 *   - paths must be absolute (the daemon changes directory to /).
 *   Errors: an unknown key, a key without a value, a bad value, a key given
 *   twice, a line over CONFIG_LINE_MAX bytes, a NUL byte.
 *
 * Callers: milter/main.c, reporter/main.c, tests.
 * Ownership: config_defaults()/config_load() fill a caller's struct config
 *   whose strings and arrays are owned by it; config_free() releases them.
 *   config_table() returns a borrowed static table (valid forever).
 * Errors: config_load() returns false and appends one line to err, e.g.
 *   /etc/dmarc-milter.conf:14: DNSTimeout "0": expected a whole number of seconds from 1 to 60
 *   On failure *cfg holds nothing to free (config_free() is still safe).
 * Limits: lines at most CONFIG_LINE_MAX bytes, files at most CONFIG_FILE_MAX
 *   bytes, lists at most CONFIG_LIST_MAX entries.
 * Never logs, never exits; no global mutable state. */
#ifndef DMARC_CONFIG_H
#define DMARC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "auth_types.h"
#include "cidr.h"
#include "strbuf.h"

#define CONFIG_LINE_MAX 4096          /* bytes per line, without the line end */
#define CONFIG_FILE_MAX (1024 * 1024) /* bytes per file */
#define CONFIG_LIST_MAX 1024          /* entries per list option */

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* The default configuration file. */
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/dmarc-milter.conf"

/* LogLevel values, in increasing verbosity. */
enum config_log_level {
	CONFIG_LOG_ERROR = 0,
	CONFIG_LOG_WARNING,
	CONFIG_LOG_INFO,
	CONFIG_LOG_DEBUG,
};

/* MissingFromAction: no From field, or no parsable author domain. */
enum config_missing_from {
	CONFIG_MISSING_FROM_ACCEPT = 0,
	CONFIG_MISSING_FROM_REJECT,
	CONFIG_MISSING_FROM_TEMPFAIL,
};

/* A list option's value: count strings, each owned by the list. */
struct config_list {
	char **items;
	size_t count;
};

/* The effective configuration. Fields are in the order of the table; the
 * comment names the option. Enum-valued options are stored as int holding
 * the named enum. Empty string options are "" (never NULL after
 * config_defaults()/config_load()). */
struct config {
	/* identity and process */
	char *authserv_id;             /* AuthservID; default: gethostname() */
	char *socket;                  /* Socket: inet:port@host | inet6:port@host | local:/path | unix:/path */
	char *user_id;                 /* UserID: "user" or "user:group"; "" = do not change */
	unsigned umask_mode;           /* UMask, 0-0777 */
	char *pid_file;                /* PidFile; "" = none */
	bool background;               /* Background */
	bool syslog;                   /* Syslog */
	int syslog_facility;           /* SyslogFacility, a LOG_* facility value of <syslog.h> */
	int log_level;                 /* LogLevel, enum config_log_level */

	/* which messages to look at */
	struct cidr_list ignore_hosts; /* IgnoreHosts */
	bool ignore_authenticated_clients; /* IgnoreAuthenticatedClients */
	struct config_list ignore_mail_from; /* IgnoreMailFrom: lower-case domains */

	/* actions */
	bool reject_failures;          /* RejectFailures */
	bool hold_quarantined_messages; /* HoldQuarantinedMessages */
	bool tempfail_on_dns_error;    /* TempFailOnDnsError */
	bool reject_multi_value_from;  /* RejectMultiValueFrom */
	int missing_from_action;       /* MissingFromAction, enum config_missing_from */
	struct cidr_list trusted_forwarders; /* TrustedForwarders (override "trusted_forwarder") */
	struct config_list mailing_list_ids; /* MailingListIds (override "mailing_list") */

	/* DMARC */
	int dmarc_standard;            /* DMARCStandard, enum dmarc_standard (auth_types.h) */
	char *public_suffix_list;      /* PublicSuffixList; "" = libpsl's built-in list */

	/* DNS */
	struct config_list nameservers; /* Nameservers: "addr" or "addr@port"; empty = resolv.conf */
	int dns_timeout_sec;           /* DNSTimeout, 1-60 */
	int dns_message_timeout_sec;   /* DNSMessageTimeout, 1-300, >= DNSTimeout */
	int dns_negative_cache_max_sec; /* DNSNegativeCacheMax, 0-86400 */

	/* DKIM */
	int dkim_max_signatures;       /* DKIMMaxSignatures, 1-100 */
	int dkim_min_key_bits;         /* DKIMMinKeyBits, 1024-8192 */

	/* headers added */
	bool add_received_spf;         /* AddReceivedSPF */
	bool add_authentication_results; /* AddAuthenticationResults */
	bool add_spf_verdict;          /* AddSPFVerdict (X-SPF-Verdict) */
	bool add_dkim_verdict;         /* AddDKIMVerdict (X-DKIM-Verdict) */
	bool add_dmarc_verdict;        /* AddDMARCVerdict (X-DMARC-Verdict) */
	bool add_dmarc_policy;         /* AddDMARCPolicy (X-DMARC-Policy) */

	/* event store */
	char *event_database;          /* EventDatabase */
	int event_queue_size;          /* EventQueueSize, 100-10000000 */
	int event_batch_rows;          /* EventBatchRows, 1-100000 */
	int event_batch_ms;            /* EventBatchMs, 10-10000 */
	int event_retention_days;      /* EventRetentionDays, 0-3650; 0 = keep */

	/* reports (dmarc-reporter) */
	char *report_org_name;         /* ReportOrgName */
	char *report_email;            /* ReportEmail */
	char *report_contact_info;     /* ReportContactInfo */
	char *report_sendmail;         /* ReportSendmail */
	char *report_smtp_host;        /* ReportSMTPHost; "" = use ReportSendmail */
	int report_smtp_port;          /* ReportSMTPPort, 1-65535 */
	int report_max_destinations;   /* ReportMaxDestinations, 1-50 */
	int report_max_per_run;        /* ReportMaxPerRun, 1-1000000 */
	int report_max_attempts;       /* ReportMaxAttempts, 1-100 */
	int report_max_size;           /* ReportMaxSize, bytes, 1024-1073741824 */
};

/* Option types. */
enum config_type {
	CONFIG_BOOL,      /* bool field */
	CONFIG_INT,       /* int field, min..max */
	CONFIG_STRING,    /* char * field */
	CONFIG_PATH,      /* char * field, absolute path (or "" when allowed) */
	CONFIG_LIST,      /* struct config_list field */
	CONFIG_CIDR_LIST, /* struct cidr_list field */
	CONFIG_ENUM,      /* int field, one of words[] */
	CONFIG_MODE,      /* unsigned field, octal 0-0777 */
};

/* One allowed word of an enum option. The table ends with name == NULL. */
struct config_word {
	const char *name;
	int value;
};

/* One row of the option table. */
struct config_option {
	const char *name;           /* as written in the file and the man page */
	enum config_type type;
	const char *default_text;   /* default in file syntax; NULL = computed (AuthservID) */
	long min, max;              /* CONFIG_INT bounds */
	const char *unit;           /* CONFIG_INT unit for messages ("seconds"), or NULL */
	const struct config_word *words; /* CONFIG_ENUM allowed words */
	bool empty_ok;              /* "" is a valid value (meaning "none" / "default") */
	/* Extra check of one value (of each item, for lists); may normalise it
	 * in place (e.g. lower-case a domain). Appends the "expected ..." text to
	 * why and returns false when invalid. NULL = none. */
	bool (*check)(char *value, struct strbuf *why);
	size_t offset;              /* offsetof(struct config, field) */
	const char *help;           /* one line */
};

/* The table: borrowed, static. *n gets the number of rows. */
const struct config_option *config_table(size_t *n);

/* Looks an option up by name (case-insensitive); NULL when unknown. */
const struct config_option *config_option_find(const char *name);

/* Fills cfg with every default (AuthservID from gethostname(); "localhost"
 * if that fails). false only when out of memory (cfg then holds nothing to
 * free). */
bool config_defaults(struct config *cfg);

/* Reads the file at path into cfg (defaults first, then the file's lines,
 * then cross-option checks). false with one line in err on any error.
 * *cfg is overwritten, not freed: to reload (SIGHUP), load into a fresh
 * struct and swap it in on success. */
bool config_load(const char *path, struct config *cfg, struct strbuf *err);

/* Same from a buffer (text need not be NUL-terminated; len bytes). name is
 * used in messages in place of the file name. */
bool config_load_buffer(const char *text, size_t len, const char *name,
			struct config *cfg, struct strbuf *err);

/* Releases every string and array; leaves *cfg zeroed. NULL is a no-op. */
void config_free(struct config *cfg);

/* Writes every effective value, one "Name value" line per table row, in file
 * syntax: the output loads again, except that a list written near the
 * CONFIG_LINE_MAX limit may come out longer than the limit (items are joined
 * by ", " and addresses get their /32 or /128). Returns false on a write
 * error. */
bool config_dump(const struct config *cfg, FILE *out);

/* Appends the effective value of one option in file syntax (quoted if it is
 * empty or needs quotes). */
bool config_format_value(const struct config *cfg, const struct config_option *opt,
			 struct strbuf *out);

/* Appends the items of a list joined by sep (e.g. Nameservers for
 * struct resolver_config: config_list_join(&cfg->nameservers, ",", &sb)). */
bool config_list_join(const struct config_list *list, const char *sep, struct strbuf *out);

/* True when value equals an item of list, ignoring ASCII case (for
 * IgnoreMailFrom domains and MailingListIds). */
bool config_list_contains(const struct config_list *list, const char *value);

/* The word of an enum option's value (e.g. "mail" for LOG_MAIL), or "?". */
const char *config_enum_name(const struct config_option *opt, int value);

#endif
