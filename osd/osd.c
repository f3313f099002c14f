// SPDX-License-Identifier: Apache-2.0
/*
 * The OSD's life: open the store, listen, boot with the mons, follow the
 * map (becoming active once the map shows this boot), keep connections to
 * peer OSDs, park requests that need a newer map, and shut down cleanly on
 * SIGTERM (mark itself down, drain ops, close the store).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bs/msg_types.h"
#include "osd.h"

static void boot_send(struct osd *osd);
static void map_fetch(struct osd *osd);

/* A background store op (recovery, scrub, strays) completed. */
void osd_bg_done(struct osd *osd)
{
	if (osd->bg_ops)
		osd->bg_ops--;
}

/* Peers */

bool osd_is_up(const struct osd *osd, int32_t id)
{
	const struct bs_osdmap_osd *o = bs_osdmap_osd(osd->map, id);

	return o && o->up;
}

/*
 * Forget @p's connection.  Closing it fails its calls, whose callbacks
 * may touch PGs and ops: never do that under a caller iterating them, so
 * the close runs on the next turn (or now with @now, at shutdown).
 */
static void peer_drop(struct osd *osd, struct osd_peer *p, bool now)
{
	struct bs_conn *c = p->conn;

	p->conn = NULL;
	bs_free(&p->addr);
	if (!c)
		return;
	if (now) {
		bs_conn_close(c);
		bs_conn_put(c);
		return;
	}
	if (osd->n_dead == osd->dead_cap) {
		osd->dead_cap = osd->dead_cap ? osd->dead_cap * 2 : 16;
		osd->dead = bs_xrealloc(osd->dead,
					osd->dead_cap * sizeof(*osd->dead));
	}
	osd->dead[osd->n_dead++] = c;
	bs_loop_defer(osd->loop, &osd->dead_task);
}

static void dead_close(struct bs_task *t)
{
	struct osd *osd = container_of(t, struct osd, dead_task);

	while (osd->n_dead) {
		struct bs_conn *c = osd->dead[--osd->n_dead];

		bs_conn_close(c);
		bs_conn_put(c);
	}
}

struct bs_conn *osd_peer_conn(struct osd *osd, int32_t id)
{
	const struct bs_osdmap_osd *o = bs_osdmap_osd(osd->map, id);
	struct bs_error err = { 0 };
	struct osd_peer *p;

	if (!o || !o->up || !*o->addr || id < 0 || id > OSD_MAX_ID)
		return NULL;
	if ((unsigned)id >= osd->n_peers) {
		unsigned n = BS_MAX((unsigned)id + 1, osd->n_peers * 2);

		osd->peers = bs_xrealloc(osd->peers, n * sizeof(*osd->peers));
		memset(osd->peers + osd->n_peers, 0,
		       (n - osd->n_peers) * sizeof(*osd->peers));
		osd->n_peers = n;
	}
	p = &osd->peers[id];
	if (p->conn && !strcmp(p->addr, o->addr))
		return p->conn;
	peer_drop(osd, p, false);
	if (bs_msgr_connect(osd->msgr, o->addr, &p->conn, &err)) {
		bs_warn_rl(&osd->rl, "cannot connect to osd.%d: %s", id,
			   err.msg);
		return NULL;
	}
	p->addr = bs_xstrdup(o->addr);
	return p->conn;
}

/* Close connections to OSDs that went down or moved: fails their calls. */
static void peers_update(struct osd *osd)
{
	for (unsigned i = 0; i < osd->n_peers; i++) {
		struct osd_peer *p = &osd->peers[i];
		const struct bs_osdmap_osd *o;

		if (!p->conn)
			continue;
		o = bs_osdmap_osd(osd->map, (int32_t)i);
		if (!o || !o->up || strcmp(o->addr, p->addr)) {
			bs_info("closing the connection to osd.%u (%s at epoch %"
				PRIu64 ")", i, o && o->up ? "moved" : "down",
				osd->map->epoch);
			peer_drop(osd, p, false);
		}
	}
}

static void peers_free(struct osd *osd, bool now)
{
	for (unsigned i = 0; i < osd->n_peers; i++)
		peer_drop(osd, &osd->peers[i], now);
	bs_free(&osd->peers);
	osd->n_peers = 0;
	if (now) {
		dead_close(&osd->dead_task);
		bs_free(&osd->dead);
		osd->dead_cap = 0;
	}
}

/* Waiting for a map */

