// SPDX-License-Identifier: Apache-2.0
/*
 * libraft glue: libuv loop (shared with our io_uring loop through its
 * eventfd), raft_uv I/O and TCP transport, bootstrap of a fresh data dir
 * with every [mon.N] as a voter, the fsm callbacks (apply, snapshot,
 * restore) around mon/state.c, and the clean shutdown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bs/log.h"
#include "mon.h"

static const char *const state_names[] = {
	[RAFT_UNAVAILABLE] = "unavailable",
	[RAFT_FOLLOWER] = "follower",
	[RAFT_CANDIDATE] = "candidate",
	[RAFT_LEADER] = "leader",
};

const char *mon_raft_state_name(struct mon *mon)
{
	int s;

	if (!mon->raft_started)
		return "unavailable";
	s = raft_state(&mon->raft);
	if (s < 0 || (size_t)s >= ARRAY_SIZE(state_names))
		return "unknown";
	return state_names[s];
}

struct mon_member *mon_leader(struct mon *mon)
{
	const char *addr;
	raft_id id;
	unsigned i;

	if (!mon->raft_started)
		return NULL;
	raft_leader(&mon->raft, &id, &addr);
	for (i = 0; id && i < mon->n_members; i++)
		if (mon->members[i].id + 1 == id)
			return &mon->members[i];
	return NULL;
}

/*
 * libraft clears a leader's recent_recv flags every election timeout, so
 * sample them on each watch tick and remember when each voter was heard.
 */
static void sample_contacts(struct mon *mon)
{
	struct raft *r = &mon->raft;
	uint64_t now = bs_now_ms();
	unsigned i, j;

	if (raft_state(r) != RAFT_LEADER)
		return;
	for (i = 0; i < r->configuration.n; i++) {
		if (!r->leader_state.progress[i].recent_recv)
			continue;
		for (j = 0; j < mon->n_members; j++)
			if (mon->members[j].id + 1 ==
			    r->configuration.servers[i].id)
				mon->members[j].heard_ms = now;
	}
}

unsigned mon_quorum_seen(struct mon *mon)
{
	struct raft *r = &mon->raft;
	uint64_t now = bs_now_ms(), window;
	unsigned i, j, n = 0;

	if (!mon->raft_started || raft_state(r) != RAFT_LEADER)
		return 0;
	sample_contacts(mon);
	window = 2 * mon->global.mon_election_timeout;
	for (i = 0; i < r->configuration.n; i++) {
		const struct raft_server *s = &r->configuration.servers[i];

		if (s->role != RAFT_VOTER)
			continue;
		if (s->id == r->id) {
			n++;
			continue;
		}
		for (j = 0; j < mon->n_members; j++)
			if (mon->members[j].id + 1 == s->id &&
			    mon->members[j].heard_ms &&
			    now - mon->members[j].heard_ms <= window)
				n++;
	}
	return n;
}

bool mon_member_in_quorum(struct mon *mon, const struct mon_member *m)
{
	uint64_t window = 2 * mon->global.mon_election_timeout;

	if (!mon->raft_started || raft_state(&mon->raft) != RAFT_LEADER)
		return false;
	if (m->id == mon->id)
		return true;
	return m->heard_ms && bs_now_ms() - m->heard_ms <= window;
}

uint64_t mon_next_proposal(struct mon *mon)
{
	return mon->proposal_base + ++mon->proposal_seq;
}

static void fsm_applied(void *opaque, uint64_t proposal,
			const struct mon_result *res, raft_index index)
{
	service_applied(opaque, proposal, res, index);
}

static void fsm_map_changed(void *opaque)
{
	service_map_changed(opaque);
}

/* ---- libuv side ---- */

static void loop_poll_cb(uv_poll_t *h, int status, int events)
{
	struct mon *mon = h->data;

	bs_loop_poll(mon->loop);
}

