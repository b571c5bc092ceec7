/* callbacks: libmilter glue, thin by design: collect, call the pipeline, act. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "strbuf.h"

#include "callbacks.h"
#include "log.h"
#include "pipeline.h"
#include "snapshot.h"

/* Per-connection private data: what was negotiated, and the pipeline's
 * connection (created at connect). */
struct cb_conn {
	unsigned long proto;   /* SMFIP_* flags agreed with the MTA */
	struct conn_ctx *c;
};

static atomic_uint inflight;

unsigned callbacks_inflight(void)
{
	return atomic_load(&inflight);
}

static struct cb_conn *cb_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* The answer for callbacks the MTA may have been told not to wait for. */
static sfsistat cb_cont(const struct cb_conn *cb, unsigned long nr_flag)
{
	return cb && (cb->proto & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static char *macro(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

static void msg_begin_count(struct conn_ctx *c)
{
	if (c->msg == NULL)
		atomic_fetch_add(&inflight, 1);
}

static void msg_end(struct conn_ctx *c)
{
	if (c->msg != NULL) {
		pipe_msg_end(c);
		atomic_fetch_sub(&inflight, 1);
	}
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	struct cb_conn *cb = cb_get(ctx);
	if (cb == NULL) {
		cb = calloc(1, sizeof *cb);
		if (cb == NULL)
			return SMFIS_TEMPFAIL;
		smfi_setpriv(ctx, cb);
	}
	const unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	*pf0 = want_actions & f0;
	if (f0 & SMFIF_SETSYMLIST)
		*pf0 |= SMFIF_SETSYMLIST;
	const unsigned long want_proto = SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HELO |
		SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_SKIP | SMFIP_HDR_LEADSPC;
	*pf1 = want_proto & f1;
	*pf2 = 0;
	*pf3 = 0;
	cb->proto = *pf1;
	if (*pf0 & SMFIF_SETSYMLIST) {
		(void)smfi_setsymlist(ctx, SMFIM_CONNECT, "{client_addr} {daemon_name} j");
		(void)smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		(void)smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i");
		(void)smfi_setsymlist(ctx, SMFIM_EOH, "i");
		(void)smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

/* The client address as text: {client_addr}, else the socket address. */
static void client_addr(SMFICTX *ctx, _SOCK_ADDR *sa, char *buf, size_t len)
{
	const char *m = macro(ctx, "{client_addr}");
	buf[0] = '\0';
	if (m != NULL && m[0] != '\0' && strlen(m) < len) {
		memcpy(buf, m, strlen(m) + 1);
		return;
	}
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, buf, (socklen_t)len);
}

static sfsistat cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb == NULL) {
		/* An MTA that did not negotiate (protocol 2). */
		if ((cb = calloc(1, sizeof *cb)) == NULL)
			return SMFIS_TEMPFAIL;
		smfi_setpriv(ctx, cb);
	}
	struct snapshot *snap = snapshot_acquire();
	if (snap == NULL)
		return SMFIS_TEMPFAIL; /* shutting down */
	char addr[INET6_ADDRSTRLEN + 8];
	client_addr(ctx, sa, addr, sizeof addr);
	cb->c = pipe_conn_new(snap, addr, host);
	if (cb->c == NULL) {
		log_msg(LOG_ERR, "connection from [%s]: out of memory: TEMPFAIL", addr);
		return SMFIS_TEMPFAIL;
	}
	cb->c->leadspc = (cb->proto & SMFIP_HDR_LEADSPC) != 0;
	if (log_enabled(LOG_DEBUG)) {
		const char *d = macro(ctx, "{daemon_name}"), *j = macro(ctx, "j");
		log_msg(LOG_DEBUG, "connection from %s [%s] to %s (%s)", host ? host : "?",
			addr, d ? d : "?", j ? j : "?");
	}
	return cb->c->skip_reason != NULL ? SMFIS_ACCEPT : SMFIS_CONTINUE;
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb != NULL && cb->c != NULL)
		pipe_helo(cb->c, helo);
	return cb_cont(cb, SMFIP_NR_HELO);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb == NULL || cb->c == NULL)
		return SMFIS_ACCEPT;
	struct conn_ctx *c = cb->c;
	const char *auth = macro(ctx, "{auth_authen}");
	msg_end(c);
	msg_begin_count(c);
	if (!pipe_msg_start(c, argv ? argv[0] : NULL, auth != NULL && auth[0] != '\0')) {
		atomic_fetch_sub(&inflight, 1);
		log_msg(LOG_ERR, "NOQUEUE: out of memory at MAIL FROM: TEMPFAIL");
		return SMFIS_TEMPFAIL;
	}
	const char *qid = macro(ctx, "i");
	pipe_msg_qid(c, qid);
	if (log_enabled(LOG_DEBUG))
		log_qid(LOG_DEBUG, qid, "MAIL FROM %s%s", argv && argv[0] ? argv[0] : "<>",
			auth && auth[0] ? " (authenticated)" : "");
	return SMFIS_CONTINUE;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb != NULL && cb->c != NULL) {
		pipe_msg_qid(cb->c, macro(ctx, "i"));
		pipe_rcpt(cb->c, argv ? argv[0] : NULL);
	}
	return cb_cont(cb, SMFIP_NR_RCPT);
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb != NULL && cb->c != NULL)
		pipe_header(cb->c, name, value ? value : "");
	return cb_cont(cb, SMFIP_NR_HDR);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb == NULL || cb->c == NULL || cb->c->msg == NULL)
		return SMFIS_CONTINUE;
	pipe_msg_qid(cb->c, macro(ctx, "i"));
	if (pipe_eoh(cb->c) != NULL) {
		msg_end(cb->c);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb == NULL || cb->c == NULL)
		return SMFIS_CONTINUE;
	if (!pipe_body(cb->c, data, len) && (cb->proto & SMFIP_SKIP))
		return SMFIS_SKIP;
	return SMFIS_CONTINUE;
}

