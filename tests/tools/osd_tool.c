// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-osd-tool: a small client of the OSD data path for tests and
 * debugging, talking straight to OSDs with the placement computed from the
 * mons' map (no libbasalt):
 *
 *   write  --pool P --volume V [--object-size S] FILE   FILE -> volume V
 *   read   --pool P --volume V [--object-size S] --size N FILE
 *   verify --pool P --volume V [--object-size S] --size N [--copies C]
 *          every object is held, at one version, by C distinct OSDs
 *          (asked with BS_MSG_OSD_PG_LIST)
 *   list   --osd ADDR --pool ID --pg PG     objects of one PG on one OSD
 *   statfs --osd ADDR
 *   pg-states --pool P [--expect-clean]
 *          every PG of pool P as its primary reports it (asked of every
 *          up OSD with BS_MSG_OSD_PG_STATE); --expect-clean: exit 1
 *          unless each one is active+clean
 *   scrub  --pool P --pg PG [--deep] [--repair]
 *          BS_MSG_OSD_SCRUB to the PG's primary; prints its counts
 *   locate --pool P --volume V [--object-size S] --offset OFF
 *          "pg PG" (hex), then for each member of the object's acting
 *          set, primary first: "osd.N OFFSET", the byte offset of the
 *          block in its data file (or "osd.N hole")
 *   stat   --pool P --volume V [--object-size S] --offset OFF
 *          OSD_OP_STAT of the object holding OFF, asked of its primary:
 *          "version V size S" (V hex), or "absent"
 *   misdirect --pool P --volume V [--object-size S]
 *          sends bad requests for object 0 straight to OSDs: a write to
 *          a member that is not the primary, a write naming the wrong
 *          PG, a zero-length read, a read past the largest object; prints
 *          each refusal and exits 1 if any was accepted
 *   ec-verify --pool P [--records]
 *          every object of erasure-coded pool P: each of its k+m shards
 *          (BS_MSG_OSD_SHARD_READ to the acting members) is at one
 *          version, and parity agrees with data in every stripe
 *          (bs_ec_verify); prints "N objects, B bad" and exits 1 if B > 0;
 *          --records: every member also keeps the object's logical-size
 *          record (osd/ec_meta.c) of that version, all the same
 *
 * Mons come from -c FILE / $BASALT_CONF.  Ops that get ESTALE, EAGAIN or
 * a broken connection are retried with a fresh map, within --timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bs/conf.h"
#include "bs/ec.h"
#include "bs/log.h"
#include "bs/monc.h"
#include "bs/msg_types.h"
#include "bs/msgr.h"
#include "bs/osdmap.h"
#include "bs/parse.h"
#include "proto/osd.pb-c.h"

#define MAX_INFLIGHT	16

struct tool {
	const char *conf_path, *pool_name, *osd_addr, *file;
	uint64_t volume, object_size, size, pg, pool_id, copies;
	uint64_t timeout_ms, offset;
	bool deep, repair, expect_clean, has_pg, records;
	struct bs_monc *monc;
	struct bs_loop *loop;
	struct bs_msgr *msgr;
	struct bs_osdmap *map;
	const struct bs_osdmap_pool *pool;
	struct bs_conn **conns;		/* by OSD id */
	char **conn_addr;
	unsigned n_conns;
	uint8_t *data;
	uint64_t deadline;
};

/* One object's I/O. */
struct obj_io {
	struct tool *t;
	uint64_t objnum, len;
	bool done, busy;
	int res;
	char err[256];
};

