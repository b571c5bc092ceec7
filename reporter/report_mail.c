/* report_mail: MIME message around a gzipped aggregate report. */
#include <string.h>
#include <time.h>

#include "report_mail.h"

/* A header value must be printable ASCII or UTF-8 without control bytes. */
static bool header_safe(const char *what, const char *v, struct strbuf *err)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			strbuf_printf(err, "%s contains a control character (CR, LF or"
				      " other): refused to keep it out of the headers", what);
			return false;
		}
	}
	return true;
}

/* A short hash of the recipient, so that the copies of one report sent to
 * several destinations in the same second get distinct Message-IDs. */
static unsigned to_hash(const char *to)
{
	uint32_t h = 2166136261u;
	for (; *to; to++)
		h = (h ^ (unsigned char)*to) * 16777619u;
	return h;
}

bool report_mail_filename(const struct report_mail *m, struct strbuf *out)
{
	return strbuf_printf(out, "%s!%s!%lld!%lld!%s.xml.gz", m->receiver,
			     m->policy_domain, (long long)m->begin,
			     (long long)m->end, m->report_id);
}

/* Base64 of in; a line break after every 76 characters when wrap is set. */
static void add_base64(struct strbuf *out, const unsigned char *in, size_t len, bool wrap)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		char q[4] = { tbl[(v >> 18) & 63], tbl[(v >> 12) & 63],
			      i + 1 < len ? tbl[(v >> 6) & 63] : '=',
			      i + 2 < len ? tbl[v & 63] : '=' };
		strbuf_add(out, q, 4);
		col += 4;
		if (wrap && col >= 76) {
			strbuf_putc(out, '\n');
			col = 0;
		}
	}
	if (wrap && col > 0)
		strbuf_putc(out, '\n');
}

/* Appends word to a header being folded: a blank before it, or a line
 * break and a blank when the line would pass 78 characters (RFC 5322
 * §2.1.1, §2.2.3). *col is the length of the current line. */
static void fold_word(struct strbuf *out, size_t *col, const char *word, size_t len)
{
	if (*col + 1 + len > 78) {
		strbuf_puts(out, "\n ");
		*col = 1;
	} else {
		strbuf_putc(out, ' ');
		(*col)++;
	}
	strbuf_add(out, word, len);
	*col += len;
}

/* Appends text as words of a folded header: as it is when it is ASCII
 * (folded at its blanks), else as RFC 2047 "B" encoded words of at most
 * 45 bytes each (72 characters), never splitting a UTF-8 sequence. */
static void fold_text(struct strbuf *out, size_t *col, const char *text)
{
	bool ascii = true;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		ascii = ascii && *p < 0x80;
	if (ascii) {
		for (const char *p = text; *p;) {
			size_t n = strcspn(p, " ");
			if (n > 0)
				fold_word(out, col, p, n);
			p += n;
			p += strspn(p, " ");
		}
		return;
	}
	size_t len = strlen(text);
	for (size_t off = 0; off < len;) {
		size_t n = len - off > 45 ? 45 : len - off;
		/* back off from a UTF-8 continuation byte */
		while (off + n < len && n > 1 &&
		       ((unsigned char)text[off + n] & 0xc0) == 0x80)
			n--;
		struct strbuf w;
		strbuf_init(&w, NULL, 0, 128);
		strbuf_puts(&w, "=?UTF-8?B?");
		add_base64(&w, (const unsigned char *)text + off, n, false);
		strbuf_puts(&w, "?=");
		fold_word(out, col, strbuf_str(&w), w.len);
		strbuf_free(&w);
		off += n;
	}
}

bool report_mail_build(const struct report_mail *m, struct strbuf *out,
		       struct strbuf *err)
{
	if (!header_safe("ReportEmail", m->from, err) ||
	    !header_safe("ReportOrgName", m->org_name, err) ||
	    !header_safe("the destination address", m->to, err) ||
	    !header_safe("the receiver name", m->receiver, err) ||
	    !header_safe("the policy domain", m->policy_domain, err) ||
	    !header_safe("the report id", m->report_id, err))
		return false;

	char date[64], begin[32], end[32];
	struct tm tm;
	time_t t = (time_t)m->now;
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&t, &tm));
	t = (time_t)m->begin;
	strftime(begin, sizeof begin, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
	t = (time_t)m->end;
	strftime(end, sizeof end, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));

	strbuf_printf(out, "From: %s\n", m->from);
	strbuf_printf(out, "To: %s\n", m->to);
	/* RFC 9990 §2.5: "Report Domain: <d> Submitter: <org> Report-ID: <id>" */
	size_t col = strlen("Subject:");
	strbuf_puts(out, "Subject:");
	fold_text(out, &col, "Report Domain:");
	fold_text(out, &col, m->policy_domain);
	fold_text(out, &col, "Submitter:");
	fold_text(out, &col, m->org_name);
	fold_text(out, &col, "Report-ID:");
	fold_text(out, &col, m->report_id);
	strbuf_putc(out, '\n');
	strbuf_printf(out, "Date: %s\n", date);
	strbuf_printf(out, "Message-ID: <%s.%lld.%08x@%s>\n", m->report_id,
		      (long long)m->now, to_hash(m->to), m->receiver);
	strbuf_puts(out, "MIME-Version: 1.0\nAuto-Submitted: auto-generated\n");
	/* no preamble: some report parsers take it for a part */
	strbuf_printf(out, "Content-Type: multipart/mixed; boundary=\"=_report_%s\"\n\n",
		      m->report_id);
	strbuf_printf(out, "--=_report_%s\n", m->report_id);
	strbuf_puts(out, "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: 8bit\n\n");
	strbuf_printf(out, "This is an aggregate DMARC report (RFC 9990) for %s\n"
		      "from %s, covering %s to %s UTC.\n"
		      "Report-ID: %s\n\n", m->policy_domain, m->org_name, begin, end,
		      m->report_id);
	strbuf_printf(out, "--=_report_%s\n", m->report_id);
	struct strbuf name;
	strbuf_init(&name, NULL, 0, 2048);
	report_mail_filename(m, &name);
	strbuf_printf(out, "Content-Type: application/gzip; name=\"%s\"\n"
		      "Content-Disposition: attachment; filename=\"%s\"\n"
		      "Content-Transfer-Encoding: base64\n\n",
		      strbuf_str(&name), strbuf_str(&name));
	bool name_ok = !strbuf_failed(&name);
	strbuf_free(&name);
	add_base64(out, m->gz, m->gz_len, true);
	strbuf_printf(out, "\n--=_report_%s--\n", m->report_id);
	if (!name_ok || strbuf_failed(out)) {
		strbuf_puts(err, "report message too large or out of memory");
		return false;
	}
	return true;
}
