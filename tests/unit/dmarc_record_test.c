/* dmarc_record_test: the DMARC record parser and the TXT RRset selection.
 *
 * Each row gives the record text, the status, a list of "key=value" tokens
 * that must all appear in a rendering of the parsed record (see render()),
 * and a piece of text the reason must contain ("-" = the reason must be
 * empty, "" = not checked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_record.h"
#include "strbuf.h"
#include "testlib.h"

struct row {
	const char *label;
	const char *text;
	size_t len;            /* 0: strlen(text) */
	const char *want;      /* space-separated tokens; "st=..." always first */
	const char *reason;    /* substring of the reason; "-" = empty; "" = any */
};

#define MINIMAL_DEFAULTS "sp=- np=- adkim=r aspf=r psd=u t=n pct=100 ri=86400 fo=- rf=- fromrua=0 rua.n=0 ruf.n=0"
#define RUA_OK "; rua=mailto:d@example.com"

static const struct row rows[] = {
	/* valid records */
	{ "minimal p=none", "v=DMARC1; p=none", 0, "st=ok p=none " MINIMAL_DEFAULTS, "-" },
	{ "p=reject without spaces", "v=DMARC1;p=reject", 0, "st=ok p=reject", "-" },
	{ "trailing semicolon", "v=DMARC1;p=quarantine;", 0, "st=ok p=quarantine", "-" },
	{ "all tags",
	  "v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; aspf=s; fo=1:d:s; "
	  "rua=mailto:agg@example.com; ruf=mailto:fail@example.net; psd=n; t=y; pct=50; "
	  "rf=afrf; ri=3600", 0,
	  "st=ok p=reject sp=quarantine np=none adkim=s aspf=s fo=1:d:s psd=n t=y pct=50 "
	  "rf=afrf ri=3600 rua.n=1 rua0.addr=agg@example.com rua0.dom=example.com "
	  "ruf.n=1 ruf0.addr=fail@example.net fromrua=0", "-" },
	{ "whitespace around tags, = and ;", "  v = DMARC1 ;  p = reject ;  sp =none ; ", 0,
	  "st=ok p=reject sp=none", "-" },
	{ "tabs", "v=DMARC1;\tp=reject\t;\tadkim=s", 0, "st=ok p=reject adkim=s", "-" },
	{ "CRLF left in the text", "v=DMARC1;\r\n p=reject", 0, "st=ok p=reject", "-" },
	{ "tag names and keywords case-insensitive", "v=DMARC1; P=Reject; SP=NONE; ADKIM=S; Aspf=R", 0,
	  "st=ok p=reject sp=none adkim=s aspf=r", "-" },
	{ "V upper case", "V=DMARC1; p=none", 0, "st=ok p=none", "-" },
	{ "empty elements tolerated", "v=DMARC1;;p=none;;", 0, "st=ok p=none", "-" },
	{ "order free: p last", "v=DMARC1; adkim=s; p=quarantine", 0, "st=ok p=quarantine adkim=s", "-" },

	/* not a DMARC record */
	{ "v value lower case", "v=dmarc1; p=reject", 0, "st=not_dmarc", "not a DMARC record" },
	{ "v not first", "p=reject; v=DMARC1", 0, "st=not_dmarc", "" },
	{ "no v at all", "p=reject", 0, "st=not_dmarc", "" },
	{ "SPF record", "v=spf1 -all", 0, "st=not_dmarc", "" },
	{ "v=DMARC10", "v=DMARC10; p=none", 0, "st=not_dmarc", "" },
	{ "no ; after v", "v=DMARC1 p=none", 0, "st=not_dmarc", "" },
	{ "empty text", "", 0, "st=not_dmarc", "" },
	{ "NUL inside DMARC1", "v=DM\0ARC1; p=none", 17, "st=not_dmarc", "" },

	/* p fallbacks (RFC 9989 §4.10.1) */
	{ "only v", "v=DMARC1", 0, "st=invalid", "p is missing and rua has no valid URI" },
	{ "only v and ;", "v=DMARC1;", 0, "st=invalid", "p is missing" },
	{ "missing p with rua", "v=DMARC1; rua=mailto:d@example.com", 0,
	  "st=ok p=none fromrua=1 rua.n=1", "p is missing: the record acts as p=none" },
	{ "invalid p with rua", "v=DMARC1; p=bogus" RUA_OK, 0, "st=ok p=none fromrua=1",
	  "p: invalid value \"bogus\"" },
	{ "invalid p without rua", "v=DMARC1; p=bogus", 0, "st=invalid",
	  "p is invalid and rua has no valid URI" },
	{ "empty p with rua", "v=DMARC1; p=" RUA_OK, 0, "st=ok p=none fromrua=1",
	  "p: invalid value \"\" (empty)" },
	{ "invalid p, rua all invalid", "v=DMARC1; p=rejected; rua=foo", 0, "st=invalid",
	  "rua: URI \"foo\" dropped: no URI scheme" },
	{ "non-ASCII p with rua", "v=DMARC1; p=r\xc3\xa9ject" RUA_OK, 0, "st=ok p=none fromrua=1",
	  "p: invalid value \"r\\xC3\\xA9ject\" (not printable ASCII)" },
	{ "non-mailto rua still counts for the fallback", "v=DMARC1; rua=https://r.example.com/x", 0,
	  "st=ok p=none fromrua=1 rua.n=1 rua0.mailto=0", "" },
	{ "bad sp with rua", "v=DMARC1; p=reject; sp=rejekt" RUA_OK, 0,
	  "st=ok p=none sp=- fromrua=1", "sp is invalid: the record acts as p=none" },
	{ "bad sp without rua", "v=DMARC1; p=reject; sp=rejekt", 0, "st=invalid",
	  "sp is invalid and rua has no valid URI" },
	{ "bad np without rua", "v=DMARC1; p=reject; np=maybe", 0, "st=invalid", "np is invalid" },
	{ "bad np with rua", "v=DMARC1; p=reject; sp=reject; np=maybe" RUA_OK, 0,
	  "st=ok p=none sp=- np=- fromrua=1", "np: invalid value \"maybe\"" },

	/* other invalid values fall back to defaults */
	{ "bad adkim", "v=DMARC1; p=reject; adkim=x", 0, "st=ok p=reject adkim=r",
	  "adkim: invalid value \"x\" ignored (default r)" },
	{ "bad aspf", "v=DMARC1; p=reject; aspf=strict", 0, "st=ok aspf=r", "aspf: invalid value" },
	{ "t=y", "v=DMARC1; p=reject; t=y", 0, "st=ok t=y", "-" },
	{ "t=n", "v=DMARC1; p=reject; t=n", 0, "st=ok t=n", "-" },
	{ "T=Y", "v=DMARC1; p=reject; T=Y", 0, "st=ok t=y", "-" },
	{ "bad t", "v=DMARC1; p=reject; t=yes", 0, "st=ok t=n", "t: invalid value \"yes\" ignored" },
	{ "psd=y", "v=DMARC1; p=reject; psd=y", 0, "st=ok psd=y", "-" },
	{ "psd=n", "v=DMARC1; p=reject; psd=n", 0, "st=ok psd=n", "-" },
	{ "psd=u", "v=DMARC1; p=reject; psd=u", 0, "st=ok psd=u", "-" },
	{ "bad psd", "v=DMARC1; p=reject; psd=x", 0, "st=ok psd=u", "psd: invalid value \"x\"" },
	{ "pct=0", "v=DMARC1; p=reject; pct=0", 0, "st=ok pct=0", "-" },
	{ "pct=100", "v=DMARC1; p=reject; pct=100", 0, "st=ok pct=100", "-" },
	{ "pct=101", "v=DMARC1; p=reject; pct=101", 0, "st=ok pct=100", "pct: invalid value \"101\"" },
	{ "pct=-1", "v=DMARC1; p=reject; pct=-1", 0, "st=ok pct=100", "pct: invalid value" },
	{ "pct=abc", "v=DMARC1; p=reject; pct=abc", 0, "st=ok pct=100", "pct: invalid value" },
	{ "pct huge", "v=DMARC1; p=reject; pct=99999999999999999999999", 0, "st=ok pct=100",
	  "pct: invalid value" },
	{ "ri=3600", "v=DMARC1; p=none; ri=3600", 0, "st=ok ri=3600", "-" },
	{ "bad ri", "v=DMARC1; p=none; ri=0x10", 0, "st=ok ri=86400", "ri: invalid value" },
	{ "ri beyond 32 bits", "v=DMARC1; p=none; ri=4294967296", 0, "st=ok ri=86400", "ri: invalid" },
	{ "fo=d:s", "v=DMARC1; p=none; fo=d:s", 0, "st=ok fo=d:s", "-" },
	{ "fo 0 and 1 exclusive", "v=DMARC1; p=none; fo=0:1", 0, "st=ok fo=-", "fo: invalid value" },
	{ "fo repeated option", "v=DMARC1; p=none; fo=d:d", 0, "st=ok fo=-", "fo: invalid value" },
	{ "rf list", "v=DMARC1; p=none; rf=afrf:iodef", 0, "st=ok rf=afrf:iodef", "-" },
	{ "bad rf", "v=DMARC1; p=none; rf=a::b", 0, "st=ok rf=-", "rf: invalid value" },
	{ "control byte in a value", "v=DMARC1; p=none; fo=\x01", 0, "st=ok fo=-",
	  "fo: invalid value \"\\x01\" (not printable ASCII)" },

	/* rua / ruf */
	{ "three rua URIs with spaces",
	  "v=DMARC1; p=none; rua=mailto:a@example.com, mailto:b@Example.NET ,mailto:c@example.org", 0,
	  "st=ok rua.n=3 rua0.addr=a@example.com rua1.addr=b@example.net rua1.dom=example.net "
	  "rua2.dom=example.org rua1.mailto=1", "-" },
	{ "!size m", "v=DMARC1; p=none; rua=mailto:a@example.com!10m", 0,
	  "st=ok rua0.uri=mailto:a@example.com rua0.size=10485760", "-" },
	{ "!size K upper case", "v=DMARC1; p=none; rua=mailto:a@example.com!20K", 0,
	  "st=ok rua0.size=20480", "-" },
	{ "!size bytes", "v=DMARC1; p=none; rua=mailto:a@example.com!500", 0,
	  "st=ok rua0.size=500", "-" },
	{ "!size t", "v=DMARC1; p=none; rua=mailto:a@example.com!1t", 0,
	  "st=ok rua0.size=1099511627776", "-" },
	{ "no size", "v=DMARC1; p=none; rua=mailto:a@example.com", 0, "st=ok rua0.size=-", "-" },
	{ "bad size unit", "v=DMARC1; p=none; rua=mailto:a@example.com!10x", 0,
	  "st=ok rua.n=0 rua.invalid=1", "dropped: bad !size suffix" },
	{ "size without digits", "v=DMARC1; p=none; rua=mailto:a@example.com!k", 0,
	  "st=ok rua.n=0 rua.invalid=1", "bad !size suffix" },
	{ "size overflows 64 bits", "v=DMARC1; p=none; rua=mailto:a@example.com!99999999999999999999", 0,
	  "st=ok rua.n=0 rua.invalid=1", "bad !size suffix" },
	{ "size that wraps 64 bits", "v=DMARC1; p=none; rua=mailto:a@example.com!18446744073709551619", 0,
	  "st=ok rua.n=0 rua.invalid=1", "bad !size suffix" },
	{ "largest 64-bit size", "v=DMARC1; p=none; rua=mailto:a@example.com!18446744073709551615", 0,
	  "st=ok rua0.size=18446744073709551615", "-" },
	{ "pct with leading zeros", "v=DMARC1; p=reject; pct=050", 0, "st=ok pct=50", "-" },
	{ "size times unit overflows", "v=DMARC1; p=none; rua=mailto:a@example.com!18446744073709551g", 0,
	  "st=ok rua.n=0", "bad !size suffix" },
	{ "percent-encoded +", "v=DMARC1; p=none; rua=mailto:a%2Bb@example.com", 0,
	  "st=ok rua0.addr=a+b@example.com rua0.uri=mailto:a+b@example.com", "-" },
	{ "%21 in the address and a size", "v=DMARC1; p=none; rua=mailto:dmarc%21x@example.com!5k", 0,
	  "st=ok rua0.addr=dmarc!x@example.com rua0.size=5120", "-" },
	{ "%2C: two addresses in one URI", "v=DMARC1; p=none; rua=mailto:a@example.com%2Cb@example.com", 0,
	  "st=ok rua.n=0 rua.invalid=1", "more than one address in one URI" },
	{ "%3B inside a quoted local part", "v=DMARC1; p=none; rua=mailto:%22a%3Bb%22@example.com", 0,
	  "st=ok rua.n=1 rua0.addr=\"a;b\"@example.com", "-" },
	{ "%3B in a dot-atom", "v=DMARC1; p=none; rua=mailto:a%3Bb@example.com", 0,
	  "st=ok rua.n=0", "bad character in local part" },
	{ "truncated percent-encoding", "v=DMARC1; p=none; rua=mailto:a%2@example.com", 0,
	  "st=ok rua.n=0", "bad percent-encoding" },
	{ "decoded control byte", "v=DMARC1; p=none; rua=mailto:a%0Ab@example.com", 0,
	  "st=ok rua.n=0", "control character in decoded URI" },
	{ "non-mailto kept", "v=DMARC1; p=none; rua=https://reports.example.com/dmarc", 0,
	  "st=ok rua.n=1 rua0.mailto=0 rua0.addr=- rua0.dom=- rua0.uri=https://reports.example.com/dmarc",
	  "-" },
	{ "mailto without @", "v=DMARC1; p=none; rua=mailto:reports.example.com", 0,
	  "st=ok rua.n=0", "no '@' in address" },
	{ "mailto single-label domain", "v=DMARC1; p=none; rua=mailto:a@localhost", 0,
	  "st=ok rua.n=0", "domain has a single label" },
	{ "mailto domain label with -", "v=DMARC1; p=none; rua=mailto:a@-x.example.com", 0,
	  "st=ok rua.n=0", "starts or ends with '-'" },
	{ "mailto IPv4 domain", "v=DMARC1; p=none; rua=mailto:a@192.0.2.1", 0,
	  "st=ok rua.n=0", "numeric label" },
	{ "mailto domain literal", "v=DMARC1; p=none; rua=mailto:a@[192.0.2.1]", 0,
	  "st=ok rua.n=0", "bad character in domain" },
	{ "mailto empty local part", "v=DMARC1; p=none; rua=mailto:@example.com", 0,
	  "st=ok rua.n=0", "empty local part" },
	{ "mailto domain lower-cased, trailing dot", "v=DMARC1; p=none; rua=mailto:A.B@Example.COM.", 0,
	  "st=ok rua0.addr=A.B@example.com rua0.dom=example.com", "-" },
	{ "mailto hfields ignored", "v=DMARC1; p=none; rua=mailto:a@example.com?subject=dmarc", 0,
	  "st=ok rua0.addr=a@example.com rua0.uri=mailto:a@example.com?subject=dmarc", "-" },
	{ "MAILTO scheme upper case", "v=DMARC1; p=none; rua=MAILTO:a@example.com", 0,
	  "st=ok rua0.mailto=1 rua0.addr=a@example.com", "-" },
	{ "no scheme", "v=DMARC1; p=none; rua=a@example.com", 0, "st=ok rua.n=0", "no URI scheme" },
	{ "empty rua", "v=DMARC1; p=none; rua=", 0, "st=ok rua.n=0",
	  "rua: invalid value \"\" (empty)" },
	{ "empty list element", "v=DMARC1; p=none; rua=mailto:a@example.com,,mailto:b@example.com", 0,
	  "st=ok rua.n=2 rua.invalid=1", "rua: URI \"\" dropped: empty URI" },
	{ "space inside a URI", "v=DMARC1; p=none; rua=mailto:a b@example.com", 0,
	  "st=ok rua.n=0", "character not allowed in a URI" },
	{ "ruf and fo", "v=DMARC1; p=none; ruf=mailto:f@example.com; fo=1", 0,
	  "st=ok ruf.n=1 ruf0.addr=f@example.com fo=1 rua.n=0", "-" },

	/* unknown, malformed and duplicate tags */
	{ "unknown tag", "v=DMARC1; p=none; pctx=5", 0, "st=ok p=none", "unknown tag \"pctx\" ignored" },
	{ "element without =", "v=DMARC1; p=none; fo:1", 0, "st=ok fo=-",
	  "malformed tag \"fo:1\" ignored (no \"=\")" },
	{ "tag name not ALPHA", "v=DMARC1; p=none; r-ua=x", 0, "st=ok",
	  "malformed tag name \"r-ua\" ignored" },
	{ "duplicate p", "v=DMARC1; p=none; p=reject", 0, "st=invalid",
	  "tag \"p\" appears more than once" },
	{ "duplicate differing in case", "v=DMARC1; p=none; rua=mailto:a@example.com; RUA=mailto:b@example.com", 0,
	  "st=invalid", "tag \"rua\" appears more than once" },
	{ "v repeated", "v=DMARC1; p=none; v=DMARC1", 0, "st=invalid", "tag \"v\" appears" },
	{ "duplicate unknown tags are just ignored", "v=DMARC1; p=none; x=1; x=2", 0, "st=ok",
	  "unknown tag \"x\" ignored; unknown tag \"x\" ignored" },
	{ "NUL byte in the record", "v=DMARC1; p=none\0; sp=reject", 28, "st=invalid",
	  "NUL byte at offset 16" },
};

