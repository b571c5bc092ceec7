/* dkim_verify_test: messages signed here with testkit's keys (tests/keys/,
 * through libopendkim's signing API) and verified against the loopback DNS
 * server serving tests/auth/dkim.example.zone.in. Run by
 * tests/auth/dkim_verify.sh, which exports DNS_SERVER and KEYDIR. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <dkim.h>

#include "dkim_verify.h"
#include "resolver.h"
#include "strbuf.h"
#include "testlib.h"

/* libopendkim 2.11 leaks the OpenSSL key object of an Ed25519 signing key
 * (dkim_privkey_load); that is the signing side, which only tests use. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libopendkim.so\nleak:libcrypto.so\n";
}

#define MAX_FIELDS 32

static const char *keydir;
static struct dkim_verify_lib *vlib;

static const char *const base_headers[] = {
	"From: Alice <alice@dkim.example>",
	"To: Bob <bob@receiver.example>",
	"Subject: DKIM test",
	"Date: Sat, 22 Nov 2025 10:00:00 +0000",
	"Message-ID: <t1@dkim.example>",
};
#define NBASE (sizeof base_headers / sizeof base_headers[0])
static const char base_body[] = "Hello Bob,\r\n\r\nthis  is a test.  \r\n\r\n";

/* ---- signing ---------------------------------------------------------- */

struct sigspec {
	const char *key;      /* file under KEYDIR without ".key" */
	const char *selector;
	const char *domain;
	dkim_alg_t alg;
	bool simple;          /* simple/simple instead of relaxed/relaxed */
	bool l;               /* add l= */
	long long time_offset;
	uint64_t ttl;         /* x= - t=; 0 = no x= */
};

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	struct strbuf sb;
	char buf[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	strbuf_init(&sb, NULL, 0, 1 << 20);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_finish(&sb);
}

/* Returns "DKIM-Signature: ..." for the message, or NULL. */
static char *sign(const struct sigspec *s, const char *const *hdrs, size_t nh,
		  const char *body)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s.key", keydir, s->key);
	char *key = read_file(path);
	if (key == NULL)
		return NULL;

	DKIM_LIB *lib = dkim_init(NULL, NULL);
	uint64_t now = (uint64_t)((long long)time(NULL) + s->time_offset);
	unsigned flags = s->l ? DKIM_LIBFLAGS_SIGNLEN : DKIM_LIBFLAGS_NONE;
	unsigned bits = 512; /* we must be able to make signatures RFC 8301 refuses */
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &now, sizeof now);
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits, sizeof bits);
	if (s->ttl > 0) {
		uint64_t ttl = s->ttl;
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL, &ttl, sizeof ttl);
	}
	dkim_canon_t c = s->simple ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	DKIM_STAT st;
	DKIM *d = dkim_sign(lib, (const u_char *)"test", NULL, (dkim_sigkey_t)key,
			    (const u_char *)s->selector,
			    (const u_char *)(s->domain ? s->domain : "dkim.example"),
			    c, c, s->alg, -1, &st);
	char *out = NULL;
	if (d != NULL) {
		st = DKIM_STAT_OK;
		for (size_t i = 0; i < nh && st == DKIM_STAT_OK; i++)
			st = dkim_header(d, (u_char *)hdrs[i], strlen(hdrs[i]));
		if (st == DKIM_STAT_OK)
			st = dkim_eoh(d);
		if (st == DKIM_STAT_OK)
			st = dkim_body(d, (u_char *)body, strlen(body));
		if (st == DKIM_STAT_OK)
			st = dkim_eom(d, NULL);
		u_char *val = NULL;
		size_t vlen = 0;
		if (st == DKIM_STAT_OK &&
		    dkim_getsighdr_d(d, sizeof "DKIM-Signature: " - 1, &val, &vlen) == DKIM_STAT_OK) {
			struct strbuf sb;
			strbuf_init(&sb, NULL, 0, 1 << 16);
			strbuf_printf(&sb, "DKIM-Signature: %.*s", (int)vlen, (const char *)val);
			out = strbuf_finish(&sb);
		}
		dkim_free(d);
	}
	if (out == NULL)
		t_note("signing with %s failed: %s", s->key, dkim_getresultstr(st));
	dkim_close(lib);
	free(key);
	return out;
}

