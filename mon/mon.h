/* SPDX-License-Identifier: Apache-2.0 */
/*
 * basalt-mon: one member of the monitor quorum.  struct mon and the
 * prototypes shared by main.c (argv, config, signals), raft_io.c (libraft
 * on libuv, the fsm glue, snapshots) and service.c (messenger requests:
 * commands, forwarding, reads, subscriptions).
 *
 * One thread: libuv runs libraft and polls our io_uring loop's eventfd, so
 * every callback of either loop runs on the main thread.
 */
#ifndef BS_MON_MON_H
#define BS_MON_MON_H

#include <stdbool.h>
#include <stdint.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "bs/conf.h"
#include "bs/conf_global.h"
#include "bs/loop.h"
#include "bs/msgr.h"
#include "bs/osdmap.h"
#include "fsm.h"
#include "osdmon.h"
#include "state.h"

#define MON_MAX_MEMBERS		15
#define MON_SNAPSHOT_THRESHOLD	512	/* raft entries between snapshots */
#define MON_SNAPSHOT_TRAILING	256	/* entries kept after a snapshot */
#define MON_MAX_HOPS		3	/* forwards of one command */
#define MON_RETRY_MS		100	/* waiting for a leader */
#define MON_READ_FORWARD_MS	1000	/* a read asked of the leader */

/* Every key basalt-mon reads ([global] and its own [mon.N]). */
/* [mon.N] keys; the [global] ones are in struct bs_global_conf. */
struct mon_conf {
	char *addr;
	char *raft_addr;
	char *data_dir;
};

extern const struct bs_conf_key mon_conf_keys[];
extern const size_t mon_conf_nkeys;

/* One [mon.N] of the configuration. */
struct mon_member {
	unsigned id;			/* N; raft server id N + 1 */
	char *addr;			/* messenger */
	char *raft_addr;
	struct bs_conn *conn;		/* to forward commands; NULL: not yet */
	uint64_t heard_ms;		/* as leader: last reply from it */
};

struct mon_cmd;
struct mon_sub;

struct mon {
	unsigned id;			/* mon.N */
	char name[16];			/* "mon.N" */
	struct bs_global_conf global;
	struct mon_conf conf;
	struct mon_member members[MON_MAX_MEMBERS];
	unsigned n_members;
	uint64_t start_ms;

	uv_loop_t uv;
	uv_poll_t loop_poll;		/* our bs_loop's eventfd */
	uv_signal_t sigterm, sigint;
	uv_timer_t watch;		/* logs role and leader changes */
	int seen_state, seen_leader;
	struct bs_loop *loop;
	struct bs_msgr *msgr;

	struct raft_uv_transport transport;
	struct raft_io io;
	struct mon_fsm fsm;		/* with the replicated state */
	struct raft raft;
	bool raft_started;
	bool stopping;
	int exit_code;

	uint64_t proposal_base;		/* random per start */
	uint64_t proposal_seq;
	struct mon_cmd *cmds;		/* client commands in flight */
	struct mon_sub *subs;		/* map subscribers */

	/* failure detection and health (osd_service.c) */
	struct osdmon osdmon;		/* soft state, on the leader */
	bool osd_leader;		/* osdmon tracks our leadership */
	uint64_t osd_leader_ms;		/* when it started */
	struct bs_osdmap *osdmap;	/* placement of the applied map */
	unsigned marks_in_flight;	/* OsdMark proposals of ours */
	bool trim_in_flight;		/* a MapTrim proposal of ours */
	uint64_t next_trim_ms;		/* next look at the history */
};

/* raft_io.c */
/*
 * Set up libuv, our loop, the messenger and libraft; bootstrap an empty
 * data_dir with every member as a voter; start.  Returns 0 or -errno with
 * @err set.
 */
int mon_start(struct mon *mon, struct bs_error *err);
/* Run until mon_stop() has finished; returns the exit code. */
int mon_run(struct mon *mon);
/* Begin a clean shutdown (signal handler, fatal error). */
void mon_stop(struct mon *mon, int exit_code);
/* Release what mon_start() set up, after mon_run() returned. */
void mon_release(struct mon *mon);
/* raft_state() as text: "leader", "follower", "candidate", ... */
const char *mon_raft_state_name(struct mon *mon);
/* The known leader's member, or NULL. */
struct mon_member *mon_leader(struct mon *mon);
/* Voters the leader heard from recently, itself included; 0 if not leader. */
unsigned mon_quorum_seen(struct mon *mon);
/* Start a command proposal tag (unique for this run). */
uint64_t mon_next_proposal(struct mon *mon);
/* Leader only: did we hear from @m within two election timeouts? */
bool mon_member_in_quorum(struct mon *mon, const struct mon_member *m);

/* service.c */
int service_start(struct mon *mon, struct bs_error *err);
void service_stop(struct mon *mon);
/* The fsm applied a command: hand its result to a waiting proposal. */
void service_applied(struct mon *mon, uint64_t proposal,
		     const struct mon_result *res, raft_index index);
/* The map changed (apply or snapshot restore): push to subscribers. */
void service_map_changed(struct mon *mon);

/* osd_service.c */
void osd_service_init(struct mon *mon);
/* Free the soft state; after raft is closed. */
void osd_service_release(struct mon *mon);
/* Every watch tick: follow leadership, propose marks the detector asks. */
void osd_service_tick(struct mon *mon);
/* A one-way beacon or failure report: judge it (leader) or relay it. */
void osd_service_oneway(struct mon *mon, struct bs_conn *conn,
			struct bs_msg *msg);
/* ClusterStatusRequest / PgStatQuery, answered from this mon. */
void osd_service_status(struct mon *mon, struct bs_conn *conn,
			struct bs_msg *msg);
void osd_service_pg_query(struct mon *mon, struct bs_conn *conn,
			  struct bs_msg *msg);
/*
 * On the leader, before proposing OsdRm: the "may hold the only copy"
 * rule (health_rm_check) unless @rm->force.  0 or -EBUSY with @err.
 */
int osd_service_check_rm(struct mon *mon, const Bs__OsdRm *rm,
			 struct bs_error *err);

#endif /* BS_MON_MON_H */
