/* oom_test: allocation-failure injection for the parsers that read outside
 * input: lib/dmarc_record, lib/from_header, lib/config (with lib/cidr),
 * lib/authres, lib/domain, lib/strbuf.
 *
 * No change to lib/: the program is linked with -Wl,--wrap=malloc (and
 * calloc, realloc, strdup, strndup), so every allocation the core library
 * makes goes through __wrap_malloc() here, which can be told to fail the Nth
 * one (once: a transient failure) or the Nth and every later one (memory
 * stays short). Allocations inside shared libraries (libidn2, libc's own)
 * are not counted.
 *
 * For each case: one clean run gives the reference result (rendered as text)
 * and the number N of allocations; then each of the N allocations is failed
 * in turn, in both modes. Every run must either give exactly the reference
 * result, or report the shortage the way the module's header promises
 * (DMARC_RECORD_NOMEM, FROM_NOMEM, DOMAIN_ERR_NOMEM, false with an "out of
 * memory" reason, a failed strbuf) and leave nothing allocated: ASan checks
 * every access, LeakSanitizer the leaks at exit. A run that returns a
 * different result without saying so is a silent cut: a failure. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "cidr.h"
#include "config.h"
#include "dmarc_record.h"
#include "domain.h"
#include "from_header.h"
#include "strbuf.h"
#include "testlib.h"

/* ---- the allocator hook ------------------------------------------------ */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static bool hook_on;          /* counting (and maybe failing) */
static unsigned long hook_n;  /* allocations seen since hook_start() */
static unsigned long hook_at; /* 1-based allocation to fail; 0 = none */
static bool hook_sticky;      /* fail hook_at and every later one */
static unsigned long hook_failed; /* allocations refused */

static bool hook_fail(void)
{
	if (!hook_on)
		return false;
	hook_n++;
	if (hook_at != 0 && (hook_n == hook_at || (hook_sticky && hook_n > hook_at))) {
		hook_failed++;
		return true;
	}
	return false;
}

void *__wrap_malloc(size_t n) { return hook_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return hook_fail() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return hook_fail() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return hook_fail() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return hook_fail() ? NULL : __real_strndup(s, n); }

static void hook_start(unsigned long at, bool sticky)
{
	hook_n = 0;
	hook_at = at;
	hook_sticky = sticky;
	hook_failed = 0;
	hook_on = true;
}

static void hook_stop(void)
{
	hook_on = false;
}

/* ---- rendering results --------------------------------------------------- */

/* Results are rendered into a fixed array with the hook off: rendering must
 * not allocate through the library (strbuf on a stack array). */
#define OUT_MAX 16384

struct out {
	char buf[OUT_MAX];
	size_t len;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, sizeof o->buf - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof o->buf - o->len ? (size_t)n : sizeof o->buf - o->len - 1;
}

/* A case: runs the code under test with the hook as set by the caller,
 * renders the result into out and says whether it reported a shortage. */
struct oom_case {
	const char *label;
	void (*run)(const void *arg, struct out *out, bool *nomem);
	const void *arg;
};

/* ---- dmarc_record ------------------------------------------------------------ */

static void render_uris(struct out *o, const char *tag, const struct dmarc_uri_list *l)
{
	out_printf(o, " %s(%zu,+%zu,-%zu)", tag, l->count, l->excess, l->invalid);
	for (size_t i = 0; i < l->count; i++)
		out_printf(o, " [%s|%s|%d|%llu]", l->uris[i].uri,
			   l->uris[i].address ? l->uris[i].address : "-", l->uris[i].has_max_size,
			   (unsigned long long)l->uris[i].max_size_bytes);
}

