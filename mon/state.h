/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mon's replicated state machine: the cluster map (OSDs, pools, epoch)
 * and the volume directory.  Pure logic: no raft, no loop, no clock.  A
 * command carries everything it needs (the leader's timestamp), ids come
 * from counters in the state, so every mon that applies the same commands
 * in the same order ends with the same bytes.
 */
#ifndef BS_MON_STATE_H
#define BS_MON_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"
#include "proto/mon.pb-c.h"

#define MON_NAME_MAX		128
#define MON_STR_MAX		255		/* addr, host, rack, site */
#define MON_POOL_MAX_SIZE	16
#define MON_POOL_MAX_PG_NUM	65536
#define MON_DEFAULT_SIZE	3
#define MON_DEFAULT_PG_NUM	32
#define MON_DEFAULT_OBJECT_SIZE	(4u << 20)
#define MON_MIN_OBJECT_SIZE	(4u << 10)
#define MON_MAX_OBJECT_SIZE	(64u << 20)
#define MON_VOLUME_MAX_SIZE	(1ull << 60)
#define MON_OSD_MAX_ID		1000000
#define MON_DEFAULT_OSD_WEIGHT	(1ull << 40)
#define MON_SNAPSHOT_VERSION	1
#define MON_HISTORY_MAX		1024	/* map history entries */

/*
 * Invariants: every string is a bs_xstrdup() copy owned here; map.osds is
 * sorted by id, map.pools by id, volumes by (pool_id, name); ids are never
 * reused (next_pool_id/next_volume_id only grow); map.history holds one
 * entry per epoch, consecutive, the last for map.epoch (or is empty).
 */
struct mon_state {
	Bs__ClusterMap map;
	Bs__Volume **volumes;
	size_t n_volumes;
	size_t cap_volumes;
	uint32_t next_pool_id;
	uint64_t next_volume_id;
	uint64_t dir_version;
};

/* What one command did, for the reply to whoever proposed it. */
struct mon_result {
	struct bs_error err;		/* err.code: 0 or -errno */
	uint64_t epoch;			/* map epoch after the command */
	bool map_changed;		/* epoch was bumped */
	bool dir_changed;		/* directory changed */
	uint32_t pool_id;		/* pool created (0: none) */
	uint64_t volume_id;		/* volume created/resized (0: none) */
	int32_t osd_id;			/* osd created by osd_add (-1: none) */
	char msg[BS_ERROR_MSG_MAX];	/* on success: "pool 'rbd' created" */
};

/* An empty state: epoch 1, no OSDs, pools or volumes. */
void mon_state_init(struct mon_state *st);
void mon_state_release(struct mon_state *st);

/*
 * Apply @cmd.  Never fails as a whole: a refused command (duplicate name,
 * unknown pool, bad value) leaves the state untouched and is reported in
 * @res->err; the return value is res->err.code.
 */
int mon_state_apply(struct mon_state *st, const Bs__MonCommand *cmd,
		    struct mon_result *res);

/* Decode a packed MonCommand (a raft log entry) and apply it. */
int mon_state_apply_buf(struct mon_state *st, const void *buf, size_t len,
			struct mon_result *res);

/* Snapshot: the packed MonSnapshot's size, and the bytes into @out. */
size_t mon_state_encoded_size(const struct mon_state *st);
size_t mon_state_encode(const struct mon_state *st, uint8_t *out);

/*
 * Replace @st by the snapshot in @buf.  On error (-EBADMSG, -EINVAL) @st
 * is unchanged and @err says why.
 */
int mon_state_decode(struct mon_state *st, const void *buf, size_t len,
		     struct bs_error *err);

/* Lookups; the results are borrowed until the next apply/decode. */
const Bs__PoolInfo *mon_state_pool_by_name(const struct mon_state *st,
					   const char *name);
const Bs__PoolInfo *mon_state_pool_by_id(const struct mon_state *st,
					 uint32_t id);
const Bs__OsdInfo *mon_state_osd(const struct mon_state *st, uint32_t id);
const Bs__Volume *mon_state_volume(const struct mon_state *st,
				   uint32_t pool_id, const char *name);
const Bs__Volume *mon_state_volume_by_id(const struct mon_state *st,
					 uint64_t id);

/* The volumes of @pool_id are volumes[*first .. *first + count - 1]. */
size_t mon_state_pool_volumes(const struct mon_state *st, uint32_t pool_id,
			      size_t *first);

/* [A-Za-z0-9_.-]{1,128}, and not "." or "..". */
bool mon_name_is_valid(const char *name);

/* "pool_create", ... for log lines. */
const char *mon_command_name(const Bs__MonCommand *cmd);

#endif /* BS_MON_STATE_H */
