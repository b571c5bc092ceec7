/* dkim_verify: every DKIM signature verified by libopendkim, keys through our resolver. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <dkim.h>

#include "dkim_verify.h"
#include "resolver.h"
#include "strbuf.h"

#define DKIM_SIGFIELD      "DKIM-Signature"
#define DKIM_SIGFIELD_LEN  14
#define DKIM_KEYNAME_MAX   253  /* RFC 1035: textual name without the root dot */
#define DKIM_REASON_MAX    512
#define DKIM_TAG_MAX       8192 /* bound for one tag value we copy (b= is ~700) */
#define DKIM_FIELD_MAX     (1024 * 1024) /* one header field, after CRLF repair */
#define DKIM_PAD_MAX       1000 /* padding fields added at EOH at most (see pad_headers) */
#define DKIM_PAD_NAMES     4    /* candidate names for them */
#define DKIM_PAD_WINDOW    32   /* longer than every pad name */

struct dkim_verify_lib {
	DKIM_LIB *dl;              /* shared by all threads */
	struct resolver *res;      /* borrowed */
	unsigned max_signatures;   /* DKIMMaxSignatures */
	unsigned min_key_bits;     /* DKIMMinKeyBits */
};

/* One DKIM-Signature field as we saw it (header order). */
struct dkim_sigrec {
	bool syntax_ok;            /* libopendkim accepted its tag-list */
	char *error;               /* libopendkim's complaint when not */
	char *d, *s, *a, *b;       /* tag values, whitespace removed; NULL = absent */
	bool has_l;                /* an l= tag is present */
};

/* What our key lookup learnt for one signature. */
struct dkim_keyrec {
	DKIM_SIGINFO *sig;
	char *name;                /* <s>._domainkey.<d> */
	enum auth_dkim result;     /* TEMPERROR / PERMERROR, or NONE = key fetched */
	DKIM_CBSTAT cbstat;        /* what we told libopendkim */
	char *reason;
};

/* Canonicalized body length (RFC 6376 §3.4.3, §3.4.4), counted as the body
 * streams by, to tell whether content follows the part an l= covers. */
struct dkim_bodylen {
	uint64_t committed;        /* bytes of finished lines (+ their CRLF) */
	uint64_t blank_run;        /* empty lines not yet known to be inside */
	uint64_t line_len;         /* canonical bytes of the current line */
	bool ws_pending;           /* relaxed: a WSP run before the next byte */
	bool relaxed;
};

struct dkim_verify_msg {
	struct dkim_verify_lib *lib;
	DKIM *dkim;
	char *queue_id;            /* libopendkim keeps the pointer */
	uint64_t deadline_ms;
	enum { ST_HEADERS, ST_BODY, ST_SKIPBODY, ST_DEAD, ST_ENDED } state;
	bool eoh_called;           /* dkim_eoh() has run */
	DKIM_STAT eoh_status;      /* what it said */
	char *msg_error;           /* message-level problem, or NULL */
	bool nomem;                /* an allocation failed: temperror */
	struct dkim_sigrec *recs;  /* listed DKIM-Signature fields */
	size_t nrec, caprec;
	size_t not_listed;
	struct dkim_keyrec *keys;  /* key lookup results */
	size_t nkey, capkey;
	struct dkim_bodylen blen[2]; /* [0] simple, [1] relaxed */
	bool count_body;           /* some signature has l=: count body length */
	size_t nfed;               /* header fields libopendkim accepted */
	size_t hlist_max;          /* most h= names any DKIM-Signature can hold */
	unsigned pad_listed;       /* pad_names[i] occurs in a DKIM-Signature: bit i */
	bool last_cr;              /* the previous body byte fed was CR */
	bool cr_pending;           /* a body chunk ended in CR: held back */
};

/* ---- small helpers --------------------------------------------------- */

static char *dup_n(const char *s, size_t n)
{
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, DKIM_TAG_MAX);
	strbuf_add(&sb, s, n);
	return strbuf_finish(&sb);
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The value of tag name in an RFC 6376 §3.2 tag-list, all whitespace
 * removed; NULL when absent (or out of memory, then *nomem is set). */
static char *tag_value(const char *list, size_t len, const char *name, bool *nomem)
{
	size_t nlen = strlen(name);
	size_t i = 0;

	while (i < len) {
		while (i < len && is_wsp(list[i]))
			i++;
		size_t t0 = i;
		while (i < len && list[i] != '=' && list[i] != ';' && !is_wsp(list[i]))
			i++;
		size_t t1 = i;
		while (i < len && is_wsp(list[i]))
			i++;
		bool match = i < len && list[i] == '=' && t1 - t0 == nlen &&
			     strncmp(list + t0, name, nlen) == 0;
		while (i < len && list[i] != '=' && list[i] != ';')
			i++;
		if (i < len && list[i] == '=')
			i++;
		size_t v0 = i;
		while (i < len && list[i] != ';')
			i++;
		if (match) {
			if (i - v0 > DKIM_TAG_MAX)
				return NULL; /* absurd value: reported as absent */
			struct strbuf sb;
			strbuf_init(&sb, NULL, 0, DKIM_TAG_MAX);
			for (size_t k = v0; k < i; k++)
				if (!is_wsp(list[k]))
					strbuf_putc(&sb, list[k]);
			char *v = strbuf_finish(&sb);
			if (v == NULL)
				*nomem = true;
			return v;
		}
		if (i < len)
			i++; /* the ';' */
	}
	return NULL;
}

