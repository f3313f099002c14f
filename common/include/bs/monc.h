/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mon client: talks to the monitor quorum for the CLI, the OSDs and
 * libbasalt.  It keeps a connection to every mon, sends each request to a
 * reachable one (preferring the leader; followers forward changes),
 * retries on another mon when a connection breaks, and bounds every
 * request by an overall timeout.  It can subscribe to the cluster map and
 * calls back on each new epoch.
 *
 * The wire messages are in common/proto/mon.proto (Bs__* types from
 * "proto/mon.pb-c.h"); message types BS_MSG_MON_* in bs/msg_types.h.
 *
 * Errors (return values and the res of callbacks):
 *   -EHOSTUNREACH  no mon could be reached within the timeout (message:
 *                  "cannot reach any monitor at A, B, C: is the cluster
 *                  running?")
 *   -ENOTCONN      a mon answered BS_ERR_NOQUORUM: no majority, changes
 *                  are refused (reads still work)
 *   -ETIMEDOUT     a mon was reachable but did not answer in time
 *   other          the mon's answer: -EEXIST, -ENOENT, -EINVAL,
 *                  -ENOTEMPTY ... with its one-line text in @err
 *
 * Threading: every function runs on the thread of the monc's loop; the
 * *_sync() functions must not be called from inside one of its callbacks.
 */
#ifndef BS_MONC_H
#define BS_MONC_H

#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "bs/conf.h"
#include "bs/error.h"
#include "bs/loop.h"
#include "bs/msgr.h"
#include "proto/mon.pb-c.h"

struct bs_monc;

#define BS_MONC_DEFAULT_TIMEOUT_MS	15000	/* > mon_command_timeout */
#define BS_MONC_CONNECT_TIMEOUT_MS	3000	/* to give up on every mon */
#define BS_MONC_MAX_MONS		32

/*
 * The mon addresses a client should use: [global] mon_host (a comma
 * separated list "H:P,H:P"), else the addr of every [mon.N] section in
 * file order.  @conf may not be NULL.  On success *addrs is a
 * NULL-terminated array the caller frees with bs_monc_addrs_free() and *n
 * its length (>= 1).  -ENOENT when the file names no mon, -EINVAL for an
 * address that does not parse; @err says which.
 */
int bs_monc_conf_addrs(const struct bs_conf *conf, char ***addrs,
		       unsigned *n, struct bs_error *err);
void bs_monc_addrs_free(char ***addrs);

/*
 * Create a client for the mons at @addrs[0..@n-1] (copied).  With @loop
 * NULL the monc creates and owns a loop of its own (what the *_sync()
 * functions need in a program that has none); otherwise it runs on
 * @loop, which must outlive it.  Connections open in the background.
 * Returns 0 or -errno with @err set.
 */
int bs_monc_new(struct bs_monc **out, struct bs_loop *loop,
		const char *const *addrs, unsigned n, struct bs_error *err);

/*
 * Close every connection.  Requests in flight complete with -ECANCELED
 * before this returns; subscriptions end.  Clears *monc.
 */
void bs_monc_free(struct bs_monc **monc);

/* The loop the monc runs on (its own one when created with NULL). */
struct bs_loop *bs_monc_loop(struct bs_monc *monc);

/* Overall timeout per request, retries included (default 15 s). */
void bs_monc_set_timeout(struct bs_monc *monc, uint64_t ms);

/* Number of mons and the address of mon @i, as given to bs_monc_new(). */
unsigned bs_monc_num_mons(const struct bs_monc *monc);
const char *bs_monc_mon_addr(const struct bs_monc *monc, unsigned i);

/*
 * Completion of a request.  @res is 0 with @reply set (the callback owns
 * it: bs_msg_free(); reply->body is the reply type's Bs__* message), or
 * -errno (see the top of this file) with @reply NULL and @err holding the
 * one-line reason.  Runs on the loop thread, never before the call that
 * started the request has returned.
 */
typedef void bs_monc_reply_fn(void *opaque, int res, struct bs_msg *reply,
			      const struct bs_error *err);

/*
 * Send request @type (a BS_MSG_MON_* request type) with @body (copied now)
 * to a reachable mon.  If its connection breaks or it is not reachable,
 * the request goes to the next mon, until the overall timeout.  @fn runs
 * exactly once.  Returns 0, or -errno (unknown type, body does not pack)
 * without calling @fn.
 */
int bs_monc_call(struct bs_monc *monc, uint16_t type,
		 const ProtobufCMessage *body, bs_monc_reply_fn *fn,
		 void *opaque);

/* bs_monc_call(BS_MSG_MON_COMMAND): reply body is Bs__MonCommandReply. */
int bs_monc_command(struct bs_monc *monc, const Bs__MonCommand *cmd,
		    bs_monc_reply_fn *fn, void *opaque);

/*
 * Called for each new map epoch with the map (borrowed for the call; use
 * bs_monc_map() later).  Epochs only grow: an older or equal map is never
 * delivered.
 */
typedef void bs_monc_map_fn(void *opaque, const Bs__ClusterMap *map);

/*
 * Subscribe to the cluster map: from now on @fn runs for every map newer
 * than @have_epoch (and newer than any map it saw before).  The monc keeps
 * the subscription alive across connection losses and mon failures by
 * subscribing again on another mon.  One subscriber per monc; calling
 * again replaces it.  Returns 0 or -errno.
 */
int bs_monc_subscribe(struct bs_monc *monc, uint64_t have_epoch,
		      bs_monc_map_fn *fn, void *opaque);

/* The newest map the subscription delivered, or NULL. */
const Bs__ClusterMap *bs_monc_map(const struct bs_monc *monc);

/*
 * The state of one mon, as bs_monc_mon_status*() report it.  @res is 0
 * with @status set, or -errno when that mon did not answer (unreachable).
 */
struct bs_monc_mon_state {
	const char *addr;		/* borrowed from the monc */
	int res;
	Bs__MonStatus *status;		/* freed by bs_monc_mon_states_free */
};

typedef void bs_monc_status_fn(void *opaque,
			       struct bs_monc_mon_state *states, unsigned n);

/*
 * Ask every mon for its MonStatus, in parallel, each bounded by
 * @timeout_ms (0: 2 s).  @fn gets one entry per mon in bs_monc_new()
 * order and owns the array (bs_monc_mon_states_free()).
 */
int bs_monc_mon_status(struct bs_monc *monc, uint64_t timeout_ms,
		       bs_monc_status_fn *fn, void *opaque);
void bs_monc_mon_states_free(struct bs_monc_mon_state **states, unsigned n);

/*
 * Synchronous forms: run the monc's loop until the answer is in.  On
 * success *reply (or the typed out pointer) belongs to the caller.
 */
int bs_monc_call_sync(struct bs_monc *monc, uint16_t type,
		      const ProtobufCMessage *body, struct bs_msg **reply,
		      struct bs_error *err);

/*
 * A change.  On -ENOTCONN (no quorum) the text in @err is replaced by what
 * every mon says: "no quorum: only 1 of 3 monitors reachable; a majority
 * (2) is needed to make changes".  *reply: free with
 * bs__mon_command_reply__free_unpacked(*reply, NULL).
 */
int bs_monc_command_sync(struct bs_monc *monc, const Bs__MonCommand *cmd,
			 Bs__MonCommandReply **reply, struct bs_error *err);

/* The current map; free with bs__cluster_map__free_unpacked(m, NULL). */
int bs_monc_get_map_sync(struct bs_monc *monc, Bs__ClusterMap **map,
			 struct bs_error *err);

/*
 * Directory lookup (see VolumeQuery in mon.proto): @pool and @name may be
 * NULL.  Free with bs__volume_list__free_unpacked(*list, NULL).
 */
int bs_monc_volumes_sync(struct bs_monc *monc, const char *pool,
			 const char *name, Bs__VolumeList **list,
			 struct bs_error *err);

/* Every mon's status; *states has bs_monc_num_mons() entries. */
int bs_monc_mon_status_sync(struct bs_monc *monc, uint64_t timeout_ms,
			    struct bs_monc_mon_state **states,
			    struct bs_error *err);

/*
 * The no-quorum sentence for @states (n entries): "only 1 of 3 monitors
 * reachable; a majority (2) is needed to make changes", or, when a
 * majority answers but none knows a leader, "3 of 3 monitors reachable
 * but no leader elected yet".  The group size is the larger of @n and the
 * member count the mons report.  Writes into @buf.
 */
const char *bs_monc_quorum_text(const struct bs_monc_mon_state *states,
				unsigned n, char *buf, size_t len);

/*
 * ---- OSD side of failure detection (docs/mon.md, "Failure detection") ----
 *
 * One-way messages: no reply, no callback, no retry; they are cheap and
 * never block (the frame is queued on a connected mon's socket or
 * dropped).  Return 0 when queued, -ENOTCONN when no mon is connected
 * right now (dropped: the next one will do), -EINVAL when @body is not of
 * @type's schema, -ENOMEM.
 */
int bs_monc_send(struct bs_monc *monc, uint16_t type,
		 const ProtobufCMessage *body);

/*
 * Send a beacon (BS_MSG_MON_OSD_BEACON).  Call it every
 * osd_heartbeat_interval (struct bs_global_conf) from the OSD's loop,
 * from boot on.  @b is borrowed; the monc stamps its seq.  Beacons go to
 * the connected mons in turn (a follower relays them to the leader), so
 * one broken mon cannot starve the leader of them.
 */
int bs_monc_send_beacon(struct bs_monc *monc, const Bs__OsdBeacon *b);

/*
 * Report that @f->target does not answer (or, with @f->alive, that it
 * answers again) to every connected mon.  Re-send every
 * osd_heartbeat_interval while the failure lasts.  Returns 0 if at least
 * one mon got it, else -ENOTCONN.
 */
int bs_monc_send_failure(struct bs_monc *monc, const Bs__OsdFailure *f);

/*
 * The cluster's health as the leader sees it (ClusterStatus in
 * mon.proto; a follower answers alone, from_leader false, if the leader
 * does not).  Free with bs__cluster_status__free_unpacked(*st, NULL).
 */
int bs_monc_cluster_status_sync(struct bs_monc *monc, Bs__ClusterStatus **st,
				struct bs_error *err);

/*
 * The PGs (of @pool if not NULL; whose acting set holds osd.@osd if @osd
 * >= 0) with state, acting set, primary and object counts.  -ENOENT for
 * an unknown pool; -EFBIG when too many to list at once.  Free with
 * bs__pg_stat_list__free_unpacked(*list, NULL).
 */
int bs_monc_pg_list_sync(struct bs_monc *monc, const char *pool, int64_t osd,
			 Bs__PgStatList **list, struct bs_error *err);

/* Names for enums, as the CLI prints them ("replicated", "host", "up"). */
const char *bs_monc_pool_kind_name(int kind);
const char *bs_monc_failure_domain_name(int fd);
/* Parse "host"/"osd"/"rack"/"site"; -EINVAL if unknown. */
int bs_monc_parse_failure_domain(const char *s, int *fd);

#endif /* BS_MONC_H */