/* Log every change of raft role or leader, as operators want to see. */
static void watch_cb(uv_timer_t *h)
{
	struct mon *mon = h->data;
	struct mon_member *leader = mon_leader(mon);
	int state = raft_state(&mon->raft);
	int leader_id = leader ? (int)leader->id : -1;

	sample_contacts(mon);
	osd_service_tick(mon);
	if (state == mon->seen_state && leader_id == mon->seen_leader)
		return;
	if (state == RAFT_LEADER)
		bs_notice("%s is the leader (term %llu)", mon->name,
			  mon->raft.current_term);
	else if (leader)
		bs_notice("following mon.%u, the leader (term %llu)",
			  leader->id, mon->raft.current_term);
	else
		bs_notice("%s: no leader known (term %llu)",
			  mon_raft_state_name(mon), mon->raft.current_term);
	mon->seen_state = state;
	mon->seen_leader = leader_id;
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct mon *mon = h->data;

	bs_notice("%s: shutting down", strsignal(signum));
	mon_stop(mon, 0);
}

static int mkdir_p(const char *path, struct bs_error *err)
{
	char *p = bs_xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1; ; s++) {
		if (*s && *s != '/')
			continue;
		bool end = !*s;

		*s = 0;
		if (mkdir(p, 0700) == -1 && errno != EEXIST) {
			ret = bs_error_errno(err, -errno,
					     "cannot create data_dir '%s'", p);
			break;
		}
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return ret;
}

static int raft_error(struct bs_error *err, int rv, const char *what,
		      const char *detail)
{
	return bs_error_set(err, -EIO, "%s: %s (%s)", what, raft_strerror(rv),
			    detail);
}

static int bootstrap(struct mon *mon, struct bs_error *err)
{
	struct raft_configuration conf;
	unsigned i;
	int rv;

	raft_configuration_init(&conf);
	for (i = 0; i < mon->n_members; i++) {
		rv = raft_configuration_add(&conf, mon->members[i].id + 1,
					    mon->members[i].raft_addr,
					    RAFT_VOTER);
		if (rv) {
			raft_configuration_close(&conf);
			return raft_error(err, rv, "raft configuration",
					  mon->members[i].raft_addr);
		}
	}
	rv = raft_bootstrap(&mon->raft, &conf);
	raft_configuration_close(&conf);
	if (rv == RAFT_CANTBOOTSTRAP) {
		bs_info("%s holds raft state: not bootstrapping",
			mon->conf.data_dir);
		return 0;
	}
	if (rv)
		return raft_error(err, rv, "raft bootstrap",
				  raft_errmsg(&mon->raft));
	bs_notice("bootstrapped a new raft group of %u monitors in %s",
		  mon->n_members, mon->conf.data_dir);
	return 0;
}

