// SPDX-License-Identifier: Apache-2.0
/*
 * The mon fsm (mon/fsm.c) on libraft's deterministic fixture: three
 * servers commit commands and agree byte for byte; a killed leader is
 * replaced and the survivors keep committing; a server that was down
 * catches up through a snapshot; the proposer gets each result.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/fixture.h>

#include "fsm.h"

#define N 3
#define MAX_MS 20000

struct harness {
	struct raft_fixture f;
	struct mon_fsm fsms[N];
	/* what each server's fsm reported last */
	uint64_t last_proposal[N];
	int last_code[N];
	unsigned map_changes[N];
};

static struct harness *g;

static void applied_i(unsigned i, uint64_t proposal,
		      const struct mon_result *res)
{
	g->last_proposal[i] = proposal;
	g->last_code[i] = res->err.code;
}

#define APPLIED_FN(i)							\
	static void applied_##i(void *o, uint64_t p,			\
				const struct mon_result *r,		\
				raft_index x)				\
	{								\
		applied_i(i, p, r);					\
	}								\
	static void changed_##i(void *o)				\
	{								\
		g->map_changes[i]++;					\
	}
APPLIED_FN(0)
APPLIED_FN(1)
APPLIED_FN(2)

static void (*const applied_fns[N])(void *, uint64_t,
				     const struct mon_result *, raft_index) = {
	applied_0, applied_1, applied_2,
};
static void (*const changed_fns[N])(void *) = {
	changed_0, changed_1, changed_2,
};

static int setup(void **state)
{
	struct raft_configuration conf;
	unsigned i;

	g = calloc(1, sizeof(*g));
	assert_int_equal(raft_fixture_initialize(&g->f), 0);
	for (i = 0; i < N; i++) {
		mon_fsm_init(&g->fsms[i]);
		g->fsms[i].applied = applied_fns[i];
		g->fsms[i].map_changed = changed_fns[i];
		assert_int_equal(raft_fixture_grow(&g->f, &g->fsms[i].fsm), 0);
		g->fsms[i].raft = raft_fixture_get(&g->f, i);
	}
	assert_int_equal(raft_fixture_configuration(&g->f, N, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(&g->f, &conf), 0);
	raft_configuration_close(&conf);
	assert_int_equal(raft_fixture_start(&g->f), 0);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	unsigned i;

	raft_fixture_close(&g->f);
	for (i = 0; i < N; i++)
		mon_fsm_release(&g->fsms[i]);
	free(g);
	g = NULL;
	return 0;
}

/* ---- proposals ---- */

struct proposal {
	struct raft_apply req;
	bool done;
	int status;
};

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct proposal *p = req->data;

	p->done = true;
	p->status = status;
}

static raft_index propose(unsigned leader, Bs__MonCommand *cmd,
			  struct proposal *p, uint64_t tag)
{
	struct raft_buffer buf;

	cmd->proposal = tag;
	cmd->stamp_us = 1700000000000000ull + tag;
	assert_int_equal(mon_fsm_encode_command(cmd, &buf), 0);
	assert_int_equal(buf.len % 8, 0);
	memset(p, 0, sizeof(*p));
	p->req.data = p;
	assert_int_equal(raft_apply(raft_fixture_get(&g->f, leader), &p->req,
				    &buf, 1, apply_cb), 0);
	return p->req.index;
}

static raft_index pool_create(unsigned leader, const char *name,
			      struct proposal *p, uint64_t tag)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__PoolCreate pc = BS__POOL_CREATE__INIT;

	pc.name = (char *)name;
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd.pool_create = &pc;
	return propose(leader, &cmd, p, tag);
}

static raft_index volume_create(unsigned leader, const char *name,
				struct proposal *p, uint64_t tag)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeCreate vc = BS__VOLUME_CREATE__INIT;

	vc.pool = "rbd";
	vc.name = (char *)name;
	vc.size = 1 << 20;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_CREATE;
	cmd.volume_create = &vc;
	return propose(leader, &cmd, p, tag);
}

static void assert_same_state(unsigned a, unsigned b)
{
	size_t alen = mon_state_encoded_size(&g->fsms[a].state);
	size_t blen = mon_state_encoded_size(&g->fsms[b].state);
	uint8_t *x = malloc(alen + 1), *y = malloc(blen + 1);

	assert_int_equal(alen, blen);
	mon_state_encode(&g->fsms[a].state, x);
	mon_state_encode(&g->fsms[b].state, y);
	assert_memory_equal(x, y, alen);
	free(x);
	free(y);
}

static unsigned wait_leader(void)
{
	unsigned l;

	assert_true(raft_fixture_step_until_has_leader(&g->f, MAX_MS));
	l = raft_fixture_leader_index(&g->f);
	assert_true(l < N);
	return l;
}

/* ---- tests ---- */