/* Appends "key=value " for the policy, "-" when absent. */
static void put_pol(struct strbuf *sb, const char *key, bool has, enum dmarc_policy p)
{
	strbuf_printf(sb, "%s=%s ", key, has ? dmarc_policy_name(p) : "-");
}

static void put_list(struct strbuf *sb, const char *name, const struct dmarc_uri_list *l)
{
	strbuf_printf(sb, "%s.n=%zu %s.excess=%zu %s.invalid=%zu ", name, l->count, name,
		      l->excess, name, l->invalid);
	for (size_t i = 0; i < l->count && i < 3; i++) {
		const struct dmarc_uri *u = &l->uris[i];

		strbuf_printf(sb, "%s%zu.uri=%s %s%zu.mailto=%d %s%zu.addr=%s %s%zu.dom=%s ",
			      name, i, u->uri, name, i, u->is_mailto, name, i,
			      u->address ? u->address : "-", name, i, u->domain ? u->domain : "-");
		if (u->has_max_size)
			strbuf_printf(sb, "%s%zu.size=%llu ", name, i,
				      (unsigned long long)u->max_size_bytes);
		else
			strbuf_printf(sb, "%s%zu.size=- ", name, i);
	}
}

/* " key=value key=value ... " for a parse outcome. */
static void render(struct strbuf *sb, enum dmarc_record_status st, const struct dmarc_record *r)
{
	static const char *const names[] = { "ok", "not_dmarc", "invalid", "nomem" };

	strbuf_printf(sb, " st=%s ", names[st]);
	if (r == NULL)
		return;
	/* p is shown as the effective value (none when it comes from the rua fallback) */
	put_pol(sb, "p", r->has_p || r->p_from_rua, r->p);
	put_pol(sb, "sp", r->has_sp, r->sp);
	put_pol(sb, "np", r->has_np, r->np);
	strbuf_printf(sb, "adkim=%s aspf=%s psd=%s t=%s pct=%u ri=%lu fo=%s rf=%s fromrua=%d ",
		      r->adkim_strict ? "s" : "r", r->aspf_strict ? "s" : "r",
		      dmarc_psd_name(r->psd), r->testing ? "y" : "n", r->pct,
		      (unsigned long)r->ri_sec, r->fo ? r->fo : "-", r->rf ? r->rf : "-",
		      r->p_from_rua);
	put_list(sb, "rua", &r->rua);
	put_list(sb, "ruf", &r->ruf);
}