/* ---- verifying -------------------------------------------------------- */

/* Feeds fields (as given), then the body in chunks of chunk bytes (0 = one). */
static bool verify_with(struct dkim_verify_lib *lib, const char *const *fields, size_t n,
			const char *body, size_t chunk, uint64_t deadline,
			struct dkim_outcome *out)
{
	struct dkim_verify_msg *v = dkim_verify_begin(lib, "TESTQ1", deadline);
	if (v == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		dkim_verify_header(v, fields[i], strlen(fields[i]));
	dkim_verify_eoh(v);
	size_t blen = strlen(body);
	size_t step = chunk == 0 ? (blen > 0 ? blen : 1) : chunk;
	for (size_t off = 0; off < blen; off += step)
		dkim_verify_body(v, body + off, blen - off < step ? blen - off : step);
	bool ok = dkim_verify_end(v, out);
	dkim_verify_free(v);
	return ok;
}

/* Signature fields first (newest on top), then the base headers with an
 * optional replacement of the Subject. */
static size_t assemble(const char **fields, char **sigs, size_t nsig, const char *subject)
{
	size_t n = 0;
	for (size_t i = nsig; i > 0; i--)
		if (sigs[i - 1] != NULL)
			fields[n++] = sigs[i - 1];
	for (size_t i = 0; i < NBASE; i++)
		fields[n++] = (subject != NULL && strncmp(base_headers[i], "Subject:", 8) == 0)
			      ? subject : base_headers[i];
	return n;
}

enum mutation { M_NONE, M_BODY_CHANGE, M_BODY_APPEND, M_SUBJECT };

struct dcase {
	const char *label;
	struct sigspec sig[2];
	size_t nsig;
	enum mutation mut;
	enum auth_dkim want[2];
	const char *want_reason;  /* substring of the first signature's reason */
	unsigned want_bits;       /* first signature's key size; 0 = not checked */
};

#define RSA(k) .key = k, .selector = k, .alg = DKIM_SIGN_RSASHA256

static const struct dcase cases[] = {
	{"pass rsa-sha256 2048", {{RSA("rsa2048")}}, 1, M_NONE, {AUTH_DKIM_PASS},
	 "verified", 2048},
	{"pass ed25519-sha256 (RFC 8463)", {{.key = "ed25519", .selector = "ed25519",
	  .alg = DKIM_SIGN_ED25519SHA256}}, 1, M_NONE, {AUTH_DKIM_PASS}, NULL, 256},
	{"pass rsa 1024 (the minimum)", {{RSA("rsa1024")}}, 1, M_NONE, {AUTH_DKIM_PASS},
	 NULL, 1024},
	{"pass simple/simple", {{RSA("rsa2048"), .simple = true}}, 1, M_NONE,
	 {AUTH_DKIM_PASS}, NULL, 0},
	{"body modified -> fail", {{RSA("rsa2048")}}, 1, M_BODY_CHANGE, {AUTH_DKIM_FAIL},
	 "body hash", 0},
	{"ed25519 body modified -> fail", {{.key = "ed25519", .selector = "ed25519",
	  .alg = DKIM_SIGN_ED25519SHA256}}, 1, M_BODY_CHANGE, {AUTH_DKIM_FAIL}, "body hash", 0},
	{"signed header modified -> fail", {{RSA("rsa2048")}}, 1, M_SUBJECT, {AUTH_DKIM_FAIL},
	 "signed header fields changed", 0},
	{"512-bit key -> fail (RFC 8301 §3.2)", {{RSA("rsa512")}}, 1, M_NONE, {AUTH_DKIM_FAIL},
	 "RFC 8301 section 3.2", 512},
	{"rsa-sha1 -> fail (RFC 8301 §3.1)", {{.key = "rsa2048", .selector = "rsa2048",
	  .alg = DKIM_SIGN_RSASHA1}}, 1, M_NONE, {AUTH_DKIM_FAIL}, "rsa-sha1", 0},
	{"expired x= -> permerror", {{RSA("rsa2048"), .time_offset = -7200, .ttl = 60}}, 1,
	 M_NONE, {AUTH_DKIM_PERMERROR}, "expired", 0},
	{"unexpired x= -> pass", {{RSA("rsa2048"), .ttl = 3600}}, 1, M_NONE, {AUTH_DKIM_PASS},
	 NULL, 0},
	{"t= two days ahead -> permerror", {{RSA("rsa2048"), .time_offset = 2 * 86400}}, 1,
	 M_NONE, {AUTH_DKIM_PERMERROR}, NULL, 0},
	{"key NXDOMAIN -> permerror", {{.key = "rsa2048", .selector = "nosuch",
	  .alg = DKIM_SIGN_RSASHA256}}, 1, M_NONE, {AUTH_DKIM_PERMERROR}, "no key record", 0},
	{"key NODATA -> permerror", {{.key = "rsa2048", .selector = "nodata",
	  .alg = DKIM_SIGN_RSASHA256}}, 1, M_NONE, {AUTH_DKIM_PERMERROR}, "nodata", 0},
	{"key SERVFAIL -> temperror", {{RSA("rsa2048"), .domain = "servfail.test"}}, 1,
	 M_NONE, {AUTH_DKIM_TEMPERROR}, "SERVFAIL", 0},
	{"key timeout -> temperror", {{RSA("rsa2048"), .domain = "timeout.test"}}, 1,
	 M_NONE, {AUTH_DKIM_TEMPERROR}, "key lookup failed", 0},
	{"revoked key -> permerror", {{.key = "rsa2048", .selector = "revoked",
	  .alg = DKIM_SIGN_RSASHA256}}, 1, M_NONE, {AUTH_DKIM_PERMERROR}, "revoked", 0},
	{"undecodable key -> permerror", {{.key = "rsa2048", .selector = "badkey",
	  .alg = DKIM_SIGN_RSASHA256}}, 1, M_NONE, {AUTH_DKIM_PERMERROR}, NULL, 0},
	{"two key records -> permerror", {{.key = "rsa2048", .selector = "multi",
	  .alg = DKIM_SIGN_RSASHA256}}, 1, M_NONE, {AUTH_DKIM_PERMERROR}, "ambiguous", 0},
	{"key of another selector -> fail", {{.key = "rsa1024", .selector = "rsa2048",
	  .alg = DKIM_SIGN_RSASHA256}}, 1, M_NONE, {AUTH_DKIM_FAIL}, "did not verify", 0},
	{"two signatures, one good one bad",
	 {{RSA("rsa2048")}, {.key = "rsa1024", .selector = "rsa2048", .alg = DKIM_SIGN_RSASHA256,
	   .time_offset = -1}}, 2, M_NONE, {AUTH_DKIM_PASS, AUTH_DKIM_FAIL}, NULL, 0},
	{"temperror on one key does not stop the other",
	 {{RSA("rsa2048"), .domain = "servfail.test"}, {RSA("rsa1024")}}, 2, M_NONE,
	 {AUTH_DKIM_TEMPERROR, AUTH_DKIM_PASS}, NULL, 0},
	{"l= covering the whole body -> pass", {{RSA("rsa2048"), .l = true}}, 1, M_NONE,
	 {AUTH_DKIM_PASS}, NULL, 0},
	{"l= with appended content -> policy", {{RSA("rsa2048"), .l = true}}, 1, M_BODY_APPEND,
	 {AUTH_DKIM_POLICY}, "unsigned content after l=", 0},
	{"l= simple with appended content -> policy", {{RSA("rsa2048"), .l = true,
	  .simple = true}}, 1, M_BODY_APPEND, {AUTH_DKIM_POLICY}, "unsigned content", 0},
	{"no l=, appended content -> fail", {{RSA("rsa2048")}}, 1, M_BODY_APPEND,
	 {AUTH_DKIM_FAIL}, "body hash", 0},
};

static const char *body_for(enum mutation m)
{
	switch (m) {
	case M_BODY_CHANGE: return "Hello Bob,\r\n\r\nthis  is a TEST.  \r\n\r\n";
	case M_BODY_APPEND: return "Hello Bob,\r\n\r\nthis  is a test.  \r\n\r\nBuy now!\r\n";
	default: return base_body;
	}
}


static void run_case(const struct dcase *k)
{
	char *sigs[2] = {NULL, NULL};
	const char *fields[MAX_FIELDS];
	struct dkim_outcome out;

	for (size_t i = 0; i < k->nsig; i++)
		sigs[i] = sign(&k->sig[i], base_headers, NBASE, base_body);
	size_t n = assemble(fields, sigs, k->nsig,
			    k->mut == M_SUBJECT ? "Subject: DKIM test (edited)" : NULL);
	verify_with(vlib, fields, n, body_for(k->mut), 0, 0, &out);

	/* fields list newest first: outcome entry i is signature nsig-1-i */
	bool ok = out.count == k->nsig;
	char got[256] = "";
	size_t gl = 0;
	for (size_t i = 0; ok && i < k->nsig; i++) {
		const struct dkim_sig_result *e = &out.sigs[k->nsig - 1 - i];
		gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%s", i ? "," : "",
				       auth_dkim_name(e->result));
		if (e->result != k->want[i] || !t_ascii(e->reason))
			ok = false;
	}
	const struct dkim_sig_result *first = out.count == k->nsig ? &out.sigs[k->nsig - 1] : NULL;
	if (first != NULL && k->want_reason != NULL && !t_has(first->reason, k->want_reason))
		ok = false;
	if (first != NULL && k->want_bits != 0 && first->key_bits != k->want_bits)
		ok = false;
	t_check(ok, k->label, "got %zu [%s] reason=\"%s\" bits=%u, want [%s%s%s] reason~\"%s\" bits=%u",
		out.count, got, first && first->reason ? first->reason : "(none)",
		first ? first->key_bits : 0, auth_dkim_name(k->want[0]), k->nsig > 1 ? "," : "",
		k->nsig > 1 ? auth_dkim_name(k->want[1]) : "",
		k->want_reason ? k->want_reason : "*", k->want_bits);
	dkim_outcome_clear(&out);
	free(sigs[0]);
	free(sigs[1]);
}

