/* gzip_buf: in-memory gzip and gunzip with zlib. */
#include <stdint.h>
#include <stdlib.h>

#include <zlib.h>

#include "gzip_buf.h"

bool gzip_buf(const void *in, size_t len, unsigned char **out, size_t *out_len,
	      struct strbuf *err)
{
	z_stream z = {0};
	*out = NULL;
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		strbuf_printf(err, "gzip: %s", z.msg ? z.msg : "cannot initialise zlib");
		return false;
	}
	uLong bound = deflateBound(&z, (uLong)len);
	unsigned char *buf = malloc(bound);
	if (buf == NULL) {
		deflateEnd(&z);
		strbuf_puts(err, "gzip: out of memory");
		return false;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END) {
		strbuf_printf(err, "gzip: deflate failed (%d)", rc);
		deflateEnd(&z);
		free(buf);
		return false;
	}
	*out_len = z.total_out;
	*out = buf;
	deflateEnd(&z);
	return true;
}

bool gunzip_buf(const void *in, size_t len, size_t max_len, unsigned char **out,
		size_t *out_len, struct strbuf *err)
{
	z_stream z = {0};
	*out = NULL;
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		strbuf_puts(err, "gunzip: cannot initialise zlib");
		return false;
	}
	size_t cap = len * 4 + 1024;
	if (cap > max_len + 1)
		cap = max_len + 1;
	unsigned char *buf = malloc(cap);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	int rc = Z_OK;
	while (buf != NULL) {
		z.next_out = buf + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR))
			break;
		if (z.avail_out == 0) {
			if (cap > max_len) {
				rc = Z_MEM_ERROR;
				break;
			}
			size_t ncap = cap * 2 > max_len + 1 ? max_len + 1 : cap * 2;
			unsigned char *nb = realloc(buf, ncap);
			if (nb == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap = ncap;
		} else if (z.avail_in == 0) {
			rc = Z_DATA_ERROR; /* truncated input */
			break;
		}
	}
	if (buf == NULL || rc != Z_STREAM_END) {
		strbuf_printf(err, "gunzip: %s", buf == NULL ? "out of memory" :
			      rc == Z_MEM_ERROR ? "output over the limit" : "corrupt or truncated data");
		free(buf);
		inflateEnd(&z);
		return false;
	}
	*out = buf;
	*out_len = z.total_out;
	inflateEnd(&z);
	return true;
}
