/* dkim-sign: prepend a DKIM-Signature (RFC 6376, RFC 8463) to a message, for tests.
 *
 * Usage: dkim-sign --key FILE --domain D --selector S
 *          [--alg rsa-sha256|rsa-sha1|ed25519-sha256] [--canon H/B]
 *          [--expire SECONDS] [--time-offset SECONDS] [--body-length]
 *          [--headers from:to:subject:date] < in.eml > out.eml
 * The message is read whole (LF or CRLF), signed through libopendkim's signing
 * API with CRLF line ends, and written back unchanged after the new field.
 * --time-offset shifts the signing time t= (negative = in the past), so with
 * --expire a signature can be made that expired already. Exit 0 on success,
 * 1 on a usage or signing error (reason on stderr). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* getaddrinfo, strdup, getopt_long, u_char (dkim.h) */
#endif
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "milter_msg.h"

#define MAX_MESSAGE (64u * 1024 * 1024)
#define MAX_SIGNED_HEADERS 32

struct sign_opts {
	const char *key_path, *domain, *selector;
	dkim_alg_t alg;
	dkim_canon_t hcanon, bcanon;
	uint64_t expire_sec;      /* 0 = no x= tag */
	long long time_offset;    /* added to now for t= */
	bool body_length;         /* l= tag */
	char *headers;            /* "from:to:..." or NULL for the library default */
};

/* libopendkim 2.11 leaks the OpenSSL key object of an Ed25519 signing key
 * (dkim_privkey_load), which LeakSanitizer turns into a failing exit status in
 * sanitizer builds. Not ours to fix: suppress leaks inside those libraries. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libopendkim.so\nleak:libcrypto.so\n";
}

/* ... and do not list the suppressions used on every run. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static void usage(void)
{
	fputs("usage: dkim-sign --key FILE --domain D --selector S\n"
	      "         [--alg rsa-sha256|rsa-sha1|ed25519-sha256] [--canon relaxed/relaxed]\n"
	      "         [--expire SECONDS] [--time-offset SECONDS] [--body-length]\n"
	      "         [--headers from:to:subject:date] < in.eml > out.eml\n", stderr);
}

static char *read_stream(FILE *f, size_t *len_out, size_t max)
{
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, max);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		strbuf_add(&sb, buf, n);
	bool bad = ferror(f) != 0;
	*len_out = sb.len;
	char *text = strbuf_finish(&sb);
	if (bad) {
		free(text);
		return NULL;
	}
	return text;
}

static bool parse_canon(const char *s, struct sign_opts *o)
{
	char h[16], b[16];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	const char *bs = slash ? slash + 1 : "simple"; /* RFC 6376 §3.5 c= default */
	if (hl >= sizeof h || strlen(bs) >= sizeof b)
		return false;
	memcpy(h, s, hl);
	h[hl] = '\0';
	memcpy(b, bs, strlen(bs) + 1);
	const char *names[2] = { h, b };
	dkim_canon_t *dst[2] = { &o->hcanon, &o->bcanon };
	for (int i = 0; i < 2; i++) {
		if (strcmp(names[i], "simple") == 0)
			*dst[i] = DKIM_CANON_SIMPLE;
		else if (strcmp(names[i], "relaxed") == 0)
			*dst[i] = DKIM_CANON_RELAXED;
		else
			return false;
	}
	return true;
}