static void msg_set_error(struct dkim_verify_msg *v, const char *why)
{
	if (v->msg_error != NULL)
		return;
	v->msg_error = strdup(why);
	if (v->msg_error == NULL)
		v->nomem = true;
}

/* libopendkim's last error text for this handle, or a fallback. */
static const char *lib_error(struct dkim_verify_msg *v, DKIM_STAT st)
{
	const char *e = v->dkim != NULL ? dkim_geterror(v->dkim) : NULL;
	return e != NULL && e[0] != '\0' ? e : dkim_getresultstr(st);
}

/* True when p has a CR not followed by LF, an LF not preceded by CR, or
 * ends in CR (cr_before: the byte before p was a held-back CR). */
static bool crlf_dirty(const char *p, size_t len, bool cr_before)
{
	if (cr_before)
		return true;
	/* Line by line with memchr (this runs over every body byte): each LF
	 * must follow a CR, and that CR must be the line's first. */
	const char *s = p, *end = p + len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *cr = memchr(s, '\r', (size_t)((nl ? nl : end) - s));
		if (nl == NULL)
			return cr != NULL;     /* a CR with no LF after it */
		if (nl == p || nl[-1] != '\r' || cr != nl - 1)
			return true;           /* bare LF, or a CR inside the line */
		s = nl + 1;
	}
	return false;
}

/* Appends p to out with bare CRs and LFs turned into CRLF. A CR at the end
 * is held back in *cr_pending (the next byte may be its LF). */
static void crlf_repair(const char *p, size_t len, bool *cr_pending, struct strbuf *out)
{
	size_t i = 0;
	while (i < len) {
		if (*cr_pending) {
			strbuf_add(out, "\r\n", 2);
			*cr_pending = false;
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		/* the run up to the next CR or LF in one append */
		size_t run = i;
		while (run < len && p[run] != '\r' && p[run] != '\n')
			run++;
		if (run > i)
			strbuf_add(out, p + i, run - i);
		if (run == len)
			break;
		if (p[run] == '\r')
			*cr_pending = true;
		else
			strbuf_add(out, "\r\n", 2);
		i = run + 1;
	}
}

/* ---- canonicalized body length -------------------------------------- */

static void bodylen_byte(struct dkim_bodylen *bl, char c)
{
	if (bl->relaxed && (c == ' ' || c == '\t')) {
		bl->ws_pending = true; /* §3.4.4: WSP runs become one SP, none at EOL */
		return;
	}
	if (bl->ws_pending) {
		bl->line_len++;
		bl->ws_pending = false;
	}
	bl->line_len++;
}

static void bodylen_eol(struct dkim_bodylen *bl)
{
	bl->ws_pending = false;
	if (bl->line_len == 0) {
		bl->blank_run++;       /* §3.4.3/§3.4.4: trailing empty lines vanish */
	} else {
		bl->committed += bl->blank_run * 2 + bl->line_len + 2;
		bl->blank_run = 0;
		bl->line_len = 0;
	}
}

static uint64_t bodylen_total(const struct dkim_bodylen *bl)
{
	uint64_t n = bl->committed;
	if (bl->line_len > 0) /* an unterminated last line gets its CRLF */
		n += bl->blank_run * 2 + bl->line_len + 2;
	if (n == 0 && !bl->relaxed)
		n = 2;                 /* §3.4.3: an empty body is one CRLF */
	return n;
}

/* p has CRLF line breaks only (possibly split between calls). */
static void bodylen_feed(struct dkim_verify_msg *v, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (c == '\n' && v->last_cr) {
			v->last_cr = false;
			for (int k = 0; k < 2; k++)
				bodylen_eol(&v->blen[k]);
			continue;
		}
		v->last_cr = c == '\r';
		if (c == '\r')
			continue;
		for (int k = 0; k < 2; k++)
			bodylen_byte(&v->blen[k], c);
	}
}

/* ---- key lookup (RFC 6376 §3.6.2) ----------------------------------- */

static DKIM_CBSTAT key_note(struct dkim_verify_msg *v, DKIM_SIGINFO *sig,
			    const char *name, enum auth_dkim r, DKIM_CBSTAT cb,
			    const char *reason)
{
	if (v->nkey == v->capkey) {
		size_t cap = v->capkey ? v->capkey * 2 : 8;
		struct dkim_keyrec *k = realloc(v->keys, cap * sizeof *k);
		if (k == NULL) {
			v->nomem = true;
			return cb;
		}
		v->keys = k;
		v->capkey = cap;
	}
	struct dkim_keyrec *k = &v->keys[v->nkey++];
	k->sig = sig;
	k->result = r;
	k->cbstat = cb;
	k->name = strdup(name);
	k->reason = reason != NULL ? strdup(reason) : NULL;
	if (k->name == NULL || (reason != NULL && k->reason == NULL))
		v->nomem = true;
	return cb;
}

