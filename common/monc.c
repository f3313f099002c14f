// SPDX-License-Identifier: Apache-2.0
/*
 * The mon client (bs/monc.h): one messenger connection per mon, requests
 * routed to a connected mon with fail-over and an overall deadline, the
 * map subscription kept alive across mon failures, and synchronous
 * wrappers for the CLI.
 *
 * A request waits (no call outstanding) until some mon is connected; a
 * single tick timer retries every waiting request and the subscription.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bs/log.h"
#include "bs/monc.h"
#include "bs/msg_types.h"

#define TICK_MS			10
#define SUB_RETRY_MS		1000
#define STATUS_TIMEOUT_MS	2000

struct monc_mon {
	char *addr;
	struct bs_conn *conn;
	bool ever_connected;
};

struct monc_req {
	struct bs_monc *monc;
	struct monc_req *next, **pprev;
	uint16_t type;
	uint8_t *packed;		/* the body, packed once */
	size_t packed_len;
	bs_monc_reply_fn *fn;
	void *opaque;
	uint64_t start_ms;
	uint64_t deadline_ms;		/* UINT64_MAX: retry forever */
	unsigned target;		/* mon index of the outstanding call */
	bool in_call;
	bool done;
};

struct bs_monc {
	struct bs_loop *loop;
	bool own_loop;
	bool freeing;
	struct bs_msgr *msgr;
	struct monc_mon mons[BS_MONC_MAX_MONS];
	unsigned n;
	unsigned preferred;		/* the last mon that answered */
	uint64_t timeout_ms;
	struct monc_req *reqs;
	struct bs_op tick;

	bs_monc_map_fn *map_fn;
	void *map_opaque;
	bool sub_wanted;
	bool sub_pending;		/* a Subscribe request in flight */
	int sub_mon;			/* where we are subscribed, or -1 */
	uint64_t sub_retry_ms;
	uint64_t sub_have;
	struct bs_msg *map_msg;		/* owns the newest map */

	unsigned oneway_next;		/* mon for the next beacon */
	uint64_t beacon_seq;
};

static void req_send(struct monc_req *r);

/* ---- the mon address list ---- */

static int addrs_push(char ***addrs, unsigned *n, const char *s, size_t len,
		      struct bs_error *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char *a;

	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	if (*n >= BS_MONC_MAX_MONS)
		return bs_error_set(err, -EINVAL,
				    "more than %u monitors configured",
				    BS_MONC_MAX_MONS);
	a = strndup(s, len);
	if (!a)
		return bs_error_set(err, -ENOMEM, "out of memory");
	if (bs_parse_addr(a, &ss, &sl)) {
		bs_error_set(err, -EINVAL,
			     "monitor address '%s' is not HOST:PORT", a);
		free(a);
		return -EINVAL;
	}
	*addrs = realloc(*addrs, (*n + 2) * sizeof(**addrs));
	if (!*addrs) {
		free(a);
		return bs_error_set(err, -ENOMEM, "out of memory");
	}
	(*addrs)[(*n)++] = a;
	(*addrs)[*n] = NULL;
	return 0;
}

struct addrs_ctx {
	const struct bs_conf *conf;
	char ***addrs;
	unsigned *n;
	struct bs_error *err;
};

static int add_mon_section(void *opaque, unsigned id, const char *section)
{
	struct addrs_ctx *ctx = opaque;
	const char *addr;
	int line;

	addr = bs_conf_get(ctx->conf, section, "addr", &line);
	if (!addr)
		return bs_error_set(ctx->err, -EINVAL, "%s: [%s] has no addr",
				    bs_conf_path(ctx->conf), section);
	return addrs_push(ctx->addrs, ctx->n, addr, strlen(addr), ctx->err);
}

