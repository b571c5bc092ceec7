/* event-gen: inserts events described on standard input into an event
 * database, for the dmarc-reporter tests (tests/reporter/reporter_test.sh).
 *
 * usage: event-gen DB [DAY]
 *   DAY: YYYY-MM-DD, or -N for N UTC days before today (default -1).
 *
 * One event per input line ("#" lines and blank lines are ignored), as
 * blank-separated key=value fields; values may carry \xHH escapes (\x20 is a
 * space, \x0a a line feed), and "-" stands for an absent (NULL) field:
 *   n=COUNT        insert COUNT identical events (default 1)
 *   day=DAY        this line's UTC day (as the DAY argument)
 *   sec=SECONDS    seconds into the day (default 43200, noon UTC)
 *   ip helo efrom eto hfrom qid         client and identifiers
 *   pdom origin method org              policy domain (default hfrom), ...
 *   p sp np adkim aspf fo t psd pct rua ruf   the published record
 *   spf spf_domain spf_scope spf_aligned=0|1
 *   dkim=DOMAIN/SELECTOR/RESULT/ALIGNED[/HUMAN]   repeatable, in order
 *   dkim_aligned=0|1   (default: 1 when a dkim= entry is an aligned pass)
 *   dmarc policy disp override comment
 * Defaults: ip 192.0.2.1, hfrom example.com, p none, method treewalk,
 * origin author, spf none, disp none, dmarc pass when SPF or DKIM is
 * aligned, else fail. Prints "N events" on success; exit 1 on any error
 * (with the line number). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event_store.h"
#include "strbuf.h"

#define GEN_LINE_MAX 65536
#define GEN_BATCH 1000

/* "YYYY-MM-DD" or "-N" -> UTC day number. */
static bool parse_day(const char *s, long long *day)
{
	if (s[0] == '-') {
		char *end = NULL;
		long n = strtol(s + 1, &end, 10);
		if (end == s + 1 || *end != '\0' || n < 0 || n > 100000)
			return false;
		*day = (long long)(time(NULL) / 86400) - n;
		return true;
	}
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return false;
	*day = (long long)timegm(&tm) / 86400;
	return true;
}

/* Decodes \xHH escapes in place; false on a malformed escape. */
static bool unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r != '\0'; r++) {
		if (r[0] == '\\' && r[1] == 'x' && isxdigit((unsigned char)r[2]) &&
		    isxdigit((unsigned char)r[3])) {
			char hex[3] = { r[2], r[3], '\0' };
			*w++ = (char)strtol(hex, NULL, 16);
			r += 3;
		} else if (r[0] == '\\') {
			return false;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return true;
}

/* The text field a key names, or NULL. */
static char **text_field(struct msg_event *ev, const char *key)
{
	static const struct { const char *key; size_t off; } map[] = {
		{ "ip", offsetof(struct msg_event, client_ip) },
		{ "helo", offsetof(struct msg_event, helo) },
		{ "efrom", offsetof(struct msg_event, envelope_from) },
		{ "eto", offsetof(struct msg_event, envelope_to) },
		{ "hfrom", offsetof(struct msg_event, header_from) },
		{ "qid", offsetof(struct msg_event, queue_id) },
		{ "pdom", offsetof(struct msg_event, policy_domain) },
		{ "origin", offsetof(struct msg_event, policy_origin) },
		{ "method", offsetof(struct msg_event, discovery_method) },
		{ "org", offsetof(struct msg_event, org_domain) },
		{ "p", offsetof(struct msg_event, p) },
		{ "sp", offsetof(struct msg_event, sp) },
		{ "np", offsetof(struct msg_event, np) },
		{ "adkim", offsetof(struct msg_event, adkim) },
		{ "aspf", offsetof(struct msg_event, aspf) },
		{ "fo", offsetof(struct msg_event, fo) },
		{ "t", offsetof(struct msg_event, t) },
		{ "psd", offsetof(struct msg_event, psd) },
		{ "rua", offsetof(struct msg_event, rua) },
		{ "ruf", offsetof(struct msg_event, ruf) },
		{ "spf", offsetof(struct msg_event, spf_result) },
		{ "spf_domain", offsetof(struct msg_event, spf_domain) },
		{ "spf_scope", offsetof(struct msg_event, spf_scope) },
		{ "dmarc", offsetof(struct msg_event, dmarc_result) },
		{ "policy", offsetof(struct msg_event, policy_applied) },
		{ "disp", offsetof(struct msg_event, disposition) },
		{ "override", offsetof(struct msg_event, override_type) },
		{ "comment", offsetof(struct msg_event, override_comment) },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].key, key) == 0)
			return (char **)((char *)ev + map[i].off);
	return NULL;
}