static void die(const char *fmt, ...) BS_PRINTF(1, 2) BS_NORETURN;
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("basalt-osd-tool: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static const struct bs_msgr_ops no_ops = { 0 };

static void refresh_map(struct tool *t)
{
	struct bs_error err = { 0 };
	Bs__ClusterMap *cm;

	if (bs_monc_get_map_sync(t->monc, &cm, &err))
		die("cannot get the map: %s", err.msg);
	bs_osdmap_put(&t->map);
	if (bs_osdmap_new(&t->map, cm, &err))
		die("bad map: %s", err.msg);
	bs__cluster_map__free_unpacked(cm, NULL);
	t->pool = bs_osdmap_pool_by_name(t->map, t->pool_name);
	if (!t->pool)
		die("pool '%s' does not exist", t->pool_name);
}

static void connect_mons(struct tool *t)
{
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;
	char **addrs;
	unsigned n;

	if (bs_conf_load(&conf, bs_conf_default_path(t->conf_path), &err) ||
	    bs_monc_conf_addrs(conf, &addrs, &n, &err) ||
	    bs_monc_new(&t->monc, NULL, (const char *const *)addrs, n, &err))
		die("%s", err.msg);
	bs_monc_addrs_free(&addrs);
	bs_conf_free(&conf);
	t->loop = bs_monc_loop(t->monc);
	if (bs_msgr_new(&t->msgr, t->loop, &no_ops, NULL))
		die("cannot create a messenger");
}

static struct bs_conn *conn_to(struct tool *t, int32_t id, const char *addr)
{
	struct bs_error err = { 0 };

	if ((unsigned)id >= t->n_conns) {
		unsigned n = (unsigned)id + 16;

		t->conns = bs_xrealloc(t->conns, n * sizeof(*t->conns));
		t->conn_addr = bs_xrealloc(t->conn_addr,
					   n * sizeof(*t->conn_addr));
		for (unsigned i = t->n_conns; i < n; i++) {
			t->conns[i] = NULL;
			t->conn_addr[i] = NULL;
		}
		t->n_conns = n;
	}
	if (t->conns[id] && strcmp(t->conn_addr[id], addr)) {
		bs_conn_close(t->conns[id]);
		bs_conn_put(t->conns[id]);
		t->conns[id] = NULL;
		bs_free(&t->conn_addr[id]);
	}
	if (!t->conns[id]) {
		if (bs_msgr_connect(t->msgr, addr, &t->conns[id], &err))
			die("%s", err.msg);
		t->conn_addr[id] = bs_xstrdup(addr);
	}
	return t->conns[id];
}

static void run_until(struct tool *t, bool (*done)(void *), void *arg)
{
	while (!done(arg)) {
		if (bs_now_ms() > t->deadline)
			die("timed out");
		bs_loop_run_once(t->loop, 100);
	}
}

/* Object I/O with retries */

static bool retryable(int res)
{
	return res == -ESTALE || res == -EAGAIN || res == -ECONNRESET ||
	       res == -ECANCELED || res == -ETIMEDOUT || res == -ENOTCONN;
}

static void io_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct obj_io *io = opaque;
	struct tool *t = io->t;

	io->busy = false;
	io->res = res;
	if (res) {
		snprintf(io->err, sizeof(io->err), "%s",
			 *bs_msg_error_text(reply) ? bs_msg_error_text(reply) :
						      strerror(-res));
	} else if (!io->done && reply->hdr.data_len) {
		if (reply->hdr.data_len != io->len)
			die("object %" PRIu64 ": read %u bytes, wanted %" PRIu64,
			    io->objnum, reply->hdr.data_len, io->len);
		memcpy(t->data + io->objnum * t->object_size, reply->data,
		       io->len);
	}
	if (!res)
		io->done = true;
	bs_msg_free(reply);
}

static int io_send(struct tool *t, struct obj_io *io, bool write)
{
	Bs__OsdOp op = BS__OSD_OP__INIT;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	const struct bs_osdmap_osd *o;
	struct iovec iov;
	int primary;

	oid.pool = t->pool->id;
	oid.volume = t->volume;
	oid.objnum = io->objnum;
	oid.pg = bs_osdmap_object_pg(t->pool, t->volume, io->objnum);
	primary = bs_osdmap_pg_primary(t->map, t->pool, oid.pg);
	if (primary < 0)
		return -EAGAIN;
	o = bs_osdmap_osd(t->map, primary);
	op.map_epoch = t->map->epoch;
	op.oid = &oid;
	op.op = write ? BS__OSD_OP_KIND__OSD_OP_WRITE :
			BS__OSD_OP_KIND__OSD_OP_READ;
	op.length = io->len;
	iov.iov_base = t->data + io->objnum * t->object_size;
	iov.iov_len = io->len;
	io->busy = true;
	return bs_conn_call(conn_to(t, primary, o->addr), BS_MSG_OSD_OP,
			    &op.base, &iov, write, 30000, io_cb, io);
}

struct round {
	struct obj_io *ios;
	uint64_t n;
};

static bool round_idle(void *arg)
{
	struct round *r = arg;

	for (uint64_t i = 0; i < r->n; i++)
		if (r->ios[i].busy)
			return false;
	return true;
}

static void do_io(struct tool *t, bool write)
{
	uint64_t n = (t->size + t->object_size - 1) / t->object_size;
	struct round r = { bs_xcalloc(n ? n : 1, sizeof(*r.ios)), n };
	uint64_t left = n;

	for (uint64_t i = 0; i < n; i++) {
		r.ios[i].t = t;
		r.ios[i].objnum = i;
		r.ios[i].len = BS_MIN(t->object_size, t->size - i *
				      t->object_size);
	}
	while (left) {
		uint64_t inflight = 0;

		for (uint64_t i = 0; i < n; i++) {
			struct obj_io *io = &r.ios[i];
			int ret;

			if (io->done || io->busy)
				continue;
			if (inflight >= MAX_INFLIGHT)
				break;
			ret = io_send(t, io, write);
			if (ret) {
				io->busy = false;
				io->res = ret;
				continue;
			}
			inflight++;
		}
		run_until(t, round_idle, &r);
		left = 0;
		for (uint64_t i = 0; i < n; i++) {
			struct obj_io *io = &r.ios[i];

			if (io->done)
				continue;
			if (io->res && !retryable(io->res))
				die("object %" PRIu64 ": %s", io->objnum,
				    io->err);
			left++;
		}
		if (left && bs_now_ms() > t->deadline)
			die("timed out with %" PRIu64 " objects left", left);
		if (left) {
			bool failed = false;

			for (uint64_t i = 0; i < n; i++)
				failed |= !r.ios[i].done && r.ios[i].res;
			if (failed) {
				usleep(200 * 1000);
				refresh_map(t);
			}
		}
	}
	free(r.ios);
}

