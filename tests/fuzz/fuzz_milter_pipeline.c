/* fuzz_milter_pipeline: libFuzzer target for the milter's whole message path:
 * arbitrary header fields and body chunks through milter/pipeline.c
 * (pipe_conn_new, pipe_helo, pipe_msg_start, pipe_rcpt, pipe_header,
 * pipe_eoh, pipe_body, pipe_eom, pipe_msg_end, pipe_conn_free), i.e. the
 * From parser, the forged-header bookkeeping, DKIM verification with
 * libopendkim, SPF with libspf2, DMARC discovery and evaluation, the
 * actions, the Authentication-Results and verdict fields and the event rows,
 * exactly as the libmilter callbacks drive them (callbacks.c is a thin
 * layer that only moves strings).
 *
 * DNS: a real DNS server on loopback, whose address the target reads from
 * the environment: DMARC_FUZZ_DNS=127.0.0.1@PORT. tests/fuzz/run.sh starts
 * the test server (tests/dns/dns-server.sh) with the integration zone
 * (tests/integration/example.zone.in, DKIM keys filled in), so seeds signed
 * with the test keys verify and policies are found; names outside the zone
 * get SERVFAIL at once. Why not a closed port: libunbound does not fail
 * fast on ICMP port-unreachable, every lookup would wait the whole
 * DNSTimeout and the fuzzer would run one input per second. Without
 * DMARC_FUZZ_DNS the target still works, just slowly (closed port 9).
 * DMARC_FUZZ_EVENTDB=PATH also starts the event writer (milter/events.c) on
 * that SQLite file, so event building is fuzzed too.
 *
 * Input: byte 0 holds flags (see FZ_* below: client address, sender,
 * standard, SMFIP_HDR_LEADSPC, authenticated client, no EOH, abort before
 * EOM, a second message on the connection), byte 1 the body chunk size; the
 * rest is the message: header lines up to an empty line (or a line without
 * ':'), folded lines kept, values cut at NUL as libmilter would; then the
 * body.
 * Invariants checked on every outcome (abort() on a violation): a valid
 * action; reject/tempfail replies have codes and a single-line text; every
 * field we add has a name, a value with no CR, no NUL, and LF only as
 * folding ("\n\t"); our Authentication-Results carries our authserv-id and
 * never says dmarc=pass unless X-DMARC-Verdict says PASS; deletions have
 * indexes >= 1 and come first.
 * Seeds in tests/fuzz/corpus/milter_pipeline/ (some DKIM-signed with
 * tests/keys). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "authres.h"
#include "config.h"
#include "strbuf.h"

#include "events.h"
#include "log.h"
#include "milter.h"
#include "pipeline.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_AUTHSERV "mx.receiver.example"
#define FZ_MAX_INPUT (256 * 1024)

/* byte 0 */
#define FZ_CLIENT_MASK 0x07u  /* index into clients[] */
#define FZ_RFC7489     0x08u  /* the RFC 7489 (PSL) snapshot */
#define FZ_LEADSPC     0x10u  /* SMFIP_HDR_LEADSPC */
#define FZ_AUTH        0x20u  /* {auth_authen} set */
#define FZ_NO_EOH      0x40u  /* an MTA that sends no EOH */
#define FZ_ABORT       0x80u  /* abort after the body instead of EOM */

static const char *const clients[] = {
	"192.0.2.10", "198.51.100.7", "203.0.113.5", "2001:db8::25",
	"", "192.0.2.99" /* IgnoreHosts */, "::ffff:192.0.2.10", "[192.0.2.10]",
};
static const char *const senders[] = {
	"<bounce@aligned.example>", "<>", "x@other.example", "<alice@aligned.example>",
};
static const size_t chunk_sizes[] = { 65535, 1, 7, 64, 1000, 4096, 3, 65536 };

static struct snapshot *snaps[2];

static const char conf_fmt[] =
	"AuthservID " FZ_AUTHSERV "\n"
	"Socket inet:1@127.0.0.1\n"
	"Nameservers %s\n"
	"DNSTimeout 1\n"
	"DNSMessageTimeout 2\n"
	"IgnoreHosts 192.0.2.99/32\n"
	"IgnoreMailFrom ignored.example\n"
	"TrustedForwarders 203.0.113.0/24\n"
	"MailingListIds list.example\n"
	"AddReceivedSPF yes\n"
	"DKIMMaxSignatures 12\n"
	"EventDatabase %s\n"
	"DMARCStandard %s\n";

