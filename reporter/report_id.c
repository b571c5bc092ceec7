/* report_id: day plus a 64-bit FNV-1a hash, letters and digits only. */
#include <stdio.h>
#include <time.h>

#include "report_id.h"

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff; /* field separator that no text contains */
	h *= 0x100000001b3ULL;
	return h;
}

void report_id_make(int64_t day, const char *policy_domain, const char *policy_key,
		    const char *receiver, char out[REPORT_ID_LEN + 1])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	h = fnv1a(h, policy_domain);
	h = fnv1a(h, policy_key);
	h = fnv1a(h, receiver);
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	/* the modulos tell the compiler (and the reader) each field's width */
	snprintf(out, REPORT_ID_LEN + 1, "%04u%02u%02u%016llx",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned long long)h);
}
