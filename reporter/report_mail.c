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

static void add_base64(struct strbuf *out, const unsigned char *in, size_t len)
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
		if (col >= 76) {
			strbuf_putc(out, '\n');
			col = 0;
		}
	}
	if (col > 0)
		strbuf_putc(out, '\n');
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
	strbuf_printf(out, "Subject: Report Domain: %s Submitter: %s Report-ID: %s\n",
		      m->policy_domain, m->org_name, m->report_id);
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
	add_base64(out, m->gz, m->gz_len);
	strbuf_printf(out, "\n--=_report_%s--\n", m->report_id);
	if (!name_ok || strbuf_failed(out)) {
		strbuf_puts(err, "report message too large or out of memory");
		return false;
	}
	return true;
}