static void run_record(const void *arg, struct out *o, bool *nomem)
{
	const char *text = arg;
	char rstack[8192];
	struct strbuf reason;
	struct dmarc_record *rec = NULL;
	strbuf_init(&reason, rstack, sizeof rstack, sizeof rstack - 1);
	enum dmarc_record_status st = dmarc_record_parse(text, strlen(text), &rec, &reason);
	hook_stop();
	*nomem = st == DMARC_RECORD_NOMEM;
	if (*nomem && rec != NULL)
		out_printf(o, "#INCONSISTENT# NOMEM with a record ");
	out_printf(o, "status=%s reason=%s", dmarc_record_status_name(st), strbuf_str(&reason));
	if (rec != NULL) {
		out_printf(o, " p=%d sp=%d np=%d fromrua=%d adkim=%d aspf=%d pct=%u ri=%u psd=%d t=%d"
			   " fo=%s rf=%s warnings=%s", rec->p, rec->sp, rec->np, rec->p_from_rua,
			   rec->adkim_strict, rec->aspf_strict, rec->pct, (unsigned)rec->ri_sec,
			   rec->psd, rec->testing, rec->fo ? rec->fo : "-", rec->rf ? rec->rf : "-",
			   rec->warnings ? rec->warnings : "-");
		render_uris(o, "rua", &rec->rua);
		render_uris(o, "ruf", &rec->ruf);
	}
	dmarc_record_free(rec);
	strbuf_free(&reason);
}

/* ---- from_header ------------------------------------------------------------- */

struct from_arg {
	const char *values[4];
	size_t n;
};

static void run_from(const void *arg, struct out *o, bool *nomem)
{
	const struct from_arg *a = arg;
	size_t lens[4];
	for (size_t i = 0; i < a->n; i++)
		lens[i] = strlen(a->values[i]);
	struct from_result r;
	enum from_status st = from_header_parse(a->values, lens, a->n, &r);
	hook_stop();
	*nomem = st == FROM_NOMEM;
	out_printf(o, "status=%s naddrs=%zu nno=%zu complete=%d reason=%s domains=",
		   from_status_str(st), r.naddrs, r.nno_domain, r.authors_complete, r.reason);
	for (size_t i = 0; i < r.ndomains; i++)
		out_printf(o, "%s,", r.domains[i]);
	from_result_free(&r);
}

/* ---- config (and cidr lists) ------------------------------------------------ */

static void run_config(const void *arg, struct out *o, bool *nomem)
{
	const char *text = arg;
	char estack[4096];
	struct strbuf err;
	struct config cfg;
	strbuf_init(&err, estack, sizeof estack, sizeof estack - 1);
	bool ok = config_load_buffer(text, strlen(text), "oom.conf", &cfg, &err);
	hook_stop();
	*nomem = !ok && strstr(strbuf_str(&err), "out of memory") != NULL;
	out_printf(o, "ok=%d err=%s", ok, strbuf_str(&err));
	if (ok) {
		size_t n;
		const struct config_option *tab = config_table(&n);
		for (size_t i = 0; i < n; i++) {
			char vstack[4096];
			struct strbuf v;
			strbuf_init(&v, vstack, sizeof vstack, sizeof vstack - 1);
			if (config_format_value(&cfg, &tab[i], &v))
				out_printf(o, "\n%s %s", tab[i].name, strbuf_str(&v));
			strbuf_free(&v);
		}
	}
	config_free(&cfg);
	strbuf_free(&err);
}

static void run_cidr(const void *arg, struct out *o, bool *nomem)
{
	char estack[1024];
	struct strbuf err;
	struct cidr_list list = { NULL, 0 };
	strbuf_init(&err, estack, sizeof estack, sizeof estack - 1);
	bool ok = cidr_list_parse(arg, &list, &err);
	hook_stop();
	*nomem = !ok && strstr(strbuf_str(&err), "memory") != NULL;
	if (!ok && list.count != 0)
		out_printf(o, "#INCONSISTENT# failed parse left %zu entries ", list.count);
	out_printf(o, "ok=%d err=%s count=%zu", ok, strbuf_str(&err), list.count);
	cidr_list_free(&list);
	strbuf_free(&err);
}

/* ---- authres ------------------------------------------------------------------ */

