// SPDX-License-Identifier: Apache-2.0
/*
 * The objecter: sends each piece to its PG's primary under the current
 * map, over one messenger connection per OSD, and resends without the
 * caller seeing an error when the connection breaks, the OSD answers
 * STALE or AGAIN, or the PG has no primary up: the piece waits for a
 * newer map or a back-off, whichever comes first, then goes to whoever
 * is primary then.  Only closing the volume (or the cluster) ends the
 * waiting.
 *
 * Piece states (I/O thread):
 *   IDLE    -> SENT     bs_conn_call() to the primary
 *   IDLE    -> WAITING  no map / pool / primary / session yet
 *   SENT    -> IDLE     reply: done, or -> WAITING to resend
 *   WAITING -> IDLE     newer map, back-off over, or cancelled
 * A piece is handed back to its request exactly once, never from inside
 * objecter_send(), so that the request's loop is never re-entered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "basalt_int.h"
#include "bs/log.h"
#include "bs/msg_types.h"
#include "proto/osd.pb-c.h"

static void sweep_task_fn(struct bs_task *t);
static void reap_task_fn(struct bs_task *t);

/* ---- the piece pool (I/O thread) ---- */

struct piece *piece_get(struct basalt_cluster *c)
{
	struct piece *p = c->free_pieces;

	if (p)
		c->free_pieces = p->next_free;
	else if (!(p = malloc(sizeof(*p))))
		return NULL;
	memset(p, 0, sizeof(*p));
	bs_list_init(&p->link);
	p->osd = -1;
	return p;
}

void piece_put(struct basalt_cluster *c, struct piece *p)
{
	p->req = NULL;
	p->next_free = c->free_pieces;
	c->free_pieces = p;
}

/* Give @p back to its request with @res (and a message when failing). */
static void piece_finish(struct basalt_cluster *c, struct piece *p, int res,
			 const struct bs_error *err)
{
	struct request *req = p->req;

	piece_put(c, p);
	request_piece_done(req, res, err);
}

/*
 * Park @p until the map reaches @need_epoch (0: no map needed) or
 * @delay_ms passed; with p->fail_res set, the next sweep fails it.
 */
static void piece_wait(struct basalt_cluster *c, struct piece *p,
		       uint64_t need_epoch, uint64_t delay_ms)
{
	p->where = PIECE_WAITING;
	p->need_epoch = need_epoch;
	p->retry_at = bs_now_ms() + delay_ms;
	bs_list_add_tail(&c->waiting, &p->link);
	if (p->fail_res || !delay_ms ||
	    (need_epoch && c->map && c->map->epoch >= need_epoch))
		bs_loop_defer(c->loop, &c->sweep_task);
	cluster_arm_tick(c);
}

static unsigned next_backoff(struct piece *p)
{
	if (!p->backoff_ms)
		p->backoff_ms = RETRY_MIN_MS;
	else
		p->backoff_ms = BS_MIN(p->backoff_ms * 2, RETRY_MAX_MS);
	return p->backoff_ms;
}

/* ---- sessions: one connection per OSD ---- */

static void session_close(struct basalt_cluster *c, struct osd_session *s)
{
	if (s->osd >= 0 && (uint32_t)s->osd < c->n_sessions &&
	    c->sessions[s->osd] == s)
		c->sessions[s->osd] = NULL;
	bs_list_add_tail(&c->closing_sessions, &s->link);
	bs_loop_defer(c->loop, &c->reap_task);
}

/* Close @s now: its calls complete (-ECANCELED) from in here. */
static void session_destroy(struct basalt_cluster *c, struct osd_session *s)
{
	struct bs_list *l;

	bs_conn_close(s->conn);
	bs_conn_put(s->conn);
	s->conn = NULL;
	/* every call completed above; anything left goes round again */
	while (!bs_list_empty(&s->inflight)) {
		struct piece *p;

		l = s->inflight.next;
		p = container_of(l, struct piece, link);
		bs_list_del(l);
		p->session = NULL;
		piece_wait(c, p, 0, 0);
	}
	free(s->addr);
	free(s);
}