static const struct dkim_keyrec *key_find(const struct dkim_verify_msg *v,
					  const DKIM_SIGINFO *sig)
{
	for (size_t i = v->nkey; i > 0; i--)
		if (v->keys[i - 1].sig == sig)
			return &v->keys[i - 1];
	return NULL;
}

static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct dkim_verify_msg *v = dkim_get_user_context(dkim);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	char nbuf[DKIM_KEYNAME_MAX + 2];
	char rbuf[DKIM_REASON_MAX];
	struct strbuf name, why;
	DKIM_CBSTAT rc;

	strbuf_init(&name, nbuf, sizeof nbuf, DKIM_KEYNAME_MAX);
	strbuf_init(&why, rbuf, sizeof rbuf, DKIM_REASON_MAX - 1);
	strbuf_printf(&name, "%s._domainkey.%s", sel ? sel : "", dom ? dom : "");
	if (strbuf_failed(&name)) {
		strbuf_free(&name);
		return key_note(v, sig, "(too long)", AUTH_DKIM_PERMERROR, DKIM_CBSTAT_ERROR,
				"key name longer than 253 octets");
	}
	/* A second signature by the same key: the same failure, no new query
	 * (keys that were found are shared by libopendkim itself). */
	for (size_t i = 0; i < v->nkey; i++) {
		const struct dkim_keyrec *k = &v->keys[i];
		if (k->result != AUTH_DKIM_NONE && k->name != NULL &&
		    strcasecmp(k->name, name.data) == 0) {
			rc = key_note(v, sig, name.data, k->result, k->cbstat, k->reason);
			strbuf_free(&name);
			return rc;
		}
	}
	if (v->deadline_ms != 0 && resolver_now_ms() >= v->deadline_ms) {
		strbuf_printf(&why, "key %s not looked up: DNS time budget for this "
			      "message exhausted", name.data);
		rc = key_note(v, sig, name.data, AUTH_DKIM_TEMPERROR, DKIM_CBSTAT_TRYAGAIN,
			      strbuf_str(&why));
		strbuf_free(&name);
		strbuf_free(&why);
		return rc;
	}

	struct dns_answer *ans = resolver_query(v->lib->res, name.data, DNS_TYPE_TXT,
						v->deadline_ms);
	enum dns_status st = ans != NULL ? ans->status : DNS_STATUS_ERROR;
	if (st == DNS_STATUS_NXDOMAIN || st == DNS_STATUS_NODATA) {
		strbuf_printf(&why, "no key record at %s: %s", name.data, dns_status_name(st));
		rc = key_note(v, sig, name.data, AUTH_DKIM_PERMERROR, DKIM_CBSTAT_NOTFOUND,
			      strbuf_str(&why));
	} else if (st != DNS_STATUS_OK) {
		strbuf_printf(&why, "key lookup failed: %s", ans != NULL && ans->why != NULL
			      ? ans->why : ans != NULL ? dns_status_name(st) : "out of memory");
		rc = key_note(v, sig, name.data, AUTH_DKIM_TEMPERROR, DKIM_CBSTAT_TRYAGAIN,
			      strbuf_str(&why));
	} else if (ans->count != 1) {
		/* RFC 6376 §3.6.2.2: several records at one selector: undefined */
		strbuf_printf(&why, "%zu TXT records at %s: the key is ambiguous", ans->count,
			      name.data);
		rc = key_note(v, sig, name.data, AUTH_DKIM_PERMERROR, DKIM_CBSTAT_ERROR,
			      strbuf_str(&why));
	} else {
		size_t len = 0;
		char *txt = dns_txt_join(&ans->rrs[0], &len);
		if (txt == NULL || strlen(txt) != len || len + 1 > buflen) {
			strbuf_printf(&why, "key record at %s %s", name.data,
				      txt == NULL ? "is malformed"
				      : strlen(txt) != len ? "contains a NUL byte"
				      : "is longer than libopendkim's 1024-byte buffer");
			rc = key_note(v, sig, name.data, AUTH_DKIM_PERMERROR, DKIM_CBSTAT_ERROR,
				      strbuf_str(&why));
		} else {
			memcpy(buf, txt, len + 1);
			rc = key_note(v, sig, name.data, AUTH_DKIM_NONE, DKIM_CBSTAT_CONTINUE, NULL);
		}
		free(txt);
	}
	dns_answer_free(ans);
	strbuf_free(&name);
	strbuf_free(&why);
	return rc;
}