static void run_authres(const void *arg, struct out *o, bool *nomem)
{
	(void)arg;
	static const struct authres_spf spf = { AUTH_SPF_SOFTFAIL, "bounce@example.org",
		"mx.example.org", "a reason with (parentheses) and \"quotes\" and § and \xff" };
	static const struct authres_dkim dkim[] = {
		{ AUTH_DKIM_PASS, "example.com", "s1", "abcdefghijklmnopqrstuvwxyz", NULL },
		{ AUTH_DKIM_FAIL, "example.net", "s2", "abcdefghijklmnopqrstuvwxyA", "body hash did not verify" },
		{ AUTH_DKIM_PERMERROR, NULL, NULL, NULL, "syntax error" },
	};
	static const struct authres_dmarc dmarc[] = {
		{ AUTH_DMARC_FAIL, "example.com", DMARC_POLICY_REJECT, DMARC_POLICY_NONE,
		  DMARC_POLICY_REJECT, "trusted_forwarder", "no aligned identifier" },
		{ AUTH_DMARC_PASS, "example.org", DMARC_POLICY_NONE, DMARC_POLICY_NONE,
		  DMARC_POLICY_NONE, NULL, NULL },
	};
	const struct authres_input in = { "mx.receiver.example", &spf, dkim, 3, dmarc, 2 };
	const struct authres_received_spf rs = { AUTH_SPF_SOFTFAIL, "192.0.2.1",
		"bounce@example.org", "mx.example.org", "mx.receiver.example", "why" };
	struct strbuf a, b, c, err;
	strbuf_init(&a, NULL, 0, AUTHRES_MAX_LEN);
	strbuf_init(&b, NULL, 0, AUTHRES_MAX_LEN);
	strbuf_init(&c, NULL, 0, 1024);
	strbuf_init(&err, NULL, 0, 1024);
	bool ok1 = authres_build(&in, &a, &err);
	bool ok2 = authres_received_spf(&rs, &b, &err);
	bool ok3 = authres_parse_authserv_id(" (comment) \"mx.\\\"quoted\" ; spf=pass", &c);
	hook_stop();
	*nomem = strbuf_failed(&a) || strbuf_failed(&b) || strbuf_failed(&c);
	if (*nomem && ok1 && ok2 && ok3)
		out_printf(o, "#INCONSISTENT# strbuf failed but every builder said ok ");
	out_printf(o, "ok=%d%d%d\n%s\n%s\n%s", ok1, ok2, ok3, strbuf_str(&a), strbuf_str(&b),
		   strbuf_str(&c));
	strbuf_free(&a);
	strbuf_free(&b);
	strbuf_free(&c);
	strbuf_free(&err);
}

/* ---- domain and strbuf -------------------------------------------------------- */

static void run_domain(const void *arg, struct out *o, bool *nomem)
{
	const char *in = arg;
	char out[DOMAIN_BUF_SIZE];
	struct strbuf why;
	strbuf_init(&why, NULL, 0, 1024);
	enum domain_status st = domain_normalize(in, strlen(in), DOMAIN_ALLOW_UNDERSCORE, out, &why);
	hook_stop();
	*nomem = st == DOMAIN_ERR_NOMEM || strbuf_failed(&why);
	out_printf(o, "status=%s out=%s why=%s", domain_status_str(st), out, strbuf_str(&why));
	strbuf_free(&why);
}

static void run_strbuf(const void *arg, struct out *o, bool *nomem)
{
	(void)arg;
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, 1 << 20);
	for (int i = 0; i < 200; i++)
		strbuf_printf(&sb, "line %d <&> ", i);
	strbuf_add_xml(&sb, "<a href=\"x\">&</a>");
	char *s = strbuf_finish(&sb);
	hook_stop();
	*nomem = s == NULL;
	out_printf(o, "%zu:%.40s", s ? strlen(s) : 0, s ? s : "");
	free(s);
}

/* ---- the driver ------------------------------------------------------------- */