int bs_monc_conf_addrs(const struct bs_conf *conf, char ***addrs,
		       unsigned *n, struct bs_error *err)
{
	struct addrs_ctx ctx = { conf, addrs, n, err };
	const char *host, *s, *comma;
	int line, ret = 0;

	*addrs = NULL;
	*n = 0;
	host = bs_conf_get(conf, "global", "mon_host", &line);
	if (host) {
		for (s = host; !ret; s = comma + 1) {
			comma = strchr(s, ',');
			if (!comma)
				comma = s + strlen(s);
			ret = addrs_push(addrs, n, s, comma - s, err);
			if (!*comma)
				break;
		}
	} else {
		ret = bs_conf_for_each_numbered(conf, "mon", add_mon_section,
						&ctx);
	}
	if (!ret && !*n)
		ret = bs_error_set(err, -ENOENT,
				   "%s names no monitor (set mon_host in [global] or add [mon.N] sections with addr)",
				   bs_conf_path(conf));
	if (ret)
		bs_monc_addrs_free(addrs);
	return ret;
}

void bs_monc_addrs_free(char ***addrs)
{
	char **a;

	if (!*addrs)
		return;
	for (a = *addrs; *a; a++)
		free(*a);
	bs_free(addrs);
}

/* ---- names ---- */

const char *bs_monc_pool_kind_name(int kind)
{
	return kind == BS__POOL_KIND__POOL_ERASURE ? "erasure" : "replicated";
}

static const char *const fd_names[] = {
	[BS__FAILURE_DOMAIN__FD_HOST] = "host",
	[BS__FAILURE_DOMAIN__FD_OSD] = "osd",
	[BS__FAILURE_DOMAIN__FD_RACK] = "rack",
	[BS__FAILURE_DOMAIN__FD_SITE] = "site",
};

const char *bs_monc_failure_domain_name(int fd)
{
	if (fd < 0 || (size_t)fd >= ARRAY_SIZE(fd_names))
		return "unknown";
	return fd_names[fd];
}