static void reap_task_fn(struct bs_task *t)
{
	struct basalt_cluster *c = container_of(t, struct basalt_cluster,
						reap_task);

	while (!bs_list_empty(&c->closing_sessions)) {
		struct osd_session *s = container_of(c->closing_sessions.next,
						     struct osd_session, link);

		bs_list_del(&s->link);
		session_destroy(c, s);
	}
}

static int session_get(struct basalt_cluster *c, int32_t osd,
		       const char *addr, struct osd_session **out)
{
	struct bs_error err = { 0 };
	struct osd_session *s;
	int ret;

	if (osd < 0 || (uint32_t)osd >= BS_PLACE_MAX_OSDS)
		return -EINVAL;
	if ((uint32_t)osd >= c->n_sessions) {
		uint32_t n = BS_MAX((uint32_t)osd + 1, c->n_sessions * 2);
		struct osd_session **a;

		a = realloc(c->sessions, n * sizeof(*a));
		if (!a)
			return -ENOMEM;
		memset(a + c->n_sessions, 0,
		       (n - c->n_sessions) * sizeof(*a));
		c->sessions = a;
		c->n_sessions = n;
	}
	s = c->sessions[osd];
	if (s && strcmp(s->addr, addr)) {
		session_close(c, s);	/* the OSD moved */
		s = NULL;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->osd = osd;
		bs_list_init(&s->inflight);
		bs_list_init(&s->link);
		s->addr = strdup(addr);
		if (!s->addr) {
			free(s);
			return -ENOMEM;
		}
		ret = bs_msgr_connect(c->msgr, addr, &s->conn, &err);
		if (ret) {
			free(s->addr);
			free(s);
			return ret;
		}
		bs_conn_set_opaque(s->conn, s);
		c->sessions[osd] = s;
	}
	*out = s;
	return 0;
}

/* ---- replies ---- */

static bool is_retryable(int res)
{
	switch (res) {
	case -ESTALE:		/* not the primary under the OSD's map */
	case -EAGAIN:		/* PG peering, below min_size, ... */
	case -ECONNRESET:	/* connection broke after sending */
	case -ECANCELED:	/* session closed on a map change */
	case -ENOTCONN:
	case -ETIMEDOUT:
	case -EPIPE:
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -EREMOTE:
	case -EBUSY:
		return true;
	default:
		return false;
	}
}

static int cmp_u64_pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/*
 * Store an EXTENTS answer in the request's slot: clipped to the piece,
 * sorted, merged, in volume offsets.  The OSD's list is not trusted.
 */
static int save_extents(struct piece *p, const Bs__OsdOpReply *r,
			struct bs_error *err)
{
	struct request *req = p->req;
	uint64_t os = req->vol->object_size;
	uint64_t base = p->objnum * os;
	uint64_t lo = p->obj_off, hi = p->obj_off + p->len;
	uint64_t idx = p->objnum - req->off / os;
	struct extent_slot *s;
	uint64_t *pairs = NULL;
	size_t i, n = 0, m;

	if (!req->slots || idx >= req->nslots)
		return 0;
	s = &req->slots[idx];
	if (r->n_extents > (os / 512) + 1)
		return bs_error_set(err, -EPROTO,
				    "osd.%d sent %zu extents for one object",
				    p->osd, r->n_extents);
	if (r->n_extents) {
		pairs = malloc(2 * r->n_extents * sizeof(*pairs));
		if (!pairs)
			return bs_error_set(err, -ENOMEM, "out of memory");
	}
	for (i = 0; i < r->n_extents; i++) {
		uint64_t o = r->extents[i]->offset;
		uint64_t e = o + r->extents[i]->length;

		if (e < o)
			e = UINT64_MAX;
		o = BS_MAX(o, lo);
		e = BS_MIN(e, hi);
		if (o >= e)
			continue;
		pairs[2 * n] = o;
		pairs[2 * n + 1] = e;
		n++;
	}
	if (n > 1)
		qsort(pairs, n, 2 * sizeof(*pairs), cmp_u64_pair);
	/* merge overlapping or touching ones; turn ends into lengths */
	for (i = 0, m = 0; i < n; i++) {
		if (m && pairs[2 * i] <= pairs[2 * m - 1]) {
			pairs[2 * m - 1] = BS_MAX(pairs[2 * m - 1],
						  pairs[2 * i + 1]);
			continue;
		}
		pairs[2 * m] = pairs[2 * i];
		pairs[2 * m + 1] = pairs[2 * i + 1];
		m++;
	}
	for (i = 0; i < m; i++) {
		pairs[2 * i + 1] -= pairs[2 * i];
		pairs[2 * i] += base;
	}
	free(s->pairs);
	s->pairs = pairs;
	s->n = (unsigned)m;
	s->done = true;
	return 0;
}

