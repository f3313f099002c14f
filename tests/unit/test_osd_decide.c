// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for osd/decide.c (which copies decide a PG after peering,
 * and what each member needs) and for the PgInfo helpers of
 * osd/pginfo.c (intervals, encoding round trip).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "osd.h"

#define V(epoch, n)	((uint64_t)(epoch) << 32 | (n))
#define MAX_DEC		16

/* The peers of one test and what pg_decide_objects() said. */
struct fx {
	struct pg_peer peers[8];
	unsigned n;
	struct pg_decision dec[MAX_DEC];
	unsigned n_dec;
};

/* Peer @i: in the new interval or not, its les (0: no info). */
static void peer(struct fx *f, unsigned i, bool in_w, uint64_t les)
{
	struct pg_peer *p = &f->peers[i];

	memset(p, 0, sizeof(*p));
	p->osd = (int32_t)i;
	p->in_w = in_w;
	p->done = true;
	p->has_info = les != 0;
	p->info.les = les;
	if (i >= f->n)
		f->n = i + 1;
}

static void entry(struct fx *f, unsigned i, uint64_t objnum, uint64_t version,
		  bool claim, bool deleted)
{
	struct pg_peer *p = &f->peers[i];
	struct pg_entry *e;

	p->ent = realloc(p->ent, (p->n_ent + 1) * sizeof(*p->ent));
	assert_non_null(p->ent);
	e = &p->ent[p->n_ent++];
	e->volume = 7;
	e->objnum = objnum;
	e->version = version;
	e->size = 4096;
	e->claim = claim;
	e->deleted = deleted;
	e->has_undo = false;
	e->undo_prev = 0;
}

static void collect(void *opaque, const struct pg_decision *d)
{
	struct fx *f = opaque;

	assert_true(f->n_dec < MAX_DEC);
	f->dec[f->n_dec++] = *d;
}

static void run(struct fx *f, uint64_t activation)
{
	pg_decide_candidates(f->peers, f->n);
	pg_decide_objects(f->peers, f->n, activation, collect, f);
}

static void fx_free(struct fx *f)
{
	for (unsigned i = 0; i < f->n; i++)
		free(f->peers[i].ent);
}

/* ---- erasure-coded PGs: 4+2, min_size 5, peer i holds slot i ---- */

#define EC_ALL	0x3fu

static void ec_peers(struct fx *f, unsigned slots)
{
	for (unsigned i = 0; i < slots; i++) {
		peer(f, i, true, 5);
		f->peers[i].slot = (int)i;
	}
}

/* Slot @i holds shard @version of object 1; @prev >= 0: its undo. */
static void shard(struct fx *f, unsigned i, uint64_t version, int64_t prev)
{
	struct pg_peer *p = &f->peers[i];

	entry(f, i, 1, version, false, false);
	p->ent[p->n_ent - 1].has_undo = prev >= 0;
	p->ent[p->n_ent - 1].undo_prev = prev >= 0 ? (uint64_t)prev : 0;
}

static void run_ec(struct fx *f, uint64_t activation)
{
	struct pg_ec_rule rule = { .k = 4, .slots = 6, .min_size = 5 };

	pg_decide_candidates(f->peers, f->n);
	pg_decide_objects_ec(f->peers, f->n, activation, &rule, collect, f);
}

static void test_decide_ec_version_on_every_shard(void **state)
{
	struct fx f = { 0 };

	(void)state;
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 6; i++)
		shard(&f, i, V(5, 2), (int64_t)V(5, 1));
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 2));
	assert_false(f.dec[0].deleted);
	assert_int_equal(f.dec[0].need, 0);
	assert_int_equal(f.dec[0].rollback, 0);
	assert_int_equal(f.dec[0].have, EC_ALL);
	fx_free(&f);
}

static void test_decide_ec_version_on_exactly_k_rolls_forward(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* 4 shards of version 2 decode (no undo): the other two rebuild */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 4; i++)
		shard(&f, i, V(5, 2), -1);
	shard(&f, 4, V(5, 1), -1);
	shard(&f, 5, V(5, 1), -1);
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 2));
	assert_int_equal(f.dec[0].need, (1u << 4) | (1u << 5));
	assert_int_equal(f.dec[0].rollback, 0);
	assert_int_equal(f.dec[0].have, 0xfu);
	fx_free(&f);
}