/* ---- the cases that need more than the table ------------------------- */

static void test_no_signature(void)
{
	struct dkim_outcome out;
	verify_with(vlib, base_headers, NBASE, base_body, 0, 0, &out);
	t_int("no DKIM-Signature -> zero signatures", (long long)out.count, 0);
	dkim_outcome_clear(&out);
}

static void test_malformed(void)
{
	static const struct {
		const char *label, *field, *want_d;
	} rows[] = {
		{"tag without value -> permerror",
		 "DKIM-Signature: v=1; a=rsa-sha256; d=dkim.example; s=rsa2048; bogus; h=from;"
		 " bh=YWJj; b=YWJjZGVmZ2hpamtsbW5vcA==", "dkim.example"},
		{"missing h= -> permerror",
		 "DKIM-Signature: v=1; a=rsa-sha256; d=dkim.example; s=rsa2048;"
		 " bh=YWJj; b=YWJjZGVmZ2hpamtsbW5vcA==", "dkim.example"},
		{"malformed d= -> permerror",
		 "DKIM-Signature: v=1; a=rsa-sha256; d=dkim!example; s=rsa2048; h=from;"
		 " bh=YWJj; b=YWJjZGVmZ2hpamtsbW5vcA==", "dkim!example"},
		{"unknown a= -> permerror",
		 "DKIM-Signature: v=1; a=rsa-sha512; d=dkim.example; s=rsa2048; h=from;"
		 " bh=YWJj; b=YWJjZGVmZ2hpamtsbW5vcA==", "dkim.example"},
		{"unsupported v= -> permerror",
		 "DKIM-Signature: v=2; a=rsa-sha256; d=dkim.example; s=rsa2048; h=from;"
		 " bh=YWJj; b=YWJjZGVmZ2hpamtsbW5vcA==", "dkim.example"},
		{"i= outside d= -> permerror",
		 "DKIM-Signature: v=1; a=rsa-sha256; d=dkim.example; i=@other.example; s=rsa2048;"
		 " h=from; bh=YWJj; b=YWJjZGVmZ2hpamtsbW5vcA==", "dkim.example"},
		{"h= without From -> permerror",
		 "DKIM-Signature: v=1; a=rsa-sha256; d=dkim.example; s=rsa2048; h=subject;"
		 " bh=YWJj; b=YWJjZGVmZ2hpamtsbW5vcA==", "dkim.example"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *fields[MAX_FIELDS];
		char *sigs[1] = {(char *)rows[i].field};
		size_t n = assemble(fields, sigs, 1, NULL);
		struct dkim_outcome out;
		verify_with(vlib, fields, n, base_body, 0, 0, &out);
		bool ok = out.count == 1 && out.sigs[0].result == AUTH_DKIM_PERMERROR &&
			  out.sigs[0].domain != NULL && strcmp(out.sigs[0].domain, rows[i].want_d) == 0 &&
			  out.sigs[0].selector != NULL && strcmp(out.sigs[0].selector, "rsa2048") == 0 &&
			  out.sigs[0].reason != NULL;
		t_check(ok, rows[i].label, "got %zu %s d=%s reason=\"%s\"", out.count,
			out.count ? auth_dkim_name(out.sigs[0].result) : "-",
			out.count && out.sigs[0].domain ? out.sigs[0].domain : "(null)",
			out.count && out.sigs[0].reason ? out.sigs[0].reason : "(null)");
		dkim_outcome_clear(&out);
	}
}

static void test_max_signatures(void)
{
	struct sigspec s = {RSA("rsa2048")};
	char *sigs[12];
	const char *fields[MAX_FIELDS];
	struct dkim_outcome out;

	for (int i = 0; i < 12; i++) {
		s.time_offset = -100 * i; /* a different t= makes a different b= */
		sigs[i] = sign(&s, base_headers, NBASE, base_body);
	}
	size_t n = assemble(fields, sigs, 12, NULL);
	verify_with(vlib, fields, n, base_body, 0, 0, &out);
	size_t pass = 0, none = 0;
	bool reason_ok = true, b_ok = true;
	for (size_t i = 0; i < out.count; i++) {
		if (out.sigs[i].result == AUTH_DKIM_PASS && i < 10)
			pass++;
		if (out.sigs[i].result == AUTH_DKIM_NONE && i >= 10) {
			none++;
			reason_ok = reason_ok && t_has(out.sigs[i].reason,
						     "not evaluated: over DKIMMaxSignatures");
		}
		b_ok = b_ok && out.sigs[i].b != NULL && strlen(out.sigs[i].b) >= 12;
		for (size_t j = 0; j < i; j++)
			if (b_ok && strcmp(out.sigs[i].b, out.sigs[j].b) == 0)
				b_ok = false;
	}
	t_check(out.count == 12 && pass == 10 && none == 2 && reason_ok,
		"12 signatures, max 10: 10 pass, 2 not evaluated",
		"got %zu entries, %zu pass, %zu none", out.count, pass, none);
	t_true("every header.b at least 12 characters and distinct", b_ok);
	dkim_outcome_clear(&out);
	for (int i = 0; i < 12; i++)
		free(sigs[i]);
}

static void test_b_prefix(void)
{
	struct sigspec s = {RSA("rsa2048")};
	char *sig = sign(&s, base_headers, NBASE, base_body);
	const char *fields[MAX_FIELDS];
	struct dkim_outcome out;
	size_t n = assemble(fields, &sig, 1, NULL);
	verify_with(vlib, fields, n, base_body, 0, 0, &out);
	/* the b= value in the field, whitespace removed */
	const char *b = sig != NULL ? strstr(sig, "\tb=") : NULL;
	char full[1024];
	size_t fl = 0;
	for (b = b ? b + 3 : ""; *b && *b != ';' && fl + 1 < sizeof full; b++)
		if (*b != ' ' && *b != '\t' && *b != '\r' && *b != '\n')
			full[fl++] = *b;
	full[fl] = '\0';
	bool ok = out.count == 1 && out.sigs[0].b != NULL && strlen(out.sigs[0].b) == 12 &&
		  strncmp(full, out.sigs[0].b, 12) == 0 && out.sigs[0].algorithm != NULL &&
		  strcmp(out.sigs[0].algorithm, "rsa-sha256") == 0;
	t_check(ok, "header.b is the first 12 characters of b=, a= reported",
		"got b=%s a=%s, field b=%.12s", out.count ? out.sigs[0].b : "-",
		out.count ? out.sigs[0].algorithm : "-", full);
	dkim_outcome_clear(&out);

	/* Folded with bare LFs (as some milters deliver): still verifies. */
	char *lf = sig != NULL ? strdup(sig) : NULL;
	size_t w = 0;
	for (size_t r = 0; lf != NULL && lf[r] != '\0'; r++)
		if (lf[r] != '\r')
			lf[w++] = lf[r];
	if (lf != NULL)
		lf[w] = '\0';
	n = assemble(fields, &lf, 1, NULL);
	verify_with(vlib, fields, n, base_body, 0, 0, &out);
	t_check(out.count == 1 && out.sigs[0].result == AUTH_DKIM_PASS,
		"signature folded with bare LF still passes", "got %s \"%s\"",
		out.count ? auth_dkim_name(out.sigs[0].result) : "-",
		out.count ? out.sigs[0].reason : "");
	dkim_outcome_clear(&out);
	free(lf);
	free(sig);
}

static void test_chunking(void)
{
	static const struct dcase *rows[] = {&cases[0], &cases[3], &cases[4], &cases[23],
					     &cases[24]};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct dcase *k = rows[i];
		char *sig = sign(&k->sig[0], base_headers, NBASE, base_body);
		const char *fields[MAX_FIELDS];
		size_t n = assemble(fields, &sig, 1, NULL);
		struct dkim_outcome whole, bytes, sevens;
		verify_with(vlib, fields, n, body_for(k->mut), 0, 0, &whole);
		verify_with(vlib, fields, n, body_for(k->mut), 1, 0, &bytes);
		verify_with(vlib, fields, n, body_for(k->mut), 7, 0, &sevens);
		bool ok = whole.count == 1 && bytes.count == 1 && sevens.count == 1 &&
			  whole.sigs[0].result == k->want[0] &&
			  bytes.sigs[0].result == whole.sigs[0].result &&
			  sevens.sigs[0].result == whole.sigs[0].result &&
			  strcmp(bytes.sigs[0].reason, whole.sigs[0].reason) == 0;
		char label[160];
		snprintf(label, sizeof label, "1-byte and 7-byte chunks = one chunk: %s", k->label);
		t_check(ok, label, "got whole=%s bytes=%s sevens=%s",
			whole.count ? auth_dkim_name(whole.sigs[0].result) : "-",
			bytes.count ? auth_dkim_name(bytes.sigs[0].result) : "-",
			sevens.count ? auth_dkim_name(sevens.sigs[0].result) : "-");
		dkim_outcome_clear(&whole);
		dkim_outcome_clear(&bytes);
		dkim_outcome_clear(&sevens);
		free(sig);
	}
}