int mon_start(struct mon *mon, struct bs_error *err)
{
	struct mon_member *self = NULL;
	unsigned i, et;
	int fd, rv, ret;

	for (i = 0; i < mon->n_members; i++)
		if (mon->members[i].id == mon->id)
			self = &mon->members[i];
	if (!self)
		return bs_error_set(err, -EINVAL,
				    "no [%s] section in the configuration",
				    mon->name);
	ret = mkdir_p(mon->conf.data_dir, err);
	if (ret)
		return ret;
	if (getrandom(&mon->proposal_base, sizeof(mon->proposal_base), 0) !=
	    sizeof(mon->proposal_base))
		mon->proposal_base = bs_now_us() ^ ((uint64_t)getpid() << 32);
	mon->proposal_base &= ~0xffffffffull;	/* room for the counter */
	mon_fsm_init(&mon->fsm);
	osd_service_init(mon);
	mon->fsm.raft = &mon->raft;
	mon->fsm.applied = fsm_applied;
	mon->fsm.map_changed = fsm_map_changed;
	mon->fsm.opaque = mon;

	rv = uv_loop_init(&mon->uv);
	if (rv)
		return bs_error_set(err, rv, "uv_loop_init: %s",
				    uv_strerror(rv));
	mon->uv.data = mon;
	ret = bs_loop_new(&mon->loop, 0);
	if (ret)
		return bs_error_errno(err, ret, "cannot create the event loop");
	fd = bs_loop_eventfd(mon->loop);
	if (fd < 0)
		return bs_error_errno(err, fd, "cannot get the loop's eventfd");
	uv_poll_init(&mon->uv, &mon->loop_poll, fd);
	mon->loop_poll.data = mon;
	uv_poll_start(&mon->loop_poll, UV_READABLE, loop_poll_cb);
	uv_signal_init(&mon->uv, &mon->sigterm);
	uv_signal_init(&mon->uv, &mon->sigint);
	mon->sigterm.data = mon->sigint.data = mon;
	uv_signal_start(&mon->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&mon->sigint, signal_cb, SIGINT);

	ret = service_start(mon, err);
	if (ret)
		return ret;

	rv = raft_uv_tcp_init(&mon->transport, &mon->uv);
	if (rv)
		return raft_error(err, rv, "raft transport", "tcp");
	rv = raft_uv_init(&mon->io, &mon->uv, mon->conf.data_dir,
			  &mon->transport);
	if (rv)
		return raft_error(err, rv, "raft I/O", mon->io.errmsg);
	rv = raft_init(&mon->raft, &mon->io, &mon->fsm.fsm, mon->id + 1,
		       self->raft_addr);
	if (rv)
		return raft_error(err, rv, "raft init", raft_errmsg(&mon->raft));
	mon->raft.data = mon;
	et = (unsigned)mon->global.mon_election_timeout;
	raft_set_election_timeout(&mon->raft, et);
	raft_set_heartbeat_timeout(&mon->raft, et / 10 ? et / 10 : 1);
	raft_set_snapshot_threshold(&mon->raft, MON_SNAPSHOT_THRESHOLD);
	raft_set_snapshot_trailing(&mon->raft, MON_SNAPSHOT_TRAILING);
	raft_set_pre_vote(&mon->raft, true);
	raft_uv_set_connect_retry_delay(&mon->io, 200);
	ret = bootstrap(mon, err);
	if (ret)
		return ret;
	rv = raft_start(&mon->raft);
	if (rv)
		return raft_error(err, rv, "raft start", raft_errmsg(&mon->raft));
	mon->raft_started = true;
	mon->seen_state = -1;
	mon->seen_leader = -1;
	uv_timer_init(&mon->uv, &mon->watch);
	mon->watch.data = mon;
	uv_timer_start(&mon->watch, watch_cb, 100, 100);
	mon->start_ms = bs_now_ms();
	bs_notice("%s up: messenger %s, raft %s, %u members, data_dir %s",
		  mon->name, bs_msgr_listen_addr(mon->msgr), self->raft_addr,
		  mon->n_members, mon->conf.data_dir);
	return 0;
}

int mon_run(struct mon *mon)
{
	uv_run(&mon->uv, UV_RUN_DEFAULT);
	return mon->exit_code;
}

static void close_handle_cb(uv_handle_t *h)
{
}

static void raft_closed_cb(struct raft *r)
{
	struct mon *mon = r->data;

	raft_uv_close(&mon->io);
	raft_uv_tcp_close(&mon->transport);
	uv_close((uv_handle_t *)&mon->watch, close_handle_cb);
	/* run what the loop still holds (replies), then stop polling it */
	bs_loop_poll(mon->loop);
	uv_close((uv_handle_t *)&mon->loop_poll, close_handle_cb);
	uv_close((uv_handle_t *)&mon->sigterm, close_handle_cb);
	uv_close((uv_handle_t *)&mon->sigint, close_handle_cb);
	bs_notice("%s stopped", mon->name);
}

void mon_stop(struct mon *mon, int exit_code)
{
	if (mon->stopping)
		return;
	mon->stopping = true;
	mon->exit_code = exit_code;
	/* commands in flight fail, subscribers go, connections close */
	service_stop(mon);
	if (mon->raft_started) {
		raft_close(&mon->raft, raft_closed_cb);
	} else {
		uv_close((uv_handle_t *)&mon->loop_poll, close_handle_cb);
		uv_close((uv_handle_t *)&mon->sigterm, close_handle_cb);
		uv_close((uv_handle_t *)&mon->sigint, close_handle_cb);
	}
}

void mon_release(struct mon *mon)
{
	unsigned i;

	/* every handle is closed: let libuv finish them */
	uv_run(&mon->uv, UV_RUN_NOWAIT);
	if (uv_loop_close(&mon->uv))
		bs_warn("libuv loop still has open handles at exit");
	if (mon->msgr)
		bs_msgr_free(&mon->msgr);
	if (mon->loop)
		bs_loop_free(&mon->loop);
	osd_service_release(mon);
	mon_fsm_release(&mon->fsm);
	for (i = 0; i < mon->n_members; i++) {
		free(mon->members[i].addr);
		free(mon->members[i].raft_addr);
	}
	bs_conf_release(mon_conf_keys, mon_conf_nkeys, &mon->conf);
	bs_global_conf_release(&mon->global);
}
