/* gzip_buf: compresses a report in memory into the gzip format (RFC 1952)
 * with zlib, for the application/gzip attachment (RFC 9990 §2.5).
 * Ownership: *out is new; caller frees with free().
 * Errors: false with zlib's reason in err. */
#ifndef DMARC_GZIP_BUF_H
#define DMARC_GZIP_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

bool gzip_buf(const void *in, size_t len, unsigned char **out, size_t *out_len,
	      struct strbuf *err);

/* Decompresses a gzip buffer (used by tests and --dry-run checks).
 * At most max_len bytes of output; more is an error. */
bool gunzip_buf(const void *in, size_t len, size_t max_len, unsigned char **out,
		size_t *out_len, struct strbuf *err);

#endif