/* Bare LFs in the body (some milters, local submissions): same result. */
static void test_bare_lf_body(void)
{
	struct sigspec s = {RSA("rsa2048"), .simple = true};
	char *sig = sign(&s, base_headers, NBASE, base_body);
	const char *fields[MAX_FIELDS];
	size_t n = assemble(fields, &sig, 1, NULL);
	char lf[sizeof base_body];
	size_t w = 0;
	for (size_t r = 0; base_body[r] != '\0'; r++)
		if (base_body[r] != '\r')
			lf[w++] = base_body[r];
	lf[w] = '\0';
	static const size_t chunks[] = {0, 1, 2, 5};
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		struct dkim_outcome out;
		verify_with(vlib, fields, n, lf, chunks[i], 0, &out);
		char label[96];
		snprintf(label, sizeof label, "LF-only body in %zu-byte chunks passes (simple)",
			 chunks[i]);
		t_check(out.count == 1 && out.sigs[0].result == AUTH_DKIM_PASS, label,
			"got %s \"%s\"", out.count ? auth_dkim_name(out.sigs[0].result) : "-",
			out.count ? out.sigs[0].reason : "");
		dkim_outcome_clear(&out);
	}
	free(sig);
}

static void test_config_and_budget(struct resolver *res)
{
	struct sigspec s1024 = {RSA("rsa1024")};
	struct sigspec s2048 = {RSA("rsa2048")};
	char *sigs[2] = {sign(&s1024, base_headers, NBASE, base_body),
			 sign(&s2048, base_headers, NBASE, base_body)};
	const char *fields[MAX_FIELDS];
	struct dkim_outcome out;
	size_t n = assemble(fields, sigs, 2, NULL);

	struct dkim_verify_config cfg = {.max_signatures = 1, .min_key_bits = 2048};
	struct dkim_verify_lib *lib2 = NULL;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 256);
	t_true("library with DKIMMinKeyBits 2048, DKIMMaxSignatures 1",
	       dkim_verify_lib_new(res, &cfg, &lib2, &err));
	strbuf_free(&err);
	if (lib2 != NULL) {
		verify_with(lib2, fields, n, base_body, 0, 0, &out);
		/* fields: rsa2048 signature first, then rsa1024 */
		t_check(out.count == 2 && out.sigs[0].result == AUTH_DKIM_PASS &&
			out.sigs[1].result == AUTH_DKIM_NONE,
			"DKIMMaxSignatures 1: second signature not evaluated", "got %zu %s,%s",
			out.count, out.count > 0 ? auth_dkim_name(out.sigs[0].result) : "-",
			out.count > 1 ? auth_dkim_name(out.sigs[1].result) : "-");
		dkim_outcome_clear(&out);

		const char *one[MAX_FIELDS];
		size_t n1 = assemble(one, sigs, 1, NULL);
		verify_with(lib2, one, n1, base_body, 0, 0, &out);
		t_check(out.count == 1 && out.sigs[0].result == AUTH_DKIM_FAIL &&
			t_has(out.sigs[0].reason, "DKIMMinKeyBits 2048"),
			"DKIMMinKeyBits 2048: 1024-bit key fails", "got %s \"%s\"",
			out.count ? auth_dkim_name(out.sigs[0].result) : "-",
			out.count ? out.sigs[0].reason : "");
		dkim_outcome_clear(&out);
		dkim_verify_lib_free(lib2);
	}

	/* Two signatures by one unreachable key: one lookup (one timeout). */
	struct sigspec t1 = {RSA("rsa2048"), .domain = "timeout.test"};
	struct sigspec t2 = {RSA("rsa2048"), .domain = "timeout.test", .time_offset = -100};
	char *tsigs[2] = {sign(&t1, base_headers, NBASE, base_body),
			  sign(&t2, base_headers, NBASE, base_body)};
	const char *tfields[MAX_FIELDS];
	size_t tn = assemble(tfields, tsigs, 2, NULL);
	struct resolver_stats st0, st1;
	resolver_get_stats(res, &st0);
	uint64_t t0 = resolver_now_ms();
	verify_with(vlib, tfields, tn, base_body, 0, 0, &out);
	uint64_t spent = resolver_now_ms() - t0;
	resolver_get_stats(res, &st1);
	t_int("one key query for two signatures by one failing key",
	      (long long)(st1.queries - st0.queries), 1);
	t_check(out.count == 2 && out.sigs[0].result == AUTH_DKIM_TEMPERROR &&
		out.sigs[1].result == AUTH_DKIM_TEMPERROR && spent < 700,
		"one timeout for two signatures by the same key", "got %zu %s,%s in %llu ms",
		out.count, out.count > 0 ? auth_dkim_name(out.sigs[0].result) : "-",
		out.count > 1 ? auth_dkim_name(out.sigs[1].result) : "-",
		(unsigned long long)spent);
	dkim_outcome_clear(&out);
	free(tsigs[0]);
	free(tsigs[1]);

	/* A spent budget: no key lookup, temperror. */
	verify_with(vlib, fields, n, base_body, 0, resolver_now_ms(), &out);
	t_check(out.count == 2 && out.sigs[0].result == AUTH_DKIM_TEMPERROR &&
		out.sigs[1].result == AUTH_DKIM_TEMPERROR && t_has(out.sigs[0].reason, "budget"),
		"deadline passed -> temperror for every signature", "got %s \"%s\"",
		out.count ? auth_dkim_name(out.sigs[0].result) : "-",
		out.count ? out.sigs[0].reason : "");
	dkim_outcome_clear(&out);

	/* No From field: libopendkim gives up; each signature says why. */
	const char *nofrom[MAX_FIELDS];
	size_t m = 0;
	nofrom[m++] = sigs[1];
	for (size_t i = 1; i < NBASE; i++)
		nofrom[m++] = base_headers[i];
	verify_with(vlib, nofrom, m, base_body, 0, 0, &out);
	t_check(out.count == 1 && out.sigs[0].result == AUTH_DKIM_PERMERROR &&
		t_has(out.sigs[0].reason, "from"),
		"no From field -> permerror with reason", "got %s \"%s\"",
		out.count ? auth_dkim_name(out.sigs[0].result) : "-",
		out.count ? out.sigs[0].reason : "");
	dkim_outcome_clear(&out);

	/* Calls out of order are refused, not crashes. */
	struct dkim_verify_msg *v = dkim_verify_begin(vlib, NULL, 0);
	t_true("body before end of headers is refused", v != NULL && !dkim_verify_body(v, "x", 1));
	t_true("end without eoh still fills the outcome", v != NULL && dkim_verify_end(v, &out) &&
	       out.count == 0);
	dkim_outcome_clear(&out);
	dkim_verify_free(v);

	free(sigs[0]);
	free(sigs[1]);
}

