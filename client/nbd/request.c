// SPDX-License-Identifier: Apache-2.0
/*
 * Transmission requests: validate each header (protocol.c), start its
 * libbasalt call, and when the result comes back to the loop thread,
 * reply (reply.c) and recycle the request.  Requests are pooled per
 * server; buffers up to REQ_KEEP_BUF stay with a pooled request.
 *
 * Life of a request:
 *   request_received  -> [payload read by server.c] -> request_start
 *   request_start     -> basalt_aio_* | export_flush | worker job
 *   (library thread)  -> request_aio_done -> bs_loop_post -> aio_task
 *   request_complete  -> reply_request -> (sent) req_free
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nbd.h"

#define REQ_POOL_MAX	256		/* pooled struct req per server */
#define REQ_KEEP_BUF	(1u << 20)	/* buffers kept with a pooled req */
#define MAX_DESCRIPTORS	4096		/* per BLOCK_STATUS reply */

struct req *req_new(struct conn *conn, const struct nbd_request *r)
{
	struct nbd_server *srv = conn->srv;
	struct req *req;
	uint8_t *buf;
	size_t cap;

	if (!bs_list_empty(&srv->free_reqs)) {
		req = bs_list_entry(srv->free_reqs.next, struct req, link);
		bs_list_del(&req->link);
		srv->nfree_reqs--;
		buf = req->buf;
		cap = req->buf_cap;
	} else {
		req = bs_xmalloc(sizeof(*req));
		buf = NULL;
		cap = 0;
	}
	memset(req, 0, sizeof(*req));
	bs_list_init(&req->link);
	req->buf = buf;
	req->buf_cap = cap;
	req->conn = conn;
	req->r = *r;
	conn_get(conn);
	conn->inflight++;
	return req;
}

void req_free(struct req *req)
{
	struct conn *conn = req->conn;
	struct nbd_server *srv = conn->srv;

	assert(!req->in_export);
	conn->inflight--;
	conn->inflight_bytes -= req->charged;
	if (req->buf_cap > REQ_KEEP_BUF || srv->nfree_reqs >= REQ_POOL_MAX) {
		bs_free(&req->buf);
		req->buf_cap = 0;
	}
	if (srv->nfree_reqs < REQ_POOL_MAX) {
		bs_list_add_tail(&srv->free_reqs, &req->link);
		srv->nfree_reqs++;
	} else {
		free(req);
	}
	conn_resume(conn);
	conn_put(conn);
}

void request_free_pool(struct nbd_server *srv)
{
	struct req *req;

	while (!bs_list_empty(&srv->free_reqs)) {
		req = bs_list_entry(srv->free_reqs.next, struct req, link);
		bs_list_del(&req->link);
		free(req->buf);
		free(req);
	}
	srv->nfree_reqs = 0;
}

int req_buf(struct req *req, size_t len)
{
	uint8_t *p;

	if (len > req->buf_cap) {
		/* realloc would copy data we do not need */
		p = malloc(len);
		if (!p)
			return -ENOMEM;
		free(req->buf);
		req->buf = p;
		req->buf_cap = len;
	}
	req->conn->inflight_bytes += len - req->charged;
	req->charged = len;
	return 0;
}

/* ---- completion --------------------------------------------------------- */

static void aio_task(struct bs_task *task)
{
	struct req *req = container_of(task, struct req, task);

	if (req->is_write)
		export_write_done(req->conn->exp, req);
	request_complete(req);
}

void request_aio_done(void *opaque, ssize_t res)
{
	struct req *req = opaque;

	/* library thread: record and hand over, nothing else */
	req->res = res;
	req->task.fn = aio_task;
	bs_loop_post(req->conn->srv->loop, &req->task);
}

void request_complete(struct req *req)
{
	struct conn *conn = req->conn;

	BS_ASSERT_LOOP_THREAD(conn->srv->loop);
	if (!req->error && req->res < 0) {
		req->error = nbd_errno_to_wire((int)req->res, req->r.flags);
		if (!req->errmsg)
			req->errmsg = strerror((int)-req->res);
		bs_dbg(BS_SUB_NBD, "%s: %s offset %llu length %u: %s",
		       conn->peer, nbd_cmd_name(req->r.type),
		       (unsigned long long)req->r.offset, req->r.length,
		       strerror((int)-req->res));
	}
	if (!req->error && req->r.type == NBD_CMD_READ &&
	    req->res >= 0 && (uint64_t)req->res != req->data_len) {
		/* a short read would put the stream out of step */
		req->error = NBD_EIO;
		req->errmsg = "short read from the volume";
	}
	if (req->error && req->r.type == NBD_CMD_READ)
		req->data_len = 0;
	if (conn_is_dead(conn)) {
		req_free(req);
		return;
	}
	reply_request(req);
}

/* ---- block status on a worker ------------------------------------------- */

static int extent_cb(void *opaque, uint64_t off, uint64_t len, int allocated)
{
	struct req *req = opaque;

	return nbd_extents_add(&req->eb, off, len, allocated != 0);
}

static void block_status_work(struct nbd_job *job)
{
	struct req *req = container_of(job, struct req, job);
	struct export *exp = req->conn->exp;
	int ret;

	ret = basalt_block_status(exp->vol, req->r.offset, req->r.length,
				  extent_cb, req);
	req->res = ret < 0 ? ret : 0;
}