static void one_case(const struct oom_case *c)
{
	static struct out ref, got;
	bool nomem = false;

	memset(&ref, 0, sizeof ref);
	hook_start(0, false);
	c->run(c->arg, &ref, &nomem);
	hook_stop();
	unsigned long n = hook_n;
	if (!t_check(!nomem, c->label, "the clean run reported out of memory: %s", ref.buf))
		return;
	if (n == 0) {
		t_note("%s: no allocation through the library", c->label);
		return;
	}
	for (int sticky = 0; sticky < 2; sticky++) {
		unsigned long bad = 0, reported = 0, first_bad = 0;
		char first[512] = "";
		for (unsigned long k = 1; k <= n; k++) {
			memset(&got, 0, sizeof got);
			hook_start(k, sticky != 0);
			c->run(c->arg, &got, &nomem);
			hook_stop();
			if (nomem)
				reported++;
			bool same = strcmp(got.buf, ref.buf) == 0;
			/* a shortage must be reported, never turned into another
			 * answer; the renderers flag broken promises too */
			if ((!nomem && !same) || strstr(got.buf, "#INCONSISTENT#") != NULL) {
				if (bad++ == 0) {
					first_bad = k;
					snprintf(first, sizeof first, "%.200s | want %.200s", got.buf, ref.buf);
				}
			}
		}
		t_check(bad == 0, c->label, "%s: %lu of %lu runs changed the result without "
			"reporting a shortage; first at allocation %lu: %s",
			sticky ? "sticky" : "once", bad, n, first_bad, first);
		t_note("%s (%s): %lu allocations, %lu runs reported out of memory",
		       c->label, sticky ? "every later one fails too" : "one fails", n, reported);
	}
}

static const char record_full[] =
	"v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; aspf=r; pct=50; fo=1:d; "
	"rf=afrf; ri=3600; psd=n; t=y; rua=mailto:a@example.com,mailto:%22q%20x%22@b.example!10m,"
	"https://x.example/r,mailto:bad@,mailto:c@EXAMPLE.NET.; ruf=mailto:f@example.net; "
	"zz=1; bogus";

int main(void)
{
	static char many[4096];
	size_t len = (size_t)snprintf(many, sizeof many, "v=DMARC1; p=none; rua=");
	for (int i = 0; i < 40 && len < sizeof many - 64; i++)
		len += (size_t)snprintf(many + len, sizeof many - len, "%smailto:r%d@h%d.example",
					i ? "," : "", i, i);

	static const struct from_arg from1 = { {
		"\"Doe, Jane\" <jane@Example.COM>, (c) b@b\xc3\xbc" "cher.example, "
		"group: c@c.example, d@[192.0.2.1];",
		"e@e.example",
	}, 2 };
	static const struct from_arg from2 = { {
		"a@a.example, =?utf-8?q?x?= <b@b.example>, \"unterminated <c@c.example>",
	}, 1 };
	static const char conf1[] =
		"AuthservID mx.example.com\n"
		"Socket local:/run/dmarc-milter/milter.sock\n"
		"IgnoreHosts 127.0.0.0/8, ::1 192.0.2.0/24\n"
		"TrustedForwarders 2001:db8::/32\n"
		"IgnoreMailFrom Example.COM, example.net\n"
		"MailingListIds \"list.example\" other.example\n"
		"Nameservers 127.0.0.1@5353, ::1\n"
		"ReportOrgName \"Example # Org\"\n"
		"DNSTimeout 3\n# comment\n\n";
	static const char conf2[] = "DNSTimeout 3\nDNSTimeout 4\n";

	const struct oom_case cases[] = {
		{ "dmarc_record: every tag", run_record, record_full },
		{ "dmarc_record: 40 URIs", run_record, many },
		{ "dmarc_record: p from rua", run_record, "v=DMARC1; p=bogus; rua=mailto:a@example.com" },
		{ "from_header: groups, IDN, literal", run_from, &from1 },
		{ "from_header: unterminated", run_from, &from2 },
		{ "config: lists and CIDR", run_config, conf1 },
		{ "config: error", run_config, conf2 },
		{ "cidr: list", run_cidr, "192.0.2.0/24, 2001:db8::/32 10.0.0.1 ::ffff:192.0.2.7" },
		{ "authres: every builder", run_authres, NULL },
		{ "domain: U-label", run_domain, "B\xc3\xbc" "cher.Example." },
		{ "domain: bad", run_domain, "a..b\xff" },
		{ "strbuf: growth", run_strbuf, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		one_case(&cases[i]);
	return t_done();
}