int bs_monc_parse_failure_domain(const char *s, int *fd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd_names); i++) {
		if (!strcmp(s, fd_names[i])) {
			*fd = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- requests ---- */

static uint64_t remaining(const struct monc_req *r)
{
	uint64_t now = bs_now_ms();

	if (r->deadline_ms == UINT64_MAX)
		return r->monc->timeout_ms;
	return r->deadline_ms > now ? r->deadline_ms - now : 0;
}

static bool any_ever_connected(const struct bs_monc *monc)
{
	unsigned i;

	for (i = 0; i < monc->n; i++)
		if (monc->mons[i].ever_connected)
			return true;
	return false;
}

static void addr_list(const struct bs_monc *monc, char *buf, size_t len)
{
	size_t off = 0;
	unsigned i;

	buf[0] = 0;
	for (i = 0; i < monc->n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				monc->mons[i].addr);
}

static void req_unlink(struct monc_req *r)
{
	if (r->next)
		r->next->pprev = r->pprev;
	*r->pprev = r->next;
	r->next = NULL;
	r->pprev = &r->next;
}

/* Complete @r once: call its fn, then free it unless a call is out. */
static void req_finish(struct monc_req *r, int res, struct bs_msg *reply,
		       const struct bs_error *err)
{
	struct bs_error none = { 0 };

	assert(!r->done);
	r->done = true;
	req_unlink(r);
	r->fn(r->opaque, res, reply, err ? err : &none);
	if (!r->in_call) {
		free(r->packed);
		free(r);
	}
}

static void req_fail(struct monc_req *r, int code, const char *fmt, ...)
	BS_PRINTF(3, 4);
static void req_fail(struct monc_req *r, int code, const char *fmt, ...)
{
	struct bs_error err;
	va_list ap;

	err.code = code;
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	req_finish(r, code, NULL, &err);
}

static void tick_cb(struct bs_op *op, int res);

static void arm_tick(struct bs_monc *monc)
{
	if (bs_op_busy(&monc->tick) || monc->freeing)
		return;
	monc->tick.fn = tick_cb;
	bs_loop_timer(monc->loop, &monc->tick, TICK_MS);
}

static void call_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct monc_req *r = opaque;
	struct bs_monc *monc = r->monc;
	struct bs_error err = { 0 };

	r->in_call = false;
	if (r->done) {
		/* finished (cancelled) while the call was out */
		if (reply)
			bs_msg_free(reply);
		free(r->packed);
		free(r);
		return;
	}
	if (res == 0) {
		monc->preferred = r->target;
		req_finish(r, 0, reply, NULL);
		return;
	}
	if (reply) {
		/* the mon answered: its error is the answer */
		monc->preferred = r->target;
		bs_error_set(&err, res, "%s", bs_msg_error_text(reply));
		bs_msg_free(reply);
		req_finish(r, res, NULL, &err);
		return;
	}
	if (monc->freeing || res == -ECANCELED) {
		req_fail(r, -ECANCELED, "mon client closed");
		return;
	}
	if (res == -ETIMEDOUT || remaining(r) == 0) {
		req_fail(r, -ETIMEDOUT,
			 "monitor at %s did not answer within %" PRIu64 " ms",
			 monc->mons[r->target].addr, monc->timeout_ms);
		return;
	}
	/* connection trouble: try the next mon */
	bs_dbg(BS_SUB_CLIENT, "monitor %s: %s; trying another",
	       monc->mons[r->target].addr, strerror(-res));
	monc->preferred = (r->target + 1) % monc->n;
	req_send(r);
}

static void req_send(struct monc_req *r)
{
	struct bs_monc *monc = r->monc;
	const struct bs_msg_type_info *ti;
	ProtobufCMessage *body;
	char list[512];
	unsigned i, idx = 0;
	int ret;

	if (r->done || r->in_call)
		return;
	if (remaining(r) == 0 ||
	    (r->deadline_ms != UINT64_MAX && !any_ever_connected(monc) &&
	     bs_now_ms() - r->start_ms >= BS_MONC_CONNECT_TIMEOUT_MS)) {
		addr_list(monc, list, sizeof(list));
		if (!any_ever_connected(monc))
			req_fail(r, -EHOSTUNREACH,
				 "cannot reach any monitor at %s: is the cluster running?",
				 list);
		else
			req_fail(r, -ETIMEDOUT,
				 "no monitor answered within %" PRIu64 " ms (tried %s)",
				 monc->timeout_ms, list);
		return;
	}
	for (i = 0; i < monc->n; i++) {
		idx = (monc->preferred + i) % monc->n;
		if (bs_conn_is_connected(monc->mons[idx].conn))
			break;
	}
	if (i == monc->n) {
		arm_tick(monc);		/* wait for a connection */
		return;
	}
	ti = bs_msg_type_find(r->type);
	body = protobuf_c_message_unpack(ti->desc, NULL, r->packed_len,
					 r->packed);
	if (!body) {
		req_fail(r, -ENOMEM, "cannot copy the request");
		return;
	}
	r->target = idx;
	r->in_call = true;
	ret = bs_conn_call(monc->mons[idx].conn, r->type, body, NULL, 0,
			   remaining(r), call_cb, r);
	protobuf_c_message_free_unpacked(body, NULL);
	if (ret) {
		r->in_call = false;
		req_fail(r, ret, "cannot send to monitor %s: %s",
			 monc->mons[idx].addr, strerror(-ret));
	}
}

static int req_start(struct bs_monc *monc, uint16_t type,
		     const ProtobufCMessage *body, uint64_t timeout_ms,
		     bs_monc_reply_fn *fn, void *opaque)
{
	const struct bs_msg_type_info *ti = bs_msg_type_find(type);
	struct monc_req *r;

	if (!ti || !ti->desc || body->descriptor != ti->desc)
		return -EINVAL;
	if (monc->freeing)
		return -ECANCELED;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->packed_len = protobuf_c_message_get_packed_size(body);
	r->packed = malloc(r->packed_len ? r->packed_len : 1);
	if (!r->packed) {
		free(r);
		return -ENOMEM;
	}
	protobuf_c_message_pack(body, r->packed);
	r->monc = monc;
	r->type = type;
	r->fn = fn;
	r->opaque = opaque;
	r->start_ms = bs_now_ms();
	r->deadline_ms = timeout_ms == UINT64_MAX ? UINT64_MAX :
						    r->start_ms + timeout_ms;
	r->next = monc->reqs;
	if (r->next)
		r->next->pprev = &r->next;
	r->pprev = &monc->reqs;
	monc->reqs = r;
	/* never call back before returning: the first try is on a tick */
	arm_tick(monc);
	return 0;
}

int bs_monc_call(struct bs_monc *monc, uint16_t type,
		 const ProtobufCMessage *body, bs_monc_reply_fn *fn,
		 void *opaque)
{
	return req_start(monc, type, body, monc->timeout_ms, fn, opaque);
}

int bs_monc_command(struct bs_monc *monc, const Bs__MonCommand *cmd,
		    bs_monc_reply_fn *fn, void *opaque)
{
	return bs_monc_call(monc, BS_MSG_MON_COMMAND, &cmd->base, fn, opaque);
}

/* ---- one-way messages (OSD beacons and failure reports) ---- */

static int oneway_check(uint16_t type, const ProtobufCMessage *body)
{
	const struct bs_msg_type_info *ti = bs_msg_type_find(type);

	if (!ti || !ti->desc || !body || body->descriptor != ti->desc)
		return -EINVAL;
	return 0;
}

int bs_monc_send(struct bs_monc *monc, uint16_t type,
		 const ProtobufCMessage *body)
{
	unsigned i, idx;
	int ret;

	ret = oneway_check(type, body);
	if (ret)
		return ret;
	if (monc->freeing)
		return -ENOTCONN;
	for (i = 0; i < monc->n; i++) {
		idx = (monc->oneway_next + i) % monc->n;
		if (!bs_conn_is_connected(monc->mons[idx].conn))
			continue;
		ret = bs_conn_send(monc->mons[idx].conn, type, body, NULL, 0);
		if (ret == -ENOTCONN)
			continue;
		monc->oneway_next = idx + 1;
		return ret;
	}
	return -ENOTCONN;
}

int bs_monc_send_beacon(struct bs_monc *monc, const Bs__OsdBeacon *b)
{
	Bs__OsdBeacon copy = *b;

	copy.seq = ++monc->beacon_seq;
	copy.relayed = false;
	return bs_monc_send(monc, BS_MSG_MON_OSD_BEACON, &copy.base);
}

int bs_monc_send_failure(struct bs_monc *monc, const Bs__OsdFailure *f)
{
	Bs__OsdFailure copy = *f;
	unsigned i, sent = 0;
	int ret = -ENOTCONN;

	copy.relayed = false;
	if (monc->freeing)
		return -ENOTCONN;
	for (i = 0; i < monc->n; i++) {
		if (!bs_conn_is_connected(monc->mons[i].conn))
			continue;
		ret = bs_conn_send(monc->mons[i].conn, BS_MSG_MON_OSD_FAILURE,
				   &copy.base, NULL, 0);
		if (ret == 0)
			sent++;
		else if (ret != -ENOTCONN)
			return ret;
	}
	return sent ? 0 : -ENOTCONN;
}

/* ---- subscription ---- */

static void deliver_map(struct bs_monc *monc, struct bs_msg *msg)
{
	const Bs__ClusterMap *map = (const Bs__ClusterMap *)msg->body;
	uint64_t have = 0;

	if (monc->map_msg)
		have = ((Bs__ClusterMap *)monc->map_msg->body)->epoch;
	if (map->epoch <= have || map->epoch <= monc->sub_have) {
		bs_msg_free(msg);
		return;
	}
	if (monc->map_msg)
		bs_msg_free(monc->map_msg);
	monc->map_msg = msg;
	bs_dbg(BS_SUB_CLIENT, "map epoch %" PRIu64, map->epoch);
	if (monc->map_fn)
		monc->map_fn(monc->map_opaque, map);
}

static void sub_reply_cb(void *opaque, int res, struct bs_msg *reply,
			 const struct bs_error *err)
{
	struct bs_monc *monc = opaque;

	monc->sub_pending = false;
	if (res) {
		if (res != -ECANCELED)
			bs_dbg(BS_SUB_CLIENT, "subscribe failed: %s",
			       err->msg);
		monc->sub_retry_ms = bs_now_ms() + SUB_RETRY_MS;
		arm_tick(monc);
		return;
	}
	monc->sub_mon = (int)monc->preferred;
	bs_msg_free(reply);
}

static void sub_start(struct bs_monc *monc)
{
	Bs__Subscribe sub = BS__SUBSCRIBE__INIT;
	const Bs__ClusterMap *map = bs_monc_map(monc);

	sub.have_epoch = map ? map->epoch : monc->sub_have;
	if (req_start(monc, BS_MSG_MON_SUBSCRIBE, &sub.base, UINT64_MAX,
		      sub_reply_cb, monc) == 0)
		monc->sub_pending = true;
}

int bs_monc_subscribe(struct bs_monc *monc, uint64_t have_epoch,
		      bs_monc_map_fn *fn, void *opaque)
{
	monc->map_fn = fn;
	monc->map_opaque = opaque;
	monc->sub_have = have_epoch;
	monc->sub_wanted = true;
	if (!monc->sub_pending && monc->sub_mon < 0)
		sub_start(monc);
	return 0;
}

const Bs__ClusterMap *bs_monc_map(const struct bs_monc *monc)
{
	return monc->map_msg ? (const Bs__ClusterMap *)monc->map_msg->body :
			       NULL;
}

static void tick_cb(struct bs_op *op, int res)
{
	struct bs_monc *monc = container_of(op, struct bs_monc, tick);
	struct monc_req *r, *next;
	bool waiting = false;

	if (monc->freeing)
		return;
	for (r = monc->reqs; r; r = next) {
		next = r->next;
		if (!r->in_call)
			req_send(r);
	}
	if (monc->sub_wanted && !monc->sub_pending && monc->sub_mon < 0 &&
	    bs_now_ms() >= monc->sub_retry_ms)
		sub_start(monc);
	for (r = monc->reqs; r; r = r->next)
		if (!r->in_call)
			waiting = true;
	if (waiting || (monc->sub_wanted && monc->sub_mon < 0))
		arm_tick(monc);
}

/* ---- messenger callbacks ---- */

static void on_request(void *opaque, struct bs_conn *conn,
		       struct bs_msg *msg)
{
	struct bs_monc *monc = opaque;

	if (msg->hdr.type == BS_MSG_MON_MAP && msg->hdr.req_id == 0 &&
	    !monc->freeing) {
		deliver_map(monc, msg);
		return;
	}
	if (msg->hdr.req_id)
		bs_conn_reply_error(conn, msg, -EOPNOTSUPP,
				    "a mon client takes no requests");
	bs_msg_free(msg);
}

static void on_connect(void *opaque, struct bs_conn *conn)
{
	struct monc_mon *m = bs_conn_opaque(conn);

	if (m)
		m->ever_connected = true;
}

static void on_close(void *opaque, struct bs_conn *conn, int reason)
{
	struct bs_monc *monc = opaque;
	struct monc_mon *m = bs_conn_opaque(conn);

	if (!m || monc->freeing)
		return;
	if (monc->sub_mon >= 0 && &monc->mons[monc->sub_mon] == m) {
		/* the mon-side subscription died with the socket */
		monc->sub_mon = -1;
		arm_tick(monc);
	}
}

static const struct bs_msgr_ops monc_msgr_ops = {
	.on_request = on_request,
	.on_connect = on_connect,
	.on_close = on_close,
};

/* ---- life cycle ---- */

int bs_monc_new(struct bs_monc **out, struct bs_loop *loop,
		const char *const *addrs, unsigned n, struct bs_error *err)
{
	struct bs_monc *monc;
	unsigned i;
	int ret;

	if (n == 0 || n > BS_MONC_MAX_MONS)
		return bs_error_set(err, -EINVAL,
				    "need 1 to %u monitor addresses, got %u",
				    BS_MONC_MAX_MONS, n);
	monc = calloc(1, sizeof(*monc));
	if (!monc)
		return bs_error_set(err, -ENOMEM, "out of memory");
	monc->sub_mon = -1;
	monc->timeout_ms = BS_MONC_DEFAULT_TIMEOUT_MS;
	monc->tick.fn = tick_cb;
	if (!loop) {
		ret = bs_loop_new(&monc->loop, 0);
		if (ret) {
			free(monc);
			return bs_error_errno(err, ret,
					      "cannot create an event loop");
		}
		monc->own_loop = true;
	} else {
		monc->loop = loop;
	}
	ret = bs_msgr_new(&monc->msgr, monc->loop, &monc_msgr_ops, monc);
	if (ret) {
		bs_error_errno(err, ret, "cannot create a messenger");
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		monc->mons[i].addr = strdup(addrs[i]);
		if (!monc->mons[i].addr) {
			ret = bs_error_set(err, -ENOMEM, "out of memory");
			goto out_free;
		}
		monc->n = i + 1;
		ret = bs_msgr_connect(monc->msgr, addrs[i],
				      &monc->mons[i].conn, err);
		if (ret)
			goto out_free;
		bs_conn_set_opaque(monc->mons[i].conn, &monc->mons[i]);
		if (bs_conn_is_connected(monc->mons[i].conn))
			monc->mons[i].ever_connected = true;
	}
	*out = monc;
	return 0;

out_free:
	bs_monc_free(&monc);
	return ret;
}

void bs_monc_free(struct bs_monc **pmonc)
{
	struct bs_monc *monc = *pmonc;
	struct monc_req *r;
	unsigned i, spins;

	if (!monc)
		return;
	monc->freeing = true;
	/* requests waiting for a connection end here */
	while ((r = monc->reqs))
		req_fail(r, -ECANCELED, "mon client closed");
	/* calls in flight end inside bs_msgr_free() (-ECANCELED) */
	for (i = 0; i < monc->n; i++) {
		if (monc->mons[i].conn) {
			bs_conn_set_opaque(monc->mons[i].conn, NULL);
			bs_conn_close(monc->mons[i].conn);
			bs_conn_put(monc->mons[i].conn);
		}
	}
	if (monc->msgr)
		bs_msgr_free(&monc->msgr);
	/* status callbacks (run above) borrowed the addresses */
	for (i = 0; i < monc->n; i++)
		free(monc->mons[i].addr);
	if (bs_op_busy(&monc->tick)) {
		bs_loop_cancel(monc->loop, &monc->tick);
		for (spins = 0; bs_op_busy(&monc->tick) && spins < 1000;
		     spins++)
			bs_loop_run_once(monc->loop, 10);
	}
	if (monc->map_msg)
		bs_msg_free(monc->map_msg);
	if (monc->own_loop)
		bs_loop_free(&monc->loop);
	free(monc);
	*pmonc = NULL;
}

struct bs_loop *bs_monc_loop(struct bs_monc *monc)
{
	return monc->loop;
}

void bs_monc_set_timeout(struct bs_monc *monc, uint64_t ms)
{
	monc->timeout_ms = ms ? ms : BS_MONC_DEFAULT_TIMEOUT_MS;
}

unsigned bs_monc_num_mons(const struct bs_monc *monc)
{
	return monc->n;
}

const char *bs_monc_mon_addr(const struct bs_monc *monc, unsigned i)
{
	return i < monc->n ? monc->mons[i].addr : NULL;
}

/* ---- every mon's status ---- */

struct status_ctx {
	struct bs_monc *monc;
	struct bs_monc_mon_state *states;
	unsigned pending;
	bs_monc_status_fn *fn;
	void *opaque;
};

struct status_one {
	struct status_ctx *ctx;
	unsigned idx;
};

static void status_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct status_one *one = opaque;
	struct status_ctx *ctx = one->ctx;
	struct bs_monc_mon_state *st = &ctx->states[one->idx];

	st->res = res;
	if (res == 0) {
		/* keep only the body: detach it from the message */
		st->status = (Bs__MonStatus *)reply->body;
		reply->body = NULL;
	}
	if (reply)
		bs_msg_free(reply);
	free(one);
	if (--ctx->pending == 0) {
		ctx->fn(ctx->opaque, ctx->states, ctx->monc->n);
		free(ctx);
	}
}

