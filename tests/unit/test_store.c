// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the OSD object store (osd/store) on a temp file and a temp
 * RocksDB: reads and writes aligned or not, holes, discard and
 * write-zeroes, checksums, reopen, faults from the "faulty" disk, delete,
 * listing, per-PG blobs and per-object ordering of concurrent writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_int.h"
#include "test_store_util.h"

#define OBJ_SIZE	(256u << 10)

static int setup(void **state)
{
	struct ts *t = calloc(1, sizeof(*t));

	ts_mkfs(t, TS_SIZE);
	assert_int_equal(ts_open(t), 0);
	*state = t;
	return 0;
}

static int setup_faulty(void **state)
{
	struct ts *t = calloc(1, sizeof(*t));

	t->backend = "faulty";
	ts_mkfs(t, TS_SIZE);
	assert_int_equal(ts_open(t), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct ts *t = *state;

	ts_teardown(t);
	free(t);
	return 0;
}

static void reopen(struct ts *t)
{
	ts_close(t);
	assert_int_equal(ts_open(t), 0);
}

/* Read all of @oid's first @len bytes and compare with @want. */
static void check_obj(struct ts *t, const struct store_oid *oid,
		      const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len);

	assert_int_equal(ts_read(t, oid, 0, got, len, NULL), 0);
	assert_memory_equal(got, want, len);
	free(got);
}

static void test_store_write_read_aligned(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 1);
	struct store_obj_stat st;
	uint8_t *buf = NULL, *got = NULL;
	uint64_t ver;

	assert_int_equal(posix_memalign((void **)&buf, 4096, 65536), 0);
	assert_int_equal(posix_memalign((void **)&got, 4096, 65536), 0);
	ts_pattern(buf, 65536, 1, 5, 0);
	assert_int_equal(ts_write(t, &oid, 8192, buf, 65536, 5), 0);
	assert_int_equal(ts_read(t, &oid, 8192, got, 65536, &ver), 0);
	assert_int_equal(ver, 5);
	assert_memory_equal(got, buf, 65536);
	assert_int_equal(store_stat(t->s, &oid, &st), 0);
	assert_int_equal(st.version, 5);
	assert_int_equal(st.size, 8192 + 65536);
	assert_int_equal(st.allocated, 65536);
	assert_int_equal(ts_used(t), 65536);
	free(buf);
	free(got);
}

static void test_store_unaligned_writes_match_model(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 2);
	uint8_t *model = calloc(1, OBJ_SIZE), *buf = malloc(OBJ_SIZE);
	unsigned i, seed = 1;

	for (i = 0; i < 60; i++) {
		uint64_t off = (uint64_t)rand_r(&seed) % OBJ_SIZE;
		uint64_t len = 1 + (uint64_t)rand_r(&seed) % 20000;

		if (off + len > OBJ_SIZE)
			len = OBJ_SIZE - off;
		ts_pattern(buf, len, 2, i + 1, off);
		assert_int_equal(ts_write(t, &oid, off, buf + 0, len, i + 1), 0);
		memcpy(model + off, buf, len);
		if (i % 10 == 9)
			check_obj(t, &oid, model, OBJ_SIZE);
	}
	/* unaligned reads crossing block boundaries */
	for (i = 0; i < 40; i++) {
		uint64_t off = (uint64_t)rand_r(&seed) % OBJ_SIZE;
		uint64_t len = 1 + (uint64_t)rand_r(&seed) % 9000;

		if (off + len > OBJ_SIZE)
			len = OBJ_SIZE - off;
		assert_int_equal(ts_read(t, &oid, off, buf, len, NULL), 0);
		assert_memory_equal(buf, model + off, len);
	}
	reopen(t);
	check_obj(t, &oid, model, OBJ_SIZE);
	free(model);
	free(buf);
}