static void ready_run(struct bs_task *t)
{
	struct osd *osd = container_of(t, struct osd, ready_task);
	struct osd_list list;

	/* ops resumed now may queue themselves again: take this batch */
	osd_list_init(&list);
	if (!osd_list_empty(&osd->ready)) {
		list = osd->ready;
		list.next->prev = &list;
		list.prev->next = &list;
		osd_list_init(&osd->ready);
	}
	while (!osd_list_empty(&list)) {
		struct osd_op *op = container_of(list.next, struct osd_op,
						 link);

		osd_list_del(&op->link);
		op->state = OP_NEW;
		op_resume(op);
	}
}

void osd_resume_later(struct osd_op *op)
{
	struct osd *osd = op->osd;

	osd_list_del(&op->link);
	op->state = OP_READY;
	osd_list_add_tail(&osd->ready, &op->link);
	bs_loop_defer(osd->loop, &osd->ready_task);
}

static bool map_ok_for(const struct osd *osd, const struct osd_op *op)
{
	return osd->active && osd->map && osd->map->epoch >= op->need_epoch;
}

void osd_wait_map(struct osd_op *op)
{
	struct osd *osd = op->osd;

	if (osd->stopping) {
		op_reply_error(op, -EAGAIN, "%s is shutting down", osd->name);
		return;
	}
	op->state = OP_WAIT_MAP;
	op->deadline_ms = bs_now_ms() + osd->conf.map_wait_timeout;
	osd_list_add_tail(&osd->map_waiters, &op->link);
	if (osd->active && osd->map && op->need_epoch > osd->map->epoch)
		map_fetch(osd);
}

static void map_waiters_run(struct osd *osd, uint64_t now_ms)
{
	struct osd_list *l, *next;

	for (l = osd->map_waiters.next; l != &osd->map_waiters; l = next) {
		struct osd_op *op = container_of(l, struct osd_op, link);

		next = l->next;
		if (map_ok_for(osd, op)) {
			osd_resume_later(op);
		} else if (osd->stopping || now_ms >= op->deadline_ms) {
			osd_list_del(&op->link);
			if (osd->stopping)
				op_reply_error(op, -EAGAIN,
					       "%s is shutting down",
					       osd->name);
			else if (!osd->active)
				op_reply_error(op, -EAGAIN,
					       "%s is not up in the map yet",
					       osd->name);
			else
				op_reply_error(op, -EAGAIN,
					       "%s has map epoch %" PRIu64 " but the request needs %" PRIu64,
					       osd->name, osd->map->epoch,
					       op->need_epoch);
		}
	}
}

/* The map */

static void update_self(struct osd *osd)
{
	const struct bs_osdmap_osd *self = bs_osdmap_osd(osd->map, osd->id);
	bool up = self && self->up && osd->boot_epoch &&
		  self->up_from >= osd->boot_epoch;

	if (up && !osd->active) {
		osd->active = true;
		bs_notice("active at map epoch %" PRIu64 " (up since %" PRIu64
			  ")", osd->map->epoch, self->up_from);
	} else if (!up && osd->active) {
		osd->active = false;
		if (osd->stopping)
			return;
		bs_warn("map epoch %" PRIu64 " marks %s down: booting again",
			osd->map->epoch, osd->name);
		osd->boot_epoch = 0;
		osd->boot_retry_ms = 0;
		boot_send(osd);
	}
}

/* The maps of past epochs (for past intervals), from @cm's history. */
static void hist_update(struct osd *osd, const Bs__ClusterMap *cm)
{
	struct bs_error err = { 0 };
	struct bs_map_history h;

	if (bs_map_history_build(&h, cm, 0, &osd->hist, &err))
		bs_err("map epoch %" PRIu64 ": cannot rebuild the past maps: %s",
		       cm->epoch, err.msg);
	bs_map_history_release(&osd->hist);
	osd->hist = h;
}

static void map_apply(struct osd *osd, const Bs__ClusterMap *cm)
{
	struct bs_error err = { 0 };
	struct bs_osdmap *map;
	uint64_t prev = osd->map ? osd->map->epoch : 0;

	if (!cm || cm->epoch <= prev)
		return;
	if (bs_osdmap_new(&map, cm, &err)) {
		bs_err("cannot use map epoch %" PRIu64 ": %s", cm->epoch,
		       err.msg);
		return;
	}
	bs_osdmap_put(&osd->map);
	osd->map = map;
	hist_update(osd, cm);
	bs_info("map epoch %" PRIu64 ": %u osds, %u pools", map->epoch,
		map->n_osds, map->n_pools);
	update_self(osd);
	pg_map_changed(osd);
	peers_update(osd);
	map_waiters_run(osd, bs_now_ms());
}