static struct snapshot *build(const char *dns, const char *db, const char *standard)
{
	struct strbuf text, err;
	strbuf_init(&text, NULL, 0, 4096);
	strbuf_init(&err, NULL, 0, 4096);
	strbuf_printf(&text, conf_fmt, dns, db, standard);
	struct config cfg;
	struct snapshot *s = NULL;
	if (!config_load_buffer(strbuf_str(&text), text.len, "fuzz", &cfg, &err) ||
	    !snapshot_build(&cfg, &s, &err)) {
		fprintf(stderr, "fuzz_milter_pipeline: %s\n", strbuf_str(&err));
		abort();
	}
	strbuf_free(&text);
	strbuf_free(&err);
	return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dns = getenv("DMARC_FUZZ_DNS");
	const char *db = getenv("DMARC_FUZZ_EVENTDB");
	if (dns == NULL || dns[0] == '\0') {
		fprintf(stderr, "fuzz_milter_pipeline: DMARC_FUZZ_DNS not set: every "
			"lookup times out (slow); see tests/fuzz/run.sh\n");
		dns = "127.0.0.1@9";
	}
	/* libFuzzer's -close_fd_mask keeps the log quiet; we log nowhere but
	 * still format every line at debug level */
	log_setup(false, LOG_MAIL, false, CONFIG_LOG_DEBUG);
	snaps[0] = build(dns, db && db[0] ? db : "/nonexistent/events.db", "rfc9989");
	snaps[1] = build(dns, db && db[0] ? db : "/nonexistent/events.db", "rfc7489");
	if (db != NULL && db[0] != '\0') {
		struct strbuf err;
		strbuf_init(&err, NULL, 0, 4096);
		if (!events_start(&snaps[0]->cfg, &err)) {
			fprintf(stderr, "fuzz_milter_pipeline: %s\n", strbuf_str(&err));
			abort();
		}
		strbuf_free(&err);
	}
	return 0;
}

/* A text the MTA shows or stores: no CR, no NUL, LF only as folding. */
static void check_value(const char *v)
{
	if (v == NULL)
		abort();
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\r')
			abort();
		if (*p == '\n' && p[1] != '\t' && p[1] != ' ')
			abort();
	}
}

static void check_line(const char *v)
{
	if (v == NULL || strpbrk(v, "\r\n") != NULL)
		abort();
}

/* True when every "dmarc=" result in an A-R value is "pass" (and there is
 * one). */
static bool only_pass(const char *ar)
{
	size_t pass = 0, other = 0;
	for (const char *p = strstr(ar, "dmarc="); p != NULL; p = strstr(p + 1, "dmarc=")) {
		if (p > ar && strchr(" \t\n;", p[-1]) == NULL)
			continue; /* inside a word: e.g. policy.dmarc= */
		if (strncmp(p + 6, "pass", 4) == 0)
			pass++;
		else
			other++;
	}
	return pass > 0 && other == 0;
}

static void check_outcome(const struct outcome *out)
{
	switch (out->action) {
	case OUTCOME_ACCEPT:
		break;
	case OUTCOME_QUARANTINE:
		check_line(out->quarantine_reason);
		break;
	case OUTCOME_REJECT:
	case OUTCOME_TEMPFAIL:
		check_line(out->rcode);
		check_line(out->xcode);
		check_line(out->text);
		if (out->rcode[0] != (out->action == OUTCOME_REJECT ? '5' : '4'))
			abort();
		return; /* no header edits are applied to a refused message */
	default:
		abort();
	}
	if (out->nedits > MSG_MAX_EDITS || out->ndel > out->nedits)
		abort();
	/* the Authentication-Results field never says only dmarc=pass when
	 * the verdict field says otherwise (the multi-From bypass; with
	 * several author domains a pass may stand next to their fail) */
	const char *ar = NULL, *verdict = NULL;
	for (size_t i = out->ndel; i < out->nedits; i++) {
		if (strcmp(out->edits[i].name, HDR_AR) == 0)
			ar = out->edits[i].value;
		else if (strcmp(out->edits[i].name, HDR_DMARC_VERDICT) == 0)
			verdict = out->edits[i].value;
	}
	if (ar != NULL && verdict != NULL && strcmp(verdict, "PASS") != 0 && only_pass(ar))
		abort();
	for (size_t i = 0; i < out->nedits; i++) {
		const struct header_edit *e = &out->edits[i];
		if (e->name == NULL || e->name[0] == '\0' || e->del != (i < out->ndel))
			abort();
		if (e->del) {
			if (e->index < 1)
				abort();
			continue;
		}
		check_value(e->value);
		if (strcmp(e->name, HDR_AR) == 0) {
			struct strbuf id;
			strbuf_init(&id, NULL, 0, 1024);
			if (!authres_parse_authserv_id(e->value, &id) ||
			    strcmp(strbuf_str(&id), FZ_AUTHSERV) != 0)
				abort();
			strbuf_free(&id);
		}
	}
}