static void test_store_read_holes_are_zero(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 3);
	uint8_t buf[3 * 4096], zero[3 * 4096] = { 0 };
	uint8_t *big = malloc(OBJ_SIZE);

	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(ts_write(t, &oid, 100000, buf, 5000, 1), 0);
	assert_int_equal(ts_read(t, &oid, 0, buf, sizeof(buf), NULL), 0);
	assert_memory_equal(buf, zero, sizeof(buf));
	assert_int_equal(ts_read(t, &oid, 0, big, OBJ_SIZE, NULL), 0);
	assert_int_equal(big[100000], 0xab);
	assert_int_equal(big[104999], 0xab);
	assert_int_equal(big[99999], 0);
	assert_int_equal(big[105000], 0);
	/* an object never written */
	memset(buf, 1, sizeof(buf));
	oid = ts_oid(3, 999);
	assert_int_equal(ts_read(t, &oid, 0, buf, sizeof(buf), NULL),
			 -ENOENT);
	assert_memory_equal(buf, zero, sizeof(buf));
	free(big);
}

static void test_store_discard_and_write_zeroes_free_space(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 4);
	uint8_t *buf = malloc(OBJ_SIZE), *model = malloc(OBJ_SIZE);
	struct store_obj_stat st;
	uint64_t used0 = ts_used(t);

	ts_pattern(model, OBJ_SIZE, 4, 1, 0);
	assert_int_equal(ts_write(t, &oid, 0, model, OBJ_SIZE, 1), 0);
	assert_int_equal(ts_used(t), used0 + OBJ_SIZE);

	/* discard 10000..110000: 24 whole blocks freed, edges zeroed */
	assert_int_equal(ts_zero(t, &oid, 10000, 100000, 2, true), 0);
	memset(model + 10000, 0, 100000);
	check_obj(t, &oid, model, OBJ_SIZE);
	assert_int_equal(ts_used(t), used0 + OBJ_SIZE - 23 * 4096);
	assert_int_equal(store_stat(t->s, &oid, &st), 0);
	assert_int_equal(st.size, OBJ_SIZE);
	assert_int_equal(st.version, 2);

	/* zeroing the rest of a partial block makes it a hole */
	assert_int_equal(ts_zero(t, &oid, 8192, 1808, 3, false), 0);
	memset(model + 8192, 0, 1808);
	check_obj(t, &oid, model, OBJ_SIZE);
	assert_int_equal(ts_used(t), used0 + OBJ_SIZE - 24 * 4096);

	/* write_zeroes past the end extends the size, allocates nothing */
	assert_int_equal(ts_zero(t, &oid, OBJ_SIZE, 65536, 4, false), 0);
	assert_int_equal(store_stat(t->s, &oid, &st), 0);
	assert_int_equal(st.size, OBJ_SIZE + 65536);
	assert_int_equal(ts_used(t), used0 + OBJ_SIZE - 24 * 4096);

	/* discard everything */
	assert_int_equal(ts_zero(t, &oid, 0, OBJ_SIZE, 5, true), 0);
	assert_int_equal(ts_used(t), used0);
	memset(model, 0, OBJ_SIZE);
	check_obj(t, &oid, model, OBJ_SIZE);
	reopen(t);
	assert_int_equal(ts_used(t), used0);
	check_obj(t, &oid, model, OBJ_SIZE);
	assert_int_equal(store_stat(t->s, &oid, &st), 0);
	assert_int_equal(st.version, 5);
	assert_int_equal(st.allocated, 0);
	free(buf);
	free(model);
}

/* The disk block holding byte @off of @oid, from the store's own map. */
static uint64_t disk_block_of(struct ts *t, const struct store_oid *oid,
			      uint64_t off)
{
	struct obj *o = obj_lookup(t->s, oid);
	uint32_t lblk = (uint32_t)(off / 4096), i;

	assert_non_null(o);
	i = ver_find(o->durable, lblk);
	assert_true(i < o->durable->n_ext);
	assert_true(o->durable->ext[i].lblk <= lblk);
	return o->durable->ext[i].pblk + (lblk - o->durable->ext[i].lblk);
}