static void map_cb(void *opaque, const Bs__ClusterMap *cm)
{
	map_apply(opaque, cm);
}

static void fetch_cb(void *opaque, int res, struct bs_msg *reply,
		     const struct bs_error *err)
{
	struct osd *osd = opaque;

	osd->fetching_map = false;
	if (res) {
		bs_warn_rl(&osd->rl, "cannot fetch the map: %s",
			   err && err->msg[0] ? err->msg : strerror(-res));
		return;
	}
	if (reply->hdr.type == BS_MSG_MON_MAP)
		map_apply(osd, (const Bs__ClusterMap *)reply->body);
	bs_msg_free(reply);
}

/* Ask the mons for the current map (a request named a newer epoch). */
static void map_fetch(struct osd *osd)
{
	Bs__GetMap gm = BS__GET_MAP__INIT;

	if (osd->fetching_map || osd->stopping)
		return;
	gm.have_epoch = osd->map ? osd->map->epoch : 0;
	osd->fetch_ms = bs_now_ms();
	if (!bs_monc_call(osd->monc, BS_MSG_MON_GET_MAP, &gm.base, fetch_cb,
			  osd))
		osd->fetching_map = true;
}

/* Boot */

static void boot_cb(void *opaque, int res, struct bs_msg *reply,
		    const struct bs_error *err)
{
	struct osd *osd = opaque;
	const Bs__MonCommandReply *r;

	osd->booting = false;
	if (osd->stopping) {
		bs_msg_free(reply);
		return;
	}
	if (res) {
		bs_warn("cannot boot: %s; retrying",
			err && err->msg[0] ? err->msg : strerror(-res));
		osd->boot_retry_ms = bs_now_ms() + OSD_BOOT_RETRY_MS;
		return;
	}
	r = (const Bs__MonCommandReply *)reply->body;
	osd->boot_epoch = r->epoch;
	bs_notice("booted at %s, host %s: up at map epoch %" PRIu64,
		  bs_msgr_listen_addr(osd->msgr), osd->conf.host, r->epoch);
	bs_msg_free(reply);
	if (osd->map)
		update_self(osd);
	if (!osd->active) {
		map_fetch(osd);
		return;
	}
	pg_map_changed(osd);
	map_waiters_run(osd, bs_now_ms());
}

static void boot_send(struct osd *osd)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdBoot b = BS__OSD_BOOT__INIT;

	if (osd->booting || osd->stopping)
		return;
	b.id = (uint32_t)osd->id;
	b.addr = (char *)bs_msgr_listen_addr(osd->msgr);
	b.host = osd->conf.host;
	b.rack = osd->conf.rack ? osd->conf.rack : "";
	b.site = osd->conf.site ? osd->conf.site : "";
	b.weight = osd->conf.weight ? osd->conf.weight : osd->capacity;
	b.sends_beacons = true;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_BOOT;
	cmd.osd_boot = &b;
	if (bs_monc_command(osd->monc, &cmd, boot_cb, osd)) {
		osd->boot_retry_ms = bs_now_ms() + OSD_BOOT_RETRY_MS;
		return;
	}
	osd->booting = true;
}

/* Shutdown */

static void mark_down_cb(void *opaque, int res, struct bs_msg *reply,
			 const struct bs_error *err)
{
	struct osd *osd = opaque;

	osd->marked_down = true;
	if (res)
		bs_warn("cannot mark %s down: %s", osd->name,
			err && err->msg[0] ? err->msg : strerror(-res));
	bs_msg_free(reply);
}

static void osd_stop(struct osd *osd)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdMark m = BS__OSD_MARK__INIT;

	if (osd->stopping)
		return;
	bs_notice("shutting down (%u ops in flight)", osd->ops_live);
	osd->stopping = true;
	osd->stop_start_ms = bs_now_ms();
	map_waiters_run(osd, osd->stop_start_ms);
	pg_fail_waiting(osd, -EAGAIN, "is shutting down");
	rep_expire(osd, osd->stop_start_ms);
	if (!osd->active) {
		osd->marked_down = true;
		return;
	}
	m.id = (uint32_t)osd->id;
	m.how = BS__OSD_MARK_HOW__MARK_DOWN;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_MARK;
	cmd.osd_mark = &m;
	if (bs_monc_command(osd->monc, &cmd, mark_down_cb, osd))
		osd->marked_down = true;
}