static void test_raft_three_mons_commit_and_agree(void **state)
{
	struct proposal p;
	raft_index idx;
	unsigned l = wait_leader(), i;

	idx = pool_create(l, "rbd", &p, 11);
	assert_true(raft_fixture_step_until_applied(&g->f, N, idx, MAX_MS));
	assert_true(p.done);
	assert_int_equal(p.status, 0);
	for (i = 0; i < N; i++) {
		assert_non_null(mon_state_pool_by_name(&g->fsms[i].state,
						       "rbd"));
		assert_int_equal(g->fsms[i].state.map.epoch, 2);
		assert_int_equal(g->map_changes[i], 1);
		/* every fsm sees the proposer's tag; only it has a waiter */
		assert_int_equal(g->last_proposal[i], 11);
	}
	/* a refused command is a result, not a stall */
	idx = pool_create(l, "rbd", &p, 12);
	assert_true(raft_fixture_step_until_applied(&g->f, N, idx, MAX_MS));
	assert_int_equal(p.status, 0);
	assert_int_equal(g->last_code[l], -EEXIST);
	assert_int_equal(g->fsms[l].state.map.epoch, 2);
	idx = volume_create(l, "v1", &p, 13);
	assert_true(raft_fixture_step_until_applied(&g->f, N, idx, MAX_MS));
	assert_int_equal(g->last_code[l], 0);
	for (i = 1; i < N; i++)
		assert_same_state(0, i);
	assert_int_equal(g->fsms[0].state.map.epoch, 2);
	assert_int_equal(g->fsms[0].state.n_volumes, 1);
}

static void test_raft_new_leader_after_kill_keeps_committing(void **state)
{
	struct proposal p;
	raft_index idx;
	unsigned l = wait_leader(), l2, i, other = N;

	idx = pool_create(l, "rbd", &p, 21);
	assert_true(raft_fixture_step_until_applied(&g->f, N, idx, MAX_MS));
	raft_fixture_kill(&g->f, l);
	assert_true(raft_fixture_step_until_has_no_leader(&g->f, MAX_MS) ||
		    raft_fixture_leader_index(&g->f) != l);
	l2 = wait_leader();
	assert_int_not_equal(l2, l);
	idx = volume_create(l2, "after-failover", &p, 22);
	for (i = 0; i < N; i++)
		if (i != l && i != l2)
			other = i;
	assert_true(raft_fixture_step_until_applied(&g->f, l2, idx, MAX_MS));
	assert_true(raft_fixture_step_until_applied(&g->f, other, idx,
						    MAX_MS));
	assert_true(p.done);
	assert_int_equal(p.status, 0);
	assert_non_null(mon_state_volume(&g->fsms[l2].state, 1,
					 "after-failover"));
	assert_same_state(l2, other);
	/* the old leader never saw it */
	assert_null(mon_state_volume(&g->fsms[l].state, 1, "after-failover"));
}

static void test_raft_lagging_mon_catches_up_from_snapshot(void **state)
{
	struct proposal p;
	raft_index idx = 0;
	unsigned l = wait_leader(), victim = (l + 1) % N, i;
	char name[32];

	for (i = 0; i < N; i++) {
		raft_set_snapshot_threshold(raft_fixture_get(&g->f, i), 4);
		raft_set_snapshot_trailing(raft_fixture_get(&g->f, i), 2);
	}
	idx = pool_create(l, "rbd", &p, 31);
	assert_true(raft_fixture_step_until_applied(&g->f, N, idx, MAX_MS));
	raft_fixture_kill(&g->f, victim);
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "v%u", i);
		idx = volume_create(l, name, &p, 100 + i);
		assert_true(raft_fixture_step_until_applied(&g->f, l, idx,
							    MAX_MS));
	}
	assert_int_equal(g->fsms[l].state.n_volumes, 12);
	assert_int_equal(g->fsms[victim].state.n_volumes, 0);
	raft_fixture_revive(&g->f, victim);
	assert_true(raft_fixture_step_until_applied(&g->f, victim, idx,
						    MAX_MS));
	assert_int_equal(g->fsms[victim].state.n_volumes, 12);
	assert_same_state(l, victim);
}

static void test_raft_entry_is_padded_and_bounded(void **state)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT, *back;
	Bs__PoolRm rm = BS__POOL_RM__INIT;
	struct raft_buffer buf;
	uint8_t *p;

	rm.name = "abcde";
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_RM;
	cmd.pool_rm = &rm;
	cmd.proposal = 7;
	assert_int_equal(mon_fsm_encode_command(&cmd, &buf), 0);
	assert_int_equal(buf.len % 8, 0);
	back = mon_fsm_decode_command(&buf);
	assert_non_null(back);
	assert_int_equal(back->proposal, 7);
	assert_string_equal(back->pool_rm->name, "abcde");
	bs__mon_command__free_unpacked(back, NULL);
	/* a length past the end is refused, not read */
	p = buf.base;
	p[0] = 0xff;
	assert_null(mon_fsm_decode_command(&buf));
	buf.len = 4;
	assert_null(mon_fsm_decode_command(&buf));
	raft_free(buf.base);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raft_entry_is_padded_and_bounded),
		T(test_raft_three_mons_commit_and_agree),
		T(test_raft_new_leader_after_kill_keeps_committing),
		T(test_raft_lagging_mon_catches_up_from_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