static void test_store_corrupt_block_read_ebadmsg(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 5);
	uint8_t *buf = malloc(OBJ_SIZE), junk = 0x5a;
	struct tso op = { 0 };
	uint64_t pblk;
	int fd;

	ts_pattern(buf, OBJ_SIZE, 5, 1, 0);
	assert_int_equal(ts_write(t, &oid, 0, buf, OBJ_SIZE, 1), 0);
	pblk = disk_block_of(t, &oid, 40960);
	fd = open(t->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &junk, 1, (off_t)(pblk * 4096 + 77)), 1);
	assert_int_equal(fsync(fd), 0);
	close(fd);

	/* reads not touching the block are fine */
	assert_int_equal(ts_read(t, &oid, 0, buf, 40960, NULL), 0);
	/* reads touching it fail, and return no data */
	tso_prep(&op);
	store_read(t->s, &op.op, &oid, 40000, 2000, buf);
	assert_true(ts_wait(t, &op, 10000));
	assert_int_equal(op.res, -EBADMSG);
	assert_int_equal(op.op.bad_offset, 40960);
	assert_int_equal(buf[0], 0);
	/* an unaligned write next to it must not launder the bad block */
	assert_int_equal(ts_write(t, &oid, 40960 + 100, buf, 10, 2),
			 -EBADMSG);
	/* overwriting the whole block repairs it */
	ts_pattern(buf, 4096, 5, 3, 40960);
	assert_int_equal(ts_write(t, &oid, 40960, buf, 4096, 3), 0);
	assert_int_equal(ts_read(t, &oid, 40000, buf, 2000, NULL), 0);
	free(buf);
}

static void test_store_reopen_keeps_everything(void **state)
{
	struct ts *t = *state;
	uint8_t *buf = malloc(OBJ_SIZE), *got = malloc(OBJ_SIZE);
	struct store_obj_stat st;
	uint64_t used;
	unsigned i;

	for (i = 0; i < 20; i++) {
		struct store_oid oid = ts_oid(i % 4, 100 + i);

		ts_pattern(buf, OBJ_SIZE, 100 + i, i + 10, 0);
		assert_int_equal(ts_write(t, &oid, 0, buf, OBJ_SIZE - i * 1000,
					  i + 10), 0);
	}
	used = ts_used(t);
	reopen(t);
	assert_int_equal(ts_used(t), used);
	reopen(t);
	for (i = 0; i < 20; i++) {
		struct store_oid oid = ts_oid(i % 4, 100 + i);
		uint64_t len = OBJ_SIZE - i * 1000, ver;

		ts_pattern(buf, OBJ_SIZE, 100 + i, i + 10, 0);
		assert_int_equal(ts_read(t, &oid, 0, got, len, &ver), 0);
		assert_int_equal(ver, i + 10);
		assert_memory_equal(got, buf, len);
		assert_int_equal(store_stat(t->s, &oid, &st), 0);
		assert_int_equal(st.size, len);
	}
	free(buf);
	free(got);
}

static void test_store_delete_frees_space(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 6), missing = ts_oid(3, 66);
	uint8_t buf[8192];
	struct store_obj_stat st;
	uint64_t used0 = ts_used(t);

	memset(buf, 7, sizeof(buf));
	assert_int_equal(ts_write(t, &oid, 0, buf, sizeof(buf), 1), 0);
	assert_int_equal(ts_delete(t, &oid), 0);
	assert_int_equal(store_stat(t->s, &oid, &st), -ENOENT);
	assert_int_equal(ts_used(t), used0);
	assert_int_equal(ts_delete(t, &oid), -ENOENT);
	assert_int_equal(ts_delete(t, &missing), -ENOENT);
	reopen(t);
	assert_int_equal(store_stat(t->s, &oid, &st), -ENOENT);
	assert_int_equal(ts_read(t, &oid, 0, buf, 100, NULL), -ENOENT);
}

