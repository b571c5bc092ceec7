/* report_xml: renders one aggregate report as XML.
 *
 * RFC 9990 format (namespace urn:ietf:params:xml:ns:dmarc-2.0, with
 * generator, discovery_method, testing and np) by default; the RFC 7489
 * format (version, pct, fo, envelope_from, SPF scope; IPv6 sources written
 * in full, as its schema's pattern requires) in compatibility mode. Every
 * text value is XML-escaped; every record carries an SPF result ("none"
 * when there was nothing to check) and every DKIM result its selector.
 *
 * Callers: reporter/main.c. Validated against shared/schemas in tests.
 * Ownership: the output goes into the caller's strbuf.
 * Errors: false when the strbuf failed (over its maximum or no memory). */
#ifndef DMARC_REPORT_XML_H
#define DMARC_REPORT_XML_H

#include <stdbool.h>
#include <stdint.h>

#include "aggregate.h"
#include "auth_types.h"
#include "strbuf.h"

struct report_meta {
	const char *org_name;       /* ReportOrgName */
	const char *email;          /* ReportEmail */
	const char *contact_info;   /* ReportContactInfo, "" = none */
	const char *report_id;      /* letters and digits */
	const char *generator;      /* program name and version */
	int64_t begin, end;         /* date range, epoch seconds */
};

bool report_xml_render(const struct agg_report *rep, const struct report_meta *meta,
		       enum dmarc_standard std, struct strbuf *out);

/* Writes ip as the RFC 7489 schema wants it: IPv4 dotted quad (also for
 * IPv4-mapped IPv6), IPv6 as eight uncompressed groups. Unparsable text is
 * written escaped as it is. */
bool report_xml_ip7489(const char *ip, struct strbuf *out);

#endif
