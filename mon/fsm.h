/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libraft fsm around the mon state machine: apply committed commands,
 * take and restore snapshots.  Knows raft's fsm interface but no I/O, so a
 * raft fixture test can run it too.
 */
#ifndef BS_MON_FSM_H
#define BS_MON_FSM_H

#include <stdint.h>

#include <raft.h>

#include "state.h"

struct mon_fsm {
	struct raft_fsm fsm;		/* handed to raft_init() */
	struct mon_state state;
	struct raft *raft;		/* for the index being applied */
	/* a command was applied; @proposal is the proposer's tag */
	void (*applied)(void *opaque, uint64_t proposal,
			const struct mon_result *res, raft_index index);
	/* the map epoch changed (apply or restore) */
	void (*map_changed)(void *opaque);
	void *opaque;
};

/*
 * A raft log entry holding a command (libraft's on-disk batches need
 * entry lengths that are multiples of 8, so the protobuf gets a prefix):
 *
 *   offset size field
 *   0      4    len       length of the packed MonCommand, little-endian
 *   4      4    reserved  0
 *   8      len  MonCommand
 *   8+len  0-7  zero padding to a multiple of 8
 */
#define MON_ENTRY_HEADER	8

/* Pack @cmd into a raft_malloc()ed entry for raft_apply(); 0 or -ENOMEM. */
int mon_fsm_encode_command(const Bs__MonCommand *cmd,
			   struct raft_buffer *buf);

/* The MonCommand of an entry, or NULL if it does not decode. */
Bs__MonCommand *mon_fsm_decode_command(const struct raft_buffer *buf);

/* Set up @f with an empty state; callbacks may be NULL. */
void mon_fsm_init(struct mon_fsm *f);
void mon_fsm_release(struct mon_fsm *f);

#endif /* BS_MON_FSM_H */