static void test_store_list_one_pg_sorted(void **state)
{
	struct ts *t = *state;
	struct store_list_entry *e;
	uint8_t buf[512] = { 1 };
	size_t n, i;

	for (i = 0; i < 30; i++) {
		struct store_oid oid = ts_oid(i % 3 + 10, 1000 - i);

		assert_int_equal(ts_write(t, &oid, 0, buf, sizeof(buf), i), 0);
	}
	assert_int_equal(store_list(t->s, 1, 11, &e, &n), 0);
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++) {
		assert_int_equal(e[i].oid.pg, 11);
		assert_int_equal(e[i].version, 1000 - e[i].oid.objnum);
		if (i)
			assert_true(e[i - 1].oid.objnum < e[i].oid.objnum);
	}
	free(e);
	assert_int_equal(store_list(t->s, 1, 99, &e, &n), 0);
	assert_int_equal(n, 0);
}

static int count_blob(void *opaque, const void *key, size_t klen,
		      const void *val, size_t vlen)
{
	int *n = opaque;

	assert_int_equal(klen, 4);
	assert_int_equal(vlen, 5);
	assert_memory_equal(val, "value", 5);
	(void)key;
	(*n)++;
	return 0;
}

static void test_store_pg_blobs_put_get_iterate(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(5, 1);
	struct tso op = { 0 };
	uint8_t data[4096] = { 3 };
	size_t vlen;
	void *val;
	int n = 0;

	tso_prep(&op);
	store_pg_put(t->s, &op.op, 1, 5, "k001", 4, "value", 5);
	assert_true(ts_wait(t, &op, 10000));
	assert_int_equal(op.res, 0);
	/* a blob attached to a write lands with it */
	tso_prep(&op);
	store_op_attach_pg(&op.op, 1, 5, "k002", 4, "value", 5);
	store_write(t->s, &op.op, &oid, 0, sizeof(data), data, 9);
	assert_true(ts_wait(t, &op, 10000));
	assert_int_equal(op.res, 0);
	tso_prep(&op);
	store_pg_put(t->s, &op.op, 1, 6, "k003", 4, "value", 5);
	assert_true(ts_wait(t, &op, 10000));

	assert_int_equal(store_pg_get(t->s, 1, 5, "k002", 4, &val, &vlen), 0);
	assert_int_equal(vlen, 5);
	assert_memory_equal(val, "value", 5);
	free(val);
	assert_int_equal(store_pg_iterate(t->s, 1, 5, count_blob, &n), 0);
	assert_int_equal(n, 2);
	tso_prep(&op);
	store_pg_put(t->s, &op.op, 1, 5, "k001", 4, NULL, 0);
	assert_true(ts_wait(t, &op, 10000));
	assert_int_equal(store_pg_get(t->s, 1, 5, "k001", 4, &val, &vlen),
			 -ENOENT);
	reopen(t);
	n = 0;
	assert_int_equal(store_pg_iterate(t->s, 1, 5, count_blob, &n), 0);
	assert_int_equal(n, 1);
	/* oversized keys are refused */
	tso_prep(&op);
	store_pg_put(t->s, &op.op, 1, 5, data, STORE_PG_KEY_MAX + 1, "v", 1);
	assert_true(ts_wait(t, &op, 10000));
	assert_int_equal(op.res, -EINVAL);
}

/*
 * Many overlapping writes to one object in flight at once, aligned and
 * not: the result is the writes applied in submission order.
 */
