// SPDX-License-Identifier: Apache-2.0
/*
 * Bitmap allocator for the data area: next-fit, contiguous when it can,
 * fragmented when it must.  One bit per 4 KiB block (32 MiB of memory per
 * TiB of disk).  Rebuilt from the metadata at every open.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "alloc.h"

/* How far alloc_get() looks for one contiguous run before fragmenting. */
#define CONTIG_SCAN_BLOCKS	(1ull << 20)

int alloc_init(struct alloc *a, uint64_t nblocks)
{
	uint64_t words = (nblocks + 63) / 64;

	a->bits = calloc(words ? words : 1, sizeof(*a->bits));
	if (!a->bits)
		return -ENOMEM;
	a->nblocks = nblocks;
	a->nfree = nblocks;
	a->cursor = 0;
	return 0;
}

void alloc_release(struct alloc *a)
{
	free(a->bits);
	a->bits = NULL;
	a->nblocks = a->nfree = a->cursor = 0;
}

bool alloc_is_used(const struct alloc *a, uint64_t pblk)
{
	return pblk < a->nblocks && (a->bits[pblk / 64] >> (pblk % 64)) & 1;
}

/* First block in [@from, @end) whose bit is @used, or @end. */
static uint64_t find_bit(const struct alloc *a, uint64_t from, uint64_t end,
			 bool used)
{
	while (from < end) {
		uint64_t w = a->bits[from / 64];

		if (!used)
			w = ~w;
		w &= ~0ull << (from % 64);
		if (w) {
			uint64_t pos = from / 64 * 64 +
				       (uint64_t)__builtin_ctzll(w);

			return pos < end ? pos : end;
		}
		from = (from / 64 + 1) * 64;
	}
	return end;
}

/* Set (@used) or clear the bits of [@start, @start + @n). */
static void set_range(struct alloc *a, uint64_t start, uint64_t n, bool used)
{
	while (n) {
		unsigned bit = start % 64;
		uint64_t len = 64 - bit < n ? 64 - bit : n;
		uint64_t mask = (len == 64 ? ~0ull : ((1ull << len) - 1)) << bit;

		if (used) {
			assert(!(a->bits[start / 64] & mask));
			a->bits[start / 64] |= mask;
		} else {
			assert((a->bits[start / 64] & mask) == mask);
			a->bits[start / 64] &= ~mask;
		}
		start += len;
		n -= len;
	}
}

int alloc_mark_used(struct alloc *a, uint64_t pblk, uint64_t n)
{
	if (pblk > a->nblocks || n > a->nblocks - pblk)
		return -ERANGE;
	if (find_bit(a, pblk, pblk + n, true) != pblk + n)
		return -EEXIST;
	set_range(a, pblk, n, true);
	a->nfree -= n;
	return 0;
}

void alloc_put(struct alloc *a, uint64_t pblk, uint64_t n)
{
	assert(pblk <= a->nblocks && n <= a->nblocks - pblk);
	set_range(a, pblk, n, false);
	a->nfree += n;
}

static void take(struct alloc *a, uint64_t pblk, uint64_t n)
{
	set_range(a, pblk, n, true);
	a->nfree -= n;
	a->cursor = pblk + n < a->nblocks ? pblk + n : 0;
}

/* One run of @n free blocks near the cursor, or -ENOSPC. */
static int get_contig(struct alloc *a, uint64_t n, uint64_t *out)
{
	uint64_t pos = a->cursor, scanned = 0, limit = CONTIG_SCAN_BLOCKS;
	bool wrapped = false;

	if (limit > a->nblocks)
		limit = a->nblocks;
	while (scanned < limit) {
		uint64_t f, e;

		if (pos >= a->nblocks) {
			if (wrapped)
				break;
			wrapped = true;
			pos = 0;
		}
		f = find_bit(a, pos, a->nblocks, false);
		if (f == a->nblocks) {
			scanned += f - pos;
			pos = f;
			continue;
		}
		e = find_bit(a, f, f + n <= a->nblocks ? f + n : a->nblocks,
			     true);
		if (e - f == n) {
			*out = f;
			return 0;
		}
		scanned += e - pos;
		pos = e;
		if (wrapped && pos >= a->cursor)
			break;
	}
	return -ENOSPC;
}

int alloc_get(struct alloc *a, uint64_t n, struct alloc_run *runs,
	      unsigned max_runs)
{
	uint64_t pos, left = n, f, e;
	unsigned nruns = 0, i;
	bool wrapped = false;

	if (!n || !max_runs || n > a->nfree)
		return -ENOSPC;
	if (get_contig(a, n, &f) == 0) {
		take(a, f, n);
		runs[0].pblk = f;
		runs[0].nblk = n;
		return 1;
	}
	if (max_runs == 1)
		return -ENOSPC;

	/* fragments, next-fit, at most one pass over the disk */
	pos = a->cursor;
	while (left && nruns < max_runs) {
		if (pos >= a->nblocks) {
			if (wrapped)
				break;
			wrapped = true;
			pos = 0;
		}
		f = find_bit(a, pos, a->nblocks, false);
		if (f == a->nblocks) {
			pos = f;
			continue;
		}
		e = find_bit(a, f, f + left <= a->nblocks ? f + left
							  : a->nblocks, true);
		take(a, f, e - f);
		runs[nruns].pblk = f;
		runs[nruns].nblk = e - f;
		nruns++;
		left -= e - f;
		pos = e;
	}
	if (left) {
		for (i = 0; i < nruns; i++)
			alloc_put(a, runs[i].pblk, runs[i].nblk);
		return -ENOSPC;
	}
	return (int)nruns;
}