static void test_decide_ec_exactly_k_up_rolls_forward(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* 4 answer with version 2, 2 are down: it may be acknowledged */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 4; i++)
		shard(&f, i, V(5, 2), (int64_t)V(5, 1));
	f.peers[4].failed = true;
	f.peers[5].failed = true;
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 2));
	assert_int_equal(f.dec[0].rollback, 0);
	assert_int_equal(f.dec[0].need, 0);
	assert_int_equal(f.dec[0].have, 0xfu);
	fx_free(&f);
}

static void test_decide_ec_torn_write_on_k_minus_1_rolls_back(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* 3 shards of version 2 (each with its undo) and 3 of version 1 */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 3; i++)
		shard(&f, i, V(5, 2), (int64_t)V(5, 1));
	for (unsigned i = 3; i < 6; i++)
		shard(&f, i, V(5, 1), (int64_t)V(4, 7));
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 1));
	assert_false(f.dec[0].deleted);
	assert_int_equal(f.dec[0].rollback, 0x7u);
	assert_int_equal(f.dec[0].need, 0);
	assert_int_equal(f.dec[0].have, EC_ALL);
	fx_free(&f);
}

static void test_decide_ec_member_without_undo_is_rebuilt(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* osd.2 took version 2 without keeping an undo record */
	ec_peers(&f, 6);
	shard(&f, 0, V(5, 2), (int64_t)V(5, 1));
	shard(&f, 1, V(5, 2), (int64_t)V(5, 1));
	shard(&f, 2, V(5, 2), -1);
	for (unsigned i = 3; i < 6; i++)
		shard(&f, i, V(5, 1), -1);
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 1));
	assert_int_equal(f.dec[0].rollback, 0x3u);
	assert_int_equal(f.dec[0].need, 1u << 2);
	assert_int_equal(f.dec[0].have, EC_ALL & ~(1u << 2));
	fx_free(&f);
}

static void test_decide_ec_no_version_decodes_is_unfound(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* 2 shards of each version, none with undo, 2 slots silent */
	ec_peers(&f, 6);
	shard(&f, 0, V(5, 2), -1);
	shard(&f, 1, V(5, 2), -1);
	shard(&f, 2, V(5, 1), -1);
	shard(&f, 3, V(5, 1), -1);
	f.peers[4].failed = true;
	f.peers[5].failed = true;
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 2));
	assert_false(f.dec[0].deleted);
	assert_int_equal(f.dec[0].have, 0);
	assert_int_equal(f.dec[0].rollback, 0);
	fx_free(&f);
}

static void test_decide_ec_possibly_acked_write_is_not_rolled_back(
	void **state)
{
	struct fx f = { 0 };

	(void)state;
	/*
	 * Version 2 on 3 answering slots, 2 silent: it may be on 5, so
	 * acknowledged; rolling back to version 1 (which would decode with
	 * the undo records) could lose it.  Wait for the others.
	 */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 3; i++)
		shard(&f, i, V(5, 2), (int64_t)V(5, 1));
	shard(&f, 3, V(4, 1), -1);
	f.peers[3].info.les = 4;	/* not in interval 5 */
	f.peers[4].failed = true;
	f.peers[5].failed = true;
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 2));
	assert_int_equal(f.dec[0].have, 0);
	assert_int_equal(f.dec[0].rollback, 0);
	fx_free(&f);
}

static void test_decide_ec_torn_delete_completes(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* 3 members deleted their shard, 3 still hold version 1 */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 3; i++)
		shard(&f, i, V(5, 1), (int64_t)V(4, 2));
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_true(f.dec[0].deleted);
	assert_int_equal(f.dec[0].need, 0x7u);
	assert_int_equal(f.dec[0].rollback, 0);
	fx_free(&f);
}

static void test_decide_ec_deleted_while_a_member_was_away(void **state)
{
	struct fx f = { 0 };

	(void)state;
	ec_peers(&f, 6);
	shard(&f, 4, V(4, 2), -1);
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_true(f.dec[0].deleted);
	assert_int_equal(f.dec[0].need, 1u << 4);
	fx_free(&f);
}

