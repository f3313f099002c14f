// SPDX-License-Identifier: Apache-2.0
/*
 * The object store's I/O: reads, and the mutation state machine shared by
 * write, write-zeroes, discard and delete (redirect-on-write: new blocks,
 * then metadata, then the old blocks are freed), with per-object ordering.
 *
 * Mutation states (enum store_op_state), re-entered through mut_continue():
 *
 *   (submit) -> WAIT_DEPS    an edge block it must read-modify-write is
 *                            touched by an earlier queued op of the object
 *            -> RMW_READ     reading the edge blocks from the head version
 *            -> DATA_WRITE   the new blocks are being written
 *            -> WAIT_TURN    data written; earlier ops not in a batch yet
 *            -> COMMIT       extent map, crcs, version in a metadata batch
 *            -> DONE         durable: fn called (see "Acknowledgement"
 *                            below); old blocks freed after the commit
 *   a journaled write goes from RMW_READ (blocks allocated) straight to
 *   WAIT_TURN, and writes its blocks and its record in COMMIT;
 *   no free space while commits in flight will free some -> WAIT_SPACE,
 *   then back to allocating;
 *   any state before COMMIT -> DONE with an error (blocks given back).
 *
 * Ops of an object are issued to metadata batches strictly in submission
 * order; since batches commit in order, they take effect in that order.
 * Superseded blocks are freed only after the batch that stopped using them
 * is durable, and only once every read that started before then is done.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/frame.h"
#include "bs/log.h"
#include "journal.h"
#include "meta.h"
#include "store_int.h"

enum op_type {
	OP_READ = 1,
	OP_WRITE,
	OP_WRITE_ZEROES,
	OP_DISCARD,
	OP_DELETE,
	OP_PG_PUT,
};

#define BS	STORE_BLOCK_SIZE
/* Most runs one write may be split into when free space is fragmented. */
#define MAX_RUNS	256u

static void mut_continue(struct store_op *op);
static void obj_progress(struct store *s, struct obj *o);
static void jent_issue(struct store_op *op, bool need_sync);
static bool can_journal(const struct store *s, const struct store_op *op);
static void jent_home_done(struct store_op *op);

/* objects */

static size_t oid_hash(const struct store_oid *oid)
{
	uint64_t h = ((uint64_t)oid->pool << 32 | oid->pg) *
		     0x9e3779b97f4a7c15ull;

	h ^= oid->volume * 0xc2b2ae3d27d4eb4full;
	h ^= (h >> 29) ^ oid->objnum * 0x165667b19e3779f9ull;
	h ^= h >> 32;
	return (size_t)h;
}

static bool oid_eq(const struct store_oid *a, const struct store_oid *b)
{
	return a->pool == b->pool && a->pg == b->pg &&
	       a->volume == b->volume && a->objnum == b->objnum;
}

int store_oid_cmp(const struct store_oid *a, const struct store_oid *b)
{
	if (a->pool != b->pool)
		return a->pool < b->pool ? -1 : 1;
	if (a->pg != b->pg)
		return a->pg < b->pg ? -1 : 1;
	if (a->volume != b->volume)
		return a->volume < b->volume ? -1 : 1;
	if (a->objnum != b->objnum)
		return a->objnum < b->objnum ? -1 : 1;
	return 0;
}

struct obj *obj_lookup(struct store *s, const struct store_oid *oid)
{
	struct obj *o;

	if (!s->nbuckets)
		return NULL;
	for (o = s->buckets[oid_hash(oid) & (s->nbuckets - 1)]; o;
	     o = o->hnext)
		if (oid_eq(&o->oid, oid))
			return o;
	return NULL;
}

