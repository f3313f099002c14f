// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-mon-fake-osd: drives the mons' failure handling without a real
 * OSD, for tests/cluster/test_mon_osd_failure.sh and by hand.
 *
 *   osd    -c CONF --id N [--host H] [--no-beacons]
 *          a fake OSD: boots, follows the map, sends a beacon every
 *          osd_heartbeat_interval with the PGs it is primary of
 *          (active+clean, or active+undersized+degraded when a member is
 *          down) and boots again when it finds itself marked down; runs
 *          until SIGTERM/SIGINT.  This is also the reference for what
 *          basalt-osd does (see /work/notes/osd-mon-interface.md).
 *   report -c CONF --reporter R --target T [--failed-for MS]
 *          [--immediate] [--alive]      one failure report
 *   status -c CONF                      ClusterStatus as KEY=VALUE lines
 *   pgs    -c CONF [--pool P] [--osd N] one line per PG
 *   mark   -c CONF --id N down|out|in   an OsdMark
 *   add    -c CONF [--id N]             OsdAdd; prints the id
 *   rm     -c CONF --id N [--force]     OsdRm
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs/conf_global.h"
#include "bs/log.h"
#include "bs/monc.h"
#include "bs/msg_types.h"
#include "bs/osdmap.h"
#include "bs/parse.h"

struct opts {
	const char *cmd, *conf, *host, *pool, *how;
	int64_t id, reporter, target, osd;
	uint64_t failed_for;
	bool immediate, alive, force, no_beacons;
};

struct fake {
	struct bs_monc *monc;
	struct bs_global_conf *g;
	struct opts *o;
	struct bs_osdmap *map;
	uint64_t up_from;
	bool booting, need_boot;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void __attribute__((noreturn))
die(const char *what, const struct bs_error *err, int ret)
{
	fprintf(stderr, "basalt-mon-fake-osd: %s: %s\n", what,
		err && err->msg[0] ? err->msg : strerror(-ret));
	exit(1);
}

/* ---- the fake OSD ---- */

static void boot_cb(void *opaque, int res, struct bs_msg *reply,
		    const struct bs_error *err)
{
	struct fake *f = opaque;

	f->booting = false;
	if (res) {
		fprintf(stderr, "osd.%" PRId64 ": boot failed: %s\n", f->o->id,
			err->msg);
		f->need_boot = true;
		return;
	}
	f->up_from = ((Bs__MonCommandReply *)reply->body)->epoch;
	fprintf(stderr, "osd.%" PRId64 ": up from epoch %" PRIu64 "\n",
		f->o->id, f->up_from);
	bs_msg_free(reply);
}

static void boot(struct fake *f)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdBoot b = BS__OSD_BOOT__INIT;
	char addr[32], host[32];

	snprintf(addr, sizeof(addr), "127.0.0.1:%" PRId64, 40000 + f->o->id);
	snprintf(host, sizeof(host), "host-%" PRId64, f->o->id);
	b.id = (uint32_t)f->o->id;
	b.addr = addr;
	b.host = f->o->host ? (char *)f->o->host : host;
	b.weight = 1ull << 30;
	b.sends_beacons = !f->o->no_beacons;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_BOOT;
	cmd.osd_boot = &b;
	f->need_boot = false;
	if (bs_monc_command(f->monc, &cmd, boot_cb, f) == 0)
		f->booting = true;
	else
		f->need_boot = true;
}

static void map_cb(void *opaque, const Bs__ClusterMap *cm)
{
	struct fake *f = opaque;
	struct bs_error err = { 0 };
	const struct bs_osdmap_osd *me;

	if (f->map)
		bs_osdmap_put(&f->map);
	if (bs_osdmap_new(&f->map, cm, &err)) {
		fprintf(stderr, "map %" PRIu64 ": %s\n", cm->epoch, err.msg);
		f->map = NULL;
		return;
	}
	me = bs_osdmap_osd(f->map, (int32_t)f->o->id);
	/* wrongly marked down while we run: boot again */
	if (me && !me->up && f->up_from && !f->booting) {
		fprintf(stderr, "osd.%" PRId64 ": marked down at epoch %" PRIu64
			" while alive: booting again\n", f->o->id, cm->epoch);
		f->up_from = 0;
		boot(f);
	}
}

