/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Latency statistics for 'basalt bench' (latency.c): a fixed-size
 * log-linear histogram with percentiles within about 3%, and exact count,
 * mean, minimum and maximum.  Any unit; the bench uses nanoseconds.
 * Not thread-safe: one writer, or a lock around it.
 */
#ifndef BASALT_CLI_LATENCY_H
#define BASALT_CLI_LATENCY_H

#include <stdint.h>

/* 64 exact buckets, then 32 per power of two from 2^6 to 2^63. */
#define LAT_BUCKETS	(64 + 58 * 32)

struct lat_hist {
	uint64_t buckets[LAT_BUCKETS];
	uint64_t count, sum;
	uint64_t min, max;		/* min UINT64_MAX while empty */
};

void lat_init(struct lat_hist *h);
void lat_add(struct lat_hist *h, uint64_t v);
/* Add every sample of @from to @to. */
void lat_merge(struct lat_hist *to, const struct lat_hist *from);
/* The mean, 0 when empty. */
uint64_t lat_mean(const struct lat_hist *h);
/*
 * The value at percentile @pct (0-100: 50 is the median, 99.9 ...),
 * within the bucket's precision and never outside [min, max]; 0 when
 * empty.
 */
uint64_t lat_percentile(const struct lat_hist *h, double pct);

#endif /* BASALT_CLI_LATENCY_H */
