// SPDX-License-Identifier: Apache-2.0
/*
 * Latency statistics for 'basalt bench': a log-linear histogram (exact
 * below 64 ns, then 32 buckets per power of two, so every percentile is
 * within about 3% of the true value) with an exact count, sum, minimum
 * and maximum.  Fixed size, no allocation: one sample costs a few
 * instructions.  Pure code, unit-tested alone (tests/unit/test_cli_data.c).
 */
#include <string.h>

#include "latency.h"

#define LINEAR		64u		/* exact buckets: values 0..63 */
#define SUB_BITS	5u		/* 32 buckets per power of two */
#define SUB		(1u << SUB_BITS)

static unsigned bucket_of(uint64_t v)
{
	unsigned msb;

	if (v < LINEAR)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);	/* >= 6 */
	return LINEAR + (msb - 6u) * SUB +
	       (unsigned)((v >> (msb - SUB_BITS)) & (SUB - 1));
}

/* The middle of bucket @b's range of values. */
static uint64_t bucket_mid(unsigned b)
{
	unsigned msb, sub;
	uint64_t low, width;

	if (b < LINEAR)
		return b;
	msb = (b - LINEAR) / SUB + 6u;
	sub = (b - LINEAR) % SUB;
	width = 1ull << (msb - SUB_BITS);
	low = (uint64_t)(SUB + sub) * width;
	return low + width / 2;
}

void lat_init(struct lat_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void lat_add(struct lat_hist *h, uint64_t v)
{
	h->buckets[bucket_of(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void lat_merge(struct lat_hist *to, const struct lat_hist *from)
{
	unsigned i;

	for (i = 0; i < LAT_BUCKETS; i++)
		to->buckets[i] += from->buckets[i];
	to->count += from->count;
	to->sum += from->sum;
	if (from->min < to->min)
		to->min = from->min;
	if (from->max > to->max)
		to->max = from->max;
}

uint64_t lat_mean(const struct lat_hist *h)
{
	return h->count ? h->sum / h->count : 0;
}

uint64_t lat_percentile(const struct lat_hist *h, double pct)
{
	uint64_t rank, seen = 0, v;
	unsigned i;

	if (!h->count)
		return 0;
	if (pct <= 0)
		return h->min;
	if (pct >= 100)
		return h->max;
	/* The smallest value with at least pct% of samples at or below. */
	rank = (uint64_t)((double)h->count * pct / 100.0 + 0.999999999);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < LAT_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			v = bucket_mid(i);
			/* Never outside what was really seen. */
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max;
}
