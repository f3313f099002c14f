// SPDX-License-Identifier: Apache-2.0
/*
 * basalt status: health, map epoch, the monitors in quorum and their
 * leader, OSD, pool and volume counts.  It answers without a quorum too,
 * from the last committed map of a reachable mon (HEALTH_ERR).
 *
 * Health: HEALTH_OK when every mon is in quorum (and every OSD up and in);
 * HEALTH_WARN, with one reason per problem, when some mon is down or out
 * of quorum (or some OSD down or out); HEALTH_ERR without a quorum.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"

/* Reading the map must not make 'status' slow when mons are down. */
#define STATUS_MAP_TIMEOUT_MS 5000

#define MAX_CHECKS (BS_MONC_MAX_MONS + 4)

enum health {
	HEALTH_OK,
	HEALTH_WARN,
	HEALTH_ERR,
};

static const char *const health_names[] = {
	[HEALTH_OK] = "HEALTH_OK",
	[HEALTH_WARN] = "HEALTH_WARN",
	[HEALTH_ERR] = "HEALTH_ERR",
};

struct status {
	struct mon_view mons;
	Bs__ClusterMap *map;		/* NULL if it could not be read */
	uint64_t epoch;
	uint64_t osds, osds_up, osds_in;
	uint64_t pools, volumes;
	enum health health;
	char checks[MAX_CHECKS][BS_ERROR_MSG_MAX];
	unsigned nchecks;
};

static void check(struct status *s, enum health h, const char *fmt, ...)
	BS_PRINTF(3, 4);

static void check(struct status *s, enum health h, const char *fmt, ...)
{
	va_list ap;

	if (h > s->health)
		s->health = h;
	if (s->nchecks == MAX_CHECKS)
		return;
	va_start(ap, fmt);
	vsnprintf(s->checks[s->nchecks++], sizeof(s->checks[0]), fmt, ap);
	va_end(ap);
}

static void check_mons(struct status *s)
{
	const struct mon_view *v = &s->mons;
	const struct bs_monc_mon_state *st;
	char name[64], text[BS_ERROR_MSG_MAX];
	unsigned i;

	if (!v->has_quorum) {
		bs_monc_quorum_text(v->states, v->n, text, sizeof(text));
		check(s, HEALTH_ERR, "no quorum: %s", text);
	}
	for (i = 0; i < v->n; i++) {
		st = &v->states[i];
		if (v->in_quorum[i])
			continue;
		mon_view_name(v, i, name, sizeof(name));
		if (st->res || !st->status)
			check(s, HEALTH_WARN, "%s is down (no answer from %s)",
			      name, st->addr);
		else if (v->has_quorum)
			check(s, HEALTH_WARN, "%s is not in quorum (state %s)",
			      name, st->status->state);
	}
}

static void count_map(struct status *s)
{
	size_t i;

	s->epoch = s->map->epoch;
	s->pools = s->map->n_pools;
	for (i = 0; i < s->map->n_osds; i++) {
		s->osds++;
		s->osds_up += s->map->osds[i]->up;
		s->osds_in += s->map->osds[i]->in;
	}
	if (s->osds_up < s->osds)
		check(s, HEALTH_WARN, "%" PRIu64 " of %" PRIu64 " osds are down",
		      s->osds - s->osds_up, s->osds);
	if (s->osds_in < s->osds)
		check(s, HEALTH_WARN, "%" PRIu64 " of %" PRIu64 " osds are out",
		      s->osds - s->osds_in, s->osds);
}

/* Epoch and volume count from the mons themselves (the best informed). */
static void count_mons(struct status *s)
{
	const struct mon_view *v = &s->mons;
	const Bs__MonStatus *st;
	unsigned i;

	for (i = 0; i < v->n; i++) {
		st = v->states[i].status;
		if (v->states[i].res || !st)
			continue;
		if (v->leader >= 0 && (int)i != v->leader)
			continue;
		if (st->num_volumes > s->volumes)
			s->volumes = st->num_volumes;
		if (!s->map && st->epoch > s->epoch)
			s->epoch = st->epoch;
	}
}

static int status_get(struct cli *cli, struct status *s,
		      struct bs_error *err)
{
	struct bs_error map_err = { 0 };
	struct bs_monc *monc;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = mon_view_get(cli, &s->mons, err);
	if (ret)
		return ret;
	check_mons(s);
	monc = cli->monc;
	bs_monc_set_timeout(monc, cli->timeout_ms &&
			    cli->timeout_ms < STATUS_MAP_TIMEOUT_MS ?
			    cli->timeout_ms : STATUS_MAP_TIMEOUT_MS);
	ret = cli_get_map(cli, &s->map, &map_err);
	bs_monc_set_timeout(monc, cli->timeout_ms ? cli->timeout_ms :
			    BS_MONC_DEFAULT_TIMEOUT_MS);
	if (ret) {
		s->map = NULL;
		check(s, HEALTH_WARN, "cannot read the cluster map: %s",
		      map_err.msg);
	} else {
		count_map(s);
	}
	count_mons(s);
	return 0;
}