int bs_monc_mon_status(struct bs_monc *monc, uint64_t timeout_ms,
		       bs_monc_status_fn *fn, void *opaque)
{
	Bs__MonStatusRequest req = BS__MON_STATUS_REQUEST__INIT;
	struct status_ctx *ctx;
	unsigned i;
	int ret;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->states = calloc(monc->n, sizeof(*ctx->states));
	if (!ctx->states) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->monc = monc;
	ctx->fn = fn;
	ctx->opaque = opaque;
	ctx->pending = 1;	/* held until every call is out */
	for (i = 0; i < monc->n; i++) {
		struct status_one *one = calloc(1, sizeof(*one));

		ctx->states[i].addr = monc->mons[i].addr;
		ctx->states[i].res = -ENOMEM;
		if (!one)
			continue;
		one->ctx = ctx;
		one->idx = i;
		ret = bs_conn_call(monc->mons[i].conn, BS_MSG_MON_STATUS,
				   &req.base, NULL, 0,
				   timeout_ms ? timeout_ms : STATUS_TIMEOUT_MS,
				   status_cb, one);
		if (ret) {
			ctx->states[i].res = ret;
			free(one);
			continue;
		}
		ctx->pending++;
	}
	if (--ctx->pending == 0) {
		/* nothing went out: answer now */
		fn(opaque, ctx->states, monc->n);
		free(ctx);
	}
	return 0;
}

