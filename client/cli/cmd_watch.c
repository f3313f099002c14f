// SPDX-License-Identifier: Apache-2.0
/*
 * basalt watch: subscribe to the cluster map as OSDs and clients do and
 * print one line (or JSON document) per new epoch, until --count maps
 * were shown, --seconds passed, or SIGINT/SIGTERM.  The subscription
 * follows the mons: when the one it is on dies, the mon client
 * subscribes again on another, and epochs still only grow.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "bs/log.h"

#include "cli.h"

#define WATCH_MAX_SECONDS	(7 * 24 * 3600)

static volatile sig_atomic_t watch_stop;

static void on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

struct watch {
	struct cli *cli;
	uint64_t shown;
	uint64_t last_epoch;
	bool out_error;		/* stdout failed (a closed pipe) */
};

static void watch_json(struct watch *w, const Bs__ClusterMap *map,
		       unsigned up, unsigned in)
{
	char when[40];
	struct json j;
	size_t i;

	json_init(&j, w->cli->out);
	json_obj_begin(&j);
	json_kv_u64(&j, "epoch", map->epoch);
	json_kv_str(&j, "stamp", format_time_us(map->stamp_us, when,
						 sizeof(when)));
	json_key(&j, "osds");
	json_obj_begin(&j);
	json_kv_u64(&j, "total", map->n_osds);
	json_kv_u64(&j, "up", up);
	json_kv_u64(&j, "in", in);
	json_obj_end(&j);
	json_key(&j, "pools");
	json_arr_begin(&j);
	for (i = 0; i < map->n_pools; i++)
		json_str(&j, map->pools[i]->name);
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

static void map_cb(void *opaque, const Bs__ClusterMap *map)
{
	struct watch *w = opaque;
	unsigned up = 0, in = 0;
	char when[40];
	size_t i;

	for (i = 0; i < map->n_osds; i++) {
		up += map->osds[i]->up;
		in += map->osds[i]->in;
	}
	if (w->cli->format == CLI_FORMAT_JSON) {
		watch_json(w, map, up, in);
	} else {
		fprintf(w->cli->out, "%s epoch %" PRIu64 ": %zu osds (%u up, %u in), %zu pools\n",
			format_time_us(map->stamp_us, when, sizeof(when)),
			map->epoch, map->n_osds, up, in, map->n_pools);
	}
	/* each line as it comes: a script reads it now */
	if (fflush(w->cli->out) || ferror(w->cli->out))
		w->out_error = true;
	w->last_epoch = map->epoch;
	w->shown++;
}

static int watch(struct cli *cli, const struct cli_args *a,
		 struct bs_error *err)
{
	const char *v;
	struct sigaction sa, old_int, old_term;
	Bs__ClusterMap *map = NULL;
	struct watch w = { .cli = cli };
	struct bs_monc *monc;
	uint32_t count = 0, seconds = 0;
	uint64_t deadline = 0;
	int ret;

	v = cli_opt(a, "--count");
	if (v) {
		ret = cli_parse_u32(cli, "--count", v, 1, UINT32_MAX, &count,
				    err);
		if (ret)
			return ret;
	}
	v = cli_opt(a, "--seconds");
	if (v) {
		ret = cli_parse_u32(cli, "--seconds", v, 1, WATCH_MAX_SECONDS,
				    &seconds, err);
		if (ret)
			return ret;
		deadline = bs_now_ms() + (uint64_t)seconds * 1000;
	}
	ret = cli_monc(cli, &monc, err);
	if (ret)
		return ret;
	/* Fail now, in the usual words, if no mon can be reached. */
	ret = cli_get_map(cli, &map, err);
	if (ret)
		return ret;
	bs__cluster_map__free_unpacked(map, NULL);
	ret = bs_monc_subscribe(monc, 0, map_cb, &w);
	if (ret)
		return bs_error_errno(err, ret, "cannot subscribe to the map");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!watch_stop && !w.out_error) {
		if (count && w.shown >= count)
			break;
		if (deadline && bs_now_ms() >= deadline)
			break;
		bs_loop_run_once(bs_monc_loop(monc), 100);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	/* End the subscription before the output goes. */
	bs_monc_free(&cli->monc);
	if (w.out_error)
		return bs_error_set(err, -EPIPE, "cannot write the output");
	return 0;
}

static const struct cli_opt watch_opts[] = {
	{ "--count", "N", "stop after N maps (the first is the current one)" },
	{ "--seconds", "N", "stop after N seconds (default: at SIGINT or SIGTERM)" },
	{ NULL },
};

const struct cli_cmd cli_watch_cmds[] = {
	{
		.group = "watch",
		.usage = "[--count N] [--seconds N]",
		.help = "print each new cluster map epoch as the mons push it",
		.details =
			"Subscribes to the map as OSDs and clients do: the current map first,\n"
			"then each newer one (epochs only grow, across mon failures).  With\n"
			"--format json, one document per map: {epoch, stamp, osds: {total,\n"
			"up, in}, pools: [names]}.\n",
		.opts = watch_opts,
		.fn = watch,
	},
	{ 0 },
};
