// SPDX-License-Identifier: Apache-2.0
/*
 * Replies: option replies during the handshake, and for each request
 * either a simple reply (always without structured replies; with them,
 * for successes without payload) or one structured chunk carrying the
 * data (OFFSET_DATA), the extents (BLOCK_STATUS), the error (ERROR, with
 * a message for people) or nothing (NONE).  Headers live in the request,
 * data is sent from the request's buffer without copying.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbd.h"

/* An option reply or raw handshake bytes: one allocation, copied. */
struct raw_msg {
	struct out_msg out;
	size_t len;
	uint8_t data[];
};

static void raw_done(struct out_msg *m)
{
	free(container_of(m, struct raw_msg, out));
}

static struct raw_msg *raw_new(size_t len)
{
	struct raw_msg *r = bs_xmalloc(sizeof(*r) + len);

	memset(&r->out, 0, sizeof(r->out));
	r->len = len;
	r->out.iov[0].iov_base = r->data;
	r->out.iov[0].iov_len = len;
	r->out.niov = 1;
	r->out.done = raw_done;
	return r;
}

void reply_raw(struct conn *conn, const void *data, size_t len)
{
	struct raw_msg *r = raw_new(len);

	memcpy(r->data, data, len);
	conn_send(conn, &r->out);
}

void reply_option(struct conn *conn, uint32_t option, uint32_t type,
		  const void *data, size_t len)
{
	struct raw_msg *r = raw_new(NBD_OPT_REPLY_HDR_LEN + len);

	nbd_encode_opt_reply(r->data, option, type, (uint32_t)len);
	if (len)
		memcpy(r->data + NBD_OPT_REPLY_HDR_LEN, data, len);
	conn_send(conn, &r->out);
}

void reply_option_error(struct conn *conn, uint32_t option, uint32_t type,
			const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	reply_option(conn, option, type, msg, (size_t)n);
}

/* ---- transmission replies ----------------------------------------------- */

static void req_sent(struct out_msg *m)
{
	req_free(container_of(m, struct req, out));
}

/* NBD_REPLY_TYPE_ERROR with a short message, final chunk. */
static void structured_error(struct req *req)
{
	const char *msg = req->errmsg ? req->errmsg : "";
	size_t mlen = strlen(msg);
	uint8_t *p = req->hdr;

	if (mlen > REQ_HDR_MAX - NBD_CHUNK_HDR_LEN - 6)
		mlen = REQ_HDR_MAX - NBD_CHUNK_HDR_LEN - 6;
	nbd_encode_chunk(p, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR,
			 req->r.handle, (uint32_t)(6 + mlen));
	nbd_put32(p + NBD_CHUNK_HDR_LEN, req->error);
	nbd_put16(p + NBD_CHUNK_HDR_LEN + 4, (uint16_t)mlen);
	memcpy(p + NBD_CHUNK_HDR_LEN + 6, msg, mlen);
	req->out.iov[0].iov_base = p;
	req->out.iov[0].iov_len = NBD_CHUNK_HDR_LEN + 6 + mlen;
	req->out.niov = 1;
}

static void simple(struct req *req, const void *data, size_t len)
{
	nbd_encode_simple_reply(req->hdr, req->error, req->r.handle);
	req->out.iov[0].iov_base = req->hdr;
	req->out.iov[0].iov_len = NBD_SIMPLE_REPLY_LEN;
	req->out.niov = 1;
	if (len) {
		req->out.iov[1].iov_base = (void *)data;
		req->out.iov[1].iov_len = len;
		req->out.niov = 2;
	}
}

static void structured_read(struct req *req)
{
	uint8_t *p = req->hdr;
	uint32_t len = req->data_len;

	if (len == 0) {
		nbd_encode_chunk(p, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE,
				 req->r.handle, 0);
		req->out.iov[0].iov_base = p;
		req->out.iov[0].iov_len = NBD_CHUNK_HDR_LEN;
		req->out.niov = 1;
		return;
	}
	/* one content chunk: also what NBD_CMD_FLAG_DF asks for */
	nbd_encode_chunk(p, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA,
			 req->r.handle, 8 + len);
	nbd_put64(p + NBD_CHUNK_HDR_LEN, req->r.offset);
	req->out.iov[0].iov_base = p;
	req->out.iov[0].iov_len = NBD_CHUNK_HDR_LEN + 8;
	req->out.iov[1].iov_base = req->buf;
	req->out.iov[1].iov_len = len;
	req->out.niov = 2;
}

static void structured_block_status(struct req *req)
{
	uint8_t *p = req->hdr;

	nbd_encode_chunk(p, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
			 req->r.handle, 4 + req->data_len);
	nbd_put32(p + NBD_CHUNK_HDR_LEN, NBD_META_ID_BASE_ALLOCATION);
	req->out.iov[0].iov_base = p;
	req->out.iov[0].iov_len = NBD_CHUNK_HDR_LEN + 4;
	req->out.iov[1].iov_base = req->buf;
	req->out.iov[1].iov_len = req->data_len;
	req->out.niov = 2;
}

void reply_request(struct req *req)
{
	struct conn *conn = req->conn;

	memset(&req->out, 0, sizeof(req->out));
	req->out.done = req_sent;
	if (req->error) {
		if (conn->structured)
			structured_error(req);
		else
			simple(req, NULL, 0);
	} else if (req->r.type == NBD_CMD_READ) {
		if (conn->structured)
			structured_read(req);
		else
			simple(req, req->buf, req->data_len);
	} else if (req->r.type == NBD_CMD_BLOCK_STATUS) {
		structured_block_status(req);
	} else {
		/* no payload: a simple reply is allowed either way */
		simple(req, NULL, 0);
	}
	conn_send(conn, &req->out);
}