/* Applies deletions, then additions (each inserted on top, so the list is
 * walked from the bottom field up and ends with the top one). */
static void apply_edits(SMFICTX *ctx, struct conn_ctx *c, const struct outcome *out)
{
	const char *qid = c->msg->qid;
	for (size_t i = 0; i < out->ndel; i++) {
		const struct header_edit *e = &out->edits[i];
		if (smfi_chgheader(ctx, (char *)e->name, (int)e->index, NULL) != MI_SUCCESS)
			log_qid(LOG_WARNING, qid, "could not delete %s #%u", e->name, e->index);
		else
			log_qid(LOG_INFO, qid, "deleted %s #%u (ours, from outside)", e->name,
				e->index);
	}
	for (size_t i = out->nedits; i-- > out->ndel;) {
		const struct header_edit *e = &out->edits[i];
		const char *value = e->value;
		if (c->leadspc) {
			char *sp = arena_alloc(&c->msg->arena, strlen(value) + 2);
			if (sp == NULL) {
				log_qid(LOG_WARNING, qid, "out of memory: %s not added", e->name);
				continue;
			}
			sp[0] = ' ';
			memcpy(sp + 1, value, strlen(value) + 1);
			value = sp;
		}
		if (smfi_insheader(ctx, 0, (char *)e->name, (char *)value) != MI_SUCCESS &&
		    smfi_addheader(ctx, (char *)e->name, (char *)value) != MI_SUCCESS)
			log_qid(LOG_WARNING, qid, "could not add %s", e->name);
	}
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb == NULL || cb->c == NULL)
		return SMFIS_CONTINUE;
	struct conn_ctx *c = cb->c;
	pipe_msg_qid(c, macro(ctx, "i"));
	struct outcome out;
	pipe_eom(c, &out);
	sfsistat rc = SMFIS_ACCEPT;
	switch (out.action) {
	case OUTCOME_REJECT:
	case OUTCOME_TEMPFAIL:
		if (smfi_setreply(ctx, (char *)out.rcode, (char *)out.xcode,
				  (char *)out.text) != MI_SUCCESS)
			log_qid(LOG_WARNING, c->msg ? c->msg->qid : "", "could not set the reply text");
		rc = out.action == OUTCOME_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
		break;
	case OUTCOME_QUARANTINE:
		if (smfi_quarantine(ctx, (char *)out.quarantine_reason) != MI_SUCCESS)
			log_qid(LOG_WARNING, c->msg->qid, "the MTA refused to quarantine");
		/* headers are added to quarantined mail too */
		/* fall through */
	case OUTCOME_ACCEPT:
		if (c->msg != NULL)
			apply_edits(ctx, c, &out);
		break;
	}
	msg_end(c);
	return rc;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb != NULL && cb->c != NULL)
		msg_end(cb->c);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct cb_conn *cb = cb_get(ctx);
	if (cb != NULL) {
		if (cb->c != NULL) {
			msg_end(cb->c);
			pipe_conn_free(cb->c);
		}
		free(cb);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "dmarc-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = cb_negotiate,
};

struct smfiDesc *callbacks_desc(void)
{
	return &desc;
}