/* PG listing */

struct list_call {
	bool busy;
	int res;
	Bs__PgListReply *reply;
	struct bs_msg *msg;
};

static void list_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct list_call *c = opaque;

	c->busy = false;
	c->res = res;
	if (res) {
		fprintf(stderr, "basalt-osd-tool: list: %s\n",
			*bs_msg_error_text(reply) ? bs_msg_error_text(reply) :
						     strerror(-res));
		bs_msg_free(reply);
		return;
	}
	c->msg = reply;
	c->reply = (Bs__PgListReply *)reply->body;
}

static bool call_idle(void *arg)
{
	return !((struct list_call *)arg)->busy;
}

static int pg_list(struct tool *t, struct bs_conn *conn, uint32_t pool,
		   uint32_t pg, struct list_call *c)
{
	Bs__PgList req = BS__PG_LIST__INIT;
	int ret;

	memset(c, 0, sizeof(*c));
	req.pool = pool;
	req.pg = pg;
	c->busy = true;
	ret = bs_conn_call(conn, BS_MSG_OSD_PG_LIST, &req.base, NULL, 0, 10000,
			   list_cb, c);
	if (ret)
		return ret;
	run_until(t, call_idle, c);
	return c->res;
}

static void cmd_verify(struct tool *t)
{
	uint64_t n = (t->size + t->object_size - 1) / t->object_size;
	uint64_t bad = 0;

	refresh_map(t);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t pg = bs_osdmap_object_pg(t->pool, t->volume, i);
		uint64_t holders = 0, version = 0;
		char who[256] = "";
		size_t pos = 0;

		for (unsigned k = 0; k < t->map->n_osds; k++) {
			const struct bs_osdmap_osd *o = &t->map->osds[k];
			struct list_call c;

			if (!o->up)
				continue;
			if (pg_list(t, conn_to(t, o->id, o->addr),
				    t->pool->id, pg, &c))
				die("cannot list pg %u.%x on osd.%d",
				    t->pool->id, pg, o->id);
			for (size_t j = 0; j < c.reply->n_objects; j++) {
				const Bs__PgObject *po = c.reply->objects[j];

				if (po->oid->volume != t->volume ||
				    po->oid->objnum != i)
					continue;
				if (holders && po->version != version)
					printf("object %" PRIu64 ": osd.%d has version %" PRIx64 ", others %" PRIx64 "\n",
					       i, o->id, po->version, version);
				version = po->version;
				holders++;
				pos += (size_t)snprintf(who + pos,
							sizeof(who) - pos,
							" osd.%d", o->id);
				if (pos >= sizeof(who))
					pos = sizeof(who) - 1;
			}
			bs_msg_free(c.msg);
		}
		printf("object %" PRIu64 ": pg %u.%x version %" PRIx64 " on%s\n",
		       i, t->pool->id, pg, version, who);
		if (holders != t->copies)
			bad++;
	}
	if (bad)
		die("%" PRIu64 " of %" PRIu64 " objects are not on exactly %" PRIu64 " OSDs",
		    bad, n, t->copies);
}

static void cmd_list(struct tool *t)
{
	struct bs_error err = { 0 };
	struct bs_conn *conn;
	struct list_call c;

	if (bs_msgr_connect(t->msgr, t->osd_addr, &conn, &err))
		die("%s", err.msg);
	if (pg_list(t, conn, (uint32_t)t->pool_id, (uint32_t)t->pg, &c))
		exit(1);
	for (size_t j = 0; j < c.reply->n_objects; j++) {
		const Bs__PgObject *po = c.reply->objects[j];

		printf("%" PRIu64 " %" PRIu64 " %" PRIx64 " %" PRIu64 "\n",
		       po->oid->volume, po->oid->objnum, po->version,
		       po->size);
	}
	bs_msg_free(c.msg);
	bs_conn_put(conn);
}

static void statfs_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct list_call *c = opaque;

	c->busy = false;
	c->res = res;
	if (!res) {
		const Bs__OsdStatfsReply *r =
			(const Bs__OsdStatfsReply *)reply->body;

		printf("osd.%u capacity %" PRIu64 " used %" PRIu64
		       " objects %" PRIu64 " epoch %" PRIu64 "\n",
		       r->id, r->capacity, r->used, r->objects, r->map_epoch);
	}
	bs_msg_free(reply);
}

