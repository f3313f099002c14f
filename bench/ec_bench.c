// SPDX-License-Identifier: Apache-2.0
/*
 * Micro-benchmark of common/ec.c: full-stripe encode, decode with one and
 * with m lost data shards, 4 KiB read-modify-write updates and scrub's
 * parity check, per profile, on one core.  Throughput counts logical
 * (user) bytes.  Usage: ec_bench [-t SECONDS] [-u STRIPE_UNIT] [K+M ...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bs/ec.h"
#include "bs/parse.h"

#define OBJECT_SIZE	(4u << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xalloc(size_t n)
{
	void *p = aligned_alloc(64, BS_ALIGN_UP(n, 64));

	if (!p) {
		fprintf(stderr, "ec_bench: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)(i * 2654435761u >> 13);
	return p;
}

/* Run @fn until @secs pass; returns bytes per second of @bytes per call. */
#define TIMED(secs, bytes, calls, stmt)					\
	({								\
		double t0 = now(), t;					\
		uint64_t n = 0;						\
		do {							\
			for (unsigned r = 0; r < (calls); r++)		\
				stmt;					\
			n += (calls);					\
			t = now() - t0;					\
		} while (t < (secs));					\
		(double)(bytes) * (double)n / t;			\
	})

static int bench_profile(unsigned k, unsigned m, uint32_t su, double secs,
			 struct bs_ec_ctx *ctx)
{
	struct bs_error err = { 0 };
	struct bs_ec ec;
	uint8_t *logical, *shard[BS_EC_MAX_SHARDS], *lost[BS_EC_MAX_M];
	uint8_t *bufs[BS_EC_MAX_SHARDS], *oldb, *newb;
	uint64_t stripes;
	size_t slen;
	double enc, dec1, decm, upd, ver;
	uint32_t all, want = 0;
	int ret;

	ret = bs_ec_init(&ec, k, m, su, &err);
	if (ret) {
		fprintf(stderr, "ec_bench: %s\n", err.msg);
		return ret;
	}
	stripes = bs_ec_stripe_count(&ec, OBJECT_SIZE);
	slen = stripes * su;
	logical = xalloc(stripes * ec.stripe_width);
	for (unsigned i = 0; i < k + m; i++)
		shard[i] = xalloc(slen);
	for (unsigned j = 0; j < m; j++)
		lost[j] = xalloc(slen);
	oldb = xalloc(su);
	newb = xalloc(su);
	bs_ec_scatter(&ec, 0, stripes * ec.stripe_width, logical, shard);
	all = (1u << (k + m)) - 1;

	enc = TIMED(secs, stripes * ec.stripe_width, 4,
		    bs_ec_encode_stripes(&ec, logical, stripes, &shard[k]));
	/* one data shard lost */
	memcpy(bufs, shard, sizeof(bufs));
	bufs[0] = lost[0];
	dec1 = TIMED(secs, (uint64_t)k * slen, 4,
		     bs_ec_decode(&ec, ctx, bufs, all & ~1u, 1u, slen));
	/* m data shards lost (the worst case), or all k if k < m */
	memcpy(bufs, shard, sizeof(bufs));
	for (unsigned j = 0; j < m && j < k; j++) {
		bufs[j] = lost[j];
		want |= 1u << j;
	}
	decm = TIMED(secs, (uint64_t)k * slen, 4,
		     bs_ec_decode(&ec, ctx, bufs, all & ~want, want, slen));
	/* 4 KiB RMW of unit 0 of stripe 0 */
	upd = TIMED(secs, su, 256,
		    bs_ec_update(&ec, ctx, 0, oldb, newb, &shard[k], su));
	/* scrub a consistent object */
	ret = bs_ec_encode_stripes(&ec, logical, stripes, &shard[k]);
	ver = TIMED(secs, (uint64_t)k * slen, 2,
		    ret |= bs_ec_verify(&ec, ctx,
					(const uint8_t *const *)shard, slen,
					NULL));
	if (ret)
		fprintf(stderr, "ec_bench: %u+%u: verify failed\n", k, m);
	printf("%2u+%-2u %7u %10.0f %10.0f %10.0f %10.0f %10.0f %10.0f\n",
	       k, m, su, enc / 1e6, dec1 / 1e6, decm / 1e6, upd / 1e6,
	       upd / su / 1e3, ver / 1e6);
	for (unsigned i = 0; i < k + m; i++)
		free(shard[i]);
	for (unsigned j = 0; j < m; j++)
		free(lost[j]);
	free(logical);
	free(oldb);
	free(newb);
	return ret;
}

int main(int argc, char **argv)
{
	static const char *const defaults[] = { "2+1", "4+2", "8+3", "16+4" };
	const char *const *profiles = defaults;
	struct bs_ec_ctx *ctx;
	uint32_t su = BS_EC_UNIT_DEFAULT;
	double secs = 0.5;
	int nprof = 4, opt, ret = 0;
	uint64_t v;

	while ((opt = getopt(argc, argv, "t:u:")) != -1) {
		switch (opt) {
		case 't':
			secs = atof(optarg);
			break;
		case 'u':
			if (bs_parse_size("stripe unit", optarg, &v, NULL) ||
			    v > UINT32_MAX) {
				fprintf(stderr, "ec_bench: bad -u '%s'\n",
					optarg);
				return 2;
			}
			su = (uint32_t)v;
			break;
		default:
			fprintf(stderr,
				"usage: ec_bench [-t SECONDS] [-u STRIPE_UNIT] [K+M ...]\n");
			return 2;
		}
	}
	if (optind < argc) {
		profiles = (const char *const *)&argv[optind];
		nprof = argc - optind;
	}
	if (bs_ec_ctx_new(&ctx)) {
		fprintf(stderr, "ec_bench: out of memory\n");
		return 1;
	}
	printf("object %u KiB, MB/s of logical data (upd: 1 unit RMW)\n",
	       OBJECT_SIZE >> 10);
	printf("%-5s %7s %10s %10s %10s %10s %10s %10s\n", "k+m", "unit",
	       "encode", "decode1", "decode_m", "update", "upd_kops",
	       "verify");
	for (int i = 0; i < nprof; i++) {
		unsigned k, m;

		if (sscanf(profiles[i], "%u+%u", &k, &m) != 2) {
			fprintf(stderr,
				"ec_bench: bad profile '%s', want K+M\n",
				profiles[i]);
			ret = 2;
			break;
		}
		if (bench_profile(k, m, su, secs, ctx))
			ret = 1;
	}
	bs_ec_ctx_free(&ctx);
	return ret;
}
