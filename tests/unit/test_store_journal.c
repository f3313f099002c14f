// SPDX-License-Identifier: Apache-2.0
/*
 * The object store's journal: small writes acknowledged by their record
 * before the metadata commit.  A child process writes with metadata
 * commits held back (a slow data sync on the faulty backend) and exits
 * without closing, as a crash would; the parent reopens and checks the
 * replay: every acknowledged write back, a torn last record ignored,
 * records across the ring's wrap, deletes and discards between journaled
 * writes.  Also: a full ring makes writes wait, never fail; reads see
 * journaled writes before their commit.  mkfs leaves no unwritten extent
 * in the ring (nor, asked to, in the whole file).
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
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_int.h"
#include "test_store_util.h"

#define SMALL_SIZE	(16ull << 20)	/* a 1020 KiB ring: 127 records */
#define HOLD_MS		20000		/* commits held back this long */

static int setup(void **state)
{
	struct ts *t = calloc(1, sizeof(*t));

	t->backend = "faulty";
	ts_mkfs(t, SMALL_SIZE);
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

/* Run @fn in a child on a freshly opened store; it "crashes" after. */
static void in_child(struct ts *t, void (*fn)(struct ts *t))
{
	int status;
	pid_t pid;

	ts_close(t);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bs_loop_free(&t->loop);	/* the child makes its own */
		if (ts_open(t))
			_exit(2);
		fn(t);
		_exit(0);	/* no close: commits in flight are lost */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* In the child: every op must succeed, else exit non-zero. */
static void must(int res, int code)
{
	if (res) {
		fprintf(stderr, "child: op %d failed: %d\n", code, res);
		_exit(code);
	}
}

static void hold_commits(struct ts *t)
{
	t->faults.sync_delay_ms = HOLD_MS;
}

static uint64_t replayed(struct ts *t)
{
	struct store_usage u;

	store_usage(t->s, &u);
	return u.replayed;
}

static void check(struct ts *t, const struct store_oid *oid, uint64_t off,
		  const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len);

	assert_int_equal(ts_read(t, oid, off, got, len, NULL), 0);
	assert_memory_equal(got, want, len);
	free(got);
}

/* Byte offset of the ring in the data file (superblock). */
static uint64_t ring_off(struct ts *t)
{
	struct store_super sb;
	int fd = open(t->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &sb, sizeof(sb), 0), sizeof(sb));
	close(fd);
	return sb.journal_off;
}

/* five 4 KiB writes, one after the other, commits held back */
static void five_writes(struct ts *t)
{
	struct store_oid oid = ts_oid(1, 1);
	uint8_t buf[4096];
	uint64_t v;

	hold_commits(t);
	for (v = 1; v <= 5; v++) {
		ts_pattern(buf, sizeof(buf), 1, v, 0);
		must(ts_write(t, &oid, (v - 1) * 4096, buf, 4096, v), 10);
	}
}

static void test_store_journal_replays_acked_writes(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(1, 1);
	struct store_obj_stat st;
	uint8_t buf[4096];
	uint64_t v;

	in_child(t, five_writes);
	assert_int_equal(ts_open(t), 0);
	assert_int_equal(replayed(t), 5);
	assert_int_equal(store_stat(t->s, &oid, &st), 0);
	assert_int_equal(st.version, 5);
	assert_int_equal(st.size, 5 * 4096);
	for (v = 1; v <= 5; v++) {
		ts_pattern(buf, sizeof(buf), 1, v, 0);
		check(t, &oid, (v - 1) * 4096, buf, sizeof(buf));
	}
	/* the replay was committed: nothing to replay the next time */
	ts_close(t);
	assert_int_equal(ts_open(t), 0);
	assert_int_equal(replayed(t), 0);
	assert_int_equal(store_stat(t->s, &oid, &st), 0);
	assert_int_equal(st.version, 5);
}

static void test_store_journal_torn_last_record_ignored(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(1, 1);
	struct store_obj_stat st;
	uint8_t buf[4096], zero[4096] = { 0 }, x = 0x5a;
	uint64_t v;
	int fd;

	in_child(t, five_writes);
	/* records are 8 KiB (header + one block) from the ring's start */
	fd = open(t->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &x, 1, (off_t)(ring_off(t) + 4 * 8192 +
						   4096 + 100)), 1);
	assert_int_equal(fsync(fd), 0);
	close(fd);

	assert_int_equal(ts_open(t), 0);
	assert_int_equal(replayed(t), 4);
	assert_int_equal(store_stat(t->s, &oid, &st), 0);
	assert_int_equal(st.version, 4);
	for (v = 1; v <= 4; v++) {
		ts_pattern(buf, sizeof(buf), 1, v, 0);
		check(t, &oid, (v - 1) * 4096, buf, sizeof(buf));
	}
	check(t, &oid, 4 * 4096, zero, sizeof(zero));
	/* new writes go on over the torn one and replay in turn */
	ts_pattern(buf, sizeof(buf), 1, 9, 0);
	assert_int_equal(ts_write(t, &oid, 4 * 4096, buf, 4096, 9), 0);
	ts_close(t);
	assert_int_equal(ts_open(t), 0);
	check(t, &oid, 4 * 4096, buf, sizeof(buf));
}