static void test_store_concurrent_writes_keep_submission_order(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 7);
	enum { N = 48 };
	struct tso ops[N];
	uint8_t *bufs[N], *model = calloc(1, OBJ_SIZE);
	int order[N], norder = 0, done = 0;
	unsigned i, seed = 7;
	uint64_t ver;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i < N; i++) {
		uint64_t off, len;

		if (i % 3 == 0) {	/* aligned, from aligned memory */
			off = (uint64_t)(rand_r(&seed) % 48) * 4096;
			len = (uint64_t)(1 + rand_r(&seed) % 16) * 4096;
			assert_int_equal(posix_memalign((void **)&bufs[i],
							4096, len), 0);
		} else {
			off = (uint64_t)rand_r(&seed) % (OBJ_SIZE - 70000);
			len = 1 + (uint64_t)rand_r(&seed) % 70000;
			bufs[i] = malloc(len);
		}
		ts_pattern(bufs[i], len, 7, i + 1, off);
		memcpy(model + off, bufs[i], len);
		tso_prep(&ops[i]);
		ops[i].order = order;
		ops[i].norder = &norder;
		ops[i].id = (int)i;
		store_write(t->s, &ops[i].op, &oid, off, len, bufs[i], i + 1);
	}
	for (i = 0; i < N; i++) {
		assert_true(ts_wait(t, &ops[i], 20000));
		assert_int_equal(ops[i].res, 0);
		done++;
	}
	for (i = 0; i < N; i++)
		assert_int_equal(order[i], (int)i);	/* acks in order */
	check_obj(t, &oid, model, OBJ_SIZE);
	assert_int_equal(ts_read(t, &oid, 0, model, 1, &ver), 0);
	assert_int_equal(ver, N);
	for (i = 0; i < N; i++)
		free(bufs[i]);
	free(model);
	(void)done;
}

static void test_store_write_eio_keeps_old_version(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 8);
	uint8_t *v1 = malloc(OBJ_SIZE), *v2 = malloc(OBJ_SIZE);
	uint64_t used, ver;

	ts_pattern(v1, OBJ_SIZE, 8, 1, 0);
	ts_pattern(v2, OBJ_SIZE, 8, 2, 0);
	assert_int_equal(ts_write(t, &oid, 0, v1, OBJ_SIZE, 1), 0);
	used = ts_used(t);

	t->faults.fail_write = t->faults.writes + 1;
	assert_int_equal(ts_write(t, &oid, 0, v2, OBJ_SIZE, 2), -EIO);
	assert_int_equal(ts_used(t), used);	/* new blocks given back */
	check_obj(t, &oid, v1, OBJ_SIZE);
	assert_int_equal(ts_read(t, &oid, 0, v2, 1, &ver), 0);
	assert_int_equal(ver, 1);

	/* an unaligned write whose edge read fails */
	t->faults.fail_read = t->faults.reads + 1;
	assert_int_equal(ts_write(t, &oid, 10, v2, 100, 3), -EIO);
	check_obj(t, &oid, v1, OBJ_SIZE);

	/* the next write works */
	ts_pattern(v2, OBJ_SIZE, 8, 4, 0);
	assert_int_equal(ts_write(t, &oid, 0, v2, OBJ_SIZE, 4), 0);
	reopen(t);
	check_obj(t, &oid, v2, OBJ_SIZE);
	assert_int_equal(ts_used(t), used);
	free(v1);
	free(v2);
}

static void test_store_bit_flips_detected(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 9);
	uint8_t *buf = malloc(OBJ_SIZE);

	ts_pattern(buf, OBJ_SIZE, 9, 1, 0);
	/* a flip on the way to the disk: caught by every later read */
	t->faults.flip_write = t->faults.writes + 1;
	assert_int_equal(ts_write(t, &oid, 0, buf, OBJ_SIZE, 1), 0);
	assert_int_equal(ts_read(t, &oid, 0, buf, OBJ_SIZE, NULL), -EBADMSG);
	assert_int_equal(ts_read(t, &oid, 0, buf, OBJ_SIZE, NULL), -EBADMSG);
	/* a flip on the way back: that read fails, the next one works */
	ts_pattern(buf, OBJ_SIZE, 9, 2, 0);
	assert_int_equal(ts_write(t, &oid, 0, buf, OBJ_SIZE, 2), 0);
	t->faults.flip_read = t->faults.reads + 1;
	assert_int_equal(ts_read(t, &oid, 0, buf, OBJ_SIZE, NULL), -EBADMSG);
	assert_int_equal(ts_read(t, &oid, 0, buf, OBJ_SIZE, NULL), 0);
	free(buf);
}