/* One library handle, several threads verifying at once (the milter's
 * thread-per-connection model). */
struct thread_arg {
	const char *const *fields;
	size_t n;
	int passes;
};

static void *verify_thread(void *p)
{
	struct thread_arg *a = p;
	for (int i = 0; i < 25; i++) {
		struct dkim_outcome out;
		verify_with(vlib, a->fields, a->n, base_body, (size_t)(i % 3) * 5, 0, &out);
		if (out.count == 2 && out.sigs[0].result == AUTH_DKIM_PASS &&
		    out.sigs[1].result == AUTH_DKIM_PASS)
			a->passes++;
		dkim_outcome_clear(&out);
	}
	return NULL;
}

static void test_threads(void)
{
	struct sigspec a = {RSA("rsa2048")};
	struct sigspec b = {.key = "ed25519", .selector = "ed25519", .alg = DKIM_SIGN_ED25519SHA256};
	char *sigs[2] = {sign(&a, base_headers, NBASE, base_body),
			 sign(&b, base_headers, NBASE, base_body)};
	const char *fields[MAX_FIELDS];
	size_t n = assemble(fields, sigs, 2, NULL);
	pthread_t th[4];
	struct thread_arg args[4];
	int started = 0, passes = 0;
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){fields, n, 0};
		if (pthread_create(&th[i], NULL, verify_thread, &args[i]) == 0)
			started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		passes += args[i].passes;
	}
	t_check(started == 4 && passes == 100, "4 threads x 25 messages on one library handle",
		"got %d threads, %d passes", started, passes);
	free(sigs[0]);
	free(sigs[1]);
}

int main(void)
{
	const char *server = getenv("DNS_SERVER");
	keydir = getenv("KEYDIR");
	if (server == NULL || server[0] == '\0' || keydir == NULL || keydir[0] == '\0') {
		printf("1..0 # SKIP DNS_SERVER/KEYDIR not set (run tests/auth/dkim_verify.sh)\n");
		return 0;
	}
	struct resolver_config rcfg = {.nameservers = server, .query_timeout_ms = 400};
	struct resolver *res = NULL;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1024);
	if (!resolver_new(&rcfg, &res, &err)) {
		printf("Bail out! resolver_new: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return 99;
	}
	if (!dkim_verify_lib_new(res, NULL, &vlib, &err)) {
		printf("Bail out! dkim_verify_lib_new: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		resolver_free(res);
		return 99;
	}
	strbuf_free(&err);

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_no_signature();
	test_malformed();
	test_max_signatures();
	test_b_prefix();
	test_chunking();
	test_bare_lf_body();
	test_config_and_budget(res);
	test_threads();

	dkim_verify_lib_free(vlib);
	resolver_free(res);
	return t_done();
}