#define WRAP_FIRST	120	/* committed: the head near the ring's end */
#define WRAP_HELD	20	/* then these, across the end, replayed */

static void wrap_writes(struct ts *t)
{
	uint8_t buf[4096];
	unsigned i;

	for (i = 0; i < WRAP_FIRST + WRAP_HELD; i++) {
		struct store_oid oid = ts_oid(1, i % 4);

		if (i == WRAP_FIRST) {
			ts_drain(t);
			hold_commits(t);
		}
		ts_pattern(buf, sizeof(buf), i % 4, i, 0);
		must(ts_write(t, &oid, (i / 4) * 4096, buf, 4096, i + 1), 11);
	}
}

static void test_store_journal_wraps_around(void **state)
{
	struct ts *t = *state;
	struct store_usage u;
	uint8_t buf[4096];
	unsigned i, lap;

	/* twice: the second lap starts wherever the first left the tail */
	for (lap = 0; lap < 2; lap++) {
		in_child(t, wrap_writes);
		assert_int_equal(ts_open(t), 0);
		store_usage(t->s, &u);
		assert_int_equal(u.replayed, WRAP_HELD);
		for (i = 0; i < WRAP_FIRST + WRAP_HELD; i++) {
			struct store_oid oid = ts_oid(1, i % 4);

			ts_pattern(buf, sizeof(buf), i % 4, i, 0);
			check(t, &oid, (i / 4) * 4096, buf, sizeof(buf));
		}
	}
	assert_true(t->s->journal.head > t->s->journal.size);
}

static void test_store_journal_full_ring_writes_wait(void **state)
{
	enum { N = 400 };
	struct ts *t = *state;
	struct tso *ops = calloc(N, sizeof(*ops));
	uint8_t *bufs = malloc((size_t)N * 4096);
	int *order = calloc(N, sizeof(*order));
	struct store_usage u;
	int done = 0, i;

	assert_int_equal(ts_open(t), 0);
	t->faults.sync_delay_ms = 200;
	for (i = 0; i < N; i++) {
		struct store_oid oid = ts_oid(1, (uint64_t)i % 8);

		ts_pattern(bufs + (size_t)i * 4096, 4096, i % 8, i, 0);
		tso_prep(&ops[i]);
		ops[i].order = order;
		ops[i].norder = &done;
		store_write(t->s, &ops[i].op, &oid, (uint64_t)(i / 8) * 4096,
			    4096, bufs + (size_t)i * 4096, (uint64_t)i + 1);
	}
	assert_true(ts_wait_count(t, &done, N, 60000));
	for (i = 0; i < N; i++)
		assert_int_equal(ops[i].res, 0);
	free(order);
	store_usage(t->s, &u);
	assert_true(u.ring_full > 0);	/* the ring did fill up */
	assert_true(u.journaled > 0);
	t->faults.sync_delay_ms = 0;
	ts_close(t);
	assert_int_equal(ts_open(t), 0);
	for (i = 0; i < N; i++) {
		struct store_oid oid = ts_oid(1, (uint64_t)i % 8);

		check(t, &oid, (uint64_t)(i / 8) * 4096,
		      bufs + (size_t)i * 4096, 4096);
	}
	free(bufs);
	free(ops);
}

static void test_store_journal_reads_see_uncommitted_writes(void **state)
{
	struct ts *t = *state;
	struct store_oid oid = ts_oid(1, 3);
	struct store_obj_stat st;
	uint8_t a[8192], b[100], want[8192];

	assert_int_equal(ts_open(t), 0);
	t->faults.sync_delay_ms = 500;
	ts_pattern(a, sizeof(a), 3, 1, 0);
	assert_int_equal(ts_write(t, &oid, 0, a, sizeof(a), 1), 0);
	assert_true(store_busy(t->s));	/* not committed yet */
	check(t, &oid, 0, a, sizeof(a));
	/* an unaligned write merges with the journaled blocks */
	ts_pattern(b, sizeof(b), 3, 2, 4000);
	assert_int_equal(ts_write(t, &oid, 4000, b, sizeof(b), 2), 0);
	memcpy(want, a, sizeof(want));
	memcpy(want + 4000, b, sizeof(b));
	check(t, &oid, 0, want, sizeof(want));
	assert_int_equal(store_stat(t->s, &oid, &st), 0);
	assert_int_equal(st.version, 2);
	t->faults.sync_delay_ms = 0;
	ts_drain(t);
	ts_close(t);
	assert_int_equal(ts_open(t), 0);
	check(t, &oid, 0, want, sizeof(want));
}