/* Signatures past DKIMMaxSignatures (counted over all DKIM-Signature fields
 * in header order) are marked ignored: no key lookup, no verification. */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkim_verify_msg *v = dkim_get_user_context(dkim);
	size_t r = 0;

	for (int j = 0; j < nsigs; j++) {
		while (r < v->nrec && !v->recs[r].syntax_ok)
			r++;
		/* good signature j is field r (or beyond the listed ones) */
		if (r >= v->lib->max_signatures)
			dkim_sig_ignore(sigs[j]);
		r++;
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* ---- mapping libopendkim's view to RFC 8601 results ----------------- */

/* A signature that verified: RFC 8301 §3.1 and our l= rule may still
 * refuse it. */
static enum auth_dkim map_verified(struct dkim_verify_msg *v, DKIM_SIGINFO *sig,
				   const struct dkim_sigrec *rec, dkim_alg_t alg,
				   struct strbuf *why)
{
	dkim_canon_t hc, bc;
	ssize_t signlen = -1;

	if (alg == DKIM_SIGN_RSASHA1) {
		strbuf_puts(why, "rsa-sha1 is not acceptable, RFC 8301 section 3.1");
		return AUTH_DKIM_FAIL;
	}
	if (rec->has_l &&
	    dkim_sig_getcanonlen(v->dkim, sig, NULL, NULL, &signlen) == DKIM_STAT_OK &&
	    signlen >= 0 && dkim_sig_getcanons(sig, &hc, &bc) == DKIM_STAT_OK) {
		uint64_t total = bodylen_total(&v->blen[bc == DKIM_CANON_RELAXED]);
		if (total > (uint64_t)signlen) {
			strbuf_printf(why, "unsigned content after l=: %zd of %llu body "
				      "octets signed", signlen, (unsigned long long)total);
			return AUTH_DKIM_POLICY;
		}
	}
	strbuf_puts(why, "signature verified");
	return AUTH_DKIM_PASS;
}

/* A signature that did not verify, by libopendkim's error code. */
static enum auth_dkim map_error(struct dkim_verify_msg *v, int err, int bh,
				unsigned bits, struct strbuf *why)
{
	const char *es = dkim_sig_geterrorstr(err);

	switch (err) {
	case DKIM_SIGERROR_KEYTOOSMALL:
		strbuf_printf(why, "%u-bit key is under DKIMMinKeyBits %u, RFC 8301 section 3.2",
			      bits, v->lib->min_key_bits);
		return AUTH_DKIM_FAIL;
	case DKIM_SIGERROR_BADSIG:
		strbuf_puts(why, bh == DKIM_SIGBH_MISMATCH
			    ? "body hash did not verify: body changed"
			    : "signature did not verify: signed header fields changed");
		return AUTH_DKIM_FAIL;
	case DKIM_SIGERROR_TOOLARGE_L:
		strbuf_puts(why, "l= is larger than the body: content removed");
		return AUTH_DKIM_FAIL;
	case DKIM_SIGERROR_KEYFAIL:
	case DKIM_SIGERROR_MULTIREPLY:
		strbuf_puts(why, es != NULL ? es : "key lookup failed");
		return AUTH_DKIM_TEMPERROR;
	case DKIM_SIGERROR_EXPIRED:
		strbuf_puts(why, "signature expired: x= is in the past");
		return AUTH_DKIM_PERMERROR;
	case DKIM_SIGERROR_NOKEY:
		strbuf_puts(why, "no key record");
		return AUTH_DKIM_PERMERROR;
	case DKIM_SIGERROR_KEYREVOKED:
		strbuf_puts(why, "key revoked: empty p=");
		return AUTH_DKIM_PERMERROR;
	case DKIM_SIGERROR_UNKNOWN:
	case DKIM_SIGERROR_OK:
		/* never verified: libopendkim stopped early */
		if (v->nomem) {
			strbuf_puts(why, "out of memory");
			return AUTH_DKIM_TEMPERROR;
		}
		strbuf_printf(why, "not verified: %s",
			      v->msg_error != NULL ? v->msg_error : "libopendkim gave no result");
		return AUTH_DKIM_NEUTRAL;
	default:
		/* tag syntax, unknown a=/c=, i= outside d=, t= in the future,
		 * key record syntax or type: could not be checked at all */
		strbuf_puts(why, es != NULL ? es : "signature could not be checked");
		return AUTH_DKIM_PERMERROR;
	}
}

static enum auth_dkim map_sig(struct dkim_verify_msg *v, DKIM_SIGINFO *sig,
			      const struct dkim_sigrec *rec, struct strbuf *why,
			      unsigned *key_bits)
{
	unsigned flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);
	int bh = dkim_sig_getbh(sig);
	const struct dkim_keyrec *key = key_find(v, sig);
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	unsigned bits = 0;

	(void)dkim_sig_getsignalg(sig, &alg);
	/* Debian's 2.11 gives no size for Ed25519 keys; they are 256 bits
	 * (RFC 8032) whenever one was loaded and used. */
	if (alg == DKIM_SIGN_ED25519SHA256)
		*key_bits = (flags & DKIM_SIGFLAG_PASSED) != 0 ||
			    err == DKIM_SIGERROR_BADSIG ? 256 : 0;
	else if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		*key_bits = bits;

	if ((flags & DKIM_SIGFLAG_IGNORE) != 0) {
		strbuf_puts(why, "not evaluated: over DKIMMaxSignatures");
		return AUTH_DKIM_NONE;
	}
	/* our key lookup knows better than libopendkim, which records no
	 * result at all after a temporary failure */
	if (key != NULL && key->result != AUTH_DKIM_NONE) {
		strbuf_puts(why, key->reason != NULL ? key->reason : "key lookup failed");
		return key->result;
	}
	if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH)
		return map_verified(v, sig, rec, alg, why);
	return map_error(v, err, bh, bits, why);
}