/* The answer to a successful op: copy read data, keep extents. */
static int piece_success(struct piece *p, struct bs_msg *reply,
			 struct bs_error *err)
{
	const Bs__OsdOpReply *r;
	uint32_t n;

	if (!reply || !reply->body ||
	    reply->body->descriptor != &bs__osd_op_reply__descriptor)
		return bs_error_set(err, -EPROTO,
				    "osd.%d answered with an unexpected message",
				    p->osd);
	r = (const Bs__OsdOpReply *)reply->body;
	switch (p->op) {
	case BS__OSD_OP_KIND__OSD_OP_READ:
		n = reply->hdr.data_len;
		if (n > p->len)
			return bs_error_set(err, -EPROTO,
					    "osd.%d sent %" PRIu32 " bytes for a read of %" PRIu64,
					    p->osd, n, p->len);
		if (n)
			memcpy(p->iov.iov_base, reply->data, n);
		if (n < p->len)
			memset((uint8_t *)p->iov.iov_base + n, 0, p->len - n);
		return 0;
	case BS__OSD_OP_KIND__OSD_OP_EXTENTS:
		return save_extents(p, r, err);
	default:
		return 0;
	}
}

static void piece_reply(void *opaque, int res, struct bs_msg *reply)
{
	struct piece *p = opaque;
	struct request *req = p->req;
	struct basalt_volume *vol = req->vol;
	struct basalt_cluster *c = vol->cluster;
	struct bs_error err = { 0 };
	int ret;

	bs_list_del(&p->link);
	p->session = NULL;
	p->where = PIECE_IDLE;

	if (res == 0) {
		ret = piece_success(p, reply, &err);
		if (reply)
			bs_msg_free(reply);
		p->backoff_ms = 0;
		piece_finish(c, p, ret, &err);
		return;
	}
	/* answers that are not errors for the caller */
	if (res == -ENOENT) {
		switch (p->op) {
		case BS__OSD_OP_KIND__OSD_OP_READ:
			memset(p->iov.iov_base, 0, p->len);
			/* fall through */
		case BS__OSD_OP_KIND__OSD_OP_DISCARD:
		case BS__OSD_OP_KIND__OSD_OP_DELETE:
		case BS__OSD_OP_KIND__OSD_OP_EXTENTS:
			if (reply)
				bs_msg_free(reply);
			piece_finish(c, p, 0, NULL);
			return;
		case BS__OSD_OP_KIND__OSD_OP_WRITE_ZEROES:
			/* no object: already zeros, unless it must exist */
			if (req->flags & BASALT_ZERO_NO_HOLE)
				break;
			if (reply)
				bs_msg_free(reply);
			piece_finish(c, p, 0, NULL);
			return;
		default:
			break;
		}
	}
	if (res == -EOPNOTSUPP && p->op == BS__OSD_OP_KIND__OSD_OP_DELETE) {
		/* an OSD without whole-object delete: free the range */
		if (reply)
			bs_msg_free(reply);
		p->op = BS__OSD_OP_KIND__OSD_OP_DISCARD;
		piece_wait(c, p, 0, 0);
		return;
	}
	if (res == -EOPNOTSUPP && p->op == BS__OSD_OP_KIND__OSD_OP_EXTENTS) {
		/* an OSD that cannot list extents: report it all as data */
		Bs__Extent all = BS__EXTENT__INIT, *ap = &all;
		Bs__OsdOpReply r = BS__OSD_OP_REPLY__INIT;

		all.offset = p->obj_off;
		all.length = p->len;
		r.n_extents = 1;
		r.extents = &ap;
		if (reply)
			bs_msg_free(reply);
		ret = save_extents(p, &r, &err);
		piece_finish(c, p, ret, &err);
		return;
	}
	if (is_retryable(res) && !c->stopping && !vol->cancelled) {
		if (reply)
			bs_msg_free(reply);
		p->attempts++;
		bs_dbg(BS_SUB_CLIENT,
		       "libbasalt: %s object %" PRIu64 " on osd.%d: %s; resending",
		       vol->spec, p->objnum, p->osd, strerror(-res));
		piece_wait(c, p, p->epoch + 1, next_backoff(p));
		return;
	}
	if (is_retryable(res))
		bs_error_set(&err, -ECANCELED,
			     "volume '%s' was closed while this request waited for the cluster",
			     vol->spec);
	else if (reply && bs_msg_error_text(reply)[0])
		bs_error_set(&err, res, "osd.%d: %s", p->osd,
			     bs_msg_error_text(reply));
	else
		bs_error_set(&err, res, "osd.%d: object %" PRIu64 " of volume '%s': %s",
			     p->osd, p->objnum, vol->spec, strerror(-res));
	if (reply)
		bs_msg_free(reply);
	piece_finish(c, p, err.code, &err);
}