static void stop_progress(struct osd *osd, uint64_t now_ms)
{
	uint64_t elapsed = now_ms - osd->stop_start_ms;

	if (!osd->ops_live && !osd->bg_ops &&
	    (osd->marked_down || elapsed >= OSD_MARK_DOWN_MS)) {
		bs_loop_stop(osd->loop);
		return;
	}
	if (elapsed >= OSD_STOP_DRAIN_MS && osd->n_peers) {
		bs_warn("%u ops still in flight after %u ms: cancelling their replica writes",
			osd->ops_live, OSD_STOP_DRAIN_MS);
		peers_free(osd, false);
	}
	if (elapsed >= OSD_STOP_DRAIN_MS + 2000) {
		bs_err("%u ops did not finish: exiting anyway", osd->ops_live);
		osd->exit_code = 1;
		bs_loop_stop(osd->loop);
	}
}

/* Signals and the tick */

/*
 * SIGTERM/SIGINT: a process-wide handler writes the signal number to a
 * pipe the loop polls, since threads we do not own (RocksDB's, the
 * sanitizers') may receive the signal.
 */
static int sig_pipe_w = -1;

static void sig_handler(int signo)
{
	int saved = errno;
	char c = (char)signo;

	if (write(sig_pipe_w, &c, 1) < 0) {
		/* full: a signal is already pending */
	}
	errno = saved;
}

static void sig_cb(struct bs_op *op, int res)
{
	struct osd *osd = container_of(op, struct osd, sig_op);
	char c;

	if (res < 0 || osd->sig_fd < 0)
		return;
	while (read(osd->sig_fd, &c, 1) == 1) {
		bs_notice("%s received", strsignal(c));
		osd_stop(osd);
	}
	bs_loop_poll_fd(osd->loop, &osd->sig_op, osd->sig_fd, POLLIN);
}

static void tick_cb(struct bs_op *op, int res)
{
	struct osd *osd = container_of(op, struct osd, tick_op);
	uint64_t now = bs_now_ms();

	if (res == -ECANCELED || osd->sig_fd < 0)
		return;
	if (!osd->boot_epoch && !osd->booting && !osd->stopping &&
	    now >= osd->boot_retry_ms)
		boot_send(osd);
	map_waiters_run(osd, now);
	if (!osd_list_empty(&osd->map_waiters) && osd->active &&
	    now - osd->fetch_ms >= 1000)
		map_fetch(osd);
	rep_expire(osd, now);
	heartbeat_tick(osd, now);
	if (osd->active && !osd->stopping) {
		peering_tick(osd, now);
		recovery_tick(osd, now);
		peer_tick(osd, now);
		scrub_tick(osd, now);
	}
	if (osd->stopping)
		stop_progress(osd, now);
	bs_loop_timer(osd->loop, &osd->tick_op, OSD_TICK_MS);
}