/* True when every space-separated token of want appears in got (which is
 * " tok tok ... "). */
static bool tokens_match(const char *got, const char *want)
{
	const char *w = want;

	while (*w != '\0') {
		while (*w == ' ')
			w++;
		size_t n = strcspn(w, " ");
		if (n == 0)
			break;
		char tok[256];
		if (n + 3 > sizeof tok)
			return false;
		tok[0] = ' ';
		memcpy(tok + 1, w, n);
		tok[n + 1] = ' ';
		tok[n + 2] = '\0';
		if (strstr(got, tok) == NULL)
			return false;
		w += n;
	}
	return true;
}

static void run_row(const struct row *row)
{
	struct dmarc_record *rec = NULL;
	struct strbuf reason, got;
	size_t len = row->len ? row->len : strlen(row->text);

	strbuf_init(&reason, NULL, 0, 16384);
	strbuf_init(&got, NULL, 0, 16384);
	enum dmarc_record_status st = dmarc_record_parse(row->text, len, &rec, &reason);
	render(&got, st, rec);
	t_check(tokens_match(strbuf_str(&got), row->want), row->label,
		"got \"%s\", want \"%s\"", strbuf_str(&got), row->want);

	const char *rs = strbuf_str(&reason);
	if (strcmp(row->reason, "-") == 0)
		t_check(rs[0] == '\0', row->label, "reason: got \"%s\", want empty", rs);
	else if (row->reason[0] != '\0')
		t_check(strstr(rs, row->reason) != NULL, row->label,
			"reason: got \"%s\", want it to contain \"%s\"", rs, row->reason);
	if (rec != NULL)
		t_check(strcmp(rec->warnings ? rec->warnings : "", rs) == 0, row->label,
			"record warnings \"%s\" differ from reason \"%s\"",
			rec->warnings ? rec->warnings : "", rs);
	else
		t_check(st != DMARC_RECORD_OK, row->label, "OK without a record");
	dmarc_record_free(rec);
	strbuf_free(&reason);
	strbuf_free(&got);
}