/* ---- sending ---- */

void objecter_send(struct basalt_cluster *c, struct piece *p)
{
	struct request *req = p->req;
	struct basalt_volume *vol = req->vol;
	const struct bs_osdmap *map = c->map;
	const struct bs_osdmap_pool *pool;
	const struct bs_osdmap_osd *osd;
	Bs__OsdOp op = BS__OSD_OP__INIT;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	struct osd_session *s;
	uint32_t pg;
	int primary, ret;

	if (c->stopping || vol->cancelled) {
		piece_wait(c, p, 0, 0);		/* the sweep fails it */
		return;
	}
	if (!map) {
		piece_wait(c, p, 1, NOPRIMARY_WAIT_MS);
		return;
	}
	pool = bs_osdmap_pool(map, vol->pool_id);
	if (!pool) {
		/* a map older than the pool: wait for the next one */
		piece_wait(c, p, map->epoch + 1, NOPRIMARY_WAIT_MS);
		return;
	}
	pg = bs_osdmap_object_pg(pool, vol->id, p->objnum);
	primary = bs_osdmap_pg_primary(map, pool, pg);
	osd = primary >= 0 ? bs_osdmap_osd(map, primary) : NULL;
	if (!osd || !osd->up || !osd->addr || !osd->addr[0]) {
		/* no primary up: the PG waits for a map that has one */
		p->epoch = map->epoch;
		piece_wait(c, p, map->epoch + 1, NOPRIMARY_WAIT_MS);
		return;
	}
	ret = session_get(c, primary, osd->addr, &s);
	if (ret) {
		p->epoch = map->epoch;
		piece_wait(c, p, map->epoch + 1,
			   ret == -EINVAL ? NOPRIMARY_WAIT_MS :
					    next_backoff(p));
		return;
	}

	oid.pool = vol->pool_id;
	oid.pg = pg;
	oid.volume = vol->id;
	oid.objnum = p->objnum;
	op.map_epoch = map->epoch;
	op.oid = &oid;
	op.op = (Bs__OsdOpKind)p->op;
	op.offset = p->obj_off;
	op.length = p->len;
	if (p->op == BS__OSD_OP_KIND__OSD_OP_WRITE_ZEROES &&
	    (req->flags & BASALT_ZERO_NO_HOLE))
		op.flags = BS__OSD_OP_FLAG__OSD_FLAG_NO_HOLE;

	p->epoch = map->epoch;
	p->osd = primary;
	p->session = s;
	p->where = PIECE_SENT;
	bs_list_add_tail(&s->inflight, &p->link);
	ret = bs_conn_call(s->conn, BS_MSG_OSD_OP, &op.base,
			   p->op == BS__OSD_OP_KIND__OSD_OP_WRITE ? &p->iov :
								    NULL,
			   p->op == BS__OSD_OP_KIND__OSD_OP_WRITE ? 1 : 0, 0,
			   piece_reply, p);
	if (ret == 0)
		return;
	bs_list_del(&p->link);
	p->session = NULL;
	p->where = PIECE_IDLE;
	if (ret == -ENOTCONN || ret == -ENOMEM) {
		if (ret == -ENOTCONN)
			session_close(c, s);
		piece_wait(c, p, 0, next_backoff(p));
		return;
	}
	/* cannot be sent at all (too big, bad message): fail it */
	p->fail_res = ret;
	piece_wait(c, p, 0, 0);
}