static void cmd_statfs(struct tool *t)
{
	Bs__OsdStatfs req = BS__OSD_STATFS__INIT;
	struct bs_error err = { 0 };
	struct list_call c = { .busy = true };
	struct bs_conn *conn;

	if (bs_msgr_connect(t->msgr, t->osd_addr, &conn, &err))
		die("%s", err.msg);
	if (bs_conn_call(conn, BS_MSG_OSD_STATFS, &req.base, NULL, 0, 10000,
			 statfs_cb, &c))
		die("cannot send");
	run_until(t, call_idle, &c);
	bs_conn_put(conn);
	if (c.res)
		die("statfs: %s", strerror(-c.res));
}

/* pg-states, scrub, locate */

struct any_call {
	bool busy;
	int res;
	struct bs_msg *reply;
	char err[256];
};

static void any_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct any_call *c = opaque;

	c->busy = false;
	c->res = res;
	if (res) {
		snprintf(c->err, sizeof(c->err), "%s",
			 *bs_msg_error_text(reply) ? bs_msg_error_text(reply) :
						      strerror(-res));
		bs_msg_free(reply);
		return;
	}
	c->reply = reply;
}

static bool any_idle(void *arg)
{
	return !((struct any_call *)arg)->busy;
}

static int call_osd(struct tool *t, const struct bs_osdmap_osd *o,
		    uint16_t type, const ProtobufCMessage *body,
		    uint64_t timeout_ms, struct any_call *c)
{
	memset(c, 0, sizeof(*c));
	c->busy = true;
	if (bs_conn_call(conn_to(t, o->id, o->addr), type, body, NULL, 0,
			 timeout_ms, any_cb, c))
		die("cannot send to osd.%d", o->id);
	run_until(t, any_idle, c);
	return c->res;
}

static void cmd_pg_states(struct tool *t)
{
	uint32_t n_pgs = t->pool->place.pg_num, clean = 0, reported = 0;
	Bs__OsdPgStateQuery q = BS__OSD_PG_STATE_QUERY__INIT;

	q.has_pool = true;
	q.pool = t->pool->id;
	for (unsigned k = 0; k < t->map->n_osds; k++) {
		const struct bs_osdmap_osd *o = &t->map->osds[k];
		const Bs__OsdPgStateReply *r;
		struct any_call c;

		if (!o->up)
			continue;
		if (call_osd(t, o, BS_MSG_OSD_PG_STATE, &q.base, 5000, &c)) {
			printf("osd.%d: %s\n", o->id, c.err);
			continue;
		}
		r = (const Bs__OsdPgStateReply *)c.reply->body;
		for (size_t i = 0; i < r->n_pgs; i++) {
			const Bs__OsdPgState *s = r->pgs[i];

			/* only the primary under the current map counts */
			if (bs_osdmap_pg_primary(t->map, t->pool, s->pg) !=
			    o->id)
				continue;
			reported++;
			clean += !strcmp(s->state_name, "active+clean");
			printf("%u.%x %s osd.%d objects %" PRIu64
			       " degraded %" PRIu64 " unfound %" PRIu64
			       " recovered %" PRIu64 "\n", s->pool, s->pg,
			       s->state_name, o->id, s->objects,
			       s->objects_degraded, s->objects_unfound,
			       s->objects_recovered);
		}
		bs_msg_free(c.reply);
	}
	printf("pool %s: %u pgs, %u reported, %u active+clean\n",
	       t->pool->name, n_pgs, reported, clean);
	if (t->expect_clean && (clean != n_pgs || reported != n_pgs))
		exit(1);
}

static void cmd_scrub(struct tool *t)
{
	Bs__OsdScrub q = BS__OSD_SCRUB__INIT;

	for (;;) {
		const struct bs_osdmap_osd *o;
		const Bs__OsdScrubReply *r;
		struct any_call c;
		int primary;

		refresh_map(t);
		if (!t->has_pg || t->pg >= t->pool->place.pg_num)
			die("scrub needs --pg PG (hex) of pool '%s'",
			    t->pool->name);
		primary = bs_osdmap_pg_primary(t->map, t->pool,
					       (uint32_t)t->pg);
		if (primary < 0)
			die("pg %u.%x has no primary up", t->pool->id,
			    (unsigned)t->pg);
		o = bs_osdmap_osd(t->map, primary);
		q.map_epoch = t->map->epoch;
		q.pool = t->pool->id;
		q.pg = (uint32_t)t->pg;
		q.deep = t->deep;
		q.repair = t->repair;
		if (call_osd(t, o, BS_MSG_OSD_SCRUB, &q.base, t->timeout_ms,
			     &c)) {
			if (retryable(c.res) || c.res == -EBUSY) {
				bs_loop_run_once(t->loop, 200);
				continue;
			}
			die("scrub of pg %u.%x on osd.%d: %s", t->pool->id,
			    (unsigned)t->pg, o->id, c.err);
		}
		r = (const Bs__OsdScrubReply *)c.reply->body;
		for (size_t i = 0; i < r->n_details; i++)
			printf("detail: %s\n", r->details[i]);
		printf("pg %u.%x osd.%d objects %" PRIu64 " inconsistent %"
		       PRIu64 " repaired %" PRIu64 " bad_copies %" PRIu64
		       "\n", t->pool->id, (unsigned)t->pg, o->id, r->objects,
		       r->inconsistent, r->repaired, r->copies_bad);
		bs_msg_free(c.reply);
		return;
	}
}