static void block_status_done(struct nbd_job *job)
{
	struct req *req = container_of(job, struct req, job);

	if (req->res == 0)
		req->data_len = nbd_extents_finish(&req->eb);
	request_complete(req);
}

static void start_block_status(struct req *req)
{
	uint32_t max = MAX_DESCRIPTORS;

	if (req->r.flags & NBD_CMD_FLAG_REQ_ONE)
		max = 1;
	if (req_buf(req, (size_t)max * NBD_BLOCK_DESC_LEN)) {
		req->res = -ENOMEM;
		request_complete(req);
		return;
	}
	nbd_extents_init(&req->eb, req->buf, max, req->r.offset,
			 req->r.length, req->r.flags & NBD_CMD_FLAG_REQ_ONE);
	req->job.work = block_status_work;
	req->job.done = block_status_done;
	nbd_workers_submit(req->conn->srv->workers, &req->job);
}

/* ---- dispatch ----------------------------------------------------------- */

/* Start @req's libbasalt call; on a synchronous failure complete it. */
static void request_start(struct req *req)
{
	struct conn *conn = req->conn;
	struct export *exp = conn->exp;
	struct nbd_request *r = &req->r;
	unsigned zflags = 0;
	int ret = 0;

	/* proto.md: length 0 is unspecified; succeed without asking */
	if (r->length == 0 && r->type != NBD_CMD_FLUSH &&
	    r->type != NBD_CMD_BLOCK_STATUS) {
		request_complete(req);
		return;
	}
	switch (r->type) {
	case NBD_CMD_READ:
		if (req_buf(req, r->length)) {
			ret = -ENOMEM;
			break;
		}
		req->data_len = r->length;
		ret = basalt_aio_read(exp->vol, req->buf, r->length,
				      r->offset, request_aio_done, req);
		break;
	case NBD_CMD_WRITE:
		export_write_start(exp, req);
		ret = basalt_aio_write(exp->vol, req->buf, r->length,
				       r->offset, request_aio_done, req);
		break;
	case NBD_CMD_TRIM:
		export_write_start(exp, req);
		ret = basalt_aio_discard(exp->vol, r->offset, r->length,
					 request_aio_done, req);
		break;
	case NBD_CMD_WRITE_ZEROES:
		if (r->flags & NBD_CMD_FLAG_NO_HOLE) {
			/*
			 * Allocated zeroes cost as much as writing data:
			 * a fast zero must fail at once (proto.md).
			 */
			if (r->flags & NBD_CMD_FLAG_FAST_ZERO) {
				req->error = NBD_ENOTSUP;
				req->errmsg = "zeroing without holes is not fast";
				request_complete(req);
				return;
			}
			zflags |= BASALT_ZERO_NO_HOLE;
		}
		export_write_start(exp, req);
		ret = basalt_aio_write_zeroes(exp->vol, r->offset, r->length,
					      zflags, request_aio_done, req);
		break;
	case NBD_CMD_FLUSH:
		export_flush(exp, req);
		return;
	case NBD_CMD_BLOCK_STATUS:
		start_block_status(req);
		return;
	default:
		/* validated before: cannot happen */
		req->error = NBD_EINVAL;
		request_complete(req);
		return;
	}
	if (ret < 0) {
		if (req->is_write)
			export_write_done(exp, req);
		req->res = ret;
		request_complete(req);
	}
}

void request_payload_done(struct req *req)
{
	request_start(req);
}

void request_received(struct conn *conn, const uint8_t *hdr)
{
	struct nbd_request r;
	enum nbd_verdict v;
	const char *why = NULL;
	uint32_t error;
	struct req *req;

	if (nbd_request_decode(hdr, &r)) {
		conn_fail(conn, "bad request magic 0x%08x: closing",
			  nbd_get32(hdr));
		return;
	}
	v = nbd_request_validate(&r, &conn->caps, &error, &why);
	if (v == NBD_REQ_DISCONNECT) {
		conn_fail(conn, "%s request offset %llu length %u: %s: closing",
			  nbd_cmd_name(r.type), (unsigned long long)r.offset,
			  r.length, why);
		return;
	}
	if (r.type == NBD_CMD_DISC && v == NBD_REQ_OK) {
		bs_dbg(BS_SUB_NBD, "%s: NBD_CMD_DISC", conn->peer);
		conn_drain(conn);
		return;
	}
	req = req_new(conn, &r);
	if (conn->srv->stopping) {
		/* proto.md: requests after a shutdown began get ESHUTDOWN */
		v = NBD_REQ_ERROR;
		error = NBD_ESHUTDOWN;
		why = "the server is shutting down";
	}
	if (v == NBD_REQ_ERROR) {
		if (error != NBD_ESHUTDOWN)
			bs_warn_rl(&conn->rl, "%s: invalid %s request (type %u) offset %llu length %u: %s",
				   conn->peer, nbd_cmd_name(r.type), r.type,
				   (unsigned long long)r.offset, r.length,
				   why);
		req->error = error;
		req->errmsg = why;
		if (nbd_request_payload(&r)) {
			/* stay in step: read and drop the data */
			conn_skip_payload(conn, req);
			return;
		}
		request_complete(req);
		return;
	}
	if (r.type == NBD_CMD_WRITE && r.length) {
		if (req_buf(req, r.length)) {
			req->error = NBD_ENOMEM;
			req->errmsg = "out of memory";
			conn_skip_payload(conn, req);
			return;
		}
		conn_read_payload(conn, req);
		return;
	}
	request_start(req);
}