void bs_monc_mon_states_free(struct bs_monc_mon_state **states, unsigned n)
{
	unsigned i;

	if (!*states)
		return;
	for (i = 0; i < n; i++)
		if ((*states)[i].status)
			bs__mon_status__free_unpacked((*states)[i].status,
						      NULL);
	bs_free(states);
}

const char *bs_monc_quorum_text(const struct bs_monc_mon_state *states,
				unsigned n, char *buf, size_t len)
{
	unsigned i, up = 0, leaders = 0, total = n, majority;

	for (i = 0; i < n; i++) {
		if (states[i].res)
			continue;
		up++;
		if (states[i].status && states[i].status->leader_id >= 0)
			leaders++;
		/* a mon knows the whole group, we may have asked fewer */
		if (states[i].status && states[i].status->n_members > total)
			total = (unsigned)states[i].status->n_members;
	}
	majority = total / 2 + 1;
	n = total;
	if (up < majority)
		snprintf(buf, len,
			 "only %u of %u monitors reachable; a majority (%u) is needed to make changes",
			 up, n, majority);
	else if (!leaders)
		snprintf(buf, len,
			 "%u of %u monitors reachable but no leader elected yet",
			 up, n);
	else
		snprintf(buf, len,
			 "%u of %u monitors reachable, but the change could not be committed in time",
			 up, n);
	return buf;
}