static bool parse_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_args(int argc, char **argv, struct sign_opts *o)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "domain", required_argument, NULL, 'd' },
		{ "selector", required_argument, NULL, 's' },
		{ "alg", required_argument, NULL, 'a' },
		{ "canon", required_argument, NULL, 'c' },
		{ "expire", required_argument, NULL, 'x' },
		{ "time-offset", required_argument, NULL, 't' },
		{ "body-length", no_argument, NULL, 'l' },
		{ "headers", required_argument, NULL, 'h' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	long long v;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': o->key_path = optarg; break;
		case 'd': o->domain = optarg; break;
		case 's': o->selector = optarg; break;
		case 'a':
			if (strcmp(optarg, "rsa-sha256") == 0)
				o->alg = DKIM_SIGN_RSASHA256;
			else if (strcmp(optarg, "rsa-sha1") == 0)
				o->alg = DKIM_SIGN_RSASHA1;
			else if (strcmp(optarg, "ed25519-sha256") == 0)
				o->alg = DKIM_SIGN_ED25519SHA256;
			else {
				fprintf(stderr, "dkim-sign: --alg %s: unknown algorithm\n", optarg);
				return false;
			}
			break;
		case 'c':
			if (!parse_canon(optarg, o)) {
				fprintf(stderr, "dkim-sign: --canon %s: expected simple|relaxed"
					"[/simple|relaxed]\n", optarg);
				return false;
			}
			break;
		case 'x':
			if (!parse_num(optarg, 1, 100LL * 365 * 86400, &v)) {
				fprintf(stderr, "dkim-sign: --expire %s: expected seconds > 0\n", optarg);
				return false;
			}
			o->expire_sec = (uint64_t)v;
			break;
		case 't':
			if (!parse_num(optarg, -100LL * 365 * 86400, 100LL * 365 * 86400, &v)) {
				fprintf(stderr, "dkim-sign: --time-offset %s: expected seconds\n", optarg);
				return false;
			}
			o->time_offset = v;
			break;
		case 'l': o->body_length = true; break;
		case 'h': o->headers = optarg; break;
		default:
			return false;
		}
	}
	if (o->key_path == NULL || o->domain == NULL || o->selector == NULL || optind != argc) {
		fputs("dkim-sign: --key, --domain and --selector are required\n", stderr);
		return false;
	}
	return true;
}

/* Sets the library options: fixed signing time, TTL, l=, header list. */
static bool lib_options(DKIM_LIB *lib, const struct sign_opts *o, const char **hdrs)
{
	uint64_t now = (uint64_t)((long long)time(NULL) + o->time_offset);
	uint64_t ttl = o->expire_sec;
	unsigned int flags = DKIM_LIBFLAGS_NONE;
	/* Tests need signatures by keys the verifier must refuse (RFC 8301 §3.2). */
	unsigned int min_bits = 512;
	if (o->body_length)
		flags |= DKIM_LIBFLAGS_SIGNLEN;
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &now, sizeof now) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &min_bits,
			 sizeof min_bits) != DKIM_STAT_OK)
		return false;
	if (ttl > 0 && dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL,
				    &ttl, sizeof ttl) != DKIM_STAT_OK)
		return false;
	if (hdrs != NULL && dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
					 hdrs, sizeof hdrs) != DKIM_STAT_OK)
		return false;
	return true;
}

/* Splits "from:to:subject" into a NULL-terminated list (pointing into s). */
static bool split_headers(char *s, const char **list)
{
	size_t n = 0;
	for (char *tok = strtok(s, ":"); tok != NULL; tok = strtok(NULL, ":")) {
		if (n + 1 >= MAX_SIGNED_HEADERS)
			return false;
		list[n++] = tok;
	}
	list[n] = NULL;
	return n > 0;
}

/* Feeds headers (folding as CRLF) and body to the signer; returns the status
 * of the first failing call. */
static DKIM_STAT feed(DKIM *dkim, const struct milter_msg *msg)
{
	DKIM_STAT st = DKIM_STAT_OK;
	for (size_t i = 0; i < msg->nheaders && st == DKIM_STAT_OK; i++) {
		struct strbuf h;
		strbuf_init(&h, NULL, 0, MAX_MESSAGE);
		strbuf_printf(&h, "%s:", msg->headers[i].name);
		for (const char *p = msg->headers[i].value; *p; p++) {
			if (*p == '\n')
				strbuf_putc(&h, '\r');
			strbuf_putc(&h, *p);
		}
		st = strbuf_failed(&h) ? DKIM_STAT_NORESOURCE
				       : dkim_header(dkim, (u_char *)h.data, h.len);
		strbuf_free(&h);
	}
	if (st == DKIM_STAT_OK)
		st = dkim_eoh(dkim);
	if (st == DKIM_STAT_OK && msg->body_len > 0)
		st = dkim_body(dkim, (u_char *)msg->body, msg->body_len);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(dkim, NULL);
	return st;
}