static void test_store_sync_failure_fails_write_and_stops(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 10);
	/* above the journal's limit: durable only through the commit */
	const size_t len = 256 << 10;
	uint8_t *v1 = malloc(len), *v2 = malloc(len);

	ts_pattern(v1, len, 10, 1, 0);
	ts_pattern(v2, len, 10, 2, 0);
	assert_int_equal(ts_write(t, &oid, 0, v1, len, 1), 0);
	t->faults.fail_sync = true;
	assert_int_equal(ts_write(t, &oid, 0, v2, len, 2), -EIO);
	t->faults.fail_sync = false;
	/* no longer trusted until reopened */
	assert_int_equal(ts_write(t, &oid, 0, v2, len, 3), -EIO);
	reopen(t);
	check_obj(t, &oid, v1, len);
	assert_int_equal(ts_write(t, &oid, 0, v2, len, 4), 0);
	check_obj(t, &oid, v2, len);
	free(v1);
	free(v2);
}

/*
 * A small write is durable once its journal record is: a failing data
 * sync (metadata commit) does not fail it, but stops the store; reopening
 * replays the record.
 */
static void test_store_sync_failure_journaled_write_survives(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 11);
	uint8_t *v1 = malloc(8192), *v2 = malloc(8192);

	ts_pattern(v1, 8192, 11, 1, 0);
	ts_pattern(v2, 8192, 11, 2, 0);
	assert_int_equal(ts_write(t, &oid, 0, v1, 8192, 1), 0);
	t->faults.fail_sync = true;
	assert_int_equal(ts_write(t, &oid, 0, v2, 8192, 2), 0);
	ts_drain(t);
	t->faults.fail_sync = false;
	assert_int_equal(ts_write(t, &oid, 0, v1, 8192, 3), -EIO);
	reopen(t);
	check_obj(t, &oid, v2, 8192);
	free(v1);
	free(v2);
}

/*
 * Blocks a write replaces stay allocated until its metadata commit is
 * durable: while the commit of v2 is slow (and then fails), other writes
 * take every free block; v1 must still read back intact after reopen.
 */
static void test_store_old_blocks_kept_until_commit(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 12);
	enum { NFILL = 260, FILL = 256 << 10 };
	struct tso v2op = { 0 }, *fill = calloc(NFILL, sizeof(*fill));
	uint8_t *v1 = malloc(OBJ_SIZE), *v2 = malloc(OBJ_SIZE);
	uint8_t *fbuf = calloc(1, FILL);
	uint64_t end;
	unsigned i;

	ts_pattern(v1, OBJ_SIZE, 12, 1, 0);
	ts_pattern(v2, OBJ_SIZE, 12, 2, 0);
	assert_int_equal(ts_write(t, &oid, 0, v1, OBJ_SIZE, 1), 0);

	t->faults.sync_delay_ms = 300;
	t->faults.fail_sync = true;
	tso_prep(&v2op);
	store_write(t->s, &v2op.op, &oid, 0, OBJ_SIZE, v2, 2);
	end = bs_now_ms() + 5000;
	while (v2op.op.state != STORE_OP_COMMIT && bs_now_ms() < end)
		bs_loop_run_once(t->loop, 1);
	assert_int_equal(v2op.op.state, STORE_OP_COMMIT);
	/* v2's commit is under way: fill the disk */
	for (i = 0; i < NFILL; i++) {
		struct store_oid f = ts_oid(30, i);

		tso_prep(&fill[i]);
		store_write(t->s, &fill[i].op, &f, 0, FILL, fbuf, 1);
	}
	assert_true(ts_wait(t, &v2op, 10000));
	assert_int_equal(v2op.res, -EIO);
	for (i = 0; i < NFILL; i++) {
		assert_true(ts_wait(t, &fill[i], 10000));
		assert_true(fill[i].res == -EIO || fill[i].res == -ENOSPC);
	}
	assert_int_equal(fill[NFILL - 1].res, -ENOSPC);	/* disk was full */
	t->faults.fail_sync = false;
	t->faults.sync_delay_ms = 0;
	reopen(t);
	check_obj(t, &oid, v1, OBJ_SIZE);
	free(fill);
	free(v1);
	free(v2);
	free(fbuf);
}