/* One header line group: [p, end) holds "Name:value" with folding. */
static void feed_header(struct conn_ctx *c, const char *p, const char *end, bool leadspc)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	size_t nlen = (size_t)(colon - p);
	char *name = strndup(p, nlen);
	const char *v = colon + 1;
	if (!leadspc && v < end && *v == ' ')
		v++; /* what an MTA without SMFIP_HDR_LEADSPC does */
	char *value = strndup(v, (size_t)(end - v)); /* cut at NUL, as libmilter */
	if (name == NULL || value == NULL)
		abort();
	pipe_header(c, name, value);
	free(name);
	free(value);
}

/* Feeds the header section; returns where the body starts. */
static const char *feed_headers(struct conn_ctx *c, const char *p, const char *end,
				bool leadspc)
{
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		if (line_end == p || (line_end == p + 1 && *p == '\r'))
			return nl ? nl + 1 : end; /* the empty line */
		if (memchr(p, ':', (size_t)(line_end - p)) == NULL || *p == ' ' || *p == '\t')
			return p; /* not a header line: the body starts here */
		/* the field goes on while lines start with white space */
		const char *fend = line_end;
		while (fend < end && fend + 1 < end && (fend[1] == ' ' || fend[1] == '\t')) {
			const char *next = memchr(fend + 1, '\n', (size_t)(end - fend - 1));
			fend = next ? next : end;
		}
		const char *vend = fend;
		if (vend > p && vend[-1] == '\r')
			vend--;
		feed_header(c, p, vend, leadspc);
		p = fend < end ? fend + 1 : end;
	}
	return end;
}

static void one_message(struct conn_ctx *c, uint8_t flags, size_t chunk, const char *msg,
			const char *end, unsigned n)
{
	if (!pipe_msg_start(c, senders[(flags + n) % 4], (flags & FZ_AUTH) != 0))
		return;
	pipe_msg_qid(c, n ? "4FUZZ2" : "4FUZZ1");
	pipe_rcpt(c, "<carol@receiver.example>");
	pipe_rcpt(c, "dave@receiver.example");
	const char *body = feed_headers(c, msg, end, c->leadspc);
	if (!(flags & FZ_NO_EOH))
		(void)pipe_eoh(c);
	for (const char *p = body; p < end;) {
		size_t len = (size_t)(end - p) < chunk ? (size_t)(end - p) : chunk;
		if (!pipe_body(c, (const unsigned char *)p, len))
			break;
		p += len;
	}
	if (flags & FZ_ABORT) {
		pipe_msg_end(c);
		return;
	}
	struct outcome out;
	pipe_eom(c, &out);
	check_outcome(&out);
	pipe_msg_end(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > FZ_MAX_INPUT)
		return 0;
	uint8_t flags = data[0];
	size_t chunk = chunk_sizes[data[1] % (sizeof chunk_sizes / sizeof chunk_sizes[0])];
	/* an exact-size copy: ASan sees any read past the message */
	char *msg = malloc(size - 2 ? size - 2 : 1);
	if (msg == NULL)
		abort();
	memcpy(msg, data + 2, size - 2);
	const char *end = msg + (size - 2);

	struct snapshot *s = snaps[(flags & FZ_RFC7489) ? 1 : 0];
	s->refs++; /* the connection's reference (single-threaded here) */
	struct conn_ctx *c = pipe_conn_new(s, clients[flags & FZ_CLIENT_MASK],
					   "client.example");
	if (c == NULL)
		abort();
	c->leadspc = (flags & FZ_LEADSPC) != 0;
	pipe_helo(c, "mx.aligned.example");
	one_message(c, flags, chunk, msg, end, 0);
	/* a second message on the same connection when the chunk byte says so */
	if (data[1] & 0x80)
		one_message(c, (uint8_t)(flags & ~FZ_ABORT), chunk, msg, end, 1);
	pipe_conn_free(c);
	free(msg);
	return 0;
}