static void status_release(struct status *s)
{
	if (s->map)
		bs__cluster_map__free_unpacked(s->map, NULL);
	s->map = NULL;
	mon_view_release(&s->mons);
}

static void status_json(struct cli *cli, const struct status *s)
{
	const struct mon_view *v = &s->mons;
	char name[64];
	struct json j;
	unsigned i;

	json_init(&j, cli->out);
	json_obj_begin(&j);
	json_kv_str(&j, "health", health_names[s->health]);
	json_key(&j, "checks");
	json_arr_begin(&j);
	for (i = 0; i < s->nchecks; i++)
		json_str(&j, s->checks[i]);
	json_arr_end(&j);
	json_kv_u64(&j, "epoch", s->epoch);

	json_key(&j, "mons");
	json_obj_begin(&j);
	json_kv_u64(&j, "total", v->members);
	json_key(&j, "leader");
	if (v->leader_id >= 0 && v->has_quorum) {
		snprintf(name, sizeof(name), "mon.%d", v->leader_id);
		json_str(&j, name);
	} else {
		json_null(&j);
	}
	json_kv_u64(&j, "term", v->term);
	json_key(&j, "quorum");
	json_arr_begin(&j);
	for (i = 0; v->has_quorum && i < v->n; i++) {
		if (v->in_quorum[i])
			json_str(&j, mon_view_name(v, i, name, sizeof(name)));
	}
	json_arr_end(&j);
	json_key(&j, "down");
	json_arr_begin(&j);
	for (i = 0; i < v->n; i++) {
		if (v->states[i].res || !v->states[i].status)
			json_str(&j, mon_view_name(v, i, name, sizeof(name)));
	}
	json_arr_end(&j);
	json_obj_end(&j);

	json_key(&j, "osds");
	json_obj_begin(&j);
	json_kv_u64(&j, "total", s->osds);
	json_kv_u64(&j, "up", s->osds_up);
	json_kv_u64(&j, "in", s->osds_in);
	json_obj_end(&j);
	json_kv_u64(&j, "pools", s->pools);
	json_kv_u64(&j, "volumes", s->volumes);
	json_obj_end(&j);
	json_end(&j);
}

static void status_plain(struct cli *cli, const struct status *s)
{
	const struct mon_view *v = &s->mons;
	char name[64];
	unsigned i, k = 0;

	fprintf(cli->out, "health:  %s\n", health_names[s->health]);
	for (i = 0; i < s->nchecks; i++)
		fprintf(cli->out, "         %s\n", s->checks[i]);
	fprintf(cli->out, "epoch:   %" PRIu64 "\n", s->epoch);
	fprintf(cli->out, "mons:    %u, quorum ", v->members);
	for (i = 0; v->has_quorum && i < v->n; i++) {
		if (v->in_quorum[i])
			fprintf(cli->out, "%s%s", k++ ? "," : "",
				mon_view_name(v, i, name, sizeof(name)));
	}
	if (!k)
		fprintf(cli->out, "none");
	if (v->leader_id >= 0 && v->has_quorum)
		fprintf(cli->out, ", leader mon.%d (term %" PRIu64 ")\n",
			v->leader_id, v->term);
	else
		fprintf(cli->out, ", no leader\n");
	fprintf(cli->out, "osds:    %" PRIu64 " total, %" PRIu64 " up, %"
		PRIu64 " in\n", s->osds, s->osds_up, s->osds_in);
	fprintf(cli->out, "pools:   %" PRIu64 "\n", s->pools);
	fprintf(cli->out, "volumes: %" PRIu64 "\n", s->volumes);
}

static int status(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err)
{
	struct status *s = bs_xmalloc(sizeof(*s));
	int ret;

	ret = status_get(cli, s, err);
	if (ret == 0) {
		if (cli->format == CLI_FORMAT_JSON)
			status_json(cli, s);
		else
			status_plain(cli, s);
	}
	status_release(s);
	free(s);
	return ret;
}

const struct cli_cmd cli_status_cmds[] = {
	{
		.group = "status",
		.usage = "",
		.help = "health, map epoch, monitors in quorum and leader, "
			"OSD, pool and volume counts",
		.details =
			"HEALTH_OK: every monitor is in quorum (and every OSD up and in).\n"
			"HEALTH_WARN: some monitor is down or out of quorum; the reasons follow.\n"
			"HEALTH_ERR: no quorum: changes are refused; what is shown comes\n"
			"from the last committed map of a reachable monitor.\n",
		.fn = status,
	},
	{ 0 },
};