static void test_decide_ec_torn_new_object_is_removed(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* a first write reached 2 shards: roll back = remove them */
	ec_peers(&f, 6);
	shard(&f, 0, V(5, 1), 0);
	shard(&f, 5, V(5, 1), 0);
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_true(f.dec[0].deleted);
	assert_int_equal(f.dec[0].rollback, (1u << 0) | (1u << 5));
	assert_int_equal(f.dec[0].need, 0);
	fx_free(&f);
}

static void test_decide_ec_unacked_write_on_k_rolls_back(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/*
	 * Version 2 on 4 shards decodes, but 4 < min_size: never
	 * acknowledged.  With undo records, rolling back leaves all 6 at
	 * version 1 and nothing to rebuild.
	 */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 4; i++)
		shard(&f, i, V(5, 2), (int64_t)V(5, 1));
	shard(&f, 4, V(5, 1), -1);
	shard(&f, 5, V(5, 1), -1);
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 1));
	assert_int_equal(f.dec[0].rollback, 0xfu);
	assert_int_equal(f.dec[0].need, 0);
	assert_int_equal(f.dec[0].have, EC_ALL);
	fx_free(&f);
}

static void test_decide_ec_write_on_min_size_stays(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/*
	 * On 5 = min_size shards, and the 6th (les 4) was not in its
	 * interval: it may have been acknowledged, so it stays.
	 */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 5; i++)
		shard(&f, i, V(5, 2), (int64_t)V(5, 1));
	shard(&f, 5, V(4, 1), -1);
	f.peers[5].info.les = 4;
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 2));
	assert_int_equal(f.dec[0].rollback, 0);
	assert_int_equal(f.dec[0].need, 1u << 5);
	fx_free(&f);
}

static void test_decide_ec_write_missed_by_its_interval_rolls_back(
	void **state)
{
	struct fx f = { 0 };

	(void)state;
	/*
	 * On 5 shards, but the 6th was in interval 5 and holds version 1:
	 * never acknowledged (that needs every member up in the interval).
	 */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 5; i++)
		shard(&f, i, V(5, 2), (int64_t)V(5, 1));
	shard(&f, 5, V(5, 1), -1);
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 1));
	assert_int_equal(f.dec[0].rollback, 0x1fu);
	assert_int_equal(f.dec[0].need, 0);
	fx_free(&f);
}

static void test_decide_ec_member_lacking_the_object_proves_nothing(
	void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* the 6th lacked the object in interval 5 (a claim): no proof */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 5; i++)
		shard(&f, i, V(5, 2), (int64_t)V(5, 1));
	entry(&f, 5, 1, V(4, 3), true, false);
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 2));
	assert_int_equal(f.dec[0].rollback, 0);
	assert_int_equal(f.dec[0].need, 1u << 5);
	fx_free(&f);
}

static void test_decide_ec_new_members_do_not_delete(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/*
	 * 3 slots moved to new OSDs (no info, nothing yet): their emptiness
	 * is no evidence, so the object (3 shards, first written with an
	 * undo record to "none") is neither removed nor decodable: unfound.
	 */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 3; i++)
		shard(&f, i, V(5, 1), 0);
	for (unsigned i = 3; i < 6; i++) {
		f.peers[i].has_info = false;
		f.peers[i].info.les = 0;
	}
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_false(f.dec[0].deleted);
	assert_int_equal(f.dec[0].version, V(5, 1));
	assert_int_equal(f.dec[0].rollback, 0);
	assert_int_equal(f.dec[0].have, 0);
	fx_free(&f);
}

