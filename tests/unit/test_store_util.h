/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the object store tests: a temp directory with a data
 * file and a metadata dir, a store on a fresh loop, ops that record their
 * result, bounded loop runs, and a deterministic data pattern.
 */
#ifndef BS_TEST_STORE_UTIL_H
#define BS_TEST_STORE_UTIL_H

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs/log.h"
#include "bs/loop.h"
#include "store.h"

#define TS_SIZE		(64ull << 20)

struct ts {
	char dir[256];
	char path[300];
	char meta[300];
	struct bs_loop *loop;
	struct store *s;
	struct store_faults faults;
	const char *backend;
	bool dsync;
};

struct tso {
	struct store_op op;
	int res;
	bool done;
	int *order, *norder, id;
};

static inline void tso_cb(struct store_op *op, int res)
{
	struct tso *t = container_of(op, struct tso, op);

	t->res = res;
	t->done = true;
	if (t->order)
		t->order[(*t->norder)++] = t->id;
}

static inline void tso_prep(struct tso *t)
{
	t->op.fn = tso_cb;
	t->done = false;
	t->res = 1;
}

static inline int rm_one(const char *p, const struct stat *st, int flag,
			 struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

static inline void ts_rmdir(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make the temp dir and the store files (not opened). */
static inline void ts_mkfs(struct ts *t, uint64_t size)
{
	const char *tmp = getenv("TMPDIR");
	struct bs_error err = { 0 };

	snprintf(t->dir, sizeof(t->dir), "%s/bs-store-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(t->dir))
		abort();
	snprintf(t->path, sizeof(t->path), "%s/data", t->dir);
	snprintf(t->meta, sizeof(t->meta), "%s/meta", t->dir);
	if (store_mkfs(t->path, t->meta, size, &err)) {
		fprintf(stderr, "mkfs: %s\n", err.msg);
		abort();
	}
}

static inline int ts_open(struct ts *t)
{
	struct store_opts o = {
		.path = t->path,
		.backend = t->backend,
		.faults = &t->faults,
		.dsync = t->dsync,
	};
	struct bs_error err = { 0 };
	int ret;

	if (!t->loop && bs_loop_new(&t->loop, 256))
		abort();
	ret = store_open(&t->s, t->loop, &o, &err);
	if (ret)
		fprintf(stderr, "open: %s\n", err.msg);
	return ret;
}

static inline void ts_close(struct ts *t)
{
	store_close(&t->s);
}

static inline void ts_teardown(struct ts *t)
{
	ts_close(t);
	bs_loop_free(&t->loop);
	ts_rmdir(t->dir);
}

/* Run the loop until @t is done, at most @ms; false on timeout. */
static inline bool ts_wait(struct ts *t, struct tso *op, unsigned ms)
{
	uint64_t end = bs_now_ms() + ms;

	while (!op->done && bs_now_ms() < end)
		if (bs_loop_run_once(t->loop, 10) < 0)
			return false;
	return op->done;
}

static inline bool ts_wait_count(struct ts *t, const int *count, int want,
				 unsigned ms)
{
	uint64_t end = bs_now_ms() + ms;

	while (*count < want && bs_now_ms() < end)
		if (bs_loop_run_once(t->loop, 10) < 0)
			return false;
	return *count >= want;
}

static inline struct store_oid ts_oid(uint32_t pg, uint64_t n)
{
	struct store_oid oid = { .pool = 1, .pg = pg, .volume = 7,
				 .objnum = n };

	return oid;
}

/* Synchronous wrappers (fail the test on timeout). */
static inline int ts_write(struct ts *t, const struct store_oid *oid,
			   uint64_t off, const void *buf, uint64_t len,
			   uint64_t ver)
{
	struct tso op = { 0 };

	tso_prep(&op);
	store_write(t->s, &op.op, oid, off, len, buf, ver);
	if (!ts_wait(t, &op, 10000))
		abort();
	return op.res;
}

static inline int ts_read(struct ts *t, const struct store_oid *oid,
			  uint64_t off, void *buf, uint64_t len,
			  uint64_t *ver)
{
	struct tso op = { 0 };

	tso_prep(&op);
	store_read(t->s, &op.op, oid, off, len, buf);
	if (!ts_wait(t, &op, 10000))
		abort();
	if (ver)
		*ver = op.op.version;
	return op.res;
}

static inline int ts_zero(struct ts *t, const struct store_oid *oid,
			  uint64_t off, uint64_t len, uint64_t ver,
			  bool discard)
{
	struct tso op = { 0 };

	tso_prep(&op);
	if (discard)
		store_discard(t->s, &op.op, oid, off, len, ver);
	else
		store_write_zeroes(t->s, &op.op, oid, off, len, ver);
	if (!ts_wait(t, &op, 10000))
		abort();
	return op.res;
}

static inline int ts_delete(struct ts *t, const struct store_oid *oid)
{
	struct tso op = { 0 };

	tso_prep(&op);
	store_delete(t->s, &op.op, oid);
	if (!ts_wait(t, &op, 10000))
		abort();
	return op.res;
}

/* Run the loop until every acknowledged op is committed too. */
static inline void ts_drain(struct ts *t)
{
	uint64_t end = bs_now_ms() + 10000;

	while (store_busy(t->s) && bs_now_ms() < end)
		bs_loop_run_once(t->loop, 10);
	if (store_busy(t->s))
		abort();
}

static inline uint64_t ts_used(struct ts *t)
{
	struct store_usage u;

	ts_drain(t);
	store_usage(t->s, &u);
	return u.used;
}

/* Deterministic bytes for (object, version, offset). */
static inline void ts_pattern(uint8_t *buf, size_t len, uint64_t obj,
			      uint64_t ver, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = (obj * 1000003u + ver * 7919u + (off + i) / 8) *
			     0x9e3779b97f4a7c15ull;

		buf[i] = (uint8_t)(x >> (56 - ((off + i) % 8) * 4));
	}
}

#endif /* BS_TEST_STORE_UTIL_H */