static void test_store_enospc_then_recovers(void **state)
{
	struct ts *t = *state;
	uint8_t *buf = malloc(1 << 20);
	struct store_usage u;
	unsigned i;
	int res = 0;

	memset(buf, 9, 1 << 20);
	for (i = 0; i < 200 && res == 0; i++) {
		struct store_oid oid = ts_oid(20, i);

		res = ts_write(t, &oid, 0, buf, 1 << 20, 1);
	}
	assert_int_equal(res, -ENOSPC);
	store_usage(t->s, &u);
	assert_true(u.used <= u.capacity);
	assert_true(u.capacity - u.used < (1 << 20));
	for (i = 0; i < 4; i++) {
		struct store_oid oid = ts_oid(20, i);

		assert_int_equal(ts_delete(t, &oid), 0);
	}
	{
		struct store_oid oid = ts_oid(20, 1000);

		assert_int_equal(ts_write(t, &oid, 0, buf, 1 << 20, 1), 0);
	}
	free(buf);
}

static void test_store_invalid_ranges_rejected(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(3, 11);
	uint8_t buf[16] = { 0 };

	assert_int_equal(ts_write(t, &oid, STORE_MAX_OBJECT_SIZE - 8, buf, 16,
				  1), -EINVAL);
	assert_int_equal(ts_write(t, &oid, 0, buf, 0, 1), -EINVAL);
	assert_int_equal(ts_read(t, &oid, UINT64_MAX - 4, buf, 16, NULL),
			 -EINVAL);
}

static void test_store_mkfs_and_open_refuse_mismatches(void **state)
{
	struct ts a = { 0 }, b = { 0 };
	struct bs_error err = { 0 };
	struct store_opts o = { 0 };
	struct store *s = NULL;

	(void)state;
	ts_mkfs(&a, TS_SIZE);
	ts_mkfs(&b, TS_SIZE);
	assert_int_equal(store_mkfs(a.path, NULL, TS_SIZE, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
	/* metadata that exists already: refused, no data file left behind */
	{
		char other[400];

		snprintf(other, sizeof(other), "%s/data2", a.dir);
		assert_true(store_mkfs(other, b.meta, TS_SIZE, &err) < 0);
		assert_int_equal(access(other, F_OK), -1);
	}
	assert_int_equal(bs_loop_new(&a.loop, 64), 0);
	o.path = a.path;
	o.meta_dir = b.meta;
	assert_int_equal(store_open(&s, a.loop, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "does not belong"));
	o.path = a.meta;	/* a directory, not a store */
	assert_true(store_open(&s, a.loop, &o, &err) < 0);
	ts_teardown(&a);
	ts_teardown(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_write_read_aligned,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_unaligned_writes_match_model, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_store_read_holes_are_zero,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_discard_and_write_zeroes_free_space, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_store_corrupt_block_read_ebadmsg, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_reopen_keeps_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_delete_frees_space,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_list_one_pg_sorted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_pg_blobs_put_get_iterate, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_concurrent_writes_keep_submission_order,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_write_eio_keeps_old_version, setup_faulty,
			teardown),
		cmocka_unit_test_setup_teardown(test_store_bit_flips_detected,
						setup_faulty, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_sync_failure_fails_write_and_stops,
			setup_faulty, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_sync_failure_journaled_write_survives,
			setup_faulty, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_old_blocks_kept_until_commit, setup_faulty,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_store_enospc_then_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_invalid_ranges_rejected, setup, teardown),
		cmocka_unit_test(test_store_mkfs_and_open_refuse_mismatches),
	};

	bs_log_init("test_store", BS_LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