static void test_decide_ec_new_object_on_k_stays(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* a first write on 4 shards without undo records: it stays */
	ec_peers(&f, 6);
	for (unsigned i = 0; i < 4; i++)
		shard(&f, i, V(5, 1), -1);
	run_ec(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_false(f.dec[0].deleted);
	assert_int_equal(f.dec[0].version, V(5, 1));
	assert_int_equal(f.dec[0].need, 0x30u);
	assert_int_equal(f.dec[0].rollback, 0);
	fx_free(&f);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_undo_record_parse_refuses_bad_values(void **state)
{
	uint8_t val[EC_UNDO_HDR_LEN + 8] = { 0 };
	struct ec_undo_rec r;

	(void)state;
	put_le64(val, EC_UNDO_MAGIC);
	put_le64(val + 8, V(5, 2));
	put_le64(val + 16, V(5, 1));
	put_le64(val + 24, 8192);
	put_le64(val + 32, 4096);
	put_le64(val + 40, 8);
	memcpy(val + EC_UNDO_HDR_LEN, "oldbytes", 8);
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), 0);
	assert_int_equal(r.version, V(5, 2));
	assert_int_equal(r.prev, V(5, 1));
	assert_int_equal(r.off, 8192);
	assert_int_equal(r.len, 4096);
	assert_int_equal(r.nbytes, 8);
	assert_memory_equal(r.bytes, "oldbytes", 8);
	/* truncated, or bytes that do not match the count */
	assert_int_equal(ec_undo_parse(val, EC_UNDO_HDR_LEN - 1, &r),
			 -EBADMSG);
	assert_int_equal(ec_undo_parse(val, sizeof(val) - 1, &r), -EBADMSG);
	/* more old bytes than the range */
	put_le64(val + 32, 4);
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), -EBADMSG);
	/* a range past the largest object */
	put_le64(val + 32, 4096);
	put_le64(val + 24, STORE_MAX_OBJECT_SIZE);
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), -EBADMSG);
	/* going "back" to a newer version */
	put_le64(val + 24, 8192);
	put_le64(val + 16, V(5, 3));
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), -EBADMSG);
	/* not an undo record */
	put_le64(val + 16, V(5, 1));
	val[0] ^= 1;
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), -EBADMSG);
}

/* The object's old record (ec_meta.c) follows the old bytes. */
static void test_undo_record_parse_old_record(void **state)
{
	uint8_t val[EC_UNDO_HDR_LEN + 8 + 5] = { 0 };
	struct ec_undo_rec r;

	(void)state;
	put_le64(val, EC_UNDO_MAGIC | 5ull << 32);
	put_le64(val + 8, V(5, 2));
	put_le64(val + 16, V(5, 1));
	put_le64(val + 24, 0);
	put_le64(val + 32, 4096);
	put_le64(val + 40, 8);
	memcpy(val + EC_UNDO_HDR_LEN, "oldbytesECMB.", 13);
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), 0);
	assert_int_equal(r.nbytes, 8);
	assert_memory_equal(r.bytes, "oldbytes", 8);
	assert_int_equal(r.meta_len, 5);
	assert_memory_equal(r.meta, "ECMB.", 5);
	/* the lengths must add up, and a record is never huge */
	assert_int_equal(ec_undo_parse(val, sizeof(val) - 1, &r), -EBADMSG);
	put_le64(val, EC_UNDO_MAGIC | 6ull << 32);
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), -EBADMSG);
	put_le64(val, EC_UNDO_MAGIC | 0xffffffffull << 32);
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), -EBADMSG);
	/* without one (as written before records were kept) */
	put_le64(val, EC_UNDO_MAGIC);
	put_le64(val + 40, 13);
	assert_int_equal(ec_undo_parse(val, sizeof(val), &r), 0);
	assert_int_equal(r.meta_len, 0);
	assert_null(r.meta);
}

static void test_decide_new_pg_has_nothing_to_do(void **state)
{
	struct fx f = { 0 };

	(void)state;
	peer(&f, 0, true, 0);
	peer(&f, 1, true, 0);
	run(&f, 9);
	assert_int_equal(f.n_dec, 0);
	assert_true(f.peers[0].cand && f.peers[1].cand);
	fx_free(&f);
}

static void test_decide_member_missing_an_object_needs_it(void **state)
{
	struct fx f = { 0 };

	(void)state;
	peer(&f, 0, true, 5);
	peer(&f, 1, true, 5);
	peer(&f, 2, true, 5);
	entry(&f, 0, 1, V(5, 3), false, false);
	entry(&f, 2, 1, V(5, 3), false, false);
	run(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].objnum, 1);
	assert_int_equal(f.dec[0].version, V(5, 3));
	assert_false(f.dec[0].deleted);
	assert_int_equal(f.dec[0].need, 1u << 1);
	assert_int_equal(f.dec[0].have, (1u << 0) | (1u << 2));
	fx_free(&f);
}

static void test_decide_rolls_forward_the_newest_copy(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* an unacknowledged write reached osd.1 only: it wins */
	peer(&f, 0, true, 5);
	peer(&f, 1, true, 5);
	entry(&f, 0, 1, V(5, 3), false, false);
	entry(&f, 1, 1, V(5, 4), false, false);
	run(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 4));
	assert_int_equal(f.dec[0].need, 1u << 0);
	assert_int_equal(f.dec[0].have, 1u << 1);
	fx_free(&f);
}

