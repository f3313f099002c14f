// SPDX-License-Identifier: Apache-2.0
/*
 * libbasalt's cluster handle: basalt_connect() reads the configuration,
 * starts the I/O thread (one bs_loop running the mon client and the OSD
 * messenger) and waits for the first cluster map; each new map is turned
 * into a bs_osdmap for placement.  basalt_disconnect() closes what is
 * still open and joins the thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basalt_int.h"
#include "bs/conf.h"
#include "bs/log.h"
#include "bs/msg_types.h"
#include "bs/parse.h"
#include "proto/osd.pb-c.h"

/* Extra time connect() grants the mon client before giving up itself. */
#define CONNECT_SLACK_MS	5000
#define DEFAULT_MAX_PIECE	(4u << 20)

/* [client] keys libbasalt reads (durations); see docs/libbasalt.md. */
struct client_key {
	const char *name;
	uint64_t def, min, max;
	size_t offset;
};

static const struct client_key client_keys[] = {
	{ "client_mon_timeout", 15000, 1000, 3600000,
	  offsetof(struct basalt_cluster, mon_timeout_ms) },
	{ "client_close_grace", 5000, 0, 3600000,
	  offsetof(struct basalt_cluster, close_grace_ms) },
};

static int read_client_conf(struct basalt_cluster *c,
			    const struct bs_conf *conf, struct bs_error *err)
{
	char lo[24], hi[24];
	const char *v;
	uint64_t ms;
	size_t i;
	int line, ret;

	for (i = 0; i < ARRAY_SIZE(client_keys); i++) {
		const struct client_key *k = &client_keys[i];
		uint64_t *field = (uint64_t *)((char *)c + k->offset);

		*field = k->def;
		v = bs_conf_get(conf, "client", k->name, &line);
		if (!v)
			continue;
		ret = bs_parse_duration_ms(k->name, v, &ms, err);
		if (ret)
			return bs_error_prefix(err, "%s:%d: ", bs_conf_path(conf),
					       line);
		if (ms < k->min || ms > k->max)
			return bs_error_set(err, -EINVAL,
					    "%s:%d: '%s': '%s' must be between %s and %s",
					    bs_conf_path(conf), line, k->name,
					    v,
					    bs_format_duration_ms(k->min, lo,
								  sizeof(lo)),
					    bs_format_duration_ms(k->max, hi,
								  sizeof(hi)));
		*field = ms;
	}
	return 0;
}

/*
 * The library never prints.  BASALT_LOG=LEVEL (and BASALT_DEBUG=LIST)
 * turn the common code's log lines on, to stderr, for debugging.
 */
static void log_setup_once(void)
{
	const char *lvl = getenv("BASALT_LOG");
	const char *dbg = getenv("BASALT_DEBUG");
	unsigned mask = 0;
	int level;

	if (lvl && *lvl && bs_log_parse_level(lvl, &level) == 0) {
		bs_log_init("libbasalt", level);
		if (dbg && *dbg && bs_log_parse_debug(dbg, &mask) == 0)
			bs_log_debug_mask = mask;
		return;
	}
	bs_log_level = 0;	/* below BS_LOG_ERR: nothing */
	bs_log_debug_mask = 0;
}

static void log_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, log_setup_once);
}

bool cluster_on_io_thread(const struct basalt_cluster *c)
{
	return c->thread_started && pthread_equal(c->thread, pthread_self());
}

int cluster_check(const struct basalt_cluster *c)
{
	if (!c || c->magic != CLUSTER_MAGIC)
		return lib_set_error(-EINVAL,
				     "not a connected cluster handle (NULL or disconnected)");
	return 0;
}

/* ---- the first map ---- */

