// SPDX-License-Identifier: Apache-2.0
/*
 * The I/O calls: read, write, discard, write_zeroes, flush and block
 * status, synchronous and asynchronous.  A request is checked on the
 * caller's thread, then started on the I/O thread, cut into per-object
 * pieces (at most PIECES_PER_REQUEST out at once) and completed when the
 * last piece is back.
 *
 * Request states (I/O thread):
 *   posted  -> issuing   (pieces handed to the objecter while any remain)
 *   issuing -> draining  (every byte has a piece, or one failed)
 *   draining-> done      (inflight == 0: callback or waiter woken)
 * A flush is "done" as soon as every writing request started before it
 * is done: there is no cache in the client or the OSDs to write back.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basalt_int.h"
#include "bs/log.h"
#include "proto/osd.pb-c.h"

/* ---- the request pool (any thread) ---- */

struct request *request_alloc(struct basalt_cluster *c)
{
	struct request *req;

	pthread_mutex_lock(&c->pool_lock);
	req = c->free_reqs;
	if (req) {
		c->free_reqs = req->next_free;
		c->n_free_reqs--;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (!req)
		req = malloc(sizeof(*req));
	return req;
}

void request_free(struct basalt_cluster *c, struct request *req)
{
	pthread_mutex_lock(&c->pool_lock);
	if (c->n_free_reqs < REQ_POOL_MAX) {
		req->next_free = c->free_reqs;
		c->free_reqs = req;
		c->n_free_reqs++;
		req = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	free(req);
}

static void request_start_task(struct bs_task *t);

void request_setup(struct request *req, struct basalt_volume *vol,
		   enum request_kind kind, void *buf, uint64_t off,
		   uint64_t len, unsigned flags)
{
	req->task.fn = request_start_task;
	req->task.next = NULL;
	req->task.queued = false;
	req->next_free = NULL;
	req->vol = vol;
	req->kind = kind;
	req->flags = flags;
	req->buf = buf;
	req->off = off;
	req->end = off + len;
	req->next = off;
	req->inflight = 0;
	req->res = 0;
	req->err.code = 0;
	req->err.msg[0] = '\0';
	req->seq = 0;
	bs_list_init(&req->link);
	req->linked = false;
	req->cb = NULL;
	req->opaque = NULL;
	req->waiter = NULL;
	req->slots = NULL;
	req->nslots = 0;
}

int request_submit(struct request *req)
{
	struct basalt_volume *vol = req->vol;

	atomic_fetch_add(&vol->n_reqs, 1);
	if (atomic_load(&vol->closing)) {
		atomic_fetch_sub(&vol->n_reqs, 1);
		return -EBADF;
	}
	bs_loop_post(vol->cluster->loop, &req->task);
	return 0;
}

/* ---- on the I/O thread ---- */

static bool is_writing(enum request_kind kind)
{
	return kind == REQ_WRITE || kind == REQ_DISCARD ||
	       kind == REQ_WRITE_ZEROES || kind == REQ_TRIM;
}

static void request_fail(struct request *req, int res, const char *fmt, ...)
	BS_PRINTF(3, 4);

static void request_fail(struct request *req, int res, const char *fmt, ...)
{
	va_list ap;

	if (req->res)
		return;
	req->res = res;
	req->err.code = res;
	va_start(ap, fmt);
	vsnprintf(req->err.msg, sizeof(req->err.msg), fmt, ap);
	va_end(ap);
}

static struct request *first_req(struct bs_list *l)
{
	return container_of(l->next, struct request, link);
}

static void request_complete(struct request *req);

/* Finish the flushes that no longer wait for an older write. */
static void flushes_check(struct basalt_volume *vol)
{
	struct request *f;

	while (!bs_list_empty(&vol->flushes)) {
		f = first_req(&vol->flushes);
		if (!bs_list_empty(&vol->writes) &&
		    first_req(&vol->writes)->seq < f->seq)
			break;
		bs_list_del(&f->link);
		f->linked = false;
		request_complete(f);
	}
}

static void request_complete(struct request *req)
{
	struct basalt_volume *vol = req->vol;
	struct basalt_cluster *c = vol->cluster;
	basalt_completion_fn *cb = req->cb;
	void *opaque = req->opaque;
	struct waiter *w = req->waiter;
	struct bs_error err;
	bool writing;
	ssize_t res;

	if (req->res)
		res = req->res;
	else if (req->kind == REQ_READ || req->kind == REQ_WRITE)
		res = (ssize_t)(req->end - req->off);
	else
		res = 0;
	if (res < 0)
		err = req->err;
	writing = req->linked && is_writing(req->kind);
	if (req->linked) {
		bs_list_del(&req->link);
		req->linked = false;
	}
	request_free(c, req);
	if (w) {
		waiter_wake(w, res, res < 0 ? &err : NULL);
	} else if (cb) {
		if (res < 0)
			lib_set_bs_error(&err);
		cb(opaque, res);
	}
	/* flushes that waited for this write complete after it */
	if (writing)
		flushes_check(vol);
	atomic_fetch_sub(&vol->n_reqs, 1);
	volume_request_done(vol);	/* may free @vol */
}

static int piece_op(const struct request *req, const struct layout_piece *lp,
		    uint64_t object_size)
{
	switch (req->kind) {
	case REQ_READ:
		return BS__OSD_OP_KIND__OSD_OP_READ;
	case REQ_WRITE:
		return BS__OSD_OP_KIND__OSD_OP_WRITE;
	case REQ_DISCARD:
	case REQ_TRIM:
		return layout_is_whole_object(lp, object_size) ?
			       BS__OSD_OP_KIND__OSD_OP_DELETE :
			       BS__OSD_OP_KIND__OSD_OP_DISCARD;
	case REQ_WRITE_ZEROES:
		return BS__OSD_OP_KIND__OSD_OP_WRITE_ZEROES;
	case REQ_EXTENTS:
		return BS__OSD_OP_KIND__OSD_OP_EXTENTS;
	case REQ_FLUSH:
		break;
	}
	return -1;
}

/* Hand out pieces while allowed; complete the request once all is back. */
static void request_issue(struct request *req)
{
	struct basalt_volume *vol = req->vol;
	struct basalt_cluster *c = vol->cluster;
	struct layout_piece lp;
	struct piece *p;
	uint64_t max;

	max = req->kind == REQ_READ || req->kind == REQ_WRITE ? c->max_piece :
								 0;
	while (req->next < req->end && req->inflight < PIECES_PER_REQUEST &&
	       !req->res) {
		if (c->stopping || vol->cancelled) {
			request_fail(req, -ECANCELED,
				     "volume '%s' was closed before this request could be sent",
				     vol->spec);
			break;
		}
		p = piece_get(c);
		if (!p) {
			if (!req->inflight)
				request_fail(req, -ENOMEM, "out of memory");
			break;
		}
		layout_next_piece(req->next, req->end, vol->object_size, max,
				  &lp);
		p->req = req;
		p->op = piece_op(req, &lp, vol->object_size);
		p->objnum = lp.objnum;
		p->obj_off = lp.obj_off;
		p->len = lp.len;
		p->vol_off = req->next;
		p->iov.iov_base = req->buf ? req->buf + (req->next - req->off) :
					     NULL;
		p->iov.iov_len = lp.len;
		req->next += lp.len;
		req->inflight++;
		objecter_send(c, p);	/* never completes from here */
	}
	if (!req->inflight && (req->next >= req->end || req->res))
		request_complete(req);
}

void request_piece_done(struct request *req, int res,
			const struct bs_error *err)
{
	req->inflight--;
	if (res < 0 && !req->res) {
		req->res = res;
		if (err && err->msg[0])
			req->err = *err;
		else
			bs_error_set(&req->err, res, "%s", strerror(-res));
	}
	request_issue(req);
}

static void request_start_task(struct bs_task *t)
{
	struct request *req = container_of(t, struct request, task);
	struct basalt_volume *vol = req->vol;
	struct basalt_cluster *c = vol->cluster;

	if (c->stopping || vol->cancelled) {
		request_fail(req, -ECANCELED, "volume '%s' is being closed",
			     vol->spec);
		request_complete(req);
		return;
	}
	if (req->kind == REQ_FLUSH) {
		/* wait for every writing request started before this one */
		req->seq = vol->next_seq;
		if (bs_list_empty(&vol->writes) ||
		    first_req(&vol->writes)->seq >= req->seq) {
			request_complete(req);
			return;
		}
		bs_list_add_tail(&vol->flushes, &req->link);
		req->linked = true;
		return;
	}
	if (is_writing(req->kind)) {
		req->seq = vol->next_seq++;
		bs_list_add_tail(&vol->writes, &req->link);
		req->linked = true;
	}
	request_issue(req);
}

/* ---- the API (any thread) ---- */

static int check_io(struct basalt_volume *vol, const char *what,
		    const void *buf, bool need_buf, uint64_t off, uint64_t len)
{
	struct bs_error e = { 0 };
	int ret;

	ret = volume_check(vol);
	if (ret)
		return ret;
	if (need_buf && !buf && len)
		return lib_set_error(-EINVAL, "%s: the buffer is NULL", what);
	if (len > SSIZE_MAX)
		return lib_set_error(-EINVAL,
				     "%s of %" PRIu64 " bytes: larger than SSIZE_MAX",
				     what, len);
	ret = layout_check_range(what, atomic_load(&vol->size), off, len, &e);
	if (ret)
		return lib_set_bs_error(&e);
	return 0;
}

/*
 * Submit one request: synchronously (@cb NULL: wait and return the
 * result) or asynchronously (return 0 once queued).
 */
static ssize_t submit(struct basalt_volume *vol, enum request_kind kind,
		      void *buf, uint64_t off, uint64_t len, unsigned flags,
		      basalt_completion_fn *cb, void *opaque,
		      struct extent_slot *slots, unsigned nslots)
{
	struct basalt_cluster *c = vol->cluster;
	struct request *req;
	struct waiter w;
	ssize_t res;
	int ret;

	if (!cb && cluster_on_io_thread(c))
		return lib_set_error(-EDEADLK,
				     "synchronous calls cannot be made from a completion callback (use basalt_aio_*)");
	req = request_alloc(c);
	if (!req)
		return lib_set_error(-ENOMEM, "out of memory");
	request_setup(req, vol, kind, buf, off, len, flags);
	req->slots = slots;
	req->nslots = nslots;
	if (cb) {
		req->cb = cb;
		req->opaque = opaque;
		ret = request_submit(req);
		if (ret) {
			request_free(c, req);
			return lib_set_error(ret, "volume '%s' is closed",
					     vol->spec);
		}
		return 0;
	}
	waiter_init(&w);
	req->waiter = &w;
	ret = request_submit(req);
	if (ret) {
		waiter_release(&w);
		request_free(c, req);
		return lib_set_error(ret, "volume '%s' is closed", vol->spec);
	}
	res = waiter_wait(&w);
	if (res < 0)
		lib_set_bs_error(&w.err);
	waiter_release(&w);
	return res;
}

BASALT_EXPORT ssize_t basalt_read(struct basalt_volume *vol, void *buf,
				  size_t len, uint64_t off)
{
	int ret = check_io(vol, "read", buf, true, off, len);

	if (ret)
		return ret;
	return submit(vol, REQ_READ, buf, off, len, 0, NULL, NULL, NULL, 0);
}

BASALT_EXPORT ssize_t basalt_write(struct basalt_volume *vol,
				   const void *buf, size_t len, uint64_t off)
{
	int ret = check_io(vol, "write", buf, true, off, len);

	if (ret)
		return ret;
	return submit(vol, REQ_WRITE, (void *)buf, off, len, 0, NULL, NULL,
		      NULL, 0);
}

BASALT_EXPORT int basalt_flush(struct basalt_volume *vol)
{
	int ret = volume_check(vol);

	if (ret)
		return ret;
	return (int)submit(vol, REQ_FLUSH, NULL, 0, 0, 0, NULL, NULL, NULL,
			   0);
}

BASALT_EXPORT int basalt_discard(struct basalt_volume *vol, uint64_t off,
				 uint64_t len)
{
	int ret = check_io(vol, "discard", NULL, false, off, len);

	if (ret)
		return ret;
	return (int)submit(vol, REQ_DISCARD, NULL, off, len, 0, NULL, NULL,
			   NULL, 0);
}

static int check_zero_flags(unsigned flags)
{
	if (flags & ~BASALT_ZERO_NO_HOLE)
		return lib_set_error(-EINVAL,
				     "write_zeroes: unknown flags 0x%x",
				     flags & ~BASALT_ZERO_NO_HOLE);
	return 0;
}

BASALT_EXPORT int basalt_write_zeroes(struct basalt_volume *vol,
				      uint64_t off, uint64_t len,
				      unsigned flags)
{
	int ret = check_io(vol, "write_zeroes", NULL, false, off, len);

	if (!ret)
		ret = check_zero_flags(flags);
	if (ret)
		return ret;
	return (int)submit(vol, REQ_WRITE_ZEROES, NULL, off, len, flags,
			   NULL, NULL, NULL, 0);
}

static int check_cb(basalt_completion_fn *cb, const char *what)
{
	if (!cb)
		return lib_set_error(-EINVAL, "%s: the callback is NULL",
				     what);
	return 0;
}

BASALT_EXPORT int basalt_aio_read(struct basalt_volume *vol, void *buf,
				  size_t len, uint64_t off,
				  basalt_completion_fn *cb, void *opaque)
{
	int ret = check_io(vol, "read", buf, true, off, len);

	if (!ret)
		ret = check_cb(cb, "aio_read");
	if (ret)
		return ret;
	return (int)submit(vol, REQ_READ, buf, off, len, 0, cb, opaque, NULL,
			   0);
}

BASALT_EXPORT int basalt_aio_write(struct basalt_volume *vol,
				   const void *buf, size_t len, uint64_t off,
				   basalt_completion_fn *cb, void *opaque)
{
	int ret = check_io(vol, "write", buf, true, off, len);

	if (!ret)
		ret = check_cb(cb, "aio_write");
	if (ret)
		return ret;
	return (int)submit(vol, REQ_WRITE, (void *)buf, off, len, 0, cb,
			   opaque, NULL, 0);
}

BASALT_EXPORT int basalt_aio_flush(struct basalt_volume *vol,
				   basalt_completion_fn *cb, void *opaque)
{
	int ret = volume_check(vol);

	if (!ret)
		ret = check_cb(cb, "aio_flush");
	if (ret)
		return ret;
	return (int)submit(vol, REQ_FLUSH, NULL, 0, 0, 0, cb, opaque, NULL,
			   0);
}

BASALT_EXPORT int basalt_aio_discard(struct basalt_volume *vol, uint64_t off,
				     uint64_t len, basalt_completion_fn *cb,
				     void *opaque)
{
	int ret = check_io(vol, "discard", NULL, false, off, len);

	if (!ret)
		ret = check_cb(cb, "aio_discard");
	if (ret)
		return ret;
	return (int)submit(vol, REQ_DISCARD, NULL, off, len, 0, cb, opaque,
			   NULL, 0);
}

BASALT_EXPORT int basalt_aio_write_zeroes(struct basalt_volume *vol,
					  uint64_t off, uint64_t len,
					  unsigned flags,
					  basalt_completion_fn *cb,
					  void *opaque)
{
	int ret = check_io(vol, "write_zeroes", NULL, false, off, len);

	if (!ret)
		ret = check_zero_flags(flags);
	if (!ret)
		ret = check_cb(cb, "aio_write_zeroes");
	if (ret)
		return ret;
	return (int)submit(vol, REQ_WRITE_ZEROES, NULL, off, len, flags, cb,
			   opaque, NULL, 0);
}

/* ---- block status ---- */

/* Extents reported so far, merged until the state changes. */
struct extent_emit {
	basalt_extent_fn *fn;
	void *opaque;
	uint64_t off, len;
	int allocated;
};

static int emit(struct extent_emit *x, uint64_t off, uint64_t len,
		int allocated)
{
	int ret = 0;

	if (!len)
		return 0;
	if (x->len && x->allocated == allocated && x->off + x->len == off) {
		x->len += len;
		return 0;
	}
	if (x->len)
		ret = x->fn(x->opaque, x->off, x->len, x->allocated);
	x->off = off;
	x->len = len;
	x->allocated = allocated;
	return ret;
}

/* Report [start, end) of one object from its sorted, clipped pairs. */
static int emit_slot(struct extent_emit *x, const struct extent_slot *s,
		     uint64_t start, uint64_t end)
{
	uint64_t cur = start;
	unsigned i;
	int ret;

	for (i = 0; i < s->n; i++) {
		uint64_t o = s->pairs[2 * i], l = s->pairs[2 * i + 1];

		if (o + l <= cur)
			continue;
		if (o < cur) {
			l -= cur - o;
			o = cur;
		}
		ret = emit(x, cur, o - cur, 0);
		if (!ret)
			ret = emit(x, o, l, 1);
		if (ret)
			return ret;
		cur = o + l;
	}
	return emit(x, cur, end - cur, 0);
}

static void free_slots(struct extent_slot *slots, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		free(slots[i].pairs);
	free(slots);
}

BASALT_EXPORT int basalt_block_status(struct basalt_volume *vol,
				      uint64_t off, uint64_t len,
				      basalt_extent_fn *fn, void *opaque)
{
	struct extent_emit x = { .fn = fn, .opaque = opaque };
	struct extent_slot *slots;
	uint64_t pos, end, os, first, batch_end, n, i;
	ssize_t res;
	int ret;

	ret = check_io(vol, "block_status", NULL, false, off, len);
	if (ret)
		return ret;
	if (!fn)
		return lib_set_error(-EINVAL, "block_status: the callback is NULL");
	os = vol->object_size;
	end = off + len;
	for (pos = off; pos < end; pos = batch_end) {
		first = pos / os;
		batch_end = (first + EXTENT_BATCH) * os;
		if (batch_end > end || batch_end < pos)
			batch_end = end;
		n = layout_num_objects(batch_end, os) - first;
		slots = calloc(n, sizeof(*slots));
		if (!slots)
			return lib_set_error(-ENOMEM, "out of memory");
		res = submit(vol, REQ_EXTENTS, NULL, pos, batch_end - pos, 0,
			     NULL, NULL, slots, (unsigned)n);
		if (res < 0) {
			free_slots(slots, (unsigned)n);
			return (int)res;
		}
		ret = 0;
		for (i = 0; i < n && !ret; i++) {
			uint64_t s = BS_MAX(pos, (first + i) * os);
			uint64_t e = BS_MIN(batch_end, (first + i + 1) * os);

			ret = emit_slot(&x, &slots[i], s, e);
		}
		free_slots(slots, (unsigned)n);
		if (ret)
			return ret;
	}
	if (x.len)
		return x.fn(x.opaque, x.off, x.len, x.allocated);
	return 0;
}