/* Builds "v=DMARC1; p=none; rua=" followed by n URIs made by fmt(i). */
static char *many_uris(size_t n, const char *sep, bool valid)
{
	struct strbuf sb;

	strbuf_init(&sb, NULL, 0, 1 << 20);
	strbuf_puts(&sb, "v=DMARC1; p=none; rua=");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strbuf_puts(&sb, sep);
		if (valid)
			strbuf_printf(&sb, "mailto:r%zu@example.com", i);
	}
	return strbuf_finish(&sb);
}

static void limit_tests(void)
{
	struct dmarc_record *rec = NULL;
	struct strbuf reason;
	enum dmarc_record_status st;
	char *text;

	/* 33 URIs: 32 kept, one counted as excess */
	text = many_uris(33, ",", true);
	strbuf_init(&reason, NULL, 0, 16384);
	st = dmarc_record_parse(text, strlen(text), &rec, &reason);
	t_int("33 URIs: status", st, DMARC_RECORD_OK);
	t_int("33 URIs: kept", rec ? (long long)rec->rua.count : -1, DMARC_RECORD_MAX_URIS);
	t_int("33 URIs: excess", rec ? (long long)rec->rua.excess : -1, 1);
	t_str("33 URIs: last kept", rec ? rec->rua.uris[31].address : NULL, "r31@example.com");
	t_check(strstr(strbuf_str(&reason), "rua: 1 URIs beyond the first 32 ignored") != NULL,
		"33 URIs: reason", "got \"%s\"", strbuf_str(&reason));
	rec = dmarc_record_free(rec);
	strbuf_free(&reason);
	free(text);

	/* 1,000 empty URIs in one rua: all invalid, warnings capped */
	text = many_uris(1000, ",", false);
	strbuf_init(&reason, NULL, 0, 16384);
	st = dmarc_record_parse(text, strlen(text), &rec, &reason);
	t_int("1000 empty URIs: status", st, DMARC_RECORD_OK);
	t_int("1000 empty URIs: invalid counted", rec ? (long long)rec->rua.invalid : -1, 1000);
	t_check(strstr(strbuf_str(&reason), "; 984 more warnings") != NULL,
		"1000 empty URIs: warnings capped at 16", "got \"%s\"", strbuf_str(&reason));
	t_check(reason.len < 2048, "1000 empty URIs: reason bounded", "got %zu bytes", reason.len);
	rec = dmarc_record_free(rec);
	strbuf_free(&reason);
	free(text);

	/* the size limit: 4096 bytes accepted, 4097 refused */
	char big[DMARC_RECORD_MAX_LEN + 2];
	memset(big, 'a', sizeof big);
	memcpy(big, "v=DMARC1; p=none; x=", 20);
	strbuf_init(&reason, NULL, 0, 16384);
	st = dmarc_record_parse(big, DMARC_RECORD_MAX_LEN, &rec, &reason);
	t_int("4096-byte record accepted", st, DMARC_RECORD_OK);
	rec = dmarc_record_free(rec);
	strbuf_reset(&reason);
	st = dmarc_record_parse(big, DMARC_RECORD_MAX_LEN + 1, &rec, &reason);
	t_int("4097-byte record refused", st, DMARC_RECORD_INVALID);
	t_str("4097-byte record reason", strbuf_str(&reason),
	      "record is 4097 bytes, longer than the 4096 we accept");
	t_true("no record on failure", rec == NULL);
	strbuf_free(&reason);

	/* a long unknown tag name is quoted with "..." and stays short */
	char longtag[200];
	memset(longtag, 'z', sizeof longtag);
	memcpy(longtag, "v=DMARC1; p=none; ", 18);
	longtag[sizeof longtag - 2] = '=';
	longtag[sizeof longtag - 1] = '1';
	strbuf_init(&reason, NULL, 0, 16384);
	st = dmarc_record_parse(longtag, sizeof longtag, &rec, &reason);
	t_int("long unknown tag: ok", st, DMARC_RECORD_OK);
	t_check(strstr(strbuf_str(&reason), "zzz...\" ignored") != NULL && reason.len < 120,
		"long unknown tag: excerpt cut with ...", "got \"%s\"", strbuf_str(&reason));
	rec = dmarc_record_free(rec);
	strbuf_free(&reason);

	/* NULL reason buffer is allowed */
	st = dmarc_record_parse("v=DMARC1; p=bogus; x=1", 22, &rec, NULL);
	t_int("NULL reason buffer", st, DMARC_RECORD_INVALID);
}