/* How many b= characters tell rec i from every other listed signature
 * (RFC 6008 §4), at least DKIM_VERIFY_B_PREFIX. */
static size_t b_prefix_len(const struct dkim_verify_msg *v, size_t i)
{
	const char *b = v->recs[i].b;
	size_t need = DKIM_VERIFY_B_PREFIX;
	for (size_t j = 0; j < v->nrec; j++) {
		const char *o = v->recs[j].b;
		if (j == i || o == NULL)
			continue;
		size_t k = 0;
		while (b[k] != '\0' && b[k] == o[k])
			k++;
		if (k + 1 > need)
			need = k + 1;
	}
	size_t blen = strlen(b);
	return need < blen ? need : blen;
}

static bool fill_entry(struct dkim_verify_msg *v, size_t i, DKIM_SIGINFO *sig,
		       struct dkim_sig_result *e)
{
	const struct dkim_sigrec *rec = &v->recs[i];
	char rbuf[256];
	struct strbuf why;
	bool ok = true;

	strbuf_init(&why, rbuf, sizeof rbuf, DKIM_REASON_MAX);
	memset(e, 0, sizeof *e);
	if (v->nomem) {
		/* our records may be incomplete: claim nothing */
		e->result = AUTH_DKIM_TEMPERROR;
		strbuf_puts(&why, "out of memory");
	} else if (i >= v->lib->max_signatures) {
		e->result = AUTH_DKIM_NONE;
		strbuf_puts(&why, "not evaluated: over DKIMMaxSignatures");
	} else if (!rec->syntax_ok) {
		e->result = AUTH_DKIM_PERMERROR;
		strbuf_printf(&why, "malformed signature: %s",
			      rec->error != NULL ? rec->error : "tag-list syntax");
	} else if (sig != NULL) {
		e->result = map_sig(v, sig, rec, &why, &e->key_bits);
	} else {
		/* libopendkim gave up on the whole message (e.g. no From) */
		e->result = AUTH_DKIM_PERMERROR;
		strbuf_printf(&why, "message could not be verified: %s",
			      v->msg_error != NULL ? v->msg_error : "unknown reason");
	}
	e->reason = strbuf_finish(&why);
	if (rec->d != NULL && (e->domain = strdup(rec->d)) == NULL)
		ok = false;
	if (rec->s != NULL && (e->selector = strdup(rec->s)) == NULL)
		ok = false;
	if (rec->a != NULL && (e->algorithm = strdup(rec->a)) == NULL)
		ok = false;
	if (rec->b != NULL && (e->b = dup_n(rec->b, b_prefix_len(v, i))) == NULL)
		ok = false;
	return ok && e->reason != NULL;
}

/* ---- public: library ------------------------------------------------ */

bool dkim_verify_lib_new(struct resolver *res, const struct dkim_verify_config *cfg,
			 struct dkim_verify_lib **out, struct strbuf *err)
{
	struct dkim_verify_lib *lib = calloc(1, sizeof *lib);
	*out = NULL;
	if (lib == NULL) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	lib->res = res;
	lib->max_signatures = cfg != NULL && cfg->max_signatures > 0
			      ? cfg->max_signatures : DKIM_VERIFY_MAX_SIGS_DEFAULT;
	if (lib->max_signatures > DKIM_VERIFY_LIST_MAX)
		lib->max_signatures = DKIM_VERIFY_LIST_MAX;
	lib->min_key_bits = cfg != NULL && cfg->min_key_bits > 0
			    ? cfg->min_key_bits : DKIM_VERIFY_MIN_KEY_BITS_DEFAULT;

	lib->dl = dkim_init(NULL, NULL);
	if (lib->dl == NULL) {
		strbuf_puts(err, "dkim_init failed (out of memory?)");
		free(lib);
		return false;
	}
	/* DELAYSIGPROC: look keys up at EOM, where a temporary failure leaves
	 * the other signatures running (at EOH it aborts dkim_eoh()). Not
	 * FIXCRLF: in 2.11 it parses a repaired header field with the old
	 * length (b= gets cut); we turn bare CR/LF into CRLF ourselves. */
	unsigned flags = DKIM_LIBFLAGS_DELAYSIGPROC;
	unsigned bits = lib->min_key_bits;
	const char *why = NULL;
	if (!dkim_libfeature(lib->dl, DKIM_FEATURE_SHA256))
		why = "libopendkim lacks SHA-256";
	else if (!dkim_libfeature(lib->dl, DKIM_FEATURE_ED25519))
		why = "libopendkim lacks Ed25519 (RFC 8463); install a build with it";
	else if (dkim_options(lib->dl, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
			      sizeof flags) != DKIM_STAT_OK ||
		 dkim_options(lib->dl, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits,
			      sizeof bits) != DKIM_STAT_OK)
		why = "dkim_options failed";
	else if (dkim_set_key_lookup(lib->dl, key_lookup) != DKIM_STAT_OK ||
		 dkim_set_prescreen(lib->dl, prescreen) != DKIM_STAT_OK)
		why = "cannot install the key lookup callbacks";
	if (why != NULL) {
		strbuf_puts(err, why);
		dkim_verify_lib_free(lib);
		return false;
	}
	*out = lib;
	return true;
}

