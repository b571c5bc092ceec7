/* milter.h: the per-connection and per-message state of dmarc-milter, and
 * the outcome of a message as the MTA (or test mode) applies it.
 *
 * Flow (DESIGN.md): connect -> HELO -> MAIL -> RCPT -> header* -> EOH ->
 * body* -> EOM. milter/pipeline.c holds the steps and is the only place that
 * evaluates a message; milter/callbacks.c (libmilter) and milter/testmode.c
 * (-t) both drive it and apply the struct outcome it returns.
 *
 * Ownership: a conn_ctx lives from connect to close, a msg_ctx from MAIL to
 * EOM/abort (or close); everything a msg_ctx points to comes from its arena
 * or is released by msg_free() (pipeline.c). A connection holds one
 * reference to the configuration snapshot it started with.
 * Thread safety: one connection = one libmilter thread; no sharing. */
#ifndef DMARC_MILTER_MILTER_H
#define DMARC_MILTER_MILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_types.h"
#include "authres.h"
#include "dmarc_check.h"
#include "dmarc_eval.h"
#include "from_header.h"
#include "spf_check.h"

#include "arena.h"
#include "dkim_glue.h"
#include "snapshot.h"

#define MSG_MAX_FROM (FROM_MAX_FIELDS + 1) /* From values kept: one more than
					      the parser reads, so it can say
					      "too many" */
#define MSG_MAX_DELETES 256     /* our forged headers deleted per message */
#define MSG_MAX_EDITS (MSG_MAX_DELETES + 8)

/* Names of the headers we add (and, for the verdicts, delete when they come
 * in from outside: they carry no authserv-id to tell whose they are). */
#define HDR_AR "Authentication-Results"
#define HDR_RECEIVED_SPF "Received-SPF"
#define HDR_SPF_VERDICT "X-SPF-Verdict"
#define HDR_DKIM_VERDICT "X-DKIM-Verdict"
#define HDR_DMARC_VERDICT "X-DMARC-Verdict"
#define HDR_DMARC_POLICY "X-DMARC-Policy"

/* One header field to delete (by its 1-based occurrence among fields of
 * that name, as smfi_chgheader() counts) or to add on top. */
struct header_edit {
	bool del;           /* true: delete; false: insert at the top */
	const char *name;   /* static */
	unsigned index;     /* del: occurrence number (1 = first of that name) */
	const char *value;  /* insert: the value (no leading space); del: the
			       value seen, for test mode; arena */
};

enum outcome_action {
	OUTCOME_ACCEPT = 0,
	OUTCOME_QUARANTINE,  /* accept, and hold it in the MTA's quarantine */
	OUTCOME_REJECT,      /* 5xx */
	OUTCOME_TEMPFAIL,    /* 4xx */
};

/* What to do with a message at EOM. */
struct outcome {
	enum outcome_action action;
	const char *rcode;        /* "550" / "451" for REJECT / TEMPFAIL */
	const char *xcode;        /* "5.7.1" / "4.7.1" */
	const char *text;         /* reply text (arena) */
	const char *quarantine_reason; /* QUARANTINE (arena) */
	/* Deletions first, highest occurrence first (indexes stay valid), then
	 * the additions in display order: edits[ndel] is the top field, so an
	 * applier that inserts at index 0 walks the additions backwards. */
	struct header_edit edits[MSG_MAX_EDITS];
	size_t nedits;
	size_t ndel;              /* deletions at the front of edits[] */
	const char *skip_reason;  /* the message was not evaluated (static) */
};

/* One DKIM signature as we report it (strings in the message arena). */
struct verdict_sig {
	enum auth_dkim result;
	const char *domain;
	const char *selector;
	const char *b;
	const char *reason;
};

/* The evaluation of one message: SPF, DKIM, DMARC, and our decisions. */
struct verdict {
	struct spf_outcome spf;       /* owned; spf_outcome_clear() */
	bool spf_done;
	struct verdict_sig *sigs;     /* nsigs entries, arena */
	size_t nsigs;
	struct dmarc_check_result dmarc; /* owned; dmarc_check_result_clear() */
	bool dmarc_done;
	enum auth_dmarc result;       /* overall, after message-level rules */
	enum dmarc_policy policy;     /* published policy that applies (decisive) */
	enum dmarc_policy disposition;/* after local overrides */
	const char *override;         /* NULL, "trusted_forwarder", "mailing_list" */
	const char *policy_domain;    /* for the reply and quarantine text */
	const char *reason;           /* short account for the log (arena) */
	enum authres_verdict spf_verdict, dkim_verdict, dmarc_verdict;
};

struct msg_ctx {
	struct arena arena;           /* every string below */
	const char *qid;              /* MTA queue id, "" until known */
	const char *mail_from;        /* envelope sender without <>; "" = null */
	const char *rcpt_domain;      /* domain of the first recipient, or NULL */
	bool authenticated;           /* {auth_authen} was set */
	const char *skip_reason;      /* static text: do not evaluate */
	bool oom;                     /* an allocation failed: TEMPFAIL */
	bool dkim_failed_setup;       /* the verifier could not start */

	const char *from_values[MSG_MAX_FROM]; /* raw From values (arena) */
	size_t from_lens[MSG_MAX_FROM];
	size_t nfrom;                 /* From fields seen (may exceed MSG_MAX_FROM) */
	const char *list_id;          /* first List-Id value, or NULL */
	size_t nheaders;              /* header fields seen */
	struct from_result from;      /* parsed at EOH; from_result_free() */
	bool from_parsed;

	/* Per name, the occurrences counted so far, and the edits found. */
	unsigned ar_seen, spfv_seen, dkimv_seen, dmarcv_seen, polv_seen;
	struct header_edit dels[MSG_MAX_DELETES];
	size_t ndels;
	bool too_many_deletes;        /* more forged fields than we can delete */

	struct dkim_glue *dkim;       /* the DKIM verifier of this message */
	bool body_wanted;             /* DKIM still needs body chunks */
	struct verdict v;
};

struct conn_ctx {
	struct snapshot *snap;        /* reference held from connect to close */
	struct arena arena;           /* connection strings */
	const char *client_addr;      /* textual IP address, "" when unknown */
	const char *client_host;      /* host name the MTA gives, or "" */
	const char *helo;             /* HELO/EHLO argument, "" until given */
	const char *skip_reason;      /* static: the whole connection is skipped */
	bool leadspc;                 /* header values keep their leading space */
	struct spf_checker *spf;      /* created on first use */
	struct dmarc_sampler sampler; /* RFC 7489 pct draws */
	struct msg_ctx *msg;          /* the message in progress, or NULL */
	unsigned long messages;       /* messages started on this connection */
};

#endif