static void connect_finish(struct basalt_cluster *c, int res,
			   const struct bs_error *err)
{
	pthread_mutex_lock(&c->lock);
	if (!c->connect_done) {
		c->connect_done = true;
		c->connect_res = res;
		if (res && err)
			c->connect_err = *err;
		pthread_cond_signal(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
}

static void install_map(struct basalt_cluster *c, const Bs__ClusterMap *cm)
{
	struct bs_error err = { 0 };
	struct bs_osdmap *m;
	int ret;

	if (c->exit || (c->map && cm->epoch <= c->map->epoch))
		return;
	ret = bs_osdmap_new(&m, cm, &err);
	if (ret) {
		bs_error_prefix(&err, "cannot use the cluster map of epoch %" PRIu64 ": ",
				cm->epoch);
		bs_warn("%s", err.msg);
		if (!c->map)
			connect_finish(c, ret, &err);
		return;
	}
	bs_osdmap_put(&c->map);
	c->map = m;
	bs_dbg(BS_SUB_CLIENT, "libbasalt: map epoch %" PRIu64, m->epoch);
	objecter_map_changed(c);
	connect_finish(c, 0, NULL);
}

static void map_cb(void *opaque, const Bs__ClusterMap *cm)
{
	install_map(opaque, cm);
}

static void get_map_cb(void *opaque, int res, struct bs_msg *reply,
		       const struct bs_error *err)
{
	struct basalt_cluster *c = opaque;

	if (res) {
		if (!c->map)
			connect_finish(c, res, err);
		return;
	}
	install_map(c, (const Bs__ClusterMap *)reply->body);
	bs_msg_free(reply);
}

/* ---- OSD messenger: OSDs only answer; they send us nothing ---- */

static void osd_on_request(void *opaque, struct bs_conn *conn,
			   struct bs_msg *msg)
{
	if (msg->hdr.req_id)
		bs_conn_reply_error(conn, msg, -EOPNOTSUPP,
				    "a libbasalt client takes no requests");
	bs_msg_free(msg);
}

static const struct bs_msgr_ops osd_msgr_ops = {
	.on_request = osd_on_request,
};

/* ---- the retry and close timer ---- */

static void tick_cb(struct bs_op *op, int res)
{
	struct basalt_cluster *c = container_of(op, struct basalt_cluster,
						tick_op);
	struct bs_list *l, *next;
	bool closing = false;
	uint64_t now;

	if (c->exit)
		return;
	objecter_sweep(c);
	now = bs_now_ms();
	for (l = c->volumes.next; l != &c->volumes; l = next) {
		struct basalt_volume *vol = container_of(l,
				struct basalt_volume, link);

		next = l->next;
		if (!vol->close_started || vol->cancelled)
			continue;
		if (now >= vol->close_deadline)
			volume_cancel(vol);	/* may free vol */
		else
			closing = true;
	}
	if (!bs_list_empty(&c->waiting) || closing)
		cluster_arm_tick(c);
}

void cluster_arm_tick(struct basalt_cluster *c)
{
	if (c->exit || bs_op_busy(&c->tick_op))
		return;
	bs_loop_timer(c->loop, &c->tick_op, TICK_MS);
}

/* ---- shutdown ---- */

void cluster_stop(struct basalt_cluster *c)
{
	if (c->stopping)
		return;
	c->stopping = true;
	objecter_cancel(c, NULL);
	c->exit = true;
}

static void shutdown_task_fn(struct bs_task *t)
{
	struct basalt_cluster *c = container_of(t, struct basalt_cluster,
						shutdown_task);
	struct bs_list *l, *next;

	c->shutting_down = true;
	for (l = c->volumes.next; l != &c->volumes; l = next) {
		struct basalt_volume *vol = container_of(l,
				struct basalt_volume, link);

		next = l->next;
		if (!vol->close_started)
			volume_close_begin(vol, NULL);	/* may free vol */
	}
	if (bs_list_empty(&c->volumes))
		cluster_stop(c);
}

/* On the I/O thread, outside any turn: let everything finish. */
static void teardown(struct basalt_cluster *c)
{
	unsigned spins;

	c->stopping = true;
	c->exit = true;
	objecter_close_all(c);
	bs_msgr_free(&c->msgr);
	bs_monc_free(&c->monc);
	if (bs_op_busy(&c->tick_op))
		bs_loop_cancel(c->loop, &c->tick_op);
	for (spins = 0; bs_op_busy(&c->tick_op) && spins < 500; spins++)
		bs_loop_run_once(c->loop, 10);
	/* pieces that were waiting fail now (stopping) */
	objecter_sweep(c);
	objecter_free(c);
	bs_osdmap_put(&c->map);
}

static void *io_thread(void *arg)
{
	struct basalt_cluster *c = arg;
	unsigned failures = 0;
	int ret;

	while (!c->exit) {
		ret = bs_loop_run_once(c->loop, -1);
		if (ret >= 0 || ret == -EINTR) {
			failures = 0;
			continue;
		}
		/* the ring itself failed: back off rather than spin */
		if (++failures > 3) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	teardown(c);
	return NULL;
}

static int start_thread(struct basalt_cluster *c)
{
	sigset_t all, old;
	int ret;

	/* the I/O thread takes no signals: they belong to the application */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&c->thread, NULL, io_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	c->thread_started = true;
	return 0;
}

static void cluster_free(struct basalt_cluster *c)
{
	struct request *r;

	if (!c->thread_started) {
		/* never ran: free what setup made, from here */
		bs_monc_free(&c->monc);
		bs_msgr_free(&c->msgr);
		objecter_free(c);
	}
	bs_loop_free(&c->loop);
	bs_monc_addrs_free(&c->mon_addrs);
	while ((r = c->free_reqs)) {
		c->free_reqs = r->next_free;
		free(r);
	}
	pthread_mutex_destroy(&c->pool_lock);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	c->magic = 0;
	free(c);
}

static uint64_t osd_op_max_data(void)
{
	const struct bs_msg_type_info *op = bs_msg_type_find(BS_MSG_OSD_OP);
	const struct bs_msg_type_info *rep =
		bs_msg_type_find(BS_MSG_OSD_OP_REPLY);
	uint64_t max = 0;

	if (op && op->max_data)
		max = op->max_data;
	if (rep && rep->max_data && (!max || rep->max_data < max))
		max = rep->max_data;
	return max ? max : DEFAULT_MAX_PIECE;
}

static int cluster_setup(struct basalt_cluster *c, const char *conf_path,
			 struct bs_error *err)
{
	Bs__GetMap gm = BS__GET_MAP__INIT;
	struct bs_conf *conf = NULL;
	pthread_condattr_t attr;
	size_t off = 0;
	unsigned i;
	int ret;

	c->magic = CLUSTER_MAGIC;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&c->pool_lock, NULL);
	bs_list_init(&c->closing_sessions);
	bs_list_init(&c->waiting);
	bs_list_init(&c->volumes);
	c->shutdown_task.fn = shutdown_task_fn;
	c->tick_op.fn = tick_cb;
	c->max_piece = osd_op_max_data();
	objecter_init(c);

	ret = bs_conf_load(&conf, bs_conf_default_path(conf_path), err);
	if (ret)
		return ret;
	ret = bs_monc_conf_addrs(conf, &c->mon_addrs, &c->n_mons, err);
	if (!ret)
		ret = read_client_conf(c, conf, err);
	bs_conf_free(&conf);
	if (ret)
		return ret;
	for (i = 0; i < c->n_mons && off < sizeof(c->mon_list); i++)
		off += (size_t)snprintf(c->mon_list + off,
					sizeof(c->mon_list) - off, "%s%s",
					i ? ", " : "", c->mon_addrs[i]);

	ret = bs_loop_new(&c->loop, 0);
	if (ret)
		return bs_error_errno(err, ret, "cannot create an event loop");
	ret = bs_msgr_new(&c->msgr, c->loop, &osd_msgr_ops, c);
	if (ret)
		return bs_error_errno(err, ret, "cannot create a messenger");
	ret = bs_monc_new(&c->monc, c->loop,
			  (const char *const *)c->mon_addrs, c->n_mons, err);
	if (ret)
		return ret;
	bs_monc_set_timeout(c->monc, c->mon_timeout_ms);
	ret = bs_monc_subscribe(c->monc, 0, map_cb, c);
	if (!ret)
		ret = bs_monc_call(c->monc, BS_MSG_MON_GET_MAP, &gm.base,
				   get_map_cb, c);
	if (ret)
		return bs_error_errno(err, ret, "cannot ask the monitors for the cluster map");
	ret = start_thread(c);
	if (ret)
		return bs_error_errno(err, ret, "cannot start the I/O thread");
	return 0;
}

/* Wait for the first map, bounded by the mon timeout and some slack. */
static int wait_first_map(struct basalt_cluster *c, struct bs_error *err)
{
	uint64_t ms = c->mon_timeout_ms + CONNECT_SLACK_MS;
	struct timespec ts;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while (!c->connect_done && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	if (!c->connect_done) {
		c->connect_done = true;
		c->connect_res = bs_error_set(&c->connect_err, -EHOSTUNREACH,
					      "no monitor at %s sent the cluster map within %" PRIu64
					      " ms: is the cluster running?",
					      c->mon_list, ms);
	}
	ret = c->connect_res;
	if (ret) {
		*err = c->connect_err;
		if (!err->code)
			bs_error_set(err, ret, "cannot connect to the monitors at %s: %s",
				     c->mon_list, strerror(-ret));
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static void cluster_shutdown(struct basalt_cluster *c)
{
	if (c->thread_started) {
		bs_loop_post(c->loop, &c->shutdown_task);
		pthread_join(c->thread, NULL);
	}
	cluster_free(c);
}

BASALT_EXPORT int basalt_connect(const char *conf_path,
				 struct basalt_cluster **out)
{
	struct bs_error err = { 0 };
	struct basalt_cluster *c;
	int ret;

	if (!out)
		return lib_set_error(-EINVAL, "basalt_connect: @out is NULL");
	*out = NULL;
	log_setup();
	c = calloc(1, sizeof(*c));
	if (!c)
		return lib_set_error(-ENOMEM, "out of memory");
	ret = cluster_setup(c, conf_path, &err);
	if (!ret)
		ret = wait_first_map(c, &err);
	if (ret) {
		if (!err.code)
			bs_error_set(&err, ret, "%s", strerror(-ret));
		cluster_shutdown(c);
		return lib_set_bs_error(&err);
	}
	*out = c;
	return 0;
}

BASALT_EXPORT void basalt_disconnect(struct basalt_cluster *c)
{
	if (!c || c->magic != CLUSTER_MAGIC)
		return;
	if (cluster_on_io_thread(c)) {
		lib_set_error(-EDEADLK,
			      "basalt_disconnect() called from a completion callback: the cluster stays connected");
		return;
	}
	c->magic = 0;
	cluster_shutdown(c);
}