static void table_grow(struct store *s)
{
	size_t n = s->nbuckets ? s->nbuckets * 2 : 1024, i;
	struct obj **b = bs_xcalloc(n, sizeof(*b));

	for (i = 0; i < s->nbuckets; i++) {
		struct obj *o = s->buckets[i], *next;

		for (; o; o = next) {
			size_t h = oid_hash(&o->oid) & (n - 1);

			next = o->hnext;
			o->hnext = b[h];
			b[h] = o;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

struct obj *obj_get(struct store *s, const struct store_oid *oid)
{
	struct obj *o = obj_lookup(s, oid);
	size_t h;

	if (o)
		return o;
	if (s->nobjs >= s->nbuckets)
		table_grow(s);
	o = bs_xcalloc(1, sizeof(*o));
	o->oid = *oid;
	h = oid_hash(oid) & (s->nbuckets - 1);
	o->hnext = s->buckets[h];
	s->buckets[h] = o;
	s->nobjs++;
	return o;
}

void obj_maybe_free(struct store *s, struct obj *o)
{
	struct obj **pp;

	if (o->head || o->durable || o->q_first)
		return;
	pp = &s->buckets[oid_hash(&o->oid) & (s->nbuckets - 1)];
	while (*pp != o)
		pp = &(*pp)->hnext;
	*pp = o->hnext;
	s->nobjs--;
	free(o);
}

void store_free_objects(struct store *s)
{
	size_t i;

	for (i = 0; i < s->nbuckets; i++) {
		struct obj *o = s->buckets[i], *next;

		for (; o; o = next) {
			next = o->hnext;
			ver_put(&o->head);
			ver_put(&o->durable);
			free(o);
		}
	}
	bs_free(&s->buckets);
	s->nbuckets = s->nobjs = 0;
}

/* reads in flight and deferred frees */

static void space_retry(struct bs_task *t);

/* Let the ops waiting for space try again on the next turn. */
static void space_kick(struct store *s)
{
	if (s->space_head) {
		s->space_task.fn = space_retry;
		bs_loop_defer(s->loop, &s->space_task);
	}
}

static void release_frees(struct store *s)
{
	struct ext_free *fr;
	uint32_t i;

	while ((fr = s->free_head) &&
	       (!s->reads_head || s->reads_head->read_seq > fr->seq)) {
		s->free_head = fr->next;
		if (!s->free_head)
			s->free_tail = &s->free_head;
		for (i = 0; i < fr->n; i++)
			alloc_put(&s->alloc, fr->runs[i].pblk,
				  fr->runs[i].nblk);
		free(fr);
		space_kick(s);
	}
}

static void read_track(struct store *s, struct store_op *op)
{
	op->read_seq = ++s->read_seq;
	op->rnext = NULL;
	op->rprev = s->reads_tail;
	if (s->reads_tail)
		s->reads_tail->rnext = op;
	else
		s->reads_head = op;
	s->reads_tail = op;
}

static void read_untrack(struct store *s, struct store_op *op)
{
	if (op->rprev)
		op->rprev->rnext = op->rnext;
	else
		s->reads_head = op->rnext;
	if (op->rnext)
		op->rnext->rprev = op->rprev;
	else
		s->reads_tail = op->rprev;
	op->rprev = op->rnext = NULL;
	op->read_seq = 0;
	release_frees(s);
}

/* Free @fr once the reads started so far are done. */
static void free_later(struct store *s, struct ext_free *fr)
{
	fr->seq = s->read_seq;
	fr->next = NULL;
	*s->free_tail = fr;
	s->free_tail = &fr->next;
	release_frees(s);
}

/* op plumbing */

static void op_init(struct store *s, struct store_op *op, unsigned type,
		    const struct store_oid *oid, uint64_t off, uint64_t len)
{
	assert(op->state == STORE_OP_IDLE || op->state == STORE_OP_DONE);
	BS_ASSERT_LOOP_THREAD(s->loop);
	op->type = type;
	if (oid)
		op->oid = *oid;
	op->off = off;
	op->len = len;
	op->wbuf = NULL;
	op->rbuf = NULL;
	op->state = STORE_OP_IDLE;
	op->store = s;
	op->obj = NULL;
	op->qprev = op->qnext = NULL;
	op->res = 0;
	op->pending = 0;
	op->lb0 = op->lb1 = 0;
	op->bounce = op->data = NULL;
	op->nruns = 0;
	op->runs = op->runs_inline;
	op->crc = op->crc_inline;
	op->nio = 0;
	op->io = op->io_inline;
	op->nedge = 0;
	op->ver = op->newver = NULL;
	op->to_free = NULL;
	op->read_seq = 0;
	op->rprev = op->rnext = NULL;
	op->need_sync = false;
	op->early = false;
	op->bad_offset = 0;
	op->jent = NULL;
	s->inflight++;
}

static void op_release(struct store_op *op)
{
	if (op->runs != op->runs_inline)
		free(op->runs);
	if (op->crc != op->crc_inline)
		free(op->crc);
	if (op->io != op->io_inline)
		free(op->io);
	op->runs = op->runs_inline;
	op->crc = op->crc_inline;
	op->io = op->io_inline;
	bs_free(&op->bounce);
	ver_put(&op->ver);
	ver_put(&op->newver);
	bs_free(&op->to_free);
}

static void op_finish(struct store_op *op, int res)
{
	struct store *s = op->store;

	op_release(op);
	op->state = STORE_OP_DONE;
	op->n_pg = 0;
	s->inflight--;
	op->fn(op, res);
}

static void deferred_finish(struct bs_task *t)
{
	struct store_op *op = container_of(t, struct store_op, task);

	op_finish(op, op->res);
}

/* Complete @op with @res on the next loop turn (never inside a submit). */
static void op_finish_later(struct store_op *op, int res)
{
	op->res = res;
	op->task.fn = deferred_finish;
	bs_loop_defer(op->store->loop, &op->task);
}

static void *xalloc_aligned(size_t len)
{
	void *p;

	if (posix_memalign(&p, BS, len))
		abort();
	return p;
}

static struct store_io *op_ios(struct store_op *op, unsigned n)
{
	if (n > STORE_OP_INLINE_IO)
		op->io = bs_xcalloc(n, sizeof(*op->io));
	op->nio = n;
	return op->io;
}

static void io_done(struct bs_op *bop, int res)
{
	struct store_io *io = container_of(bop, struct store_io, op);
	struct store_op *op = io->parent;

	if (res >= 0 && (size_t)res != io->iov.iov_len)
		res = -EIO;	/* short I/O on a preallocated file */
	if (res < 0 && !op->res)
		op->res = res;
	if (--op->pending)
		return;
	mut_continue(op);
}

static void io_submit(struct store_op *op, struct store_io *io, bool write,
		      void *buf, size_t len, uint64_t pblk)
{
	struct disk *d = &op->store->disk;

	io->parent = op;
	io->op.fn = io_done;
	io->iov.iov_base = buf;
	io->iov.iov_len = len;
	op->pending++;
	if (write)
		disk_writev(d, &io->op, &io->iov, 1, pblk * BS);
	else
		disk_readv(d, &io->op, &io->iov, 1, pblk * BS);
}

static bool range_ok(uint64_t off, uint64_t len)
{
	return len && off < STORE_MAX_OBJECT_SIZE &&
	       len <= STORE_MAX_OBJECT_SIZE - off;
}

static void log_bad_block(const struct store_op *op, uint32_t lblk,
			  uint64_t pblk)
{
	bs_err("store: object %" PRIu32 ".%" PRIx32 "/%" PRIx64 ".%" PRIx64
	       " offset %" PRIu64 " (disk block %" PRIu64
	       "): checksum mismatch",
	       op->oid.pool, op->oid.pg, op->oid.volume, op->oid.objnum,
	       (uint64_t)lblk * BS, pblk);
}

/* reads */

static void read_finish(struct store_op *op)
{
	struct store *s = op->store;
	struct obj_ver *v = op->ver;
	int res = op->res;
	uint32_t i, k;

	for (i = ver_find(v, op->lb0); !res && i < v->n_ext &&
	     v->ext[i].lblk < op->lb1; i++) {
		const struct extent *e = &v->ext[i];
		uint32_t a = BS_MAX(e->lblk, op->lb0);
		uint32_t b = BS_MIN(e->lblk + e->nblk, op->lb1);

		for (k = a; k < b; k++) {
			const uint8_t *blk = op->data +
					     (size_t)(k - op->lb0) * BS;

			if (bs_crc32c(0, blk, BS) ==
			    v->crc[e->crc_idx + (k - e->lblk)])
				continue;
			log_bad_block(op, k, e->pblk + (k - e->lblk));
			op->bad_offset = (uint64_t)k * BS;
			res = -EBADMSG;
			break;
		}
	}
	if (res)
		memset(op->rbuf, 0, op->len);
	else if (op->bounce)
		memcpy(op->rbuf, op->bounce + (op->off - (uint64_t)op->lb0 * BS),
		       op->len);
	read_untrack(s, op);
	op_finish(op, res);
}

static void read_start_later(struct bs_task *t)
{
	read_finish(container_of(t, struct store_op, task));
}

void store_read(struct store *s, struct store_op *op,
		const struct store_oid *oid, uint64_t off, uint64_t len,
		void *buf)
{
	struct obj_ver *v;
	struct obj *o;
	uint32_t i, n = 0, pos;

	op_init(s, op, OP_READ, oid, off, len);
	op->rbuf = buf;
	if (!range_ok(off, len)) {
		op_finish_later(op, -EINVAL);
		return;
	}
	o = obj_lookup(s, oid);
	if (!o || !o->durable) {
		memset(buf, 0, len);
		op_finish_later(op, -ENOENT);
		return;
	}
	v = op->ver = o->durable;
	ver_get(v);
	op->version = v->version;
	op->lb0 = (uint32_t)(off / BS);
	op->lb1 = (uint32_t)((off + len + BS - 1) / BS);
	if (off % BS || len % BS || (uintptr_t)buf % BS) {
		op->bounce = xalloc_aligned((size_t)(op->lb1 - op->lb0) * BS);
		op->data = op->bounce;
	} else {
		op->data = buf;
	}

	/* zero the holes, count the extents to read */
	pos = op->lb0;
	for (i = ver_find(v, op->lb0); i < v->n_ext &&
	     v->ext[i].lblk < op->lb1; i++) {
		uint32_t a = BS_MAX(v->ext[i].lblk, op->lb0);

		if (a > pos)
			memset(op->data + (size_t)(pos - op->lb0) * BS, 0,
			       (size_t)(a - pos) * BS);
		pos = BS_MIN(v->ext[i].lblk + v->ext[i].nblk, op->lb1);
		n++;
	}
	if (pos < op->lb1)
		memset(op->data + (size_t)(pos - op->lb0) * BS, 0,
		       (size_t)(op->lb1 - pos) * BS);

	read_track(s, op);
	op->state = STORE_OP_READ;
	if (!n) {
		op->task.fn = read_start_later;
		bs_loop_defer(s->loop, &op->task);
		return;
	}
	op_ios(op, n);
	op->pending = 1;	/* hold completion until all are submitted */
	for (i = ver_find(v, op->lb0), n = 0; i < v->n_ext &&
	     v->ext[i].lblk < op->lb1; i++, n++) {
		const struct extent *e = &v->ext[i];
		uint32_t a = BS_MAX(e->lblk, op->lb0);
		uint32_t b = BS_MIN(e->lblk + e->nblk, op->lb1);

		io_submit(op, &op->io[n], false,
			  op->data + (size_t)(a - op->lb0) * BS,
			  (size_t)(b - a) * BS, e->pblk + (a - e->lblk));
	}
	if (--op->pending == 0)
		mut_continue(op);
}

/* the object's op queue */

static void queue_add(struct obj *o, struct store_op *op)
{
	op->qnext = NULL;
	op->qprev = o->q_last;
	if (o->q_last)
		o->q_last->qnext = op;
	else
		o->q_first = op;
	o->q_last = op;
	if (!o->q_issue)
		o->q_issue = op;
}

static void queue_remove(struct obj *o, struct store_op *op)
{
	if (o->q_issue == op)
		o->q_issue = op->qnext;
	if (op->qprev)
		op->qprev->qnext = op->qnext;
	else
		o->q_first = op->qnext;
	if (op->qnext)
		op->qnext->qprev = op->qprev;
	else
		o->q_last = op->qprev;
	op->qprev = op->qnext = NULL;
}

/* Fail a mutation that is not in a batch yet. */
static void mut_fail(struct store_op *op, int res)
{
	struct store *s = op->store;
	struct obj *o = op->obj;
	unsigned i;

	assert(op->state != STORE_OP_COMMIT);
	for (i = 0; i < op->nruns; i++)
		alloc_put(&s->alloc, op->runs[i].pblk, op->runs[i].nblk);
	op->nruns = 0;
	if (op->read_seq)
		read_untrack(s, op);
	queue_remove(o, op);
	op->obj = NULL;
	op->state = STORE_OP_DONE;
	op_finish_later(op, res);
	obj_progress(s, o);
}

static bool blocks_overlap(const struct store_op *p, uint32_t lblk)
{
	return p->type == OP_DELETE || (lblk >= p->lb0 && lblk < p->lb1);
}

/* Does an earlier queued op touch one of @op's edge blocks? */
static bool deps_pending(const struct store_op *op)
{
	const struct store_op *p;
	unsigned k;

	for (p = op->obj->q_first; p && p != op; p = p->qnext)
		for (k = 0; k < op->nedge; k++)
			if (blocks_overlap(p, op->edge_lblk[k]))
				return true;
	return false;
}

/* Where edge @k's data goes in the op's buffer. */
static uint8_t *edge_buf(struct store_op *op, unsigned k)
{
	if (op->type == OP_WRITE)
		return op->data + (size_t)(op->edge_lblk[k] - op->lb0) * BS;
	return op->bounce + (size_t)k * BS;
}

/* Read the edge blocks from the head version, or go on to write. */
static void mut_read_edges(struct store_op *op)
{
	struct store *s = op->store;
	struct obj_ver *h = op->obj->head;
	unsigned k, nread = 0;

	for (k = 0; k < op->nedge; k++) {
		uint32_t lblk = op->edge_lblk[k], i;

		op->edge_pblk[k] = 0;
		i = h ? ver_find(h, lblk) : 0;
		if (!h || i == h->n_ext || h->ext[i].lblk > lblk) {
			memset(edge_buf(op, k), 0, BS);
			continue;
		}
		op->edge_pblk[k] = h->ext[i].pblk + (lblk - h->ext[i].lblk);
		op->edge_crc[k] = h->crc[h->ext[i].crc_idx +
					 (lblk - h->ext[i].lblk)];
		nread++;
	}
	op->state = STORE_OP_RMW_READ;
	if (!nread) {
		mut_continue(op);
		return;
	}
	read_track(s, op);
	op_ios(op, nread);
	op->pending = 1;
	for (k = 0, nread = 0; k < op->nedge; k++)
		if (op->edge_pblk[k])
			io_submit(op, &op->io[nread++], false, edge_buf(op, k),
				  BS, op->edge_pblk[k]);
	if (--op->pending == 0)
		mut_continue(op);
}

/* Set up buffers and edges; then read the edges or wait for them. */
static void mut_prepare(struct store_op *op)
{
	uint64_t end = op->off + op->len;
	uint32_t first = op->lb0, last = op->lb1 - 1;

	op->nedge = 0;
	if (op->type == OP_DELETE) {
		op->state = STORE_OP_WAIT_TURN;
		return;
	}
	if (op->off % BS)
		op->edge_lblk[op->nedge++] = first;
	if (end % BS && (last != first || !op->nedge))
		op->edge_lblk[op->nedge++] = last;

	if (op->type == OP_WRITE) {
		size_t nb = op->lb1 - op->lb0;

		if (op->nedge || (uintptr_t)op->wbuf % BS) {
			op->bounce = xalloc_aligned(nb * BS);
			op->data = op->bounce;
		} else {
			op->data = (uint8_t *)(uintptr_t)op->wbuf;
		}
		if (nb > STORE_OP_INLINE_CRC)
			op->crc = bs_xmalloc(nb * sizeof(*op->crc));
	} else if (op->nedge) {
		op->bounce = xalloc_aligned(2 * BS);
	}
	op->state = STORE_OP_WAIT_DEPS;
}

/*
 * No room: wait if blocks will be freed by commits or reads in flight
 * (then retried from space_retry()), else fail.
 */
static void mut_nospace(struct store_op *op, int res)
{
	struct store *s = op->store;

	if (res != -ENOSPC || (!s->jbusy && !s->free_head &&
			       !meta_busy(s->meta))) {
		mut_fail(op, res);
		return;
	}
	op->state = STORE_OP_WAIT_SPACE;
	meta_urgent(s->meta);	/* commits free the blocks */
	op->wnext = NULL;
	if (!s->space_head)
		s->space_tail = &s->space_head;
	*s->space_tail = op;
	s->space_tail = &op->wnext;
}

static void mut_write(struct store_op *op);

static void space_retry(struct bs_task *t)
{
	struct store *s = container_of(t, struct store, space_task);
	struct store_op *op = s->space_head;

	s->space_head = NULL;
	while (op) {
		struct store_op *next = op->wnext;

		op->wnext = NULL;
		mut_write(op);
		op = next;
	}
}

/* Allocate the new blocks and write them. */
static void mut_write(struct store_op *op)
{
	struct store *s = op->store;
	struct alloc_run ar[MAX_RUNS];
	unsigned k;
	int n;

	if (op->type == OP_WRITE) {
		uint32_t nb = op->lb1 - op->lb0, lblk = op->lb0;
		uint8_t *p = op->data;

		for (k = 0; k < nb; k++)
			op->crc[k] = bs_crc32c(0, p + (size_t)k * BS, BS);
		n = alloc_get(&s->alloc, nb, ar, BS_MIN(nb, MAX_RUNS));
		if (n < 0) {
			mut_nospace(op, n);
			return;
		}
		if ((unsigned)n > ARRAY_SIZE(op->runs_inline))
			op->runs = bs_xmalloc((size_t)n * sizeof(*op->runs));
		for (k = 0; k < (unsigned)n; k++) {
			op->runs[k].lblk = lblk;
			op->runs[k].nblk = (uint32_t)ar[k].nblk;
			op->runs[k].pblk = ar[k].pblk;
			lblk += (uint32_t)ar[k].nblk;
		}
		op->nruns = (unsigned)n;
		op->need_sync = true;
		if (can_journal(s, op)) {
			/* written with its record once in a batch */
			op->early = true;
			op->state = STORE_OP_WAIT_TURN;
			obj_progress(s, op->obj);
			return;
		}
		op_ios(op, op->nruns);
		op->state = STORE_OP_DATA_WRITE;
		op->pending = 1;
		for (k = 0; k < op->nruns; k++)
			io_submit(op, &op->io[k], true,
				  p + (size_t)(op->runs[k].lblk - op->lb0) * BS,
				  (size_t)op->runs[k].nblk * BS,
				  op->runs[k].pblk);
		if (--op->pending == 0)
			mut_continue(op);
		return;
	}

	/* zeroes, discard: only edges still holding data need a block */
	op->nruns = 0;
	for (k = 0; k < op->nedge; k++) {
		if (!op->edge_pblk[k])
			continue;
		n = alloc_get(&s->alloc, 1, ar, 1);
		if (n < 0) {
			/* give back the edges taken so far, then wait */
			while (op->nruns) {
				op->nruns--;
				alloc_put(&s->alloc, op->runs[op->nruns].pblk,
					  1);
			}
			mut_nospace(op, n);
			return;
		}
		op->runs[op->nruns].lblk = op->edge_lblk[k];
		op->runs[op->nruns].nblk = 1;
		op->runs[op->nruns].pblk = ar[0].pblk;
		op->crc[op->nruns] = bs_crc32c(0, edge_buf(op, k), BS);
		op->nruns++;
	}
	op->state = STORE_OP_DATA_WRITE;
	if (!op->nruns) {
		mut_continue(op);
		return;
	}
	op_ios(op, op->nruns);
	op->need_sync = true;
	op->pending = 1;
	for (k = 0, n = 0; k < op->nedge; k++)
		if (op->edge_pblk[k]) {
			io_submit(op, &op->io[n], true, edge_buf(op, k), BS,
				  op->runs[n].pblk);
			n++;
		}
	if (--op->pending == 0)
		mut_continue(op);
}

/* Edges are in the buffer: check them and merge the op's data in. */
static int mut_merge(struct store_op *op)
{
	unsigned k;

	for (k = 0; k < op->nedge; k++) {
		if (op->edge_pblk[k] &&
		    bs_crc32c(0, edge_buf(op, k), BS) != op->edge_crc[k]) {
			log_bad_block(op, op->edge_lblk[k], op->edge_pblk[k]);
			op->bad_offset = (uint64_t)op->edge_lblk[k] * BS;
			return -EBADMSG;
		}
	}
	if (op->type == OP_WRITE) {
		if (op->bounce)
			memcpy(op->bounce + (op->off - (uint64_t)op->lb0 * BS),
			       op->wbuf, op->len);
		return 0;
	}
	/* zero the part of each edge block inside the range */
	for (k = 0; k < op->nedge; k++) {
		uint64_t b0 = (uint64_t)op->edge_lblk[k] * BS;
		uint64_t a = BS_MAX(b0, op->off);
		uint64_t b = BS_MIN(b0 + BS, op->off + op->len);
		uint8_t *p = edge_buf(op, k);
		size_t i;

		if (!op->edge_pblk[k])
			continue;
		memset(p + (a - b0), 0, b - a);
		for (i = 0; i < BS && !p[i]; i++)
			;
		if (i == BS)
			op->edge_pblk[k] = 0;	/* all zero now: a hole */
	}
	return 0;
}

void meta_put_version(struct store *s, const struct store_oid *oid,
		      const struct obj_ver *old, const struct obj_ver *nv,
		      uint32_t c0, uint32_t c1)
{
	uint8_t key[KEY_CHUNK_LEN], hdr[OBJ_HDR_LEN];
	uint32_t c;

	/* chunk keys of the range: rewrite, or delete where now empty */
	for (c = c0; c <= c1; c++) {
		size_t len = nv ? rec_encode_chunk(nv, c, s->encbuf) : 0;
		uint32_t i;

		key_chunk(oid, c, key);
		if (len) {
			meta_put(s->meta, key, KEY_CHUNK_LEN, s->encbuf, len);
			continue;
		}
		i = old ? ver_find(old, c * CHUNK_BLOCKS) : 0;
		if (old && i < old->n_ext &&
		    old->ext[i].lblk < (c + 1) * CHUNK_BLOCKS)
			meta_delete(s->meta, key, KEY_CHUNK_LEN);
	}
	key_obj(oid, key);
	if (nv) {
		rec_encode_hdr(nv, hdr);
		meta_put(s->meta, key, KEY_OBJ_LEN, hdr, OBJ_HDR_LEN);
	} else if (old) {
		meta_delete(s->meta, key, KEY_OBJ_LEN);
	}
}

/* Put @op's new metadata into the batch being filled. */
static void mut_issue(struct store_op *op)
{
	struct store *s = op->store;
	struct obj *o = op->obj;
	struct obj_ver *old = o->head, *nv = NULL;
	uint64_t size = old ? old->size : 0;
	unsigned nruns = op->nruns, k;
	uint32_t c0, c1;

	if (op->type == OP_DELETE) {
		op->to_free = ver_all_blocks(old);
		c0 = 0;
		c1 = old && old->n_ext ?
			     (old->ext[old->n_ext - 1].lblk +
			      old->ext[old->n_ext - 1].nblk - 1) / CHUNK_BLOCKS :
			     0;
	} else {
		if (op->type != OP_DISCARD)
			size = BS_MAX(size, op->off + op->len);
		nv = ver_apply(old, op->lb0, op->lb1, op->runs, op->nruns,
			       op->crc, op->version, size, &op->to_free);
		op->nruns = 0;	/* the blocks belong to the version now */
		c0 = op->lb0 / CHUNK_BLOCKS;
		c1 = (op->lb1 - 1) / CHUNK_BLOCKS;
	}

	meta_put_version(s, &o->oid, old, nv, c0, c1);
	for (unsigned i = 0; i < op->n_pg; i++) {
		const struct store_pg_blob *b = &op->pg_blob[i];
		uint8_t pk[KEY_PG_PREFIX_LEN + STORE_PG_KEY_MAX];
		size_t pklen = key_pg(b->pool, b->pg, b->key, b->klen, pk);

		if (b->val)
			meta_put(s->meta, pk, pklen, b->val, b->vlen);
		else
			meta_delete(s->meta, pk, pklen);
	}

	ver_put(&o->head);
	o->head = nv;
	if (nv)
		ver_get(nv);
	op->newver = nv;
	op->state = STORE_OP_COMMIT;
	jent_issue(op, op->need_sync);
	if (!op->early)
		return;
	/* the home copy, beside the record; the batch waits for it */
	op_ios(op, nruns);
	op->pending = 1;
	for (k = 0; k < nruns; k++)
		io_submit(op, &op->io[k], true,
			  op->data + (size_t)(op->runs[k].lblk - op->lb0) * BS,
			  (size_t)op->runs[k].nblk * BS, op->runs[k].pblk);
	if (--op->pending == 0)
		jent_home_done(op);
}

static void mut_continue(struct store_op *op)
{
	int res;

	switch (op->state) {
	case STORE_OP_READ:
		read_finish(op);
		return;
	case STORE_OP_RMW_READ:
		if (op->read_seq)
			read_untrack(op->store, op);
		res = op->res ? op->res : mut_merge(op);
		if (res) {
			mut_fail(op, res);
			return;
		}
		mut_write(op);
		return;
	case STORE_OP_COMMIT:
		jent_home_done(op);
		return;
	case STORE_OP_DATA_WRITE:
		if (op->res) {
			mut_fail(op, op->res);
			return;
		}
		op->state = STORE_OP_WAIT_TURN;
		obj_progress(op->store, op->obj);
		return;
	default:
		assert(!"unexpected op state");
		return;
	}
}

/*
 * Move the object's queue along: start ops whose edge dependencies are
 * gone, issue written ops in order.  May free @o.  Re-entrant calls (an op
 * failing inside) only mark that another pass is needed.
 */
static void obj_progress(struct store *s, struct obj *o)
{
	struct store_op *op, *next;

	if (o->in_progress) {
		o->again = true;
		return;
	}
	o->in_progress = true;
	do {
		o->again = false;
		for (op = o->q_first; op; op = next) {
			next = op->qnext;
			if (op->state == STORE_OP_WAIT_DEPS &&
			    !deps_pending(op)) {
				mut_read_edges(op);
				break;	/* the queue may have changed */
			}
		}
		if (op)
			o->again = true;
		while ((op = o->q_issue) && op->state == STORE_OP_WAIT_TURN) {
			o->q_issue = op->qnext;
			if (op->type == OP_DELETE && !o->head)
				mut_fail(op, -ENOENT);
			else
				mut_issue(op);
		}
	} while (o->again);
	o->in_progress = false;
	obj_maybe_free(s, o);
}

static void mut_submit(struct store *s, struct store_op *op, unsigned type,
		       const struct store_oid *oid, uint64_t off,
		       uint64_t len, const void *buf, uint64_t version)
{
	struct obj *o;

	op_init(s, op, type, oid, off, len);
	op->wbuf = buf;
	op->version = version;
	if (type != OP_DELETE && !range_ok(off, len)) {
		op_finish_later(op, -EINVAL);
		return;
	}
	for (unsigned i = 0; i < op->n_pg; i++) {
		const struct store_pg_blob *b = &op->pg_blob[i];

		if (!b->klen || b->klen > STORE_PG_KEY_MAX ||
		    b->vlen > STORE_PG_VALUE_MAX) {
			op_finish_later(op, -EINVAL);
			return;
		}
	}
	if (s->broken) {
		op_finish_later(op, -EIO);
		return;
	}
	if (type == OP_DELETE) {
		o = obj_lookup(s, oid);
		if (!o || (!o->head && !o->q_first)) {
			op_finish_later(op, -ENOENT);
			return;
		}
		op->lb0 = 0;
		op->lb1 = STORE_MAX_OBJECT_SIZE / BS;
	} else {
		o = obj_get(s, oid);
		op->lb0 = (uint32_t)(off / BS);
		op->lb1 = (uint32_t)((off + len + BS - 1) / BS);
	}
	op->obj = o;
	queue_add(o, op);
	mut_prepare(op);
	obj_progress(s, o);
}

void store_write(struct store *s, struct store_op *op,
		 const struct store_oid *oid, uint64_t off, uint64_t len,
		 const void *buf, uint64_t version)
{
	mut_submit(s, op, OP_WRITE, oid, off, len, buf, version);
}

void store_write_zeroes(struct store *s, struct store_op *op,
			const struct store_oid *oid, uint64_t off,
			uint64_t len, uint64_t version)
{
	mut_submit(s, op, OP_WRITE_ZEROES, oid, off, len, NULL, version);
}

void store_discard(struct store *s, struct store_op *op,
		   const struct store_oid *oid, uint64_t off, uint64_t len,
		   uint64_t version)
{
	mut_submit(s, op, OP_DISCARD, oid, off, len, NULL, version);
}

void store_delete(struct store *s, struct store_op *op,
		  const struct store_oid *oid)
{
	mut_submit(s, op, OP_DELETE, oid, 0, 0, NULL, 0);
}

void store_op_attach_pg(struct store_op *op, uint32_t pool, uint32_t pg,
			const void *key, size_t klen, const void *val,
			size_t vlen)
{
	struct store_pg_blob *b;

	if (op->n_pg == STORE_OP_PG_MAX) {
		/* one too many: the op fails with -EINVAL (klen 0) */
		op->pg_blob[STORE_OP_PG_MAX - 1].klen = 0;
		return;
	}
	b = &op->pg_blob[op->n_pg++];
	b->pool = pool;
	b->pg = pg;
	b->key = key;
	b->klen = (uint32_t)BS_MIN(klen, STORE_PG_KEY_MAX + 1);
	b->val = val;
	b->vlen = (uint32_t)BS_MIN(vlen, STORE_PG_VALUE_MAX + 1);
}

void store_pg_put(struct store *s, struct store_op *op, uint32_t pool,
		  uint32_t pg, const void *key, size_t klen, const void *val,
		  size_t vlen)
{
	uint8_t pk[KEY_PG_PREFIX_LEN + STORE_PG_KEY_MAX];
	size_t pklen;

	op_init(s, op, OP_PG_PUT, NULL, 0, 0);
	if (!klen || klen > STORE_PG_KEY_MAX || vlen > STORE_PG_VALUE_MAX) {
		op_finish_later(op, -EINVAL);
		return;
	}
	if (s->broken) {
		op_finish_later(op, -EIO);
		return;
	}
	pklen = key_pg(pool, pg, key, klen, pk);
	if (val)
		meta_put(s->meta, pk, pklen, val, vlen);
	else
		meta_delete(s->meta, pk, pklen);
	op->state = STORE_OP_COMMIT;
	jent_issue(op, false);
}

/*
 * Acknowledgement and the journal.
 *
 * Every op put into a metadata batch gets a struct jent and the next
 * sequence number; the jents wait in s->aq_* in sequence order.  A small
 * write (at most JOURNAL_MAX_BLOCKS blocks, no per-PG blob) also writes
 * a journal record (header + its data, O_DSYNC) once its data is at home.
 * An op is acknowledged when it is durable: its record is written, or its
 * batch is committed; and only after every op with a smaller sequence
 * number, so that replay, which stops at the first missing record, never
 * loses an acknowledged op nor applies one past a lost one.  A jent lives
 * on until its batch is committed: only then may the blocks its op
 * superseded be freed and its ring space be reused (the batch carries the
 * journal tail).
 */
struct jent {
	struct meta_waiter w;
	struct jent *next;		/* s->aq_* or s->jfree */
	struct store *s;
	struct store_op *op;		/* until acknowledged */
	uint64_t seq;
	uint64_t lsn;			/* of its record, if has_rec */
	struct ext_free *to_free;
	struct bs_op wop;		/* the record write */
	struct iovec iov[2];
	struct jrec_hdr *hdr;		/* one aligned block, kept */
	struct meta_batch *held;	/* early op: home write in flight */
	int commit_res;
	bool has_rec, rec_done, rec_ok, committed, acked;
	bool home_done, home_ok;
};

static struct jent *jent_get(struct store *s)
{
	struct jent *j = s->jfree;

	if (j) {
		s->jfree = j->next;
	} else {
		j = bs_xcalloc(1, sizeof(*j));
		j->hdr = xalloc_aligned(BS);
		memset(j->hdr, 0, BS);
	}
	s->jbusy++;
	j->s = s;
	j->next = NULL;
	j->to_free = NULL;
	j->commit_res = 0;
	j->has_rec = j->rec_done = j->rec_ok = false;
	j->committed = j->acked = false;
	j->home_done = j->home_ok = true;
	j->held = NULL;
	return j;
}

/* Acknowledged and committed: free what the op superseded, recycle. */
static void jent_retire(struct jent *j)
{
	struct store *s = j->s;

	if (j->to_free) {
		if (j->commit_res)
			bs_free(&j->to_free);	/* leaked, not reused */
		else
			free_later(s, j->to_free);
		j->to_free = NULL;
	}
	j->next = s->jfree;
	s->jfree = j;
	s->jbusy--;
	space_kick(s);
}

void store_free_jents(struct store *s)
{
	struct jent *j;

	while ((j = s->jfree)) {
		s->jfree = j->next;
		free(j->hdr);
		free(j);
	}
}

static void jent_ack(struct jent *j)
{
	struct store_op *op = j->op;
	struct store *s = j->s;
	struct obj *o = op->obj;
	int res = !j->home_ok ? -EIO : j->rec_ok ? 0 :
		  j->commit_res ? -EIO : 0;

	j->op = NULL;
	j->acked = true;
	op->jent = NULL;
	if (o) {
		if (!res) {
			ver_put(&o->durable);
			o->durable = op->newver;
			op->newver = NULL;
		}
		queue_remove(o, op);
		op->obj = NULL;
		obj_progress(s, o);
	}
	op_finish(op, res);
}

/* Acknowledge the durable ops at the head of the sequence. */
static void ack_drain(struct store *s)
{
	struct jent *j;

	if (s->draining)
		return;
	s->draining = true;
	while ((j = s->aq_head) && j->rec_done && j->home_done &&
	       (j->rec_ok || j->committed)) {
		s->aq_head = j->next;
		if (!s->aq_head)
			s->aq_tail = NULL;
		j->next = NULL;
		jent_ack(j);
		if (j->committed)
			jent_retire(j);
	}
	s->draining = false;
}

/* The batch holding @w's op is durable (res 0) or failed. */
static void jent_committed(struct meta_waiter *w, int res)
{
	struct jent *j = container_of(w, struct jent, w);
	struct store *s = j->s;

	if (res) {
		/* the disk and RocksDB may disagree with memory now */
		if (!s->broken)
			bs_err("store: metadata commit failed, store is "
			       "read-only until restarted");
		s->broken = true;
	}
	j->committed = true;
	j->commit_res = res;
	if (j->acked)
		jent_retire(j);
	else
		ack_drain(s);
}

static void jent_written(struct bs_op *bop, int res)
{
	struct jent *j = container_of(bop, struct jent, wop);
	struct store *s = j->s;

	j->rec_ok = res >= 0 &&
		    (size_t)res == j->iov[0].iov_len + j->iov[1].iov_len;
	if (!j->rec_ok && !s->jwarned) {
		/* not fatal: the op waits for its metadata commit instead */
		s->jwarned = true;
		bs_warn("store: journal write failed (%s); writes wait for "
			"metadata commits", res < 0 ? strerror(-res) :
			"short write");
	}
	j->rec_done = true;
	ack_drain(s);
}

static bool can_journal(const struct store *s, const struct store_op *op)
{
	return op->type == OP_WRITE && !op->n_pg &&
	       op->lb1 - op->lb0 <= JOURNAL_MAX_BLOCKS &&
	       journal_enabled(&s->journal) && !s->disk.dsync;
}

/*
 * The ring is free up to the tail of the last committed batch, but not
 * past a record still being written (its batch may commit first).
 * Records are in the queue in ring order; only unacknowledged ones can
 * be in flight.
 */
static uint64_t ring_tail(struct store *s)
{
	struct jent *j;

	for (j = s->aq_head; j; j = j->next)
		if (j->has_rec && !j->rec_done)
			return BS_MIN(j->lsn, s->committed_lsn);
	return s->committed_lsn;
}

/* Write @j's record for @op if the ring has room; else it waits commit. */
static void jent_record(struct jent *j, struct store_op *op)
{
	struct store *s = j->s;
	struct jrec_hdr *h = j->hdr;
	uint32_t nb = op->lb1 - op->lb0;
	uint64_t lsn;

	if (!can_journal(s, op)) {
		j->rec_done = true;
		meta_urgent(s->meta);	/* it waits for its commit */
		return;
	}
	s->journal.tail = ring_tail(s);
	if (journal_reserve(&s->journal, (1 + nb) * BS, &lsn) < 0) {
		s->ring_full++;
		j->rec_done = true;
		meta_urgent(s->meta);
		return;
	}
	if (s->journal.head - s->journal.tail > s->journal.size / 2)
		meta_urgent(s->meta);	/* make room before it is full */
	j->has_rec = true;
	j->lsn = lsn;
	h->magic = JREC_MAGIC;
	h->type = JREC_WRITE;
	memcpy(h->uuid, s->uuid, sizeof(h->uuid));
	h->seq = j->seq;
	h->gen = s->journal.gen;
	h->pool = op->oid.pool;
	h->pg = op->oid.pg;
	h->volume = op->oid.volume;
	h->objnum = op->oid.objnum;
	h->off = op->off;
	h->len = op->len;
	h->version = op->version;
	h->nblk = nb;
	memset(h->crc, 0, sizeof(h->crc));
	memcpy(h->crc, op->crc, nb * sizeof(*op->crc));
	jrec_seal(h);
	j->iov[0].iov_base = h;
	j->iov[0].iov_len = BS;
	j->iov[1].iov_base = op->data;
	j->iov[1].iov_len = (size_t)nb * BS;
	j->wop.fn = jent_written;
	s->journaled++;
	disk_jwritev(&s->disk, &j->wop, j->iov, 2,
		     journal_file_off(&s->journal, lsn));
}

/* @op joins the batch being filled: sequence it, journal it if small. */
static void jent_issue(struct store_op *op, bool need_sync)
{
	struct store *s = op->store;
	struct jent *j = jent_get(s);

	j->op = op;
	op->jent = j;
	j->seq = s->journal.next_seq++;
	j->to_free = op->to_free;
	op->to_free = NULL;
	if (s->aq_tail)
		s->aq_tail->next = j;
	else
		s->aq_head = j;
	s->aq_tail = j;
	j->w.fn = jent_committed;
	meta_add_waiter(s->meta, &j->w, need_sync);
	if (op->early) {
		j->home_done = false;
		j->held = meta_hold(s->meta);
	}
	jent_record(j, op);
}

/* The home copy of early op @op is written (or failed: op->res). */
static void jent_home_done(struct store_op *op)
{
	struct store *s = op->store;
	struct jent *j = op->jent;

	if (op->res && !s->broken) {
		/* its batch fails with it: the metadata would point at junk */
		bs_err("store: data write failed (%s), store is read-only "
		       "until restarted", strerror(-op->res));
	}
	j->home_ok = !op->res;
	j->home_done = true;
	meta_unhold(s->meta, j->held, op->res);
	j->held = NULL;
	ack_drain(s);
}

/* The tail of a committed batch: its ring space is free. */
static void tail_committed(struct meta_waiter *w, int res)
{
	struct store *s = container_of(w, struct store, jwaiter);

	if (!res)
		s->committed_lsn = s->sub_lsn;
	space_kick(s);
}

/*
 * Just before a batch goes to the commit thread: every op sequenced so
 * far is in it or in an earlier one, so it carries the new journal tail.
 */
void store_submit_hook(void *opaque)
{
	struct store *s = opaque;
	uint8_t key = KEY_JOURNAL, val[JTAIL_LEN];

	jtail_encode(&s->journal, val);
	meta_put(s->meta, &key, 1, val, sizeof(val));
	s->sub_lsn = s->journal.head;
	s->jwaiter.fn = tail_committed;
	meta_add_waiter(s->meta, &s->jwaiter, false);
}
