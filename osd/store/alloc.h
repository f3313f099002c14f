/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Free-space allocator of the object store: one bit per 4 KiB block of the
 * data area.  It lives only in memory; store_open() rebuilds it from the
 * extent maps in the metadata, so a crash can neither leak nor
 * double-allocate a block.  Pure logic: no loop, no disk.
 */
#ifndef BS_OSD_STORE_ALLOC_H
#define BS_OSD_STORE_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

/* Invariant: nfree == number of zero bits below nblocks. */
struct alloc {
	uint64_t *bits;		/* 1: allocated */
	uint64_t nblocks;
	uint64_t nfree;
	uint64_t cursor;	/* next-fit: where the next search starts */
};

/* A run of disk blocks handed out by alloc_get(). */
struct alloc_run {
	uint64_t pblk;
	uint64_t nblk;
};

/* All @nblocks free.  Returns 0 or -ENOMEM. */
int alloc_init(struct alloc *a, uint64_t nblocks);
void alloc_release(struct alloc *a);

/*
 * Mark [@pblk, @pblk + @n) allocated (loading the metadata at open).
 * Returns 0, -ERANGE past the end, or -EEXIST if any block of it is already
 * allocated (then nothing is changed).
 */
int alloc_mark_used(struct alloc *a, uint64_t pblk, uint64_t n);

/*
 * Allocate @n blocks as at most @max_runs runs into @runs, contiguous if a
 * run of @n is found near the cursor.  Returns the number of runs, or
 * -ENOSPC (nothing allocated) when @n blocks do not fit in @max_runs runs.
 */
int alloc_get(struct alloc *a, uint64_t n, struct alloc_run *runs,
	      unsigned max_runs);

/* Free [@pblk, @pblk + @n), which must be allocated (asserted). */
void alloc_put(struct alloc *a, uint64_t pblk, uint64_t n);

/* Is block @pblk allocated? */
bool alloc_is_used(const struct alloc *a, uint64_t pblk);

#endif /* BS_OSD_STORE_ALLOC_H */