void dkim_verify_lib_free(struct dkim_verify_lib *lib)
{
	if (lib == NULL)
		return;
	if (lib->dl != NULL)
		dkim_close(lib->dl);
	free(lib);
}

/* ---- public: one message -------------------------------------------- */

struct dkim_verify_msg *dkim_verify_begin(struct dkim_verify_lib *lib,
					  const char *queue_id, uint64_t deadline_ms)
{
	struct dkim_verify_msg *v = calloc(1, sizeof *v);
	DKIM_STAT st;

	if (v == NULL)
		return NULL;
	v->lib = lib;
	v->deadline_ms = deadline_ms;
	v->state = ST_HEADERS;
	v->blen[1].relaxed = true;
	v->queue_id = strdup(queue_id != NULL ? queue_id : "-");
	if (v->queue_id != NULL)
		v->dkim = dkim_verify(lib->dl, (const u_char *)v->queue_id, NULL, &st);
	if (v->dkim == NULL || dkim_set_user_context(v->dkim, v) != DKIM_STAT_OK) {
		dkim_verify_free(v);
		return NULL;
	}
	return v;
}

void dkim_verify_set_deadline(struct dkim_verify_msg *v, uint64_t deadline_ms)
{
	v->deadline_ms = deadline_ms;
}

/* ---- libopendkim's h= overrun ---------------------------------------
 *
 * libopendkim 2.11's dkim_canon_selecthdrs() sizes its work array by the
 * number of header fields of the message and writes one slot per h= name
 * tried: a signature whose h= names every field of the message and then
 * more writes a NULL past the end of a heap block, in dkim_eoh(), before any
 * key lookup (found by tests/fuzz/fuzz_milter_pipeline.c; heap corruption
 * that can take the whole milter down). A message can carry such a
 * signature, so before dkim_eoh() we make sure there are at least as many
 * header fields as any h= can name, by feeding padding fields whose name no
 * DKIM-Signature of the message mentions: no signature selects them, so no
 * result changes. Bounded by DKIM_PAD_MAX; beyond that the message is not
 * verified at all. */
static const char *const pad_names[DKIM_PAD_NAMES] = {
	"X-DMARC-Milter-Pad-0", "X-DMARC-Milter-Pad-1",
	"X-DMARC-Milter-Pad-2", "X-DMARC-Milter-Pad-3",
};

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Notes what a DKIM-Signature value means for padding: an upper bound of
 * its h= names (every ':' of the value, plus one) and the pad names that
 * occur in it, folding white space removed, in any case. */
static void note_hlist(struct dkim_verify_msg *v, const char *val, size_t len)
{
	/* One pass over the non-blank bytes (this runs for every signature
	 * of every message): the last DKIM_PAD_WINDOW of them are kept in a
	 * ring, and a pad name is compared only where its last character
	 * occurs. Every pad name is shorter than the window. */
	char ring[DKIM_PAD_WINDOW];
	size_t colons = 0, seen = 0, plens[DKIM_PAD_NAMES];

	for (size_t k = 0; k < DKIM_PAD_NAMES; k++)
		plens[k] = strlen(pad_names[k]);
	for (size_t i = 0; i < len; i++) {
		char c = val[i];
		if (c == ':')
			colons++;
		if (is_wsp(c) || c == '\r' || c == '\n')
			continue;
		ring[seen % DKIM_PAD_WINDOW] = c;
		seen++;
		for (size_t k = 0; k < DKIM_PAD_NAMES; k++) {
			const char *name = pad_names[k];
			size_t plen = plens[k], j = 0;
			if (seen < plen || ascii_lower(c) != ascii_lower(name[plen - 1]))
				continue;
			while (j < plen && ascii_lower(ring[(seen - plen + j) % DKIM_PAD_WINDOW]) ==
					   ascii_lower(name[j]))
				j++;
			if (j == plen)
				v->pad_listed |= 1u << k;
		}
	}
	if (colons + 1 > v->hlist_max)
		v->hlist_max = colons + 1;
}

/* Feeds padding fields so that no h= can name more fields than there are
 * (see above). false when that is not possible: the message is then left
 * unverified with a reason. */
