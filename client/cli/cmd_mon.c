// SPDX-License-Identifier: Apache-2.0
/*
 * basalt mon ls, and the view of the monitor quorum that 'status' shares:
 * every mon is asked for its own state in parallel; the leader is the one
 * that says so (highest term), the quorum is the leader and the followers
 * of that leader in that term.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/parse.h"

#include "cli.h"

/* How long one mon may take to say how it is. */
#define MON_STATUS_TIMEOUT_MS 2000

const char *mon_view_name(const struct mon_view *v, unsigned i, char *buf,
			  size_t len)
{
	const struct bs_monc_mon_state *s = &v->states[i];

	if (!s->res && s->status) {
		snprintf(buf, len, "mon.%u", s->status->id);
		return buf;
	}
	return cli_mon_name(v->states, v->n, s->addr, buf, len);
}

static bool is_state(const Bs__MonStatus *st, const char *state)
{
	return st->state && !strcmp(st->state, state);
}

/* Pick the leader: a mon that says it leads (highest term wins), else
 * the leader the followers name in the highest term. */
static void find_leader(struct mon_view *v)
{
	const Bs__MonStatus *st;
	unsigned i;

	v->leader = -1;
	v->leader_id = -1;
	v->term = 0;
	for (i = 0; i < v->n; i++) {
		st = v->states[i].status;
		if (v->states[i].res || !st || !is_state(st, "leader"))
			continue;
		if (v->leader < 0 || st->term > v->term) {
			v->leader = (int)i;
			v->leader_id = (int)st->id;
			v->term = st->term;
		}
	}
	if (v->leader >= 0)
		return;
	for (i = 0; i < v->n; i++) {
		st = v->states[i].status;
		if (v->states[i].res || !st || !is_state(st, "follower") ||
		    st->leader_id < 0)
			continue;
		if (v->leader_id < 0 || st->term > v->term) {
			v->leader_id = st->leader_id;
			v->term = st->term;
		}
	}
}

/* Is mon.@id among the mons asked (by its address)? */
static bool was_asked(const struct mon_view *v, int id)
{
	char want[32], name[64];
	unsigned i;

	snprintf(want, sizeof(want), "mon.%d", id);
	for (i = 0; i < v->n; i++) {
		if (!strcmp(mon_view_name(v, i, name, sizeof(name)), want))
			return true;
	}
	return false;
}

int mon_view_get(struct cli *cli, struct mon_view *v, struct bs_error *err)
{
	const Bs__MonStatus *st;
	struct bs_monc *monc;
	size_t off;
	unsigned i;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = cli_monc(cli, &monc, err);
	if (ret)
		return ret;
	ret = bs_monc_mon_status_sync(monc, MON_STATUS_TIMEOUT_MS, &v->states,
				      err);
	if (ret)
		return ret;
	v->n = bs_monc_num_mons(monc);
	v->members = v->n;
	for (i = 0; i < v->n; i++) {
		st = v->states[i].status;
		if (v->states[i].res || !st)
			continue;
		v->nreachable++;
		if (st->n_members > v->members)
			v->members = (unsigned)st->n_members;
	}
	if (v->nreachable == 0) {
		off = (size_t)snprintf(err->msg, sizeof(err->msg),
				       "cannot reach any monitor at ");
		for (i = 0; i < v->n && off < sizeof(err->msg); i++)
			off += (size_t)snprintf(err->msg + off,
						sizeof(err->msg) - off,
						"%s%s", i ? ", " : "",
						v->states[i].addr);
		if (off < sizeof(err->msg))
			snprintf(err->msg + off, sizeof(err->msg) - off,
				 ": is the cluster running?");
		err->code = -EHOSTUNREACH;
		mon_view_release(v);
		return -EHOSTUNREACH;
	}
	find_leader(v);
	if (v->leader >= 0) {
		st = v->states[v->leader].status;
		if (st->n_members)
			v->members = (unsigned)st->n_members;
	}
	for (i = 0; i < v->n; i++) {
		st = v->states[i].status;
		if (v->states[i].res || !st || v->leader_id < 0)
			continue;
		if ((is_state(st, "leader") && (int)st->id == v->leader_id &&
		     st->term == v->term) ||
		    (is_state(st, "follower") &&
		     st->leader_id == v->leader_id && st->term == v->term)) {
			v->in_quorum[i] = true;
			v->nquorum++;
		}
	}
	if (v->leader >= 0) {
		/* The leader knows best whom it heard from lately. */
		st = v->states[v->leader].status;
		v->has_quorum = (st->quorum ? st->quorum : v->nquorum) >
				v->members / 2;
	} else {
		/*
		 * No mon asked says it leads.  Followers may still name a
		 * leader: trust them only if that leader was not asked (-m
		 * named followers alone); a leader we asked that did not
		 * answer as one is gone.
		 */
		v->has_quorum = v->leader_id >= 0 && v->nquorum > 0 &&
				!was_asked(v, v->leader_id);
	}
	if (!v->has_quorum) {
		memset(v->in_quorum, 0, sizeof(v->in_quorum));
		v->nquorum = 0;
	}
	return 0;
}