/* The PGs this OSD is primary of, as its beacon reports them. */
static void fill_pgs(struct fake *f, Bs__OsdBeacon *b)
{
	int32_t acting[BS_PLACE_MAX_SIZE];
	unsigned i, k, up;
	uint32_t pg;
	int n;

	b->pgs = NULL;
	b->n_pgs = 0;
	if (!f->map)
		return;
	for (i = 0; i < f->map->n_pools; i++) {
		const struct bs_osdmap_pool *p = &f->map->pools[i];

		for (pg = 0; pg < p->place.pg_num; pg++) {
			Bs__PgStat *s;

			if (bs_osdmap_pg_primary(f->map, p, pg) != f->o->id)
				continue;
			n = bs_osdmap_pg_acting(f->map, p, pg, acting);
			if (n < 0)
				continue;
			s = bs_xmalloc(sizeof(*s));
			bs__pg_stat__init(s);
			s->pool = p->id;
			s->pg = pg;
			s->acting = bs_xcalloc((size_t)n + 1,
					       sizeof(*s->acting));
			for (k = 0, up = 0; k < (unsigned)n; k++) {
				const struct bs_osdmap_osd *o =
					bs_osdmap_osd(f->map, acting[k]);

				s->acting[k] = acting[k];
				up += o && o->up;
			}
			s->n_acting = (size_t)n;
			s->state = BS__PG_STATE_FLAG__PG_ACTIVE;
			if (up >= p->place.size)
				s->state |= BS__PG_STATE_FLAG__PG_CLEAN;
			else if (up >= p->min_size)
				s->state |= BS__PG_STATE_FLAG__PG_UNDERSIZED |
					    BS__PG_STATE_FLAG__PG_DEGRADED;
			else
				s->state = BS__PG_STATE_FLAG__PG_INACTIVE |
					   BS__PG_STATE_FLAG__PG_UNDERSIZED;
			s->activation_epoch = f->map->epoch;
			b->pgs = bs_xrealloc(b->pgs, (b->n_pgs + 1) *
					     sizeof(*b->pgs));
			b->pgs[b->n_pgs++] = s;
		}
	}
}

static void send_beacon(struct fake *f)
{
	Bs__OsdBeacon b = BS__OSD_BEACON__INIT;
	size_t i;

	b.id = (uint32_t)f->o->id;
	b.epoch = f->map ? f->map->epoch : 0;
	b.up_from = f->up_from;
	b.capacity = 1ull << 30;
	b.used = 1ull << 20;
	fill_pgs(f, &b);
	bs_monc_send_beacon(f->monc, &b);
	for (i = 0; i < b.n_pgs; i++) {
		free(b.pgs[i]->acting);
		free(b.pgs[i]);
	}
	free(b.pgs);
}

static int run_osd(struct bs_monc *monc, struct bs_global_conf *g,
		   struct opts *o)
{
	struct fake f = { .monc = monc, .g = g, .o = o };
	uint64_t next = 0, now;

	if (o->id < 0)
		die("osd", NULL, -EINVAL);
	bs_monc_subscribe(monc, 0, map_cb, &f);
	boot(&f);
	while (!stop) {
		now = bs_now_ms();
		if (f.need_boot && !f.booting)
			boot(&f);
		if (!o->no_beacons && now >= next) {
			send_beacon(&f);
			next = now + g->osd_heartbeat_interval;
		}
		bs_loop_run_once(bs_monc_loop(monc), 20);
	}
	if (f.map)
		bs_osdmap_put(&f.map);
	return 0;
}

/* ---- one-shot commands ---- */