static void test_decide_ignores_writes_of_a_member_left_behind(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/*
	 * osd.2 holds a write of epoch 5 the others never saw, and they
	 * went on without it at epoch 7: that write was never acknowledged.
	 */
	peer(&f, 0, true, 7);
	peer(&f, 1, true, 7);
	peer(&f, 2, true, 5);
	entry(&f, 0, 1, V(4, 2), false, false);
	entry(&f, 1, 1, V(4, 2), false, false);
	entry(&f, 2, 1, V(5, 9), false, false);
	run(&f, 9);
	assert_false(f.peers[2].cand);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(4, 2));
	assert_int_equal(f.dec[0].need, 1u << 2);
	fx_free(&f);
}

static void test_decide_claim_finds_copy_on_an_old_member(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/*
	 * osd.0 (new at epoch 7) never got object 1 but claims its
	 * version; osd.3, an old member now out of the acting set, has it.
	 */
	peer(&f, 0, true, 7);
	peer(&f, 1, true, 0);
	peer(&f, 3, false, 5);
	peer(&f, 2, false, 0);
	f.peers[2].done = false;
	entry(&f, 0, 1, V(5, 2), true, false);
	entry(&f, 3, 1, V(5, 2), false, false);
	run(&f, 9);
	assert_int_equal(f.n_dec, 1);
	assert_int_equal(f.dec[0].version, V(5, 2));
	assert_int_equal(f.dec[0].need, (1u << 0) | (1u << 1));
	assert_int_equal(f.dec[0].have, 1u << 3);
	fx_free(&f);
}

static void test_decide_removes_a_stale_copy(void **state)
{
	struct fx f = { 0 };

	(void)state;
	/* object 1 was deleted at epoch 7 while osd.1 was away */
	peer(&f, 0, true, 7);
	peer(&f, 1, true, 5);
	entry(&f, 1, 1, V(5, 1), false, false);
	/* object 2: osd.0 claims it must not exist */
	entry(&f, 0, 2, V(7, 0), true, true);
	entry(&f, 0, 2, V(4, 1), false, false);
	run(&f, 9);
	assert_int_equal(f.n_dec, 2);
	assert_int_equal(f.dec[0].objnum, 1);
	assert_true(f.dec[0].deleted);
	assert_int_equal(f.dec[0].version, V(9, 0));
	assert_int_equal(f.dec[0].need, 1u << 1);
	assert_int_equal(f.dec[1].objnum, 2);
	assert_true(f.dec[1].deleted);
	assert_int_equal(f.dec[1].version, V(7, 0));
	assert_int_equal(f.dec[1].need, 1u << 0);
	fx_free(&f);
}

static void test_decide_half_installed_copy_counts_as_absent(void **state)
{
	struct fx f = { 0 };

	(void)state;
	peer(&f, 0, true, 7);
	peer(&f, 1, true, 7);
	entry(&f, 0, 1, V(6, 1), false, false);
	entry(&f, 1, 1, OSD_VERSION_PARTIAL, false, false);
	entry(&f, 1, 1, V(6, 1), true, false);
	/* object 2: only a partial copy anywhere: nothing to keep */
	entry(&f, 1, 2, OSD_VERSION_PARTIAL, false, false);
	run(&f, 9);
	assert_int_equal(f.n_dec, 2);
	assert_int_equal(f.dec[0].version, V(6, 1));
	assert_int_equal(f.dec[0].need, 1u << 1);
	assert_int_equal(f.dec[0].have, 1u << 0);
	assert_true(f.dec[1].deleted);
	assert_int_equal(f.dec[1].need, 1u << 1);
	fx_free(&f);
}

static void test_decide_failed_peer_is_not_used(void **state)
{
	struct fx f = { 0 };

	(void)state;
	peer(&f, 0, true, 5);
	peer(&f, 1, false, 5);
	f.peers[1].failed = true;
	entry(&f, 1, 1, V(5, 1), false, false);
	run(&f, 9);
	assert_int_equal(f.n_dec, 0);
	fx_free(&f);
}

