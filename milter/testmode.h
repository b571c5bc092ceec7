/* testmode: `dmarc-milter -t message.eml --client-ip IP --helo NAME
 * --mail-from ADDR [--rcpt ADDR]...` runs one message file through the same
 * pipeline as the daemon (milter/pipeline.c, the real resolver) and prints
 * what the daemon would do, on stdout:
 *
 *   # <human-readable DMARC report lines (lib/dmarc_check_format)>
 *   delete: Authentication-Results[1]: <value as received>
 *   add: Authentication-Results: <value, folded with "\n\t">
 *   add: X-DMARC-Verdict: FAIL
 *   action: reject 550 5.7.1 rejected by DMARC policy of example.com
 *
 * The action line is one of "accept", "accept (skipped: <why>)",
 * "quarantine <reason>", "reject <code> <xcode> <text>",
 * "tempfail <code> <xcode> <text>". Log lines go to stderr.
 * The file is read as it is stored: header fields up to the first empty
 * line (LF or CRLF line ends, folding kept), then the body, fed with CRLF
 * line ends as on the wire.
 *
 * Callers: milter/main.c. Errors: a message on stderr and exit status 1 for
 * an unreadable file or an over-large one (TESTMODE_MAX_FILE). */
#ifndef DMARC_MILTER_TESTMODE_H
#define DMARC_MILTER_TESTMODE_H

#include <stddef.h>

#include "snapshot.h"

#define TESTMODE_MAX_FILE (64u * 1024 * 1024) /* bytes of .eml read */
#define TESTMODE_MAX_RCPT 64

struct testmode_args {
	const char *file;        /* the .eml path ("-" = stdin) */
	const char *client_ip;   /* required */
	const char *helo;        /* required */
	const char *mail_from;   /* required ("" or "<>" = null sender) */
	const char *rcpt[TESTMODE_MAX_RCPT];
	size_t nrcpt;
};

/* Runs the message through the pipeline with snap (takes the reference).
 * Returns the process exit status: 0 when the message was processed. */
int testmode_run(const struct testmode_args *args, struct snapshot *snap);

#endif
