/* report_mail: the RFC 5322 + MIME message that carries one aggregate report.
 *
 * Subject "Report Domain: <domain> Submitter: <org> Report-ID: <id>", a short
 * text/plain part, and the gzipped XML as an application/gzip attachment
 * named <receiver>!<policy-domain>!<begin>!<end>!<id>.xml.gz (RFC 9990 §2.5;
 * the same id as in the XML and the subject). Date, Message-ID, From,
 * To, MIME-Version and Auto-Submitted: auto-generated (RFC 3834).
 *
 * The subject is folded at blanks to lines of at most 78 characters, and an
 * org name that is not ASCII goes out as RFC 2047 encoded words.
 * Lines end in LF (what sendmail(1) reads); report_send converts for SMTP.
 * Every value that reaches a header is checked: one carrying CR, LF or
 * another control byte makes the build fail (header injection).
 *
 * Callers: reporter/main.c. Ownership: output into the caller's strbuf.
 * Errors: false with the reason in err. */
#ifndef DMARC_REPORT_MAIL_H
#define DMARC_REPORT_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct report_mail {
	const char *from;           /* ReportEmail */
	const char *org_name;       /* ReportOrgName (Submitter) */
	const char *to;             /* the destination address */
	const char *receiver;       /* our domain, first part of the file name */
	const char *policy_domain;
	const char *report_id;
	int64_t begin, end;         /* the report's date range */
	int64_t now;                /* Date: header (epoch seconds) */
	const unsigned char *gz;    /* the gzipped report */
	size_t gz_len;
};

/* The attachment file name (into out). */
bool report_mail_filename(const struct report_mail *m, struct strbuf *out);

/* The whole message (into out). */
bool report_mail_build(const struct report_mail *m, struct strbuf *out,
		       struct strbuf *err);

#endif