static void test_pginfo_interval_replaces_same_activation(void **state)
{
	struct pg_info info = { 0 };
	int32_t a[] = { 1, 2, 3 }, b[] = { 4, 5 };

	(void)state;
	pg_info_add_interval(&info, 9, a, 3);
	pg_info_add_interval(&info, 5, b, 2);
	pg_info_add_interval(&info, 9, b, 2);
	assert_int_equal(info.n_past, 2);
	assert_int_equal(info.past[0].activation, 5);
	assert_int_equal(info.past[1].activation, 9);
	assert_int_equal(info.past[1].n, 2);
	assert_int_equal(info.past[1].members[1], 5);
	pg_info_release(&info);
}

static void test_pginfo_pack_round_trip(void **state)
{
	struct pg_info info = { 0 }, back;
	int32_t a[] = { 3, 1, 2 };
	Bs__PgInfo *m;
	uint8_t *buf;
	size_t len;

	(void)state;
	info.les = 12;
	info.last_clean = 10;
	info.last_scrub_us = 123456789;
	pg_info_add_interval(&info, 10, a, 3);
	pg_info_add_interval(&info, 12, a, 2);
	buf = pg_info_pack(&info, &len);
	m = bs__pg_info__unpack(NULL, len, buf);
	assert_non_null(m);
	pg_info_from_msg(&back, m);
	assert_int_equal(back.les, 12);
	assert_int_equal(back.last_clean, 10);
	assert_int_equal(back.last_scrub_us, 123456789);
	assert_int_equal(back.n_past, 2);
	assert_int_equal(back.past[0].n, 3);
	assert_int_equal(back.past[1].n, 2);
	assert_int_equal(back.past[0].members[0], 3);
	bs__pg_info__free_unpacked(m, NULL);
	free(buf);
	pg_info_release(&back);
	pg_info_release(&info);
}

static void test_pginfo_claim_key_sorts_by_oid(void **state)
{
	uint8_t a[PG_CLAIM_KEY_LEN], b[PG_CLAIM_KEY_LEN], v[PG_CLAIM_VAL_LEN];

	(void)state;
	pg_claim_key(a, 1, 0xffff);
	pg_claim_key(b, 2, 0);
	assert_true(memcmp(a, b, sizeof(a)) < 0);
	pg_claim_val(v, V(3, 4), true);
	assert_int_equal(v[0], 4);
	assert_int_equal(v[4], 3);
	assert_int_equal(v[8], 1);
}

/* ---- waiting for past intervals (pg_decide_blocked) ---- */

static Bs__OsdInfo blk_osds[5];
static Bs__OsdInfo *blk_osdp[5];

/* osd.0-4 on their own hosts; up as @up says, lost_at as @lost says. */
static struct bs_osdmap *blk_map(const bool up[5], const uint64_t lost[5])
{
	Bs__ClusterMap cm = BS__CLUSTER_MAP__INIT;
	static char *hosts[5] = { "h0", "h1", "h2", "h3", "h4" };
	struct bs_error err = { 0 };
	struct bs_osdmap *m;

	for (int i = 0; i < 5; i++) {
		bs__osd_info__init(&blk_osds[i]);
		blk_osds[i].id = (uint32_t)i;
		blk_osds[i].addr = "";
		blk_osds[i].host = hosts[i];
		blk_osds[i].rack = "";
		blk_osds[i].site = "";
		blk_osds[i].weight = 1ull << 40;
		blk_osds[i].up = up[i];
		blk_osds[i].in = i >= 3;
		blk_osds[i].up_from = 2;
		blk_osds[i].lost_at = lost[i];
		blk_osdp[i] = &blk_osds[i];
	}
	cm.epoch = 20;
	cm.n_osds = 5;
	cm.osds = blk_osdp;
	assert_int_equal(bs_osdmap_new(&m, &cm, &err), 0);
	return m;
}

static void iv_set(struct bs_past_interval *iv, uint64_t first,
		   uint64_t last, int32_t a, int32_t b, int32_t c,
		   uint32_t up_mask)
{
	memset(iv, 0, sizeof(*iv));
	iv->first = first;
	iv->last = last;
	iv->n = 3;
	iv->acting[0] = a;
	iv->acting[1] = b;
	iv->acting[2] = c;
	iv->up_mask = up_mask;
	iv->n_up = (unsigned)__builtin_popcount(up_mask);
	iv->maybe_rw = iv->n_up >= 2;
}

/*
 * The gap: {0,1,2} took writes, then went down and out, and the PG
 * moved to {3,4}, which know nothing of it.
 */