/* ---- synchronous wrappers ---- */

struct sync_wait {
	bool done;
	int res;
	struct bs_msg *reply;
	struct bs_error err;
	struct bs_monc_mon_state *states;
};

static void sync_reply_cb(void *opaque, int res, struct bs_msg *reply,
			  const struct bs_error *err)
{
	struct sync_wait *w = opaque;

	w->done = true;
	w->res = res;
	w->reply = reply;
	if (err)
		w->err = *err;
}

static int sync_run(struct bs_monc *monc, struct sync_wait *w)
{
	int ret;

	while (!w->done) {
		ret = bs_loop_run_once(monc->loop, 100);
		if (ret < 0 && ret != -EINTR && ret != -ETIME)
			return ret;
	}
	return 0;
}

int bs_monc_call_sync(struct bs_monc *monc, uint16_t type,
		      const ProtobufCMessage *body, struct bs_msg **reply,
		      struct bs_error *err)
{
	struct sync_wait w = { 0 };
	int ret;

	*reply = NULL;
	ret = bs_monc_call(monc, type, body, sync_reply_cb, &w);
	if (ret)
		return bs_error_errno(err, ret, "cannot send a mon request");
	ret = sync_run(monc, &w);
	if (ret)
		return bs_error_errno(err, ret, "event loop failed");
	if (w.res) {
		if (err)
			*err = w.err;
		return w.res;
	}
	*reply = w.reply;
	return 0;
}