static bool pad_headers(struct dkim_verify_msg *v)
{
	if (v->hlist_max <= v->nfed)
		return true;
	size_t need = v->hlist_max - v->nfed;
	const char *name = NULL;
	for (size_t k = 0; k < DKIM_PAD_NAMES && name == NULL; k++)
		if (!(v->pad_listed & (1u << k)))
			name = pad_names[k];
	if (need > DKIM_PAD_MAX || name == NULL) {
		msg_set_error(v, "a DKIM-Signature h= names far more header fields than the "
			      "message has");
		return false;
	}
	char field[64];
	size_t flen = strlen(name);
	memcpy(field, name, flen);
	memcpy(field + flen, ": 1", 3);
	flen += 3;
	for (size_t i = 0; i < need; i++) {
		DKIM_STAT st = dkim_header(v->dkim, (u_char *)field, flen);
		if (st != DKIM_STAT_OK) {
			v->nomem = st == DKIM_STAT_NORESOURCE;
			msg_set_error(v, lib_error(v, st));
			return false;
		}
	}
	v->nfed += need;
	return true;
}

/* Records a DKIM-Signature field (status: what dkim_header() said). */
static void note_signature(struct dkim_verify_msg *v, const char *field, size_t len,
			   size_t colon, DKIM_STAT st)
{
	if (v->nrec >= DKIM_VERIFY_LIST_MAX) {
		v->not_listed++;
		return;
	}
	if (v->nrec == v->caprec) {
		size_t cap = v->caprec ? v->caprec * 2 : 4;
		struct dkim_sigrec *r = realloc(v->recs, cap * sizeof *r);
		if (r == NULL) {
			v->nomem = true;
			return;
		}
		v->recs = r;
		v->caprec = cap;
	}
	struct dkim_sigrec *rec = &v->recs[v->nrec++];
	const char *val = field + colon + 1;
	size_t vlen = len - colon - 1;
	bool nomem = false;

	memset(rec, 0, sizeof *rec);
	rec->syntax_ok = st == DKIM_STAT_OK;
	if (!rec->syntax_ok && (rec->error = strdup(lib_error(v, st))) == NULL)
		nomem = true;
	rec->d = tag_value(val, vlen, "d", &nomem);
	rec->s = tag_value(val, vlen, "s", &nomem);
	rec->a = tag_value(val, vlen, "a", &nomem);
	rec->b = tag_value(val, vlen, "b", &nomem);
	char *l = tag_value(val, vlen, "l", &nomem);
	rec->has_l = l != NULL;
	free(l);
	if (nomem)
		v->nomem = true;
}

bool dkim_verify_header(struct dkim_verify_msg *v, const char *field, size_t len)
{
	if (v->state != ST_HEADERS)
		return false;
	if (len == 0)
		return true; /* nothing to feed (libopendkim asserts len > 0) */
	if (len > DKIM_FIELD_MAX) {
		/* an error, not a silent cut: every signature reports it */
		msg_set_error(v, "a header field is longer than 1 MiB");
		v->state = ST_DEAD;
		return false;
	}

	/* Is it a field libopendkim takes as DKIM-Signature? Same test as its
	 * dkim_header(): name of printable ASCII up to ':', trailing blanks cut. */
	const char *colon = memchr(field, ':', len);
	bool sigfield = false;
	if (colon != NULL) {
		size_t nlen = (size_t)(colon - field);
		bool printable = true;
		for (size_t i = 0; i < nlen; i++)
			if (field[i] < 32 || field[i] > 126 || field[i] == ';')
				printable = false;
		while (nlen > 0 && (field[nlen - 1] == ' ' || field[nlen - 1] == '\t'))
			nlen--;
		sigfield = printable && nlen == DKIM_SIGFIELD_LEN &&
			   strncasecmp(field, DKIM_SIGFIELD, DKIM_SIGFIELD_LEN) == 0;
	}

	/* RFC 5322 §2.2: lines end in CRLF; milters may give bare LF (or CR) */
	struct strbuf fixed;
	strbuf_init(&fixed, NULL, 0, 2 * DKIM_FIELD_MAX + 2);
	if (crlf_dirty(field, len, false)) {
		bool pend = false;
		crlf_repair(field, len, &pend, &fixed);
		if (pend)
			strbuf_add(&fixed, "\r\n", 2);
		if (strbuf_failed(&fixed)) {
			v->nomem = true;
			msg_set_error(v, "out of memory");
			strbuf_free(&fixed);
			v->state = ST_DEAD;
			return false;
		}
		field = fixed.data;
		len = fixed.len;
		colon = memchr(field, ':', len);
	}
	DKIM_STAT st = dkim_header(v->dkim, (u_char *)field, len);
	if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL) {
		v->nomem = st == DKIM_STAT_NORESOURCE;
		msg_set_error(v, lib_error(v, st));
		strbuf_free(&fixed);
		v->state = ST_DEAD;
		return false;
	}
	if (st == DKIM_STAT_OK)
		v->nfed++;
	if (sigfield) {
		note_hlist(v, colon + 1, len - (size_t)(colon - field) - 1);
		note_signature(v, field, len, (size_t)(colon - field), st);
	}
	strbuf_free(&fixed);
	return true;
}

