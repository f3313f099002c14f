// SPDX-License-Identifier: Apache-2.0
/*
 * libraft fsm callbacks for the mon: apply decodes a MonCommand and runs
 * it through mon/state.c (a refused command is a normal result, never an
 * apply failure, so raft never stalls); snapshots are the packed
 * MonSnapshot.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/log.h"
#include "fsm.h"

int mon_fsm_encode_command(const Bs__MonCommand *cmd,
			   struct raft_buffer *buf)
{
	size_t len = bs__mon_command__get_packed_size(cmd);
	uint8_t *p;

	buf->len = MON_ENTRY_HEADER + BS_ALIGN_UP(len, 8);
	buf->base = raft_malloc(buf->len);
	if (!buf->base)
		return -ENOMEM;
	p = buf->base;
	memset(p, 0, buf->len);
	p[0] = len & 0xff;
	p[1] = (len >> 8) & 0xff;
	p[2] = (len >> 16) & 0xff;
	p[3] = (len >> 24) & 0xff;
	bs__mon_command__pack(cmd, p + MON_ENTRY_HEADER);
	return 0;
}

Bs__MonCommand *mon_fsm_decode_command(const struct raft_buffer *buf)
{
	const uint8_t *p = buf->base;
	size_t len;

	if (buf->len < MON_ENTRY_HEADER)
		return NULL;
	len = p[0] | (p[1] << 8) | (p[2] << 16) | ((size_t)p[3] << 24);
	if (len > buf->len - MON_ENTRY_HEADER)
		return NULL;
	return bs__mon_command__unpack(NULL, len, p + MON_ENTRY_HEADER);
}

static int fsm_apply(struct raft_fsm *rf, const struct raft_buffer *buf,
		     void **result)
{
	struct mon_fsm *f = rf->data;
	struct mon_result res;
	Bs__MonCommand *cmd;
	uint64_t proposal;
	raft_index index = f->raft ? raft_last_applied(f->raft) + 1 : 0;

	*result = NULL;
	cmd = mon_fsm_decode_command(buf);
	if (!cmd) {
		/* deterministic everywhere: the same bytes fail alike */
		bs_err("raft entry %llu: mon command of %zu bytes does not decode; skipped",
		       index, buf->len);
		return 0;
	}
	proposal = cmd->proposal;
	mon_state_apply(&f->state, cmd, &res);
	if (res.err.code)
		bs_dbg(BS_SUB_MON, "raft entry %llu: %s refused: %s", index,
		       mon_command_name(cmd), res.err.msg);
	else
		bs_info("%s (epoch %" PRIu64 ", raft index %llu)", res.msg,
			res.epoch, index);
	bs__mon_command__free_unpacked(cmd, NULL);
	if (f->applied)
		f->applied(f->opaque, proposal, &res, index);
	if (res.map_changed && f->map_changed)
		f->map_changed(f->opaque);
	return 0;
}

static int fsm_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[],
			unsigned *n_bufs)
{
	struct mon_fsm *f = rf->data;
	struct raft_buffer *b;
	size_t len;

	b = raft_malloc(sizeof(*b));
	if (!b)
		return RAFT_NOMEM;
	len = mon_state_encoded_size(&f->state);
	b->base = raft_malloc(len ? len : 1);
	if (!b->base) {
		raft_free(b);
		return RAFT_NOMEM;
	}
	b->len = mon_state_encode(&f->state, b->base);
	*bufs = b;
	*n_bufs = 1;
	bs_info("snapshot of %zu bytes at epoch %" PRIu64 ", %zu volumes",
		len, f->state.map.epoch, f->state.n_volumes);
	return 0;
}

static int fsm_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
	struct mon_fsm *f = rf->data;
	struct bs_error err = { 0 };
	uint64_t old_epoch = f->state.map.epoch;
	int ret;

	ret = mon_state_decode(&f->state, buf->base, buf->len, &err);
	if (ret) {
		bs_err("cannot restore the raft snapshot: %s", err.msg);
		return RAFT_CORRUPT;
	}
	raft_free(buf->base);	/* ours after a successful restore */
	bs_notice("restored snapshot: epoch %" PRIu64 ", %zu pools, %zu osds, %zu volumes",
		  f->state.map.epoch, f->state.map.n_pools,
		  f->state.map.n_osds, f->state.n_volumes);
	if (f->state.map.epoch != old_epoch && f->map_changed)
		f->map_changed(f->opaque);
	return 0;
}

void mon_fsm_init(struct mon_fsm *f)
{
	memset(f, 0, sizeof(*f));
	mon_state_init(&f->state);
	f->fsm.version = 1;
	f->fsm.data = f;
	f->fsm.apply = fsm_apply;
	f->fsm.snapshot = fsm_snapshot;
	f->fsm.restore = fsm_restore;
}

void mon_fsm_release(struct mon_fsm *f)
{
	mon_state_release(&f->state);
}