/* ---- waiting pieces ---- */

void objecter_sweep(struct basalt_cluster *c)
{
	uint64_t now = bs_now_ms(), epoch = c->map ? c->map->epoch : 0;
	struct bs_error err = { 0 };
	struct bs_list due, *l, *next;
	struct piece *p;

	bs_list_init(&due);
	for (l = c->waiting.next; l != &c->waiting; l = next) {
		p = container_of(l, struct piece, link);
		next = l->next;
		if (c->stopping || p->req->vol->cancelled ||
		    p->fail_res ||
		    (p->need_epoch && epoch >= p->need_epoch) ||
		    now >= p->retry_at) {
			bs_list_del(l);
			bs_list_add_tail(&due, l);
		}
	}
	while (!bs_list_empty(&due)) {
		p = container_of(due.next, struct piece, link);
		bs_list_del(&p->link);
		p->where = PIECE_IDLE;
		if (p->fail_res) {
			int res = p->fail_res;

			bs_error_set(&err, res,
				     "cannot send object %" PRIu64 " of volume '%s' to osd.%d: %s",
				     p->objnum, p->req->vol->spec, p->osd,
				     strerror(-res));
			piece_finish(c, p, res, &err);
		} else if (c->stopping || p->req->vol->cancelled) {
			bs_error_set(&err, -ECANCELED,
				     "volume '%s' was closed while this request waited for the cluster",
				     p->req->vol->spec);
			piece_finish(c, p, -ECANCELED, &err);
		} else {
			objecter_send(c, p);
		}
	}
}

static void sweep_task_fn(struct bs_task *t)
{
	struct basalt_cluster *c = container_of(t, struct basalt_cluster,
						sweep_task);

	objecter_sweep(c);
}

void objecter_map_changed(struct basalt_cluster *c)
{
	const struct bs_osdmap_osd *osd;
	struct osd_session *s;
	uint32_t i;

	/* connections to OSDs that went down or moved: their calls resend */
	for (i = 0; i < c->n_sessions; i++) {
		s = c->sessions[i];
		if (!s)
			continue;
		osd = bs_osdmap_osd(c->map, s->osd);
		if (!osd || !osd->up || !osd->addr ||
		    strcmp(osd->addr, s->addr))
			session_close(c, s);
	}
	bs_loop_defer(c->loop, &c->sweep_task);
}

void objecter_cancel(struct basalt_cluster *c, struct basalt_volume *vol)
{
	struct bs_list *l, *next;
	struct osd_session *s;
	uint32_t i;

	/* sessions carrying a piece of @vol are closed: those calls end */
	for (i = 0; i < c->n_sessions; i++) {
		s = c->sessions[i];
		if (!s)
			continue;
		for (l = s->inflight.next; l != &s->inflight; l = l->next) {
			struct piece *p = container_of(l, struct piece, link);

			if (!vol || p->req->vol == vol) {
				session_close(c, s);
				break;
			}
		}
	}
	/* waiting pieces fail on the next sweep (it sees cancelled) */
	for (l = c->waiting.next; l != &c->waiting; l = next) {
		struct piece *p = container_of(l, struct piece, link);

		next = l->next;
		if (!vol || p->req->vol == vol) {
					bs_loop_defer(c->loop, &c->sweep_task);
			break;
		}
	}
}

void objecter_close_all(struct basalt_cluster *c)
{
	uint32_t i;

	for (i = 0; i < c->n_sessions; i++)
		if (c->sessions[i])
			session_close(c, c->sessions[i]);
	while (!bs_list_empty(&c->closing_sessions)) {
		struct osd_session *s = container_of(c->closing_sessions.next,
						     struct osd_session, link);

		bs_list_del(&s->link);
		session_destroy(c, s);
	}
}

void objecter_init(struct basalt_cluster *c)
{
	c->sweep_task.fn = sweep_task_fn;
	c->reap_task.fn = reap_task_fn;
}

void objecter_free(struct basalt_cluster *c)
{
	struct piece *p;

	while ((p = c->free_pieces)) {
		c->free_pieces = p->next_free;
		free(p);
	}
	bs_free(&c->sessions);
	c->n_sessions = 0;
}