static int run_report(struct bs_monc *monc, struct opts *o)
{
	Bs__OsdFailure r = BS__OSD_FAILURE__INIT;
	Bs__ClusterMap *map = NULL;
	struct bs_error err = { 0 };
	uint64_t end;
	int ret;

	ret = bs_monc_get_map_sync(monc, &map, &err);
	if (ret)
		die("get map", &err, ret);
	r.reporter = (uint32_t)o->reporter;
	r.target = (uint32_t)o->target;
	r.epoch = map->epoch;
	r.failed_for_ms = o->failed_for;
	r.immediate = o->immediate;
	r.alive = o->alive;
	bs__cluster_map__free_unpacked(map, NULL);
	ret = bs_monc_send_failure(monc, &r);
	if (ret)
		die("send failure report", NULL, ret);
	/* let the frames go out */
	for (end = bs_now_ms() + 200; bs_now_ms() < end;)
		bs_loop_run_once(bs_monc_loop(monc), 20);
	return 0;
}

static int run_status(struct bs_monc *monc)
{
	Bs__ClusterStatus *st;
	struct bs_error err = { 0 };
	size_t i, j;
	int ret;

	ret = bs_monc_cluster_status_sync(monc, &st, &err);
	if (ret)
		die("status", &err, ret);
	printf("health=%s\nepoch=%" PRIu64 "\nfrom_leader=%d\nleader=%d\n"
	       "quorum=%zu\nosds=%u\nup=%u\nin=%u\npgs=%" PRIu64 "\n"
	       "active_clean=%" PRIu64 "\ndegraded=%" PRIu64 "\n"
	       "undersized=%" PRIu64 "\ninactive=%" PRIu64 "\nunknown=%" PRIu64
	       "\n",
	       st->health, st->epoch, st->from_leader, st->leader_id,
	       st->n_quorum, st->osds_total, st->osds_up, st->osds_in,
	       st->pgs_total, st->pgs_active_clean, st->pgs_degraded,
	       st->pgs_undersized, st->pgs_inactive, st->pgs_unknown);
	for (i = 0; i < st->n_pg_states; i++)
		printf("state %s=%" PRIu64 "\n", st->pg_states[i]->state,
		       st->pg_states[i]->count);
	for (i = 0; i < st->n_checks; i++) {
		printf("check %s %s %s\n", st->checks[i]->severity,
		       st->checks[i]->code, st->checks[i]->message);
		for (j = 0; j < st->checks[i]->n_detail; j++)
			printf("detail %s\n", st->checks[i]->detail[j]);
	}
	bs__cluster_status__free_unpacked(st, NULL);
	return 0;
}

static int run_pgs(struct bs_monc *monc, struct opts *o)
{
	Bs__PgStatList *l;
	struct bs_error err = { 0 };
	size_t i, j;
	int ret;

	ret = bs_monc_pg_list_sync(monc, o->pool, o->osd, &l, &err);
	if (ret)
		die("pg list", &err, ret);
	for (i = 0; i < l->n_pgs; i++) {
		const Bs__PgStatInfo *p = l->pgs[i];

		printf("%u.%x %s primary=%d acting=", p->pool, p->pg, p->state,
		       p->primary);
		for (j = 0; j < p->n_acting; j++)
			printf("%s%d", j ? "," : "", p->acting[j]);
		printf("\n");
	}
	bs__pg_stat_list__free_unpacked(l, NULL);
	return 0;
}

static int run_command(struct bs_monc *monc, struct opts *o)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdMark m = BS__OSD_MARK__INIT;
	Bs__OsdAdd a = BS__OSD_ADD__INIT;
	Bs__OsdRm r = BS__OSD_RM__INIT;
	Bs__MonCommandReply *rep;
	struct bs_error err = { 0 };
	int ret;

	if (!strcmp(o->cmd, "mark")) {
		if (o->id < 0 || !o->how)
			die("mark needs --id N and down|out|in", NULL, -EINVAL);
		m.id = (uint32_t)o->id;
		m.how = !strcmp(o->how, "down") ? BS__OSD_MARK_HOW__MARK_DOWN :
			!strcmp(o->how, "out") ? BS__OSD_MARK_HOW__MARK_OUT :
						  BS__OSD_MARK_HOW__MARK_IN;
		cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_MARK;
		cmd.osd_mark = &m;
	} else if (!strcmp(o->cmd, "add")) {
		a.with_id = o->id >= 0;
		a.id = o->id >= 0 ? (uint32_t)o->id : 0;
		cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_ADD;
		cmd.osd_add = &a;
	} else {
		if (o->id < 0)
			die("rm needs --id N", NULL, -EINVAL);
		r.id = (uint32_t)o->id;
		r.force = o->force;
		cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_RM;
		cmd.osd_rm = &r;
	}
	ret = bs_monc_command_sync(monc, &cmd, &rep, &err);
	if (ret) {
		fprintf(stderr, "basalt-mon-fake-osd: %s\n", err.msg);
		return 1;
	}
	if (!strcmp(o->cmd, "add"))
		printf("%u\n", rep->osd_id);
	else
		printf("%s\n", rep->message);
	bs__mon_command_reply__free_unpacked(rep, NULL);
	return 0;
}