/* journaled writes around a discard and a delete (committed ops) */
static void delete_discard(struct ts *t)
{
	struct store_oid o1 = ts_oid(1, 1), o2 = ts_oid(1, 2);
	uint8_t buf[16384];

	t->faults.sync_delay_ms = 100;
	ts_pattern(buf, sizeof(buf), 1, 1, 0);
	must(ts_write(t, &o1, 0, buf, 16384, 1), 20);
	must(ts_zero(t, &o1, 4096, 4096, 2, true), 21);
	ts_pattern(buf, 4096, 1, 3, 8192);
	must(ts_write(t, &o1, 8192, buf, 4096, 3), 22);
	ts_pattern(buf, 8192, 2, 1, 0);
	must(ts_write(t, &o2, 0, buf, 8192, 1), 23);
	must(ts_delete(t, &o2), 24);
	hold_commits(t);
	/* recreated after the delete: only this write may come back */
	ts_pattern(buf, 4096, 2, 2, 0);
	must(ts_write(t, &o2, 0, buf, 4096, 2), 25);
	ts_pattern(buf, 4096, 1, 4, 12288);
	must(ts_write(t, &o1, 12288, buf, 4096, 4), 26);
}

static void test_store_journal_delete_discard_over_journal(void **state)
{
	struct ts *t = *state;
	struct store_oid o1 = ts_oid(1, 1), o2 = ts_oid(1, 2);
	struct store_obj_stat st;
	uint8_t want[16384];

	in_child(t, delete_discard);
	assert_int_equal(ts_open(t), 0);
	assert_true(replayed(t) >= 2);
	ts_pattern(want, 16384, 1, 1, 0);
	memset(want + 4096, 0, 4096);
	ts_pattern(want + 8192, 4096, 1, 3, 8192);
	ts_pattern(want + 12288, 4096, 1, 4, 12288);
	check(t, &o1, 0, want, sizeof(want));
	assert_int_equal(store_stat(t->s, &o1, &st), 0);
	assert_int_equal(st.version, 4);
	ts_pattern(want, 4096, 2, 2, 0);
	check(t, &o2, 0, want, 4096);
	assert_int_equal(store_stat(t->s, &o2, &st), 0);
	assert_int_equal(st.version, 2);
	assert_int_equal(st.size, 4096);
}

/*
 * Does [@off, @end) of @path hold an unwritten extent (1), none (0), or
 * can the filesystem not tell (-1: no FIEMAP, e.g. tmpfs)?
 */
static int has_unwritten(const char *path, uint64_t off, uint64_t end)
{
	const unsigned n = 64;
	struct fiemap *fm = calloc(1, sizeof(*fm) +
					  n * sizeof(struct fiemap_extent));
	int fd = open(path, O_RDONLY), ret = 0;
	unsigned i, k;

	assert_true(fd >= 0 && fm);
	for (k = 0; off < end && k < 100000; k++) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = off;
		fm->fm_length = end - off;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = n;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) == -1) {
			ret = -1;
			break;
		}
		if (!fm->fm_mapped_extents)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *e = &fm->fm_extents[i];

			if ((e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) &&
			    e->fe_logical < end &&
			    e->fe_logical + e->fe_length > off)
				ret = 1;
		}
		i = fm->fm_mapped_extents - 1;
		if (ret || (fm->fm_extents[i].fe_flags & FIEMAP_EXTENT_LAST))
			break;
		off = fm->fm_extents[i].fe_logical +
		      fm->fm_extents[i].fe_length;
	}
	close(fd);
	free(fm);
	return ret;
}

static void read_sb(const char *path, struct store_super *sb)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, sb, sizeof(*sb), 0), sizeof(*sb));
	close(fd);
}

static void test_store_journal_mkfs_writes_ring(void **state)
{
	struct ts *t = *state;
	struct bs_error err = { 0 };
	struct store_super sb;
	char path[sizeof(t->path) + 8], meta[sizeof(t->meta) + 8];
	int r;

	read_sb(t->path, &sb);
	r = has_unwritten(t->path, sb.journal_off,
			  sb.journal_off + sb.journal_size);
	if (r < 0)
		skip();
	assert_int_equal(r, 0);	/* O_DSYNC records cost no extent change */

	/* zero_data: every block of the file is written */
	snprintf(path, sizeof(path), "%s.z", t->path);
	snprintf(meta, sizeof(meta), "%s.z", t->meta);
	assert_int_equal(store_mkfs_zero(path, meta, SMALL_SIZE, 0, true,
					 &err), 0);
	read_sb(path, &sb);
	assert_int_equal(has_unwritten(path, sb.journal_off, sb.size), 0);
	unlink(path);
	ts_rmdir(meta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_store_journal_replays_acked_writes, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_store_journal_torn_last_record_ignored, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_store_journal_wraps_around, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_store_journal_full_ring_writes_wait, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_store_journal_reads_see_uncommitted_writes, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_store_journal_delete_discard_over_journal, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_store_journal_mkfs_writes_ring, setup, teardown),
	};

	bs_log_init("test_store_journal", BS_LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
