// SPDX-License-Identifier: Apache-2.0
/*
 * basalt status: health with its reasons, map epoch, the monitors in
 * quorum and their leader, OSD, pool, volume and PG counts, usage and
 * recovery.  Two sources: every mon is asked how it is (reachability,
 * quorum: the CLI's own view, as 'mon ls' shows it), and the mons'
 * ClusterStatus (the leader's view of OSDs and PGs; a follower answers
 * from its own map when there is no leader).  Without a quorum it still
 * answers, within a few seconds, HEALTH_ERR from a reachable mon's last
 * committed state.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"

/* Reading the status must not make 'status' slow when mons are down. */
#define STATUS_TIMEOUT_MS 5000

struct status {
	struct mon_view mons;
	Bs__ClusterStatus *cs;		/* NULL if it could not be read */
	Bs__ClusterMap *map;		/* without cs: the map, if readable */
	uint64_t epoch, osds, osds_up, osds_in, pools, volumes;
	struct cli_checks checks;
	/* the text of the CLI's own checks */
	char quorum_msg[BS_ERROR_MSG_MAX];
	char mon_msg[BS_ERROR_MSG_MAX];
	char mon_lines[BS_MONC_MAX_MONS][BS_ERROR_MSG_MAX];
	const char *mon_detail[BS_MONC_MAX_MONS];
	char status_msg[BS_ERROR_MSG_MAX];
};

static void add_check(struct status *s, const char *code, enum cli_health h,
		      const char *msg, const char *const *detail, size_t n)
{
	struct cli_check c = {
		.code = code, .severity = h, .message = msg,
		.detail = detail, .n_detail = n,
	};

	cli_checks_add(&s->checks, &c);
}

/* What asking every mon shows: no quorum, mons down or out of it. */
static void check_mons(struct status *s)
{
	const struct mon_view *v = &s->mons;
	const struct bs_monc_mon_state *st;
	char name[64], text[BS_ERROR_MSG_MAX], names[BS_ERROR_MSG_MAX] = "";
	size_t off = 0;
	unsigned i, n = 0;

	if (!v->has_quorum) {
		bs_monc_quorum_text(v->states, v->n, text, sizeof(text));
		snprintf(s->quorum_msg, sizeof(s->quorum_msg),
			 "no quorum: %.400s", text);
		add_check(s, "MON_QUORUM", CLI_HEALTH_ERR, s->quorum_msg,
			  NULL, 0);
	}
	for (i = 0; i < v->n && n < BS_MONC_MAX_MONS; i++) {
		st = &v->states[i];
		if (v->in_quorum[i])
			continue;
		mon_view_name(v, i, name, sizeof(name));
		if (st->res || !st->status)
			snprintf(s->mon_lines[n], sizeof(s->mon_lines[n]),
				 "%s is down (no answer from %s)", name,
				 st->addr);
		else if (v->has_quorum)
			snprintf(s->mon_lines[n], sizeof(s->mon_lines[n]),
				 "%s is not in quorum (state %s)", name,
				 st->status->state);
		else
			continue;
		s->mon_detail[n] = s->mon_lines[n];
		if (off < sizeof(names))
			off += (size_t)snprintf(names + off,
						sizeof(names) - off, "%s%s",
						n ? ", " : "", name);
		n++;
	}
	if (n == 1)
		add_check(s, "MON_DOWN", CLI_HEALTH_WARN, s->mon_lines[0],
			  NULL, 0);
	else if (n > 1) {
		snprintf(s->mon_msg, sizeof(s->mon_msg),
			 "%u of %u mons down or out of quorum: %s", n,
			 v->members, names);
		add_check(s, "MON_DOWN", CLI_HEALTH_WARN, s->mon_msg,
			  s->mon_detail, n);
	}
}

/* Without ClusterStatus: the counts from the map, if it can be read. */
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
}

/* The volume count and epoch the mons themselves gave (fallback). */
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
	struct bs_error cs_err = { 0 }, map_err = { 0 };
	struct bs_monc *monc;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = mon_view_get(cli, &s->mons, err);
	if (ret)
		return ret;
	check_mons(s);
	monc = cli->monc;
	bs_monc_set_timeout(monc, cli->timeout_ms &&
			    cli->timeout_ms < STATUS_TIMEOUT_MS ?
			    cli->timeout_ms : STATUS_TIMEOUT_MS);
	ret = cli_cluster_status(cli, &s->cs, &cs_err);
	if (ret) {
		s->cs = NULL;
		snprintf(s->status_msg, sizeof(s->status_msg),
			 "cannot read the cluster status: %.400s", cs_err.msg);
		add_check(s, "MON_STATUS", CLI_HEALTH_WARN, s->status_msg,
			  NULL, 0);
		if (cli_get_map(cli, &s->map, &map_err) == 0)
			count_map(s);
		else
			s->map = NULL;
		count_mons(s);
	} else {
		cli_checks_add_status(&s->checks, s->cs, cli->local);
		s->epoch = s->cs->epoch;
		s->osds = s->cs->osds_total;
		s->osds_up = s->cs->osds_up;
		s->osds_in = s->cs->osds_in;
		s->pools = s->cs->pools;
		s->volumes = s->cs->volumes;
	}
	bs_monc_set_timeout(monc, cli->timeout_ms ? cli->timeout_ms :
			    BS_MONC_DEFAULT_TIMEOUT_MS);
	return 0;
}

