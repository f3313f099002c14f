/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metadata of the object store in RocksDB, and its commit thread.
 *
 * The loop thread adds puts and deletes to the batch being filled and a
 * waiter per op.  When no commit is running, the batch is handed to the
 * commit thread at the next loop turn; every op added while a commit runs
 * goes into the next batch (group commit).  The thread makes the data
 * durable (fdatasync of the data disk, when a waiter asked for it), then
 * writes the batch with sync=true (WAL fsync), then reports back through
 * bs_loop_post(); the waiters run on the loop thread in the order they
 * were added, with 0 or -EIO.  Batches commit in order.
 */
#ifndef BS_OSD_STORE_META_H
#define BS_OSD_STORE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"
#include "bs/loop.h"
#include "disk.h"
#include "store.h"

struct meta;
struct meta_batch;

/*
 * Open (or with @create, create: the directory must not hold a database)
 * the RocksDB in @dir and, if @loop is not NULL, start the commit thread,
 * which syncs @disk before each batch that needs it.  Synchronous.
 */
int meta_open(struct meta **out, const char *dir, bool create,
	      struct bs_loop *loop, struct disk *disk, struct bs_error *err);
/* Stop the thread and close.  No batch may be in flight. */
void meta_close(struct meta **mp);

/* Loop thread: add to the batch being filled (the bytes are copied). */
void meta_put(struct meta *m, const void *key, size_t klen, const void *val,
	      size_t vlen);
void meta_delete(struct meta *m, const void *key, size_t klen);
/*
 * Loop thread: @w->fn runs when the batch holding everything added so far
 * is durable.  @need_sync: data written before this call must be synced
 * first.
 */
void meta_add_waiter(struct meta *m, struct meta_waiter *w, bool need_sync);

/*
 * Loop thread: @fn(@opaque) runs on the loop thread just before each batch
 * goes to the commit thread, and may still add to it (the journal tail).
 */
void meta_set_submit_hook(struct meta *m, void (*fn)(void *opaque),
			  void *opaque);

/*
 * Write the batch being filled now, with sync=true, on the calling thread
 * (store open: journal replay).  It must have no waiters.  0 or -EIO.
 */
int meta_commit_now(struct meta *m, struct bs_error *err);

/*
 * Loop thread: hold the batch being filled until meta_unhold(): data that
 * its metadata points at is still being written.  The commit thread
 * waits for every hold before the data sync; a hold released with a
 * negative @res fails the whole batch with it.
 */
struct meta_batch *meta_hold(struct meta *m);
void meta_unhold(struct meta *m, struct meta_batch *b, int res);

/*
 * Loop thread: let batches go to the commit thread at most every @ms
 * milliseconds (0, the default: as soon as the previous one is done), so
 * that they grow, unless meta_urgent() was called since the last one: an
 * op waits for the commit.
 */
void meta_set_pace(struct meta *m, unsigned ms);
void meta_urgent(struct meta *m);

/* Is a batch being committed or filled (or its pace timer pending)? */
bool meta_busy(const struct meta *m);

/* Blocking reads and writes: open, mkfs, peering; not the I/O path. */
int meta_get(struct meta *m, const void *key, size_t klen, void **val,
	     size_t *vlen);
int meta_put_sync(struct meta *m, const void *key, size_t klen,
		  const void *val, size_t vlen, struct bs_error *err);
/*
 * Call @fn on every key in [@lo, @hi) in order; stop at the first non-zero
 * return and return it.  -EIO if RocksDB fails.
 */
typedef int meta_iter_fn(void *opaque, const uint8_t *key, size_t klen,
			 const uint8_t *val, size_t vlen);
int meta_iterate(struct meta *m, const void *lo, size_t lolen,
		 const void *hi, size_t hilen, meta_iter_fn *fn,
		 void *opaque);

/* Counters since open: batches committed and waiters they carried. */
void meta_counters(const struct meta *m, uint64_t *commits, uint64_t *ops);

#endif /* BS_OSD_STORE_META_H */