static int signals_setup(struct osd *osd, struct bs_error *err)
{
	struct sigaction sa;
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
		return bs_error_errno(err, -errno, "cannot create a pipe");
	osd->sig_fd = fds[0];
	sig_pipe_w = fds[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		return bs_error_errno(err, -errno, "cannot handle signals");
	osd->sig_op.fn = sig_cb;
	bs_loop_poll_fd(osd->loop, &osd->sig_op, osd->sig_fd, POLLIN);
	return 0;
}

/* Messenger callbacks */

static void on_request(void *opaque, struct bs_conn *conn,
		       struct bs_msg *msg)
{
	osd_dispatch(opaque, conn, msg);
}

static void on_close(void *opaque, struct bs_conn *conn, int reason)
{
	(void)reason;
	heartbeat_conn_closed(opaque, conn);
}

static const struct bs_msgr_ops osd_msgr_ops = {
	.on_request = on_request,
	.on_close = on_close,
};

/* Life */

int osd_mkfs(struct osd *osd, struct bs_error *err)
{
	const char *path = osd->conf.data_path;
	uint64_t size = osd->conf.osd_size;
	struct stat st;
	int ret;

	if (!stat(path, &st) && S_ISBLK(st.st_mode))
		size = 0;	/* all of the device */
	ret = store_mkfs_zero(path, osd->conf.meta_dir, size,
			      osd->conf.journal_size, osd->conf.mkfs_zero, err);
	if (ret)
		return bs_error_prefix(err, "%s: mkfs: ", osd->name);
	bs_notice("formatted %s (metadata in %s)", path,
		  osd->conf.meta_dir ? osd->conf.meta_dir : "data_path.meta");
	return 0;
}

/* The mon addresses: --mon-host if given, else from the file. */
static int mon_addrs(struct osd *osd, const struct bs_conf *conf,
		     char ***addrs, unsigned *n, struct bs_error *err)
{
	struct bs_conf *tmp = NULL;
	char *text;
	int ret;

	if (!osd->global.mon_host)
		return bs_monc_conf_addrs(conf, addrs, n, err);
	if (asprintf(&text, "[global]\nmon_host = %s\n",
		     osd->global.mon_host) < 0)
		return -ENOMEM;
	ret = bs_conf_load_string(&tmp, "--mon-host", text, err);
	free(text);
	if (!ret)
		ret = bs_monc_conf_addrs(tmp, addrs, n, err);
	bs_conf_free(&tmp);
	return ret;
}

int osd_start(struct osd *osd, const struct bs_conf *conf,
	      struct bs_error *err)
{
	struct store_opts so = { 0 };
	struct store_usage u;
	char **addrs = NULL;
	unsigned n_addrs;
	void *z;
	int ret;

	osd->sig_fd = -1;
	osd->rl = (struct bs_ratelimit)BS_RATELIMIT_INIT;
	osd_list_init(&osd->map_waiters);
	osd_list_init(&osd->timed);
	osd_list_init(&osd->ready);
	osd_list_init(&osd->rec_pgs);
	osd->ready_task.fn = ready_run;
	osd->dead_task.fn = dead_close;
	osd->tick_op.fn = tick_cb;
	z = mmap(NULL, STORE_MAX_OBJECT_SIZE, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (z == MAP_FAILED)
		return bs_error_errno(err, -errno, "cannot map zeros");
	osd->zeros = z;
	ret = bs_loop_new(&osd->loop, 0);
	if (ret)
		return bs_error_errno(err, ret, "cannot create the event loop");

	so.path = osd->conf.data_path;
	so.meta_dir = osd->conf.meta_dir;
	so.dsync = osd->conf.dsync;
	ret = store_open(&osd->store, osd->loop, &so, err);
	if (ret)
		return bs_error_prefix(err, "cannot open the store (did you run 'basalt-osd --id %d --mkfs'?): ",
				       osd->id);
	store_usage(osd->store, &u);
	osd->capacity = u.capacity;
	bs_notice("store %s: %" PRIu64 " bytes, %" PRIu64 " objects",
		  osd->conf.data_path, u.capacity, u.objects);

	ret = bs_msgr_new(&osd->msgr, osd->loop, &osd_msgr_ops, osd);
	if (ret)
		return bs_error_errno(err, ret, "cannot create the messenger");
	ret = bs_msgr_listen(osd->msgr, osd->conf.addr, err);
	if (ret)
		return ret;

	ret = mon_addrs(osd, conf, &addrs, &n_addrs, err);
	if (!ret)
		ret = bs_monc_new(&osd->monc, osd->loop,
				  (const char *const *)addrs, n_addrs, err);
	bs_monc_addrs_free(&addrs);
	if (ret)
		return ret;
	ret = bs_monc_subscribe(osd->monc, 0, map_cb, osd);
	if (ret)
		return bs_error_errno(err, ret, "cannot subscribe to the map");
	ret = signals_setup(osd, err);
	if (ret)
		return ret;
	boot_send(osd);
	bs_loop_timer(osd->loop, &osd->tick_op, OSD_TICK_MS);
	bs_notice("listening on %s", bs_msgr_listen_addr(osd->msgr));
	return 0;
}

int osd_run(struct osd *osd)
{
	int ret = bs_loop_run(osd->loop);

	if (ret) {
		bs_err("event loop failed: %s", strerror(-ret));
		return 1;
	}
	return osd->exit_code;
}

void osd_release(struct osd *osd)
{
	bool idle = !osd->ops_live && !osd->bg_ops;

	if (osd->sig_fd >= 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		close(sig_pipe_w);
		sig_pipe_w = -1;
		close(osd->sig_fd);
		osd->sig_fd = -1;	/* tick and signal callbacks stop */
	}
	peers_free(osd, true);
	bs_monc_free(&osd->monc);
	bs_msgr_free(&osd->msgr);
	heartbeat_release(osd);
	if (idle) {
		/* with ops stuck, their store ops may still be pending */
		pg_free_all(osd);
		osd_obj_free_all(osd);
		op_free_cache(osd);
		osd_buf_release(osd);
		ec_release(osd);
		store_close(&osd->store);
		bs_free(&osd->stats);
		bs_osdmap_put(&osd->map);
		bs_map_history_release(&osd->hist);
		bs_loop_free(&osd->loop);
	}
	if (osd->zeros) {
		munmap((void *)osd->zeros, STORE_MAX_OBJECT_SIZE);
		osd->zeros = NULL;
	}
}