struct sel_row {
	const char *label;
	const char *txt[4];
	size_t n;
	enum dmarc_select_status want;
	size_t want_index;
	const char *reason;
};

static const struct sel_row sel_rows[] = {
	{ "select: empty RRset", { NULL }, 0, DMARC_SELECT_NONE, 0, "no DMARC record (0 TXT" },
	{ "select: only SPF", { "v=spf1 -all" }, 1, DMARC_SELECT_NONE, 0, "none starts with v=DMARC1" },
	{ "select: SPF and DMARC", { "v=spf1 -all", "v=DMARC1; p=none" }, 2, DMARC_SELECT_ONE, 1, "-" },
	{ "select: two DMARC records", { "v=DMARC1; p=none", "v=DMARC1; p=reject" }, 2,
	  DMARC_SELECT_SEVERAL, 0, "several DMARC records (2): no record" },
	{ "select: lower-case v=dmarc1 does not count", { "v=DMARC1; p=none", "v=dmarc1; p=reject" }, 2,
	  DMARC_SELECT_ONE, 0, "-" },
	{ "select: a broken DMARC record still counts", { "v=DMARC1; p=bogus", "x", "v=DMARC1; p=reject" },
	  3, DMARC_SELECT_SEVERAL, 0, "several DMARC records (2)" },
	{ "select: bare v=DMARC1", { "hello", "v=DMARC1" }, 2, DMARC_SELECT_ONE, 1, "-" },
	{ "select: leading space", { " v=DMARC1;p=none" }, 1, DMARC_SELECT_ONE, 0, "-" },
	{ "select: three DMARC records", { "v=DMARC1", "v=DMARC1;", "v=DMARC1; p=none", "other" }, 4,
	  DMARC_SELECT_SEVERAL, 0, "several DMARC records (3)" },
};