/* ---- main ---- */

static int64_t num(const char *what, const char *s)
{
	struct bs_error err = { 0 };
	uint64_t v;

	if (bs_parse_u64(what, s, &v, &err))
		die("argument", &err, -EINVAL);
	return (int64_t)v;
}

int main(int argc, char **argv)
{
	struct opts o = { .id = -1, .reporter = -1, .target = -1, .osd = -1 };
	struct bs_global_conf g = { 0 };
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;
	struct bs_monc *monc;
	char **addrs = NULL;
	unsigned n = 0;
	int i, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: basalt-mon-fake-osd osd|report|status|pgs|mark|add|rm -c CONF ...\n");
		return 2;
	}
	o.cmd = argv[1];
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--immediate"))
			o.immediate = true;
		else if (!strcmp(a, "--alive"))
			o.alive = true;
		else if (!strcmp(a, "--force"))
			o.force = true;
		else if (!strcmp(a, "--no-beacons"))
			o.no_beacons = true;
		else if (a[0] != '-')
			o.how = a;
		else if (!v)
			die(a, NULL, -EINVAL);
		else if (!strcmp(a, "-c") && ++i)
			o.conf = v;
		else if (!strcmp(a, "--id") && ++i)
			o.id = num("--id", v);
		else if (!strcmp(a, "--host") && ++i)
			o.host = v;
		else if (!strcmp(a, "--pool") && ++i)
			o.pool = v;
		else if (!strcmp(a, "--osd") && ++i)
			o.osd = num("--osd", v);
		else if (!strcmp(a, "--reporter") && ++i)
			o.reporter = num("--reporter", v);
		else if (!strcmp(a, "--target") && ++i)
			o.target = num("--target", v);
		else if (!strcmp(a, "--failed-for") && ++i)
			o.failed_for = (uint64_t)num("--failed-for", v);
		else
			die(a, NULL, -EINVAL);
	}
	bs_log_init("fake-osd", BS_LOG_WARNING);
	ret = bs_conf_load(&conf, bs_conf_default_path(o.conf), &err);
	if (!ret)
		ret = bs_global_conf_load(conf, NULL, &g, NULL, 0, NULL, &err);
	if (!ret)
		ret = bs_monc_conf_addrs(conf, &addrs, &n, &err);
	if (ret)
		die("configuration", &err, ret);
	bs_conf_free(&conf);
	ret = bs_monc_new(&monc, NULL, (const char *const *)addrs, n, &err);
	bs_monc_addrs_free(&addrs);
	if (ret)
		die("mon client", &err, ret);
	bs_monc_set_timeout(monc, 10000);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(o.cmd, "osd"))
		ret = run_osd(monc, &g, &o);
	else if (!strcmp(o.cmd, "report"))
		ret = run_report(monc, &o);
	else if (!strcmp(o.cmd, "status"))
		ret = run_status(monc);
	else if (!strcmp(o.cmd, "pgs"))
		ret = run_pgs(monc, &o);
	else if (!strcmp(o.cmd, "mark") || !strcmp(o.cmd, "add") ||
		 !strcmp(o.cmd, "rm"))
		ret = run_command(monc, &o);
	else
		die(o.cmd, NULL, -EINVAL);
	bs_monc_free(&monc);
	bs_global_conf_release(&g);
	return ret;
}