/* Take the body out of @msg and free the rest. */
static ProtobufCMessage *detach_body(struct bs_msg *msg)
{
	ProtobufCMessage *body = msg->body;

	msg->body = NULL;
	bs_msg_free(msg);
	return body;
}

int bs_monc_command_sync(struct bs_monc *monc, const Bs__MonCommand *cmd,
			 Bs__MonCommandReply **reply, struct bs_error *err)
{
	struct bs_monc_mon_state *states = NULL;
	struct bs_msg *msg;
	char text[256];
	int ret, sret;

	*reply = NULL;
	ret = bs_monc_call_sync(monc, BS_MSG_MON_COMMAND, &cmd->base, &msg,
				err);
	if (ret == -ENOTCONN) {
		/* say what every mon sees instead of one mon's view */
		sret = bs_monc_mon_status_sync(monc, 0, &states, NULL);
		if (!sret) {
			bs_monc_quorum_text(states, monc->n, text,
					    sizeof(text));
			if (strncmp(text, "only", 4) == 0 ||
			    strstr(text, "no leader"))
				bs_error_set(err, -ENOTCONN, "no quorum: %s",
					     text);
			bs_monc_mon_states_free(&states, monc->n);
		}
		return -ENOTCONN;
	}
	if (ret)
		return ret;
	*reply = (Bs__MonCommandReply *)detach_body(msg);
	return 0;
}