void mon_view_release(struct mon_view *v)
{
	if (v->states)
		bs_monc_mon_states_free(&v->states, v->n);
	v->states = NULL;
}

/* ---- mon ls ---------------------------------------------------------- */

static const char *state_of(const struct mon_view *v, unsigned i)
{
	const struct bs_monc_mon_state *s = &v->states[i];

	if (s->res || !s->status)
		return "down";
	return s->status->state && s->status->state[0] ? s->status->state :
							 "unknown";
}

static void mon_ls_json(struct cli *cli, const struct mon_view *v)
{
	const Bs__MonStatus *st;
	struct json j;
	char name[64];
	unsigned i;

	json_init(&j, cli->out);
	json_arr_begin(&j);
	for (i = 0; i < v->n; i++) {
		st = v->states[i].status;
		json_obj_begin(&j);
		json_kv_str(&j, "name", mon_view_name(v, i, name,
						      sizeof(name)));
		json_kv_str(&j, "addr", v->states[i].addr);
		json_kv_str(&j, "state", state_of(v, i));
		json_kv_bool(&j, "in_quorum", v->in_quorum[i]);
		if (v->states[i].res || !st) {
			json_kv_str(&j, "error",
				    strerror(-(v->states[i].res ?: -EIO)));
			json_obj_end(&j);
			continue;
		}
		json_key(&j, "leader");
		if (st->leader_id >= 0) {
			snprintf(name, sizeof(name), "mon.%d", st->leader_id);
			json_str(&j, name);
		} else {
			json_null(&j);
		}
		json_kv_u64(&j, "term", st->term);
		json_kv_u64(&j, "epoch", st->epoch);
		json_kv_u64(&j, "commit_index", st->commit_index);
		json_kv_u64(&j, "last_applied", st->last_applied);
		json_kv_u64(&j, "last_index", st->last_index);
		json_kv_u64(&j, "volumes", st->num_volumes);
		json_kv_u64(&j, "uptime_ms", st->uptime_ms);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_end(&j);
}

static void mon_ls_plain(struct cli *cli, const struct mon_view *v)
{
	static const char *const heads[] = {
		"NAME", "ADDR", "STATE", "QUORUM", "LEADER", ">TERM",
		">APPLIED", ">EPOCH", "UPTIME",
	};
	const Bs__MonStatus *st;
	char name[64], leader[32], term[24], applied[24], epoch[24];
	char uptime[32];
	struct table *t = table_new(ARRAY_SIZE(heads), heads);
	unsigned i;

	for (i = 0; i < v->n; i++) {
		st = v->states[i].status;
		mon_view_name(v, i, name, sizeof(name));
		if (v->states[i].res || !st) {
			const char *row[] = {
				name, v->states[i].addr, "down", "no", NULL,
				NULL, NULL, NULL, NULL,
			};
			table_add(t, row);
			continue;
		}
		if (st->leader_id >= 0)
			snprintf(leader, sizeof(leader), "mon.%d",
				 st->leader_id);
		else
			snprintf(leader, sizeof(leader), "-");
		snprintf(term, sizeof(term), "%" PRIu64, st->term);
		snprintf(applied, sizeof(applied), "%" PRIu64,
			 st->last_applied);
		snprintf(epoch, sizeof(epoch), "%" PRIu64, st->epoch);
		snprintf(uptime, sizeof(uptime), "%" PRIu64 "s",
			 st->uptime_ms / 1000);
		const char *row[] = {
			name, v->states[i].addr, state_of(v, i),
			v->in_quorum[i] ? "yes" : "no", leader, term,
			applied, epoch, uptime,
		};
		table_add(t, row);
	}
	table_print(t, cli->out);
	table_free(&t);
}

static int mon_ls(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err)
{
	struct mon_view v;
	int ret;

	ret = mon_view_get(cli, &v, err);
	if (ret)
		return ret;
	if (cli->format == CLI_FORMAT_JSON)
		mon_ls_json(cli, &v);
	else
		mon_ls_plain(cli, &v);
	mon_view_release(&v);
	return 0;
}

const struct cli_cmd cli_mon_cmds[] = {
	{
		.group = "mon",
		.name = "ls",
		.usage = "",
		.help = "list the monitors: state, quorum, leader, term, epoch",
		.details =
			"STATE is leader, follower, candidate or down (not reachable).\n"
			"QUORUM says whether the mon follows the current leader.\n",
		.fn = mon_ls,
	},
	{ 0 },
};