/* One object of ec-verify: a shard per slot (NULL: none). */
struct ec_obj {
	uint64_t volume, objnum;
	uint64_t version[BS_EC_MAX_SHARDS];
	uint64_t size[BS_EC_MAX_SHARDS];
	uint32_t present;
};

static struct ec_obj *ec_obj_find(struct ec_obj **v, size_t *n,
				  uint64_t volume, uint64_t objnum)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].volume == volume && (*v)[i].objnum == objnum)
			return &(*v)[i];
	*v = bs_xrealloc(*v, (*n + 1) * sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].volume = volume;
	(*v)[*n].objnum = objnum;
	return &(*v)[(*n)++];
}

/*
 * Read shard [0, len) of @o from @osd into @buf, its version into
 * *version and, with --records, its record into *rec (malloc'ed, NULL:
 * none).
 */
static int shard_read(struct tool *t, const struct bs_osdmap_osd *osd,
		      uint32_t pg, const struct ec_obj *o, uint64_t len,
		      uint8_t *buf, uint64_t *version, ProtobufCBinaryData *rec)
{
	Bs__EcRead q = BS__EC_READ__INIT;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	struct any_call c;

	oid.pool = t->pool->id;
	oid.pg = pg;
	oid.volume = o->volume;
	oid.objnum = o->objnum;
	q.map_epoch = t->map->epoch;
	q.pool = t->pool->id;
	q.pg = pg;
	q.oid = &oid;
	q.offset = 0;
	q.length = len;
	q.want_meta = t->records;
	if (call_osd(t, osd, BS_MSG_OSD_SHARD_READ, &q.base, 30000, &c)) {
		printf("object %" PRIu64 ".%" PRIu64 ": osd.%d: shard read failed: %s\n",
		       o->volume, o->objnum, osd->id, c.err);
		return c.res;
	}
	if (c.reply->hdr.data_len != len) {
		bs_msg_free(c.reply);
		return -EPROTO;
	}
	memcpy(buf, c.reply->data, len);
	*version = ((const Bs__EcReadReply *)c.reply->body)->version;
	rec->len = ((const Bs__EcReadReply *)c.reply->body)->ec_meta.len;
	rec->data = NULL;
	if (rec->len) {
		rec->data = bs_xmalloc(rec->len);
		memcpy(rec->data,
		       ((const Bs__EcReadReply *)c.reply->body)->ec_meta.data,
		       rec->len);
	}
	bs_msg_free(c.reply);
	return 0;
}

/* With --records: shard @i's record is there and the same as shard 0's. */
static bool record_ok(const struct ec_obj *o, unsigned i, int32_t osd,
		      const ProtobufCBinaryData *rec)
{
	if (!rec[i].len) {
		printf("object %" PRIu64 ".%" PRIu64 ": shard %u (osd.%d) has no logical-size record of its version\n",
		       o->volume, o->objnum, i, osd);
		return false;
	}
	if (rec[i].len != rec[0].len ||
	    memcmp(rec[i].data, rec[0].data, rec[0].len)) {
		printf("object %" PRIu64 ".%" PRIu64 ": shard %u (osd.%d) has another logical-size record than shard 0\n",
		       o->volume, o->objnum, i, osd);
		return false;
	}
	return true;
}