int bs_monc_get_map_sync(struct bs_monc *monc, Bs__ClusterMap **map,
			 struct bs_error *err)
{
	Bs__GetMap req = BS__GET_MAP__INIT;
	struct bs_msg *msg;
	int ret;

	*map = NULL;
	ret = bs_monc_call_sync(monc, BS_MSG_MON_GET_MAP, &req.base, &msg,
				err);
	if (ret)
		return ret;
	*map = (Bs__ClusterMap *)detach_body(msg);
	return 0;
}

int bs_monc_volumes_sync(struct bs_monc *monc, const char *pool,
			 const char *name, Bs__VolumeList **list,
			 struct bs_error *err)
{
	Bs__VolumeQuery q = BS__VOLUME_QUERY__INIT;
	struct bs_msg *msg;
	int ret;

	*list = NULL;
	if (pool)
		q.pool = (char *)pool;
	if (name)
		q.name = (char *)name;
	ret = bs_monc_call_sync(monc, BS_MSG_MON_VOLUME_QUERY, &q.base, &msg,
				err);
	if (ret)
		return ret;
	*list = (Bs__VolumeList *)detach_body(msg);
	return 0;
}

int bs_monc_cluster_status_sync(struct bs_monc *monc, Bs__ClusterStatus **st,
				struct bs_error *err)
{
	Bs__ClusterStatusRequest req = BS__CLUSTER_STATUS_REQUEST__INIT;
	struct bs_msg *msg;
	int ret;

	*st = NULL;
	ret = bs_monc_call_sync(monc, BS_MSG_MON_CLUSTER_STATUS, &req.base,
				&msg, err);
	if (ret)
		return ret;
	*st = (Bs__ClusterStatus *)detach_body(msg);
	return 0;
}

int bs_monc_pg_list_sync(struct bs_monc *monc, const char *pool, int64_t osd,
			 Bs__PgStatList **list, struct bs_error *err)
{
	Bs__PgStatQuery q = BS__PG_STAT_QUERY__INIT;
	struct bs_msg *msg;
	int ret;

	*list = NULL;
	if (pool)
		q.pool = (char *)pool;
	if (osd >= 0) {
		if (osd > UINT32_MAX)
			return bs_error_set(err, -EINVAL,
					    "osd id %" PRId64 " is out of range",
					    osd);
		q.has_osd = true;
		q.osd = (uint32_t)osd;
	}
	ret = bs_monc_call_sync(monc, BS_MSG_MON_PG_QUERY, &q.base, &msg,
				err);
	if (ret)
		return ret;
	*list = (Bs__PgStatList *)detach_body(msg);
	return 0;
}

static void sync_status_cb(void *opaque, struct bs_monc_mon_state *states,
			   unsigned n)
{
	struct sync_wait *w = opaque;

	w->states = states;
	w->done = true;
}

int bs_monc_mon_status_sync(struct bs_monc *monc, uint64_t timeout_ms,
			    struct bs_monc_mon_state **states,
			    struct bs_error *err)
{
	struct sync_wait w = { 0 };
	int ret;

	*states = NULL;
	ret = bs_monc_mon_status(monc, timeout_ms, sync_status_cb, &w);
	if (ret)
		return bs_error_errno(err, ret, "cannot ask the monitors");
	ret = sync_run(monc, &w);
	if (ret)
		return bs_error_errno(err, ret, "event loop failed");
	*states = w.states;
	return 0;
}