/* dkim=DOMAIN/SELECTOR/RESULT/ALIGNED[/HUMAN] */
static bool add_dkim(struct msg_event *ev, char *v, bool *any_aligned_pass)
{
	char *f[5] = { NULL, NULL, NULL, NULL, NULL };
	char *cur = v;
	for (int i = 0; i < 5 && cur != NULL; i++)
		f[i] = strsep(&cur, "/");
	if (f[3] == NULL || cur != NULL)
		return false;
	for (int i = 0; i < 5; i++)
		if (f[i] != NULL && !unescape(f[i]))
			return false;
	bool aligned = strcmp(f[3], "1") == 0;
	if (aligned && strcmp(f[2], "pass") == 0)
		*any_aligned_pass = true;
	return msg_event_add_dkim(ev, f[0], f[1], f[2], f[4], aligned);
}

/* Fills ev from one line; *count gets n=, *day the day to use. */
static bool parse_line(char *line, struct msg_event *ev, long *count, long long *day,
		       long *sec, struct strbuf *why)
{
	bool dkim_set = false, dkim_pass = false, dmarc_set = false;
	bool pdom_set = false;
	for (char *tok = strtok(line, " \t\r\n"); tok != NULL; tok = strtok(NULL, " \t\r\n")) {
		char *eq = strchr(tok, '=');
		if (eq == NULL) {
			strbuf_printf(why, "\"%s\": expected key=value", tok);
			return false;
		}
		*eq = '\0';
		char *key = tok, *v = eq + 1;
		char **field;
		if (strcmp(key, "dkim") == 0) {
			if (!add_dkim(ev, v, &dkim_pass)) {
				strbuf_puts(why, "dkim: expected DOMAIN/SELECTOR/RESULT/0|1[/HUMAN]");
				return false;
			}
		} else if (strcmp(key, "n") == 0) {
			*count = strtol(v, NULL, 10);
		} else if (strcmp(key, "day") == 0) {
			if (!parse_day(v, day)) {
				strbuf_printf(why, "day \"%s\": expected YYYY-MM-DD or -N", v);
				return false;
			}
		} else if (strcmp(key, "sec") == 0) {
			*sec = strtol(v, NULL, 10);
		} else if (strcmp(key, "pct") == 0) {
			ev->pct = strcmp(v, "-") == 0 ? -1 : atoi(v);
		} else if (strcmp(key, "spf_aligned") == 0) {
			ev->spf_aligned = strcmp(v, "1") == 0;
		} else if (strcmp(key, "dkim_aligned") == 0) {
			ev->dkim_aligned = strcmp(v, "1") == 0;
			dkim_set = true;
		} else if ((field = text_field(ev, key)) != NULL) {
			if (!unescape(v)) {
				strbuf_printf(why, "%s: bad \\ escape", key);
				return false;
			}
			if (!msg_event_set(field, strcmp(v, "-") == 0 ? NULL : v)) {
				strbuf_printf(why, "%s: too long or out of memory", key);
				return false;
			}
			dmarc_set |= strcmp(key, "dmarc") == 0;
			pdom_set |= strcmp(key, "pdom") == 0;
		} else {
			strbuf_printf(why, "unknown key \"%s\"", key);
			return false;
		}
	}
	if (!dkim_set)
		ev->dkim_aligned = dkim_pass;
	if (!pdom_set && !msg_event_set(&ev->policy_domain, ev->header_from))
		return false;
	if (!dmarc_set &&
	    !msg_event_set(&ev->dmarc_result, ev->spf_aligned || ev->dkim_aligned ? "pass" : "fail"))
		return false;
	return true;
}

static struct msg_event *new_default(void)
{
	struct msg_event *ev = msg_event_new();
	if (ev == NULL)
		return NULL;
	bool ok = msg_event_set(&ev->client_ip, "192.0.2.1") &&
		  msg_event_set(&ev->header_from, "example.com") &&
		  msg_event_set(&ev->p, "none") && msg_event_set(&ev->discovery_method, "treewalk") &&
		  msg_event_set(&ev->policy_origin, "author") &&
		  msg_event_set(&ev->spf_result, "none") && msg_event_set(&ev->disposition, "none") &&
		  msg_event_set(&ev->queue_id, "GEN0001");
	if (!ok) {
		msg_event_free(ev);
		return NULL;
	}
	return ev;
}