static void test_blocked_waits_for_the_newest_rw_interval(void **state)
{
	bool up[5] = { false, false, false, true, true };
	uint64_t lost[5] = { 0 };
	struct bs_past_interval iv[4];
	struct pg_peer peers[3];
	struct pg_block b;
	struct bs_osdmap *m;

	(void)state;
	iv_set(&iv[0], 5, 9, 0, 1, 2, 7);	/* all up */
	iv_set(&iv[1], 10, 11, 0, 1, 2, 3);	/* osd.2 down: still rw */
	iv_set(&iv[2], 12, 13, 0, 1, 2, 1);	/* one up: no writes */
	iv_set(&iv[3], 14, 20, 3, 4, -1, 3);	/* now */
	memset(peers, 0, sizeof(peers));
	peers[0].osd = 3;
	peers[0].done = true;
	peers[1].osd = 4;
	peers[1].done = true;
	peers[2].osd = 1;
	peers[2].failed = true;

	m = blk_map(up, lost);
	assert_true(pg_decide_blocked(iv, 4, 0, 1, peers, 2, m, &b));
	assert_int_equal(b.osd, 0);
	assert_int_equal(b.epoch, 10);
	assert_false(b.retry);
	/* one that was asked but failed does not count */
	assert_true(pg_decide_blocked(iv, 4, 0, 1, peers, 3, m, &b));
	/* an activation the answers report settled the older intervals */
	assert_false(pg_decide_blocked(iv, 4, 14, 1, peers, 2, m, &b));
	/* a member of it answered */
	peers[2].failed = false;
	peers[2].done = true;
	assert_false(pg_decide_blocked(iv, 4, 0, 1, peers, 3, m, &b));
	bs_osdmap_put(&m);

	/* osd.0 is up but did not answer: ask again rather than wait */
	up[0] = true;
	m = blk_map(up, lost);
	assert_true(pg_decide_blocked(iv, 4, 0, 1, peers, 2, m, &b));
	assert_true(b.retry);
	bs_osdmap_put(&m);

	/* osd.0 and osd.1 lost: the interval before needs osd.2 */
	up[0] = false;
	lost[0] = lost[1] = 15;
	m = blk_map(up, lost);
	assert_true(pg_decide_blocked(iv, 4, 0, 1, peers, 2, m, &b));
	assert_int_equal(b.osd, 2);
	assert_int_equal(b.epoch, 5);
	bs_osdmap_put(&m);
	/* all three lost: go on */
	lost[2] = 15;
	m = blk_map(up, lost);
	assert_false(pg_decide_blocked(iv, 4, 0, 1, peers, 2, m, &b));
	bs_osdmap_put(&m);
	/* lost before its last boot: not lost */
	lost[0] = 1;
	m = blk_map(up, lost);
	assert_true(pg_decide_blocked(iv, 4, 0, 1, peers, 2, m, &b));
	assert_int_equal(b.osd, 0);
	bs_osdmap_put(&m);
}

/*
 * Erasure-coded (2+1 here): an interval's writes are shards, k of which
 * decode, so one answering member is not enough.
 */
