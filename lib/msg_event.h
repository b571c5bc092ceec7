/* msg_event: one evaluated message and author domain, as the event log keeps it.
 *
 * The milter fills one struct msg_event per (message, author domain) at EOM and
 * hands it to the event writer (lib/event_writer); the writer stores it with
 * lib/event_store; dmarc-reporter reads the rows back to build aggregate
 * reports (RFC 9990 §2 / RFC 7489 appendix C fields).
 *
 * Ownership: every char * field is owned by the event (NULL = unknown/absent);
 *   msg_event_new() -> new; caller frees with msg_event_free(), or hands it to
 *   event_writer_submit(), which takes ownership.
 * Limits: MSG_EVENT_MAX_DKIM signatures per event; text fields are copied with
 *   msg_event_set(), which caps each at MSG_EVENT_MAX_FIELD bytes (longer input is
 *   refused, the field stays NULL) and turns control bytes into spaces. */
#ifndef DMARC_MSG_EVENT_H
#define DMARC_MSG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSG_EVENT_MAX_DKIM 100     /* signatures kept per event (RFC 9990 caps at 100) */
#define MSG_EVENT_MAX_FIELD 4096   /* bytes per text field */

struct msg_event_dkim {
	char *domain;          /* d= (A-label) */
	char *selector;        /* s= */
	char *result;          /* "pass", "fail", ... (RFC 8601 words) */
	char *human_result;    /* reason text, may be NULL */
	bool aligned;          /* d= aligned with the author domain */
};

struct msg_event {
	int64_t time;          /* UTC, epoch seconds */
	char *queue_id;        /* MTA queue id */
	char *client_ip;       /* textual address of the SMTP client */
	char *helo;
	char *envelope_from;   /* domain of MAIL FROM (or HELO for a null sender) */
	char *envelope_to;     /* domain of the first RCPT TO */
	char *header_from;     /* author domain (A-label) */

	char *policy_domain;   /* where the DMARC record was found; NULL = none */
	char *policy_origin;   /* "author", "organizational", "public-suffix" */
	char *discovery_method;/* "treewalk" or "psl" */
	char *org_domain;      /* organizational domain of the author domain */

	/* the published policy record as seen (NULL = tag absent) */
	char *p, *sp, *np, *adkim, *aspf, *fo, *t, *psd;
	int pct;               /* -1 = absent */
	char *rua, *ruf;       /* the URI lists as published */

	char *spf_result;      /* RFC 8601 word */
	char *spf_domain;      /* the domain SPF checked */
	char *spf_scope;       /* "mfrom" or "helo" */
	bool spf_aligned;
	bool dkim_aligned;

	char *dmarc_result;    /* "pass", "fail", "none", "temperror", "permerror" */
	char *policy_applied;  /* the published policy for this message: p/sp/np value */
	char *disposition;     /* "none", "quarantine", "reject" */
	char *override_type;   /* RFC 7489/9990 PolicyOverrideType, NULL = none */
	char *override_comment;

	/* the verdict headers as added (NULL when switched off) */
	char *spf_verdict, *dkim_verdict, *dmarc_verdict, *policy_verdict;

	size_t ndkim;           /* signatures in dkim[] */
	size_t dkim_cap;        /* slots allocated in dkim[] */
	struct msg_event_dkim *dkim;/* grown by msg_event_add_dkim() */
};

/* new; caller frees with msg_event_free(). NULL when out of memory. */
struct msg_event *msg_event_new(void);

/* Frees ev and everything it owns; NULL is a no-op. */
void msg_event_free(struct msg_event *ev);

/* Sets *field to a copy of value (NULL clears it). false when out of memory
 * or value is longer than MSG_EVENT_MAX_FIELD (the field is then NULL). */
bool msg_event_set(char **field, const char *value);

/* Appends a DKIM signature; false when MSG_EVENT_MAX_DKIM are already kept or
 * memory runs out. */
bool msg_event_add_dkim(struct msg_event *ev, const char *domain, const char *selector,
		    const char *result, const char *human_result, bool aligned);

#endif
