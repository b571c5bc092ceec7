/* report_id: the stable, letters-and-digits id of an aggregate report.
 *
 * RFC 9990 puts the report id into the attachment name as the unique-id
 * (1*(ALPHA/DIGIT)) and requires both to be identical, so the id is the UTC
 * day as YYYYMMDD followed by 16 hex digits of a 64-bit FNV-1a hash of
 * (policy domain, policy configuration, receiver). The same inputs always
 * give the same id, so a re-send reuses it.
 * Ownership: written into the caller's buffer of REPORT_ID_LEN + 1 bytes. */
#ifndef DMARC_REPORT_ID_H
#define DMARC_REPORT_ID_H

#include <stdint.h>

#define REPORT_ID_LEN 24

void report_id_make(int64_t day, const char *policy_domain, const char *policy_key,
		    const char *receiver, char out[REPORT_ID_LEN + 1]);

#endif