static void test_blocked_ec_needs_k_members(void **state)
{
	bool up[5] = { false, false, false, true, true };
	uint64_t lost[5] = { 0 };
	struct bs_past_interval iv[2];
	struct pg_peer peers[4];
	struct pg_block b;
	struct bs_osdmap *m;

	(void)state;
	iv_set(&iv[0], 5, 9, 0, 1, 2, 7);	/* all up: took writes */
	iv_set(&iv[1], 10, 20, 3, 4, 0, 7);	/* now */
	memset(peers, 0, sizeof(peers));
	peers[0].osd = 3;
	peers[0].done = true;
	peers[1].osd = 4;
	peers[1].done = true;
	peers[2].osd = 0;
	peers[2].done = true;
	peers[3].osd = 1;
	peers[3].failed = true;
	up[0] = true;

	m = blk_map(up, lost);
	/* replicated: osd.0 holds every write of the interval */
	assert_false(pg_decide_blocked(iv, 2, 0, 1, peers, 4, m, &b));
	/* erasure-coded: osd.0 holds one shard of each; wait for osd.1 */
	assert_true(pg_decide_blocked(iv, 2, 0, 2, peers, 4, m, &b));
	assert_int_equal(b.osd, 1);
	assert_int_equal(b.epoch, 5);
	assert_false(b.retry);
	/* a second member answers: k shards, it may go on */
	peers[3].failed = false;
	peers[3].done = true;
	assert_false(pg_decide_blocked(iv, 2, 0, 2, peers, 4, m, &b));
	/* all three are needed with k = 3 */
	assert_true(pg_decide_blocked(iv, 2, 0, 3, peers, 4, m, &b));
	assert_int_equal(b.osd, 2);
	bs_osdmap_put(&m);

	/* osd.1 lost, osd.2 down: wait for osd.2, asking again once up */
	peers[3].done = false;
	peers[3].failed = true;
	lost[1] = 15;
	m = blk_map(up, lost);
	assert_true(pg_decide_blocked(iv, 2, 0, 2, peers, 4, m, &b));
	assert_int_equal(b.osd, 2);
	assert_false(b.retry);
	bs_osdmap_put(&m);
	up[2] = true;
	m = blk_map(up, lost);
	assert_true(pg_decide_blocked(iv, 2, 0, 2, peers, 4, m, &b));
	assert_int_equal(b.osd, 2);
	assert_true(b.retry);
	bs_osdmap_put(&m);
	/* the others lost: what is left must do */
	up[2] = false;
	lost[2] = 15;
	m = blk_map(up, lost);
	assert_false(pg_decide_blocked(iv, 2, 0, 2, peers, 4, m, &b));
	/* settled by a later activation: no wait at all */
	lost[1] = lost[2] = 0;
	bs_osdmap_put(&m);
	m = blk_map(up, lost);
	assert_true(pg_decide_blocked(iv, 2, 0, 2, peers, 4, m, &b));
	assert_false(pg_decide_blocked(iv, 2, 10, 2, peers, 4, m, &b));
	bs_osdmap_put(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_new_pg_has_nothing_to_do),
		cmocka_unit_test(test_blocked_waits_for_the_newest_rw_interval),
		cmocka_unit_test(test_blocked_ec_needs_k_members),
		cmocka_unit_test(test_decide_member_missing_an_object_needs_it),
		cmocka_unit_test(test_decide_rolls_forward_the_newest_copy),
		cmocka_unit_test(test_decide_ignores_writes_of_a_member_left_behind),
		cmocka_unit_test(test_decide_claim_finds_copy_on_an_old_member),
		cmocka_unit_test(test_decide_removes_a_stale_copy),
		cmocka_unit_test(test_decide_half_installed_copy_counts_as_absent),
		cmocka_unit_test(test_decide_failed_peer_is_not_used),
		cmocka_unit_test(test_undo_record_parse_refuses_bad_values),
		cmocka_unit_test(test_undo_record_parse_old_record),
		cmocka_unit_test(test_decide_ec_version_on_every_shard),
		cmocka_unit_test(test_decide_ec_version_on_exactly_k_rolls_forward),
		cmocka_unit_test(test_decide_ec_exactly_k_up_rolls_forward),
		cmocka_unit_test(test_decide_ec_torn_write_on_k_minus_1_rolls_back),
		cmocka_unit_test(test_decide_ec_member_without_undo_is_rebuilt),
		cmocka_unit_test(test_decide_ec_no_version_decodes_is_unfound),
		cmocka_unit_test(test_decide_ec_possibly_acked_write_is_not_rolled_back),
		cmocka_unit_test(test_decide_ec_torn_delete_completes),
		cmocka_unit_test(test_decide_ec_deleted_while_a_member_was_away),
		cmocka_unit_test(test_decide_ec_torn_new_object_is_removed),
		cmocka_unit_test(test_decide_ec_new_object_on_k_stays),
		cmocka_unit_test(test_decide_ec_new_members_do_not_delete),
		cmocka_unit_test(test_decide_ec_unacked_write_on_k_rolls_back),
		cmocka_unit_test(test_decide_ec_write_on_min_size_stays),
		cmocka_unit_test(test_decide_ec_write_missed_by_its_interval_rolls_back),
		cmocka_unit_test(test_decide_ec_member_lacking_the_object_proves_nothing),
		cmocka_unit_test(test_pginfo_interval_replaces_same_activation),
		cmocka_unit_test(test_pginfo_pack_round_trip),
		cmocka_unit_test(test_pginfo_claim_key_sorts_by_oid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