/* Signs msg and prints "DKIM-Signature: ..." with LF line ends. */
static bool sign(DKIM_LIB *lib, const struct sign_opts *o, char *key,
		 const struct milter_msg *msg)
{
	DKIM_STAT st;
	DKIM *dkim = dkim_sign(lib, (const u_char *)"dkim-sign", NULL, (dkim_sigkey_t)key,
			       (const u_char *)o->selector, (const u_char *)o->domain,
			       o->hcanon, o->bcanon, o->alg, -1, &st);
	if (dkim == NULL) {
		fprintf(stderr, "dkim-sign: dkim_sign: %s\n", dkim_getresultstr(st));
		return false;
	}
	st = feed(dkim, msg);
	u_char *sig = NULL;
	size_t siglen = 0;
	const char *field = "DKIM-Signature";
	if (st == DKIM_STAT_OK)
		st = dkim_getsighdr_d(dkim, strlen(field) + 2, &sig, &siglen);
	bool ok = st == DKIM_STAT_OK;
	if (!ok) {
		const char *why = dkim_geterror(dkim);
		fprintf(stderr, "dkim-sign: signing failed: %s%s%s\n", dkim_getresultstr(st),
			why ? ": " : "", why ? why : "");
	} else {
		printf("%s: ", field);
		for (size_t i = 0; i < siglen; i++)
			if (sig[i] != '\r')
				putchar(sig[i]);
		putchar('\n');
	}
	dkim_free(dkim);
	return ok;
}

int main(int argc, char **argv)
{
	struct sign_opts o = {
		.alg = DKIM_SIGN_RSASHA256,
		.hcanon = DKIM_CANON_RELAXED,
		.bcanon = DKIM_CANON_RELAXED,
	};
	if (!parse_args(argc, argv, &o)) {
		usage();
		return 1;
	}
	const char *hdrs[MAX_SIGNED_HEADERS];
	if (o.headers != NULL && !split_headers(o.headers, hdrs)) {
		fprintf(stderr, "dkim-sign: --headers: expected 1..%d names separated by ':'\n",
			MAX_SIGNED_HEADERS - 1);
		return 1;
	}
	size_t keylen = 0, len = 0;
	FILE *kf = fopen(o.key_path, "rb");
	char *key = kf ? read_stream(kf, &keylen, 65536) : NULL;
	if (kf != NULL)
		fclose(kf);
	if (key == NULL) {
		fprintf(stderr, "dkim-sign: %s: %s\n", o.key_path,
			kf ? "read error or too large" : strerror(errno));
		return 1;
	}
	char *text = read_stream(stdin, &len, MAX_MESSAGE);
	struct milter_msg msg;
	memset(&msg, 0, sizeof msg);
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1024);
	int rc = 1;
	DKIM_LIB *lib = NULL;
	if (text == NULL) {
		fputs("dkim-sign: stdin: read error or message too large\n", stderr);
	} else if (!milter_msg_load(&msg, text, len, &err)) {
		fprintf(stderr, "dkim-sign: stdin: %s\n", strbuf_str(&err));
	} else if ((lib = dkim_init(NULL, NULL)) == NULL) {
		fputs("dkim-sign: dkim_init failed\n", stderr);
	} else if (!lib_options(lib, &o, o.headers ? hdrs : NULL)) {
		fputs("dkim-sign: dkim_options failed\n", stderr);
	} else if (sign(lib, &o, key, &msg)) {
		rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
	}
	if (lib != NULL)
		dkim_close(lib);
	milter_msg_free(&msg);
	strbuf_free(&err);
	free(text);
	free(key);
	return rc;
}