static void status_release(struct status *s)
{
	if (s->cs)
		bs__cluster_status__free_unpacked(s->cs, NULL);
	s->cs = NULL;
	if (s->map)
		bs__cluster_map__free_unpacked(s->map, NULL);
	s->map = NULL;
	mon_view_release(&s->mons);
}

static double ratio(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0.0;
}

/* ---- JSON ------------------------------------------------------------ */

static void json_checks(struct json *j, const struct cli_checks *cs)
{
	unsigned i;
	size_t k;

	json_key(j, "checks");
	json_arr_begin(j);
	for (i = 0; i < cs->n; i++)
		json_str(j, cs->v[i].message);
	json_arr_end(j);
	json_key(j, "health_checks");
	json_arr_begin(j);
	for (i = 0; i < cs->n; i++) {
		json_obj_begin(j);
		json_kv_str(j, "code", cs->v[i].code);
		json_kv_str(j, "severity", cli_health_name(cs->v[i].severity));
		json_kv_str(j, "message", cs->v[i].message);
		json_key(j, "detail");
		json_arr_begin(j);
		for (k = 0; k < cs->v[i].n_detail; k++)
			json_str(j, cs->v[i].detail[k]);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_mons(struct json *j, const struct mon_view *v)
{
	char name[64];
	unsigned i;

	json_key(j, "mons");
	json_obj_begin(j);
	json_kv_u64(j, "total", v->members);
	json_key(j, "leader");
	if (v->leader_id >= 0 && v->has_quorum) {
		snprintf(name, sizeof(name), "mon.%d", v->leader_id);
		json_str(j, name);
	} else {
		json_null(j);
	}
	json_kv_u64(j, "term", v->term);
	json_key(j, "quorum");
	json_arr_begin(j);
	for (i = 0; v->has_quorum && i < v->n; i++) {
		if (v->in_quorum[i])
			json_str(j, mon_view_name(v, i, name, sizeof(name)));
	}
	json_arr_end(j);
	json_key(j, "down");
	json_arr_begin(j);
	for (i = 0; i < v->n; i++) {
		if (v->states[i].res || !v->states[i].status)
			json_str(j, mon_view_name(v, i, name, sizeof(name)));
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void json_pgs(struct json *j, const Bs__ClusterStatus *cs)
{
	size_t i;

	json_key(j, "pgs");
	if (!cs) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_u64(j, "total", cs->pgs_total);
	json_key(j, "states");
	json_obj_begin(j);
	for (i = 0; i < cs->n_pg_states; i++) {
		if (cs->pg_states[i]->state)
			json_kv_u64(j, cs->pg_states[i]->state,
				    cs->pg_states[i]->count);
	}
	json_obj_end(j);
	json_kv_u64(j, "active_clean", cs->pgs_active_clean);
	json_kv_u64(j, "degraded", cs->pgs_degraded);
	json_kv_u64(j, "undersized", cs->pgs_undersized);
	json_kv_u64(j, "recovering", cs->pgs_recovering);
	json_kv_u64(j, "backfilling", cs->pgs_backfilling);
	json_kv_u64(j, "peering", cs->pgs_peering);
	json_kv_u64(j, "unknown", cs->pgs_unknown);
	json_kv_u64(j, "inactive", cs->pgs_inactive);
	json_kv_u64(j, "down", cs->pgs_down);
	json_obj_end(j);
}

static void json_usage(struct json *j, const Bs__ClusterStatus *cs)
{
	json_key(j, "usage");
	if (!cs) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_u64(j, "capacity", cs->capacity);
	json_kv_u64(j, "used", cs->used);
	json_kv_u64(j, "objects", cs->objects);
	json_kv_u64(j, "bytes", cs->bytes);
	json_obj_end(j);
}

static void json_recovery(struct json *j, const Bs__ClusterStatus *cs)
{
	json_key(j, "recovery");
	if (!cs) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_u64(j, "object_copies", cs->object_copies);
	json_kv_u64(j, "degraded", cs->objects_degraded);
	json_kv_u64(j, "misplaced", cs->objects_misplaced);
	json_kv_u64(j, "unfound", cs->objects_unfound);
	json_key(j, "degraded_ratio");
	json_double(j, ratio(cs->objects_degraded, cs->object_copies), 6);
	json_key(j, "misplaced_ratio");
	json_double(j, ratio(cs->objects_misplaced, cs->object_copies), 6);
	json_kv_u64(j, "bytes_per_sec", cs->recovery_bytes_per_sec);
	json_kv_u64(j, "objects_per_sec", cs->recovery_objects_per_sec);
	json_obj_end(j);
}

static void status_json(struct cli *cli, const struct status *s)
{
	char name[24];
	struct json j;

	json_init(&j, cli->out);
	json_obj_begin(&j);
	json_kv_str(&j, "health", cli_health_name(s->checks.worst));
	json_checks(&j, &s->checks);
	json_kv_u64(&j, "epoch", s->epoch);
	json_mons(&j, &s->mons);
	json_key(&j, "osds");
	json_obj_begin(&j);
	json_kv_u64(&j, "total", s->osds);
	json_kv_u64(&j, "up", s->osds_up);
	json_kv_u64(&j, "in", s->osds_in);
	json_obj_end(&j);
	json_kv_u64(&j, "pools", s->pools);
	json_kv_u64(&j, "volumes", s->volumes);
	json_pgs(&j, s->cs);
	json_usage(&j, s->cs);
	json_recovery(&j, s->cs);
	json_key(&j, "answered_by");
	if (s->cs) {
		snprintf(name, sizeof(name), "mon.%u", s->cs->mon_id);
		json_str(&j, name);
	} else {
		json_null(&j);
	}
	json_kv_bool(&j, "from_leader", s->cs && s->cs->from_leader);
	json_obj_end(&j);
	json_end(&j);
}

/* ---- plain ----------------------------------------------------------- */

static void plain_health(struct cli *cli, const struct status *s,
			 bool detail)
{
	const struct cli_check *c;
	unsigned i;
	size_t k;

	fprintf(cli->out, "health:   %s\n", cli_health_name(s->checks.worst));
	for (i = 0; i < s->checks.n; i++) {
		c = &s->checks.v[i];
		fprintf(cli->out, "          %s\n", c->message);
		for (k = 0; detail && k < c->n_detail; k++)
			fprintf(cli->out, "              %s\n", c->detail[k]);
	}
}

static void plain_pgs(struct cli *cli, const Bs__ClusterStatus *cs)
{
	char a[32], b[32], r[32];
	size_t i;

	if (!cs)
		return;
	if (cs->capacity || cs->objects)
		fprintf(cli->out, "usage:    %s used of %s, %" PRIu64
			" objects, %s of data\n",
			format_bytes(cs->used, a, sizeof(a)),
			format_bytes(cs->capacity, b, sizeof(b)), cs->objects,
			format_bytes(cs->bytes, r, sizeof(r)));
	fprintf(cli->out, "pgs:      %" PRIu64 "\n", cs->pgs_total);
	for (i = 0; i < cs->n_pg_states; i++) {
		if (cs->pg_states[i]->state)
			fprintf(cli->out, "          %" PRIu64 " %s\n",
				cs->pg_states[i]->count,
				cs->pg_states[i]->state);
	}
	if (!cs->objects_degraded && !cs->objects_misplaced &&
	    !cs->recovery_bytes_per_sec && !cs->recovery_objects_per_sec)
		return;
	fprintf(cli->out, "recovery: %" PRIu64 "/%" PRIu64
		" object copies degraded (%.3f%%), %" PRIu64 "/%" PRIu64
		" misplaced (%.3f%%); %s/s, %" PRIu64 " objects/s\n",
		cs->objects_degraded, cs->object_copies,
		100.0 * ratio(cs->objects_degraded, cs->object_copies),
		cs->objects_misplaced, cs->object_copies,
		100.0 * ratio(cs->objects_misplaced, cs->object_copies),
		format_bytes(cs->recovery_bytes_per_sec, r, sizeof(r)),
		cs->recovery_objects_per_sec);
}

static void status_plain(struct cli *cli, const struct status *s,
			 bool detail)
{
	const struct mon_view *v = &s->mons;
	char name[64];
	unsigned i, k = 0;

	plain_health(cli, s, detail);
	fprintf(cli->out, "epoch:    %" PRIu64 "\n", s->epoch);
	fprintf(cli->out, "mons:     %u, quorum ", v->members);
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
	fprintf(cli->out, "osds:     %" PRIu64 " total, %" PRIu64 " up, %"
		PRIu64 " in\n", s->osds, s->osds_up, s->osds_in);
	fprintf(cli->out, "pools:    %" PRIu64 "\n", s->pools);
	fprintf(cli->out, "volumes:  %" PRIu64 "\n", s->volumes);
	plain_pgs(cli, s->cs);
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
			status_plain(cli, s, cli_opt(a, "--detail") != NULL);
	}
	status_release(s);
	free(s);
	return ret;
}

static const struct cli_opt status_opts[] = {
	{ "--detail", NULL, "also the detail lines of each check (the PGs, OSDs, mons concerned)" },
	{ NULL },
};

const struct cli_cmd cli_status_cmds[] = {
	{
		.group = "status",
		.usage = "[--detail]",
		.help = "health, map epoch, monitors in quorum and leader, "
			"OSD, pool, volume and PG counts, recovery",
		.details =
			"HEALTH_OK: every monitor is in quorum, every OSD up (or out) and\n"
			"every PG active+clean.\n"
			"HEALTH_WARN: something needs attention (a monitor or OSD down, PGs\n"
			"degraded, peering or not reported yet); the reasons follow.\n"
			"HEALTH_ERR: no quorum (changes are refused; what is shown comes from\n"
			"the last committed map of a reachable monitor), PGs inactive, or an\n"
			"OSD full.\n",
		.opts = status_opts,
		.fn = status,
	},
	{ 0 },
};