/* A copy of src (all fields) for n= repetitions. */
static struct msg_event *event_copy(const struct msg_event *src)
{
	struct msg_event *ev = msg_event_new();
	if (ev == NULL)
		return NULL;
	char **dst_fields[] = {
		&ev->queue_id, &ev->client_ip, &ev->helo, &ev->envelope_from,
		&ev->envelope_to, &ev->header_from, &ev->policy_domain,
		&ev->policy_origin, &ev->discovery_method, &ev->org_domain,
		&ev->p, &ev->sp, &ev->np, &ev->adkim, &ev->aspf, &ev->fo, &ev->t,
		&ev->psd, &ev->rua, &ev->ruf, &ev->spf_result, &ev->spf_domain,
		&ev->spf_scope, &ev->dmarc_result, &ev->policy_applied,
		&ev->disposition, &ev->override_type, &ev->override_comment,
	};
	char *const src_fields[] = {
		src->queue_id, src->client_ip, src->helo, src->envelope_from,
		src->envelope_to, src->header_from, src->policy_domain,
		src->policy_origin, src->discovery_method, src->org_domain,
		src->p, src->sp, src->np, src->adkim, src->aspf, src->fo, src->t,
		src->psd, src->rua, src->ruf, src->spf_result, src->spf_domain,
		src->spf_scope, src->dmarc_result, src->policy_applied,
		src->disposition, src->override_type, src->override_comment,
	};
	bool ok = true;
	for (size_t i = 0; i < sizeof src_fields / sizeof src_fields[0]; i++)
		ok = ok && msg_event_set(dst_fields[i], src_fields[i]);
	for (size_t i = 0; ok && i < src->ndkim; i++) {
		const struct msg_event_dkim *d = &src->dkim[i];
		ok = msg_event_add_dkim(ev, d->domain, d->selector, d->result,
				    d->human_result, d->aligned);
	}
	ev->time = src->time;
	ev->pct = src->pct;
	ev->spf_aligned = src->spf_aligned;
	ev->dkim_aligned = src->dkim_aligned;
	if (!ok) {
		msg_event_free(ev);
		return NULL;
	}
	return ev;
}

static bool flush(struct event_store *st, struct msg_event **batch, size_t *n,
		  struct strbuf *err)
{
	bool ok = *n == 0 || event_store_insert(st, batch, *n, err);
	for (size_t i = 0; i < *n; i++)
		msg_event_free(batch[i]);
	*n = 0;
	return ok;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: event-gen DB [YYYY-MM-DD|-N] < events\n");
		return 2;
	}
	long long def_day;
	if (!parse_day(argc > 2 ? argv[2] : "-1", &def_day)) {
		fprintf(stderr, "event-gen: day \"%s\": expected YYYY-MM-DD or -N\n", argv[2]);
		return 2;
	}
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	struct event_store *st = NULL;
	if (!event_store_open(argv[1], 5000, &st, &err)) {
		fprintf(stderr, "event-gen: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return 1;
	}
	static char line[GEN_LINE_MAX];
	struct msg_event *batch[GEN_BATCH];
	size_t nb = 0;
	long lineno = 0, total = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, stdin) != NULL) {
		lineno++;
		char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		struct msg_event *ev = new_default();
		long count = 1, sec = 43200;
		long long day = def_day;
		strbuf_reset(&err);
		if (ev == NULL || !parse_line(p, ev, &count, &day, &sec, &err)) {
			fprintf(stderr, "event-gen: line %ld: %s\n", lineno,
				ev == NULL ? "out of memory" : strbuf_str(&err));
			msg_event_free(ev);
			rc = 1;
			break;
		}
		ev->time = (int64_t)day * 86400 + sec;
		for (long i = 0; rc == 0 && i < count; i++) {
			struct msg_event *e = event_copy(ev);
			if (e == NULL) {
				fprintf(stderr, "event-gen: out of memory\n");
				rc = 1;
				break;
			}
			batch[nb++] = e;
			total++;
			if (nb == GEN_BATCH && !flush(st, batch, &nb, &err)) {
				fprintf(stderr, "event-gen: %s\n", strbuf_str(&err));
				rc = 1;
			}
		}
		msg_event_free(ev);
	}
	if (rc == 0 && !flush(st, batch, &nb, &err)) {
		fprintf(stderr, "event-gen: %s\n", strbuf_str(&err));
		rc = 1;
	}
	for (size_t i = 0; i < nb; i++)
		msg_event_free(batch[i]);
	if (rc == 0)
		printf("%ld events\n", total);
	event_store_close(st);
	strbuf_free(&err);
	return rc;
}