bool dkim_verify_eoh(struct dkim_verify_msg *v)
{
	if (v->state != ST_HEADERS)
		return false;
	v->eoh_called = true;
	/* The canonical body length matters only for an l= signature
	 * (map_verified()); counting it costs a pass over every body byte. */
	for (size_t i = 0; i < v->nrec; i++)
		if (v->recs[i].has_l)
			v->count_body = true;
	if (!pad_headers(v)) {
		v->eoh_status = DKIM_STAT_INTERNAL; /* dkim_eoh() never ran */
		v->state = ST_SKIPBODY;
		return !v->nomem;
	}
	v->eoh_status = dkim_eoh(v->dkim);
	switch (v->eoh_status) {
	case DKIM_STAT_OK:
		v->state = ST_BODY;
		return true;
	case DKIM_STAT_NOSIG:
		v->state = ST_SKIPBODY; /* nothing (left) to verify */
		return true;
	default:
		/* e.g. no From field: libopendkim cannot go on */
		v->nomem = v->eoh_status == DKIM_STAT_NORESOURCE;
		msg_set_error(v, lib_error(v, v->eoh_status));
		v->state = ST_SKIPBODY;
		return !v->nomem;
	}
}

/* Feeds bytes whose line breaks are all CRLF. */
static bool body_feed(struct dkim_verify_msg *v, const char *p, size_t n)
{
	if (n == 0)
		return true;
	if (v->count_body)
		bodylen_feed(v, p, n);
	DKIM_STAT st = dkim_body(v->dkim, (u_char *)p, n);
	if (st != DKIM_STAT_OK) {
		v->nomem = st == DKIM_STAT_NORESOURCE;
		msg_set_error(v, lib_error(v, st));
		v->state = ST_DEAD;
		return false;
	}
	return true;
}

bool dkim_verify_body(struct dkim_verify_msg *v, const void *chunk, size_t len)
{
	const char *c = chunk;

	if (v->state == ST_SKIPBODY)
		return true;
	if (v->state != ST_BODY)
		return false;
	if (!crlf_dirty(c, len, v->cr_pending))
		return body_feed(v, c, len);
	/* repair in small pieces: no copy of the whole chunk */
	char tmp[4096];
	struct strbuf piece;
	size_t i = 0;
	while (i < len) {
		size_t n = len - i < 1024 ? len - i : 1024; /* <= 2n+2 bytes out */
		strbuf_init(&piece, tmp, sizeof tmp, sizeof tmp - 1);
		crlf_repair(c + i, n, &v->cr_pending, &piece);
		i += n;
		bool ok = !strbuf_failed(&piece) && body_feed(v, piece.data, piece.len);
		strbuf_free(&piece);
		if (!ok)
			return false;
	}
	return true;
}

bool dkim_verify_end(struct dkim_verify_msg *v, struct dkim_outcome *out)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;

	memset(out, 0, sizeof *out);
	if (v->state == ST_HEADERS && !dkim_verify_eoh(v))
		v->state = ST_DEAD;
	if (v->state == ST_BODY && v->cr_pending) {
		v->cr_pending = false;
		(void)body_feed(v, "\r\n", 2);
	}
	if (v->state == ST_BODY) {
		DKIM_STAT st = dkim_eom(v->dkim, NULL);
		if (st == DKIM_STAT_NORESOURCE)
			v->nomem = true;
		if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL)
			msg_set_error(v, lib_error(v, st));
	}
	v->state = ST_ENDED;
	if (v->eoh_called &&
	    (v->eoh_status == DKIM_STAT_OK || v->eoh_status == DKIM_STAT_NOSIG))
		if (dkim_getsiglist(v->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
			nsigs = 0;

	out->not_listed = v->not_listed;
	if (v->nrec == 0)
		return !v->nomem;
	out->sigs = calloc(v->nrec, sizeof *out->sigs);
	if (out->sigs == NULL)
		return false;
	out->count = v->nrec;

	bool ok = true;
	int j = 0;
	for (size_t i = 0; i < v->nrec; i++) {
		DKIM_SIGINFO *sig = NULL;
		if (v->recs[i].syntax_ok && j < nsigs)
			sig = sigs[j++];
		if (!fill_entry(v, i, sig, &out->sigs[i]))
			ok = false;
	}
	return ok && !v->nomem;
}

void dkim_verify_free(struct dkim_verify_msg *v)
{
	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	for (size_t i = 0; i < v->nrec; i++) {
		free(v->recs[i].error);
		free(v->recs[i].d);
		free(v->recs[i].s);
		free(v->recs[i].a);
		free(v->recs[i].b);
	}
	free(v->recs);
	for (size_t i = 0; i < v->nkey; i++) {
		free(v->keys[i].name);
		free(v->keys[i].reason);
	}
	free(v->keys);
	free(v->msg_error);
	free(v->queue_id);
	free(v);
}

void dkim_outcome_clear(struct dkim_outcome *out)
{
	if (out == NULL)
		return;
	for (size_t i = 0; i < out->count; i++) {
		struct dkim_sig_result *e = &out->sigs[i];
		free(e->domain);
		free(e->selector);
		free(e->algorithm);
		free(e->b);
		free(e->reason);
	}
	free(out->sigs);
	memset(out, 0, sizeof *out);
}