static void select_tests(void)
{
	for (size_t i = 0; i < sizeof sel_rows / sizeof sel_rows[0]; i++) {
		const struct sel_row *r = &sel_rows[i];
		struct dmarc_txt txts[4];
		struct strbuf reason;
		size_t index = 999;

		for (size_t j = 0; j < r->n; j++) {
			txts[j].data = r->txt[j];
			txts[j].len = strlen(r->txt[j]);
		}
		strbuf_init(&reason, NULL, 0, 1024);
		enum dmarc_select_status st = dmarc_record_select(txts, r->n, &index, &reason);
		bool ok = st == r->want && (st != DMARC_SELECT_ONE || index == r->want_index);
		t_check(ok, r->label, "got status %d index %zu, want %d index %zu", st, index,
			r->want, r->want_index);
		const char *rs = strbuf_str(&reason);
		if (strcmp(r->reason, "-") == 0)
			t_check(rs[0] == '\0', r->label, "reason: got \"%s\", want empty", rs);
		else
			t_check(strstr(rs, r->reason) != NULL, r->label,
				"reason: got \"%s\", want \"%s\"", rs, r->reason);
		strbuf_free(&reason);
	}
	struct dmarc_txt null_txt = { NULL, 0 };
	size_t index;
	t_int("select: NULL data", dmarc_record_select(&null_txt, 1, &index, NULL),
	      DMARC_SELECT_NONE);
}

int main(void)
{
	size_t n = sizeof rows / sizeof rows[0];

	t_note("%zu table rows", n);
	for (size_t i = 0; i < n; i++)
		run_row(&rows[i]);
	limit_tests();
	select_tests();
	t_str("status name", dmarc_record_status_name(DMARC_RECORD_NOT_DMARC), "not a DMARC record");
	t_str("psd name", dmarc_psd_name(DMARC_PSD_Y), "y");
	t_true("is_dmarc", dmarc_record_is_dmarc("v=DMARC1", 8) && !dmarc_record_is_dmarc("v=DMARC1", 7));
	t_true("free(NULL)", dmarc_record_free(NULL) == NULL);
	return t_done();
}
