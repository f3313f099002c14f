// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI's small OSD client: the cluster map as a placement map
 * (bs/osdmap.h), and requests sent straight to OSDs (BS_MSG_OSD_STATFS,
 * BS_MSG_OSD_PG_LIST) over a messenger on the mon client's own loop,
 * several in flight, each bounded by a time-out, so that an OSD that does
 * not answer costs the command a bounded wait.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/log.h"
#include "bs/msg_types.h"

#include "cli.h"

/* One connection per OSD address, opened on first use. */
struct cli_osd_conn {
	char *addr;
	struct bs_conn *conn;
};

static const struct bs_msgr_ops no_ops = { 0 };

int cli_osdmap(struct cli *cli, struct bs_osdmap **out, struct bs_error *err)
{
	Bs__ClusterMap *cm = NULL;
	int ret;

	*out = NULL;
	ret = cli_get_map(cli, &cm, err);
	if (ret)
		return ret;
	ret = bs_osdmap_new(out, cm, err);
	bs__cluster_map__free_unpacked(cm, NULL);
	if (ret)
		return bs_error_prefix(err, "the cluster map cannot be used: ");
	return 0;
}

const struct bs_osdmap_pool *cli_find_pool(const struct bs_osdmap *map,
					   const char *name,
					   struct bs_error *err)
{
	const struct bs_osdmap_pool *p = bs_osdmap_pool_by_name(map, name);

	if (!p)
		bs_error_set(err, -ENOENT,
			     "pool '%s' does not exist (see 'basalt pool ls')",
			     name);
	return p;
}

int cli_check_pgs(struct cli *cli, const char *pool, struct bs_error *err)
{
	const struct bs_osdmap_pool *p;
	struct bs_osdmap *map = NULL;
	uint32_t pg, down = 0;
	int ret;

	ret = cli_osdmap(cli, &map, err);
	if (ret)
		return ret;
	p = cli_find_pool(map, pool, err);
	if (!p) {
		bs_osdmap_put(&map);
		return -ENOENT;
	}
	for (pg = 0; pg < p->place.pg_num; pg++)
		down += bs_osdmap_pg_primary(map, p, pg) < 0;
	if (down)
		ret = bs_error_set(err, -EHOSTDOWN,
				   map->n_osds ?
				   "%u of %u PGs of pool '%s' have no OSD up: their I/O would wait (see 'basalt osd ls')" :
				   "%u of %u PGs of pool '%s' have no OSD: the cluster has none (start some first)",
				   down, p->place.pg_num, pool);
	bs_osdmap_put(&map);
	return ret;
}

static int get_conn(struct cli *cli, const char *addr, struct bs_conn **out,
		    struct bs_error *err)
{
	struct bs_monc *monc;
	struct cli_osd_conn *c;
	unsigned i;
	int ret;

	for (i = 0; i < cli->nosd_conns; i++) {
		if (!strcmp(cli->osd_conns[i].addr, addr)) {
			*out = cli->osd_conns[i].conn;
			return 0;
		}
	}
	if (!cli->msgr) {
		ret = cli_monc(cli, &monc, err);
		if (ret)
			return ret;
		ret = bs_msgr_new(&cli->msgr, bs_monc_loop(monc), &no_ops,
				  NULL);
		if (ret)
			return bs_error_errno(err, ret,
					      "cannot create a messenger");
	}
	cli->osd_conns = bs_xrealloc(cli->osd_conns, (cli->nosd_conns + 1) *
				     sizeof(*cli->osd_conns));
	c = &cli->osd_conns[cli->nosd_conns];
	ret = bs_msgr_connect(cli->msgr, addr, &c->conn, err);
	if (ret)
		return ret;
	c->addr = bs_xstrdup(addr);
	cli->nosd_conns++;
	*out = c->conn;
	return 0;
}

static void call_done(void *opaque, int res, struct bs_msg *reply)
{
	struct cli_osd_call *c = opaque;
	const char *text;

	c->busy = false;
	c->res = res;
	if (res) {
		text = reply ? bs_msg_error_text(reply) : "";
		if (res == -ETIMEDOUT)
			snprintf(c->error, sizeof(c->error),
				 "osd.%d at %s did not answer", c->osd,
				 c->addr);
		else if (*text)
			snprintf(c->error, sizeof(c->error), "%s", text);
		else
			snprintf(c->error, sizeof(c->error), "osd.%d at %s: %s",
				 c->osd, c->addr, strerror(-res));
		bs_msg_free(reply);
		return;
	}
	c->reply = reply;
}

int cli_osd_calls(struct cli *cli, struct cli_osd_call *calls, size_t n,
		  unsigned max_inflight, uint64_t timeout_ms,
		  struct bs_error *err)
{
	struct bs_loop *loop;
	struct bs_monc *monc;
	struct bs_conn *conn = NULL;
	size_t next = 0, i;
	unsigned inflight;
	uint64_t deadline;
	int ret;

	ret = cli_monc(cli, &monc, err);
	if (ret)
		return ret;
	loop = bs_monc_loop(monc);
	if (!max_inflight)
		max_inflight = 1;
	/* The messenger bounds each call; this only guards the loop. */
	deadline = bs_now_ms() + timeout_ms * (n / max_inflight + 2) + 5000;
	for (i = 0; i < n; i++) {
		calls[i].busy = false;
		calls[i].res = -EINPROGRESS;
		calls[i].reply = NULL;
		calls[i].error[0] = '\0';
	}
	for (;;) {
		inflight = 0;
		for (i = 0; i < next; i++)
			inflight += calls[i].busy;
		while (next < n && inflight < max_inflight) {
			struct cli_osd_call *c = &calls[next++];

			if (!c->addr || !*c->addr) {
				c->res = -ENOTCONN;
				snprintf(c->error, sizeof(c->error),
					 "osd.%d has no address (never booted)",
					 c->osd);
				continue;
			}
			ret = get_conn(cli, c->addr, &conn, err);
			if (ret)
				return ret;
			c->busy = true;
			ret = bs_conn_call(conn, c->type, c->body, NULL, 0,
					   timeout_ms, call_done, c);
			if (ret) {
				c->busy = false;
				c->res = ret;
				snprintf(c->error, sizeof(c->error),
					 "cannot send to osd.%d: %s", c->osd,
					 strerror(-ret));
				continue;
			}
			inflight++;
		}
		if (!inflight && next == n)
			return 0;
		if (bs_now_ms() > deadline)
			return bs_error_set(err, -ETIMEDOUT,
					    "the OSDs did not answer in time");
		bs_loop_run_once(loop, 100);
	}
}

void cli_osd_call_release(struct cli_osd_call *calls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		bs_msg_free(calls[i].reply);
}

void cli_osdc_release(struct cli *cli)
{
	unsigned i;

	for (i = 0; i < cli->nosd_conns; i++) {
		bs_conn_close(cli->osd_conns[i].conn);
		bs_conn_put(cli->osd_conns[i].conn);
		free(cli->osd_conns[i].addr);
	}
	bs_free(&cli->osd_conns);
	cli->nosd_conns = 0;
	bs_msgr_free(&cli->msgr);
}