/* Every shard of one object at one version, parity consistent. */
static bool ec_check_obj(struct tool *t, const struct bs_ec *ec,
			 struct bs_ec_ctx *ctx, uint32_t pg,
			 const int32_t *acting, const struct ec_obj *o)
{
	unsigned n = ec->k + ec->m;
	uint64_t len = 0, ver0 = 0;
	uint8_t *buf[BS_EC_MAX_SHARDS] = { 0 };
	ProtobufCBinaryData rec[BS_EC_MAX_SHARDS] = { 0 };
	bool ok = true;
	int bad = -1, ret;

	for (unsigned i = 0; i < n; i++)
		len = BS_MAX(len, o->size[i]);
	len = (len + ec->stripe_unit - 1) / ec->stripe_unit *
	      ec->stripe_unit;
	if (o->present != (1u << n) - 1) {
		printf("object %" PRIu64 ".%" PRIu64 ": pg %u.%x: shards present 0x%x of 0x%x\n",
		       o->volume, o->objnum, t->pool->id, pg, o->present,
		       (1u << n) - 1);
		return false;
	}
	for (unsigned i = 0; i < n && ok; i++) {
		const struct bs_osdmap_osd *osd = bs_osdmap_osd(t->map,
								acting[i]);
		uint64_t v = 0;

		buf[i] = bs_xcalloc(1, len ? len : 1);
		if (!len)
			continue;
		if (!osd || shard_read(t, osd, pg, o, len, buf[i], &v,
				       &rec[i])) {
			ok = false;
			break;
		}
		if (t->records && !record_ok(o, i, osd->id, rec))
			ok = false;
		if (i && v != ver0) {
			printf("object %" PRIu64 ".%" PRIu64 ": shard %u (osd.%d) at version %" PRIx64 ", shard 0 at %" PRIx64 "\n",
			       o->volume, o->objnum, i, osd->id, v, ver0);
			ok = false;
		}
		ver0 = i ? ver0 : v;
	}
	if (ok && len) {
		ret = bs_ec_verify(ec, ctx, (const uint8_t *const *)buf,
				   (size_t)len, &bad);
		if (ret) {
			printf("object %" PRIu64 ".%" PRIu64 ": pg %u.%x version %" PRIx64 ": parity disagrees with data (%s, bad shard %d)\n",
			       o->volume, o->objnum, t->pool->id, pg, ver0,
			       strerror(-ret), bad);
			ok = false;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		free(buf[i]);
		free(rec[i].data);
	}
	return ok;
}

static void cmd_ec_verify(struct tool *t)
{
	const struct bs_osdmap_pool *pool = t->pool;
	struct bs_error err = { 0 };
	struct bs_ec_ctx *ctx;
	struct bs_ec ec;
	uint64_t objects = 0, bad = 0;

	if (!pool->erasure)
		die("pool '%s' is not erasure-coded", pool->name);
	if (bs_ec_init(&ec, pool->ec_k, pool->ec_m,
		       pool->ec_stripe_unit ? pool->ec_stripe_unit : 4096,
		       &err))
		die("%s", err.msg);
	if (bs_ec_ctx_new(&ctx))
		die("out of memory");
	for (uint32_t pg = 0; pg < pool->place.pg_num; pg++) {
		int32_t acting[BS_PLACE_MAX_SIZE];
		struct ec_obj *v = NULL;
		size_t nv = 0;
		int n = bs_osdmap_pg_acting(t->map, pool, pg, acting);

		for (int i = 0; i < n && i < (int)(ec.k + ec.m); i++) {
			const struct bs_osdmap_osd *o = bs_osdmap_osd(t->map,
								      acting[i]);
			struct list_call c;

			if (!o || !o->up)
				continue;
			if (pg_list(t, conn_to(t, o->id, o->addr), pool->id,
				    pg, &c))
				die("cannot list pg %u.%x on osd.%d", pool->id,
				    pg, o->id);
			for (size_t j = 0; j < c.reply->n_objects; j++) {
				const Bs__PgObject *po = c.reply->objects[j];
				struct ec_obj *e;

				if (!po->oid)
					continue;
				e = ec_obj_find(&v, &nv, po->oid->volume,
						po->oid->objnum);
				e->present |= 1u << i;
				e->version[i] = po->version;
				e->size[i] = po->size;
			}
			bs_msg_free(c.msg);
		}
		for (size_t j = 0; j < nv; j++) {
			objects++;
			if (n < (int)(ec.k + ec.m) ||
			    !ec_check_obj(t, &ec, ctx, pg, acting, &v[j]))
				bad++;
		}
		free(v);
	}
	bs_ec_ctx_free(&ctx);
	printf("%" PRIu64 " objects, %" PRIu64 " bad\n", objects, bad);
	if (bad)
		exit(1);
}

static void cmd_locate(struct tool *t)
{
	Bs__OsdLocate q = BS__OSD_LOCATE__INIT;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	int32_t acting[BS_PLACE_MAX_SIZE];
	uint64_t objnum = t->offset / t->object_size;
	int n;

	oid.pool = t->pool->id;
	oid.volume = t->volume;
	oid.objnum = objnum;
	oid.pg = bs_osdmap_object_pg(t->pool, t->volume, objnum);
	q.oid = &oid;
	q.offset = t->offset % t->object_size;
	n = bs_osdmap_pg_acting(t->map, t->pool, oid.pg, acting);
	printf("pg %x\n", oid.pg);
	for (int i = 0; i < n; i++) {
		const struct bs_osdmap_osd *o = bs_osdmap_osd(t->map,
							      acting[i]);
		const Bs__OsdLocateReply *r;
		struct any_call c;

		if (!o || !o->up)
			continue;
		if (call_osd(t, o, BS_MSG_OSD_LOCATE, &q.base, 5000, &c)) {
			printf("osd.%d none %s\n", o->id, c.err);
			continue;
		}
		r = (const Bs__OsdLocateReply *)c.reply->body;
		if (r->hole)
			printf("osd.%d hole\n", o->id);
		else
			printf("osd.%d %" PRIu64 "\n", o->id, r->disk_offset);
		bs_msg_free(c.reply);
	}
}

static void cmd_stat(struct tool *t)
{
	Bs__OsdOp op = BS__OSD_OP__INIT;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	const struct bs_osdmap_osd *o;
	const Bs__OsdOpReply *r;
	struct any_call c;

	oid.pool = t->pool->id;
	oid.volume = t->volume;
	oid.objnum = t->offset / t->object_size;
	oid.pg = bs_osdmap_object_pg(t->pool, t->volume, oid.objnum);
	op.map_epoch = t->map->epoch;
	op.oid = &oid;
	op.op = BS__OSD_OP_KIND__OSD_OP_STAT;
	o = bs_osdmap_osd(t->map, bs_osdmap_pg_primary(t->map, t->pool,
						       oid.pg));
	if (!o)
		die("pg %x has no primary up", oid.pg);
	if (call_osd(t, o, BS_MSG_OSD_OP, &op.base, 5000, &c) == -ENOENT) {
		printf("absent\n");
		return;
	}
	if (c.res)
		die("stat: osd.%d: %s", o->id, c.err);
	r = (const Bs__OsdOpReply *)c.reply->body;
	printf("version %" PRIx64 " size %" PRIu64 "\n", r->version, r->size);
	bs_msg_free(c.reply);
}

/* One raw OsdOp for object 0 to @o, with optional data; returns the res. */
static int raw_op(struct tool *t, const struct bs_osdmap_osd *o,
		  uint32_t pg, Bs__OsdOpKind kind, uint64_t off, uint64_t len,
		  const void *data, struct any_call *c)
{
	Bs__OsdOp op = BS__OSD_OP__INIT;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	struct iovec iov = { (void *)data, data ? len : 0 };

	oid.pool = t->pool->id;
	oid.volume = t->volume;
	oid.pg = pg;
	op.map_epoch = t->map->epoch;
	op.oid = &oid;
	op.op = kind;
	op.offset = off;
	op.length = len;
	memset(c, 0, sizeof(*c));
	c->busy = true;
	if (bs_conn_call(conn_to(t, o->id, o->addr), BS_MSG_OSD_OP, &op.base,
			 &iov, data ? 1 : 0, 10000, any_cb, c))
		die("cannot send to osd.%d", o->id);
	run_until(t, any_idle, c);
	if (!c->res)
		bs_msg_free(c->reply);
	return c->res;
}

static void cmd_misdirect(struct tool *t)
{
	static uint8_t block[4096];
	int32_t acting[BS_PLACE_MAX_SIZE];
	const struct bs_osdmap_osd *primary, *other = NULL;
	uint32_t pg = bs_osdmap_object_pg(t->pool, t->volume, 0);
	struct any_call c;
	int n, bad = 0;

	n = bs_osdmap_pg_acting(t->map, t->pool, pg, acting);
	primary = bs_osdmap_osd(t->map, bs_osdmap_pg_primary(t->map, t->pool,
							     pg));
	for (int i = 0; i < n; i++)
		if (acting[i] != primary->id)
			other = bs_osdmap_osd(t->map, acting[i]);
	if (!primary || !other)
		die("pg %x needs a primary and another member", pg);
	memset(block, 0xee, sizeof(block));

#define EXPECT_REFUSED(what, expr)					\
	do {								\
		int r_ = (expr);					\
		printf("%s: %s\n", what, r_ ? c.err : "ACCEPTED");	\
		bad |= !r_;						\
	} while (0)

	EXPECT_REFUSED("write to non-primary",
		       raw_op(t, other, pg, BS__OSD_OP_KIND__OSD_OP_WRITE, 0,
			      sizeof(block), block, &c));
	EXPECT_REFUSED("write with wrong pg",
		       raw_op(t, primary, (pg + 1) % t->pool->place.pg_num,
			      BS__OSD_OP_KIND__OSD_OP_WRITE, 0, sizeof(block),
			      block, &c));
	EXPECT_REFUSED("zero-length read",
		       raw_op(t, primary, pg, BS__OSD_OP_KIND__OSD_OP_READ, 0,
			      0, NULL, &c));
	EXPECT_REFUSED("read past the largest object",
		       raw_op(t, primary, pg, BS__OSD_OP_KIND__OSD_OP_READ,
			      64ull << 20, 4096, NULL, &c));
	EXPECT_REFUSED("write with data shorter than its length",
		       raw_op(t, primary, pg, BS__OSD_OP_KIND__OSD_OP_WRITE, 0,
			      2 * sizeof(block), NULL, &c));
#undef EXPECT_REFUSED
	if (bad)
		exit(1);
}

static uint8_t *read_file(const char *path, uint64_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	if (fd == -1 || fstat(fd, &st))
		die("cannot read '%s': %s", path, strerror(errno));
	buf = bs_xmalloc((size_t)st.st_size + 1);
	if (read(fd, buf, (size_t)st.st_size) != st.st_size)
		die("short read of '%s'", path);
	close(fd);
	*size = (uint64_t)st.st_size;
	return buf;
}

static uint64_t num(const char *what, const char *s, bool size)
{
	struct bs_error err = { 0 };
	uint64_t v;

	if ((size ? bs_parse_size(what, s, &v, &err) :
		    bs_parse_u64(what, s, &v, &err)))
		die("%s", err.msg);
	return v;
}

int main(int argc, char **argv)
{
	struct tool t = { .object_size = 4u << 20, .copies = 3,
			  .timeout_ms = 60000 };
	const char *cmd = argc > 1 ? argv[1] : "";
	FILE *f;

	bs_log_init("osd-tool", BS_LOG_WARNING);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-') {
			t.file = a;
			continue;
		}
		if (!strcmp(a, "--deep") || !strcmp(a, "--repair") ||
		    !strcmp(a, "--expect-clean") || !strcmp(a, "--records")) {
			t.records |= !strcmp(a, "--records");
			t.deep |= !strcmp(a, "--deep");
			t.repair |= !strcmp(a, "--repair");
			t.expect_clean |= !strcmp(a, "--expect-clean");
			continue;
		}
		if (!v)
			die("'%s' needs a value", a);
		i++;
		if (!strcmp(a, "-c"))
			t.conf_path = v;
		else if (!strcmp(a, "--pool"))
			t.pool_name = v, t.pool_id = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--volume"))
			t.volume = num(a, v, false);
		else if (!strcmp(a, "--object-size"))
			t.object_size = num(a, v, true);
		else if (!strcmp(a, "--size"))
			t.size = num(a, v, true);
		else if (!strcmp(a, "--copies"))
			t.copies = num(a, v, false);
		else if (!strcmp(a, "--osd"))
			t.osd_addr = v;
		else if (!strcmp(a, "--pg"))
			t.pg = strtoull(v, NULL, 16), t.has_pg = true;
		else if (!strcmp(a, "--offset"))
			t.offset = num(a, v, true);
		else if (!strcmp(a, "--timeout"))
			t.timeout_ms = num(a, v, false) * 1000;
		else
			die("unknown option '%s'", a);
	}
	if (!t.object_size || t.object_size > (64u << 20))
		die("'--object-size' must be 1 byte to 64 MiB");
	t.deadline = bs_now_ms() + t.timeout_ms;
	if (!strcmp(cmd, "list") || !strcmp(cmd, "statfs")) {
		struct bs_loop *loop;

		if (!t.osd_addr)
			die("%s needs --osd ADDR", cmd);
		if (bs_loop_new(&loop, 0) ||
		    bs_msgr_new(&t.msgr, loop, &no_ops, NULL))
			die("cannot create a loop");
		t.loop = loop;
		if (!strcmp(cmd, "list"))
			cmd_list(&t);
		else
			cmd_statfs(&t);
		bs_msgr_free(&t.msgr);
		bs_loop_free(&loop);
		return 0;
	}
	if (strcmp(cmd, "write") && strcmp(cmd, "read") &&
	    strcmp(cmd, "verify") && strcmp(cmd, "pg-states") &&
	    strcmp(cmd, "scrub") && strcmp(cmd, "locate") &&
	    strcmp(cmd, "misdirect") && strcmp(cmd, "stat") &&
	    strcmp(cmd, "ec-verify"))
		die("usage: basalt-osd-tool write|read|verify|list|statfs|pg-states|scrub|locate|stat|misdirect|ec-verify ... (see the source)");
	if (!t.pool_name)
		die("%s needs --pool NAME", cmd);
	connect_mons(&t);
	refresh_map(&t);
	if (!strcmp(cmd, "pg-states")) {
		cmd_pg_states(&t);
	} else if (!strcmp(cmd, "scrub")) {
		cmd_scrub(&t);
	} else if (!strcmp(cmd, "locate")) {
		cmd_locate(&t);
	} else if (!strcmp(cmd, "stat")) {
		cmd_stat(&t);
	} else if (!strcmp(cmd, "misdirect")) {
		cmd_misdirect(&t);
	} else if (!strcmp(cmd, "ec-verify")) {
		cmd_ec_verify(&t);
	} else if (!strcmp(cmd, "write")) {
		if (!t.file)
			die("write needs a FILE");
		t.data = read_file(t.file, &t.size);
		do_io(&t, true);
	} else if (!strcmp(cmd, "read")) {
		if (!t.file || !t.size)
			die("read needs --size N and a FILE");
		t.data = bs_xcalloc(1, t.size);
		do_io(&t, false);
		f = fopen(t.file, "w");
		if (!f || fwrite(t.data, 1, t.size, f) != t.size || fclose(f))
			die("cannot write '%s'", t.file);
	} else {
		if (!t.size)
			die("verify needs --size N");
		cmd_verify(&t);
	}
	for (unsigned i = 0; i < t.n_conns; i++) {
		if (t.conns[i])
			bs_conn_put(t.conns[i]);
		free(t.conn_addr[i]);
	}
	free(t.conns);
	free(t.conn_addr);
	free(t.data);
	bs_osdmap_put(&t.map);
	bs_msgr_free(&t.msgr);
	bs_monc_free(&t.monc);
	return 0;
}
