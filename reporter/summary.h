/* summary: `dmarc-reporter --summary`, a terminal table of one UTC day.
 *
 * One line per policy domain and source IP: messages, DMARC pass and fail,
 * and the dispositions applied, so an operator can see what happened without
 * writing SQL. Events without a DMARC policy are grouped under "(no policy)".
 * Callers: reporter/main.c. Errors: false with SQLite's message in err. */
#ifndef DMARC_SUMMARY_H
#define DMARC_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "strbuf.h"

bool summary_print(sqlite3 *db, int64_t day, const char *domain, FILE *out,
		   struct strbuf *err);

#endif
