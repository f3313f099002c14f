// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for common/ec.c: encode against ISA-L's reference encoder,
 * decode of every erasure pattern, read-modify-write and reconstruct-write
 * parity equal to a full re-encode, layout maps that round-trip, write
 * plans applied to a simulated object, scrub's parity check, profile
 * validation and concurrent use of one codec.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <isa-l.h>

#include "bs/ec.h"

/* Helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	assert_non_null(p);
	return p;
}

static void codec(struct bs_ec *ec, unsigned k, unsigned m, uint32_t su)
{
	struct bs_error err = { 0 };

	assert_int_equal(bs_ec_init(ec, k, m, su, &err), 0);
	assert_int_equal(err.code, 0);
}

static struct bs_ec_ctx *new_ctx(void)
{
	struct bs_ec_ctx *ctx;

	assert_int_equal(bs_ec_ctx_new(&ctx), 0);
	return ctx;
}

/* k+m shard buffers of @len bytes, data random, parity encoded. */
struct shards {
	unsigned n;
	size_t len;
	uint8_t *buf[BS_EC_MAX_SHARDS];
};

static void shards_alloc(struct shards *s, unsigned n, size_t len)
{
	s->n = n;
	s->len = len;
	for (unsigned i = 0; i < n; i++)
		s->buf[i] = xmalloc(len);
}

static void shards_random(const struct bs_ec *ec, struct shards *s,
			  size_t len)
{
	shards_alloc(s, ec->k + ec->m, len);
	for (unsigned d = 0; d < ec->k; d++)
		fill_random(s->buf[d], len);
	assert_int_equal(bs_ec_encode(ec, (const uint8_t *const *)s->buf,
				      &s->buf[ec->k], len), 0);
}

static void shards_free(struct shards *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->buf[i]);
}

/* Encode: against ISA-L */

static const unsigned profiles[][2] = {
	{ 2, 1 }, { 4, 2 }, { 8, 3 }, { 1, 1 }, { 3, 2 }, { 16, 4 }, { 10, 4 },
};

static void test_ec_encode_matches_isal_reference_encoder(void **state)
{
	static const size_t lens[] = {
		1, 15, 16, 31, 32, 33, 100, 4096, 12345,
	};

	for (size_t p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++) {
		unsigned k = profiles[p][0], m = profiles[p][1];
		uint8_t a[BS_EC_MAX_SHARDS * BS_EC_MAX_K];
		uint8_t tbl[32 * BS_EC_MAX_K * BS_EC_MAX_M];
		struct bs_ec ec;

		codec(&ec, k, m, 0);
		assert_int_equal(ec.stripe_unit, BS_EC_UNIT_DEFAULT);
		assert_int_equal(ec.stripe_width, k * BS_EC_UNIT_DEFAULT);
		/* Systematic: identity on top of an ISA-L Cauchy matrix */
		gf_gen_cauchy1_matrix(a, (int)(k + m), (int)k);
		assert_memory_equal(a, ec.matrix, (k + m) * k);
		for (unsigned i = 0; i < k; i++)
			for (unsigned j = 0; j < k; j++)
				assert_int_equal(ec.matrix[i * k + j], i == j);
		ec_init_tables((int)k, (int)m, &a[k * k], tbl);
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct shards s;
			uint8_t *ref[BS_EC_MAX_M];

			shards_random(&ec, &s, lens[l]);
			for (unsigned j = 0; j < m; j++)
				ref[j] = xmalloc(lens[l]);
			ec_encode_data_base((int)lens[l], (int)k, (int)m, tbl,
					    s.buf, ref);
			for (unsigned j = 0; j < m; j++) {
				assert_memory_equal(ref[j], s.buf[k + j],
						    lens[l]);
				free(ref[j]);
			}
			shards_free(&s);
		}
	}
}

static void test_ec_encode_stripes_equals_shard_space_encode(void **state)
{
	for (size_t p = 0; p < 3; p++) {
		unsigned k = profiles[p][0], m = profiles[p][1];
		const uint64_t n = 5;
		uint8_t *logical, *sb[BS_EC_MAX_K], *p1[BS_EC_MAX_M],
			*p2[BS_EC_MAX_M];
		struct bs_ec ec;
		struct bs_ec_map map;

		codec(&ec, k, m, 8192);
		logical = xmalloc(n * ec.stripe_width);
		fill_random(logical, n * ec.stripe_width);
		assert_int_equal(bs_ec_map_range(&ec, 0, n * ec.stripe_width,
						 &map), 0);
		for (unsigned d = 0; d < k; d++) {
			assert_int_equal(map.shard[d].off, 0);
			assert_int_equal(map.shard[d].len, n * ec.stripe_unit);
			sb[d] = xmalloc(map.shard[d].len);
		}
		for (unsigned j = 0; j < m; j++) {
			p1[j] = xmalloc(n * ec.stripe_unit);
			p2[j] = xmalloc(n * ec.stripe_unit);
		}
		bs_ec_scatter(&ec, 0, n * ec.stripe_width, logical, sb);
		assert_int_equal(bs_ec_encode_stripes(&ec, logical, n, p1), 0);
		assert_int_equal(bs_ec_encode(&ec, (const uint8_t *const *)sb,
					      p2, n * ec.stripe_unit), 0);
		for (unsigned j = 0; j < m; j++) {
			assert_memory_equal(p1[j], p2[j], n * ec.stripe_unit);
			free(p1[j]);
			free(p2[j]);
		}
		for (unsigned d = 0; d < k; d++)
			free(sb[d]);
		free(logical);
	}
}

/* Decode */

/*
 * Lose every pattern of 1..m shards (every @step-th one), decode them into
 * garbage-filled buffers from the rest, compare byte for byte.
 */
static unsigned decode_patterns(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
				size_t len, unsigned step)
{
	const unsigned n = ec->k + ec->m;
	struct shards s;
	uint8_t *out[BS_EC_MAX_SHARDS];
	unsigned tried = 0, seen = 0;

	shards_random(ec, &s, len);
	for (unsigned i = 0; i < n; i++)
		out[i] = xmalloc(len);
	for (uint32_t lost = 1; lost < (1u << n); lost++) {
		uint8_t *bufs[BS_EC_MAX_SHARDS];
		unsigned c = (unsigned)__builtin_popcount(lost);

		if (c > ec->m || seen++ % step)
			continue;
		for (unsigned i = 0; i < n; i++) {
			if (lost & (1u << i)) {
				memset(out[i], 0xa5, len);
				bufs[i] = out[i];
			} else {
				bufs[i] = s.buf[i];
			}
		}
		assert_true(bs_ec_can_decode(ec, ((1u << n) - 1) & ~lost));
		assert_int_equal(bs_ec_decode(ec, ctx, bufs,
					      ((1u << n) - 1) & ~lost, lost,
					      len), 0);
		for (unsigned i = 0; i < n; i++)
			if (lost & (1u << i))
				assert_memory_equal(out[i], s.buf[i], len);
		tried++;
	}
	for (unsigned i = 0; i < n; i++)
		free(out[i]);
	shards_free(&s);
	return tried;
}

static void test_ec_decode_every_pattern_2_1(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	struct bs_ec ec;

	codec(&ec, 2, 1, 0);
	assert_int_equal(decode_patterns(&ec, ctx, 3 * 4096 + 7, 1), 3);
	bs_ec_ctx_free(&ctx);
	assert_null(ctx);
}

static void test_ec_decode_every_pattern_4_2(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	struct bs_ec ec;

	codec(&ec, 4, 2, 0);
	/* C(6,1) + C(6,2) */
	assert_int_equal(decode_patterns(&ec, ctx, 3 * 4096 + 7, 1), 6 + 15);
	bs_ec_ctx_free(&ctx);
}

static void test_ec_decode_every_pattern_8_3(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	struct bs_ec ec;

	codec(&ec, 8, 3, 0);
	/* C(11,1) + C(11,2) + C(11,3) */
	assert_int_equal(decode_patterns(&ec, ctx, 2 * 4096 + 3, 1),
			 11 + 55 + 165);
	bs_ec_ctx_free(&ctx);
}

/* Every allowed profile: the generator decodes every pattern of <= m. */
static void test_ec_decode_every_profile_every_pattern(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	unsigned total = 0;

	for (unsigned k = 1; k <= BS_EC_MAX_K; k++) {
		for (unsigned m = 1; m <= BS_EC_MAX_M; m++) {
			struct bs_ec ec;

			if (k + m > BS_EC_MAX_SHARDS)
				continue;
			codec(&ec, k, m, 0);
			total += decode_patterns(&ec, ctx, 48, 1);
		}
	}
	/* sum over k = 1..16, m = 1..4, e = 1..m of C(k+m, e) */
	assert_int_equal(total, 35300);
	bs_ec_ctx_free(&ctx);
}

static void test_ec_decode_uses_k_of_more_present_shards(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	struct shards s;
	uint8_t *bufs[BS_EC_MAX_SHARDS], *out = xmalloc(5000);
	struct bs_ec ec;

	codec(&ec, 8, 3, 0);
	shards_random(&ec, &s, 5000);
	for (unsigned lost = 0; lost < 11; lost++) {
		memcpy(bufs, s.buf, sizeof(bufs));
		bufs[lost] = out;
		memset(out, 0, 5000);
		assert_int_equal(bs_ec_decode(&ec, ctx, bufs,
					      0x7ffu & ~(1u << lost),
					      1u << lost, 5000), 0);
		assert_memory_equal(out, s.buf[lost], 5000);
	}
	free(out);
	shards_free(&s);
	bs_ec_ctx_free(&ctx);
}

static void test_ec_decode_rejects_bad_masks_and_too_few_shards(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	struct shards s;
	struct bs_ec ec;

	codec(&ec, 4, 2, 0);
	shards_random(&ec, &s, 64);
	/* 3 of 6 present: 3 lost > m */
	assert_false(bs_ec_can_decode(&ec, 0x07));
	assert_int_equal(bs_ec_decode(&ec, ctx, s.buf, 0x07, 0x38, 64),
			 -EINVAL);
	/* want overlaps present */
	assert_int_equal(bs_ec_decode(&ec, ctx, s.buf, 0x3e, 0x03, 64),
			 -EINVAL);
	/* bits beyond k+m */
	assert_int_equal(bs_ec_decode(&ec, ctx, s.buf, 0x3e, 0x41, 64),
			 -EINVAL);
	assert_int_equal(bs_ec_decode(&ec, ctx, s.buf, 0x3e, 0x01,
				      (size_t)BS_EC_MAX_LEN + 1), -EINVAL);
	/* nothing wanted: a no-op */
	assert_int_equal(bs_ec_decode(&ec, ctx, s.buf, 0x3f, 0, 64), 0);
	shards_free(&s);
	bs_ec_ctx_free(&ctx);
}

static void test_ec_decode_tables_are_cached_per_pattern(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	uint64_t hits, misses;
	struct shards s;
	uint8_t *bufs[BS_EC_MAX_SHARDS], *out0 = xmalloc(4096),
		*out1 = xmalloc(4096);
	struct bs_ec ec;

	codec(&ec, 4, 2, 0);
	shards_random(&ec, &s, 4096);
	memcpy(bufs, s.buf, sizeof(bufs));
	bufs[1] = out0;
	bufs[4] = out1;
	for (unsigned i = 0; i < 100; i++) {
		memset(out0, 0, 4096);
		assert_int_equal(bs_ec_decode(&ec, ctx, bufs, 0x2d, 0x12,
					      4096), 0);
		assert_memory_equal(out0, s.buf[1], 4096);
		assert_memory_equal(out1, s.buf[4], 4096);
	}
	bs_ec_ctx_stats(ctx, &hits, &misses);
	assert_int_equal(misses, 1);
	assert_int_equal(hits, 99);
	/* More patterns than cache slots, twice round: still exact */
	for (unsigned round = 0; round < 2; round++)
		assert_int_equal(decode_patterns(&ec, ctx, 300, 1), 21);
	bs_ec_ctx_stats(ctx, &hits, &misses);
	assert_true(misses > 21);
	/*
	 * Least recently used goes first: a pattern used between every other
	 * one stays cached while the 20 other losses of one or two shards
	 * (more than the slots) come and go.
	 */
	for (unsigned i = 0; i < 200; i++) {
		uint8_t *b2[BS_EC_MAX_SHARDS];
		uint32_t lost = 0;
		uint64_t before;

		while (!lost || lost == 0x12)
			lost = (1u << rnd_below(6)) | (1u << rnd_below(6));
		memcpy(b2, s.buf, sizeof(b2));
		b2[__builtin_ctz(lost)] = out0;
		b2[31 - __builtin_clz(lost)] = out1;
		assert_int_equal(bs_ec_decode(&ec, ctx, b2, 0x3fu & ~lost,
					      lost, 4096), 0);
		bs_ec_ctx_stats(ctx, &hits, &before);
		memcpy(bufs, s.buf, sizeof(bufs));
		bufs[1] = out0;
		bufs[4] = out1;
		assert_int_equal(bs_ec_decode(&ec, ctx, bufs, 0x2d, 0x12,
					      4096), 0);
		assert_memory_equal(out0, s.buf[1], 4096);
		bs_ec_ctx_stats(ctx, &hits, &misses);
		assert_int_equal(misses, before);
	}
	free(out0);
	free(out1);
	shards_free(&s);
	bs_ec_ctx_free(&ctx);
}

/* Partial-stripe writes */

/* A random write inside one stripe, of the class @cls. */
static void pick_write(const struct bs_ec *ec, unsigned cls, uint32_t *off,
		       uint32_t *len)
{
	const uint32_t su = ec->stripe_unit, sw = ec->stripe_width;
	unsigned d = (unsigned)rnd_below(ec->k);

	switch (cls) {
	case 0:		/* inside one unit */
		*off = d * su + (uint32_t)rnd_below(su);
		*len = 1 + (uint32_t)rnd_below(su - *off % su);
		break;
	case 1:		/* one whole unit */
		*off = d * su;
		*len = su;
		break;
	case 2:		/* aligned run of units */
		*off = d * su;
		*len = su * (1 + (uint32_t)rnd_below(ec->k - d));
		break;
	case 3:		/* unaligned, anywhere */
		*off = (uint32_t)rnd_below(sw);
		*len = 1 + (uint32_t)rnd_below(sw - *off);
		break;
	case 4:		/* crossing one unit boundary */
		if (ec->k < 2) {
			*off = 0;
			*len = 1;
			break;
		}
		d = (unsigned)rnd_below(ec->k - 1);
		*off = d * su + 1 + (uint32_t)rnd_below(su - 1);
		*len = (d + 1) * su - *off + 1 + (uint32_t)rnd_below(su - 1);
		break;
	case 5:		/* a single byte */
		*off = (uint32_t)rnd_below(sw);
		*len = 1;
		break;
	default:	/* the whole stripe */
		*off = 0;
		*len = sw;
		break;
	}
}

static void check_partial_plan(const struct bs_ec *ec,
			       const struct bs_ec_partial *p)
{
	uint64_t sum = 0, rcw = 0;

	for (unsigned d = 0; d < ec->k; d++) {
		const struct bs_ec_extent *w = &p->data[d], *r = &p->rcw[d];

		sum += w->len;
		rcw += r->len;
		assert_int_equal(!!(p->mask & (1u << d)), w->len > 0);
		if (w->len) {
			assert_true(w->off >= p->parity.off);
			assert_true(w->off + w->len <=
				    p->parity.off + p->parity.len);
		}
		/* data[d] and rcw[d] tile the parity range */
		assert_int_equal(w->len + r->len, p->parity.len);
		if (r->len)
			assert_true(r->off + r->len == w->off ||
				    r->off == w->off + w->len || !w->len);
	}
	assert_int_equal(sum, p->len);
	assert_int_equal(p->rcw_read, rcw);
	assert_int_equal(p->rmw_read, p->len + ec->m * p->parity.len);
	assert_int_equal(p->rcw_read, ec->k * p->parity.len - p->len);
}

/*
 * A stripe as its shard units (k+m buffers of stripe_unit) and the same
 * data in logical order.  Random partial writes go through RMW
 * (bs_ec_update_range) and RCW (bs_ec_encode over the parity range); both
 * must give the parity of a full re-encode.
 */
static void partial_writes(unsigned k, unsigned m, uint32_t su, unsigned n)
{
	struct bs_ec_ctx *ctx = new_ctx();
	struct bs_ec ec;
	struct shards s;
	uint8_t *logical, *oldb, *newb, *ref[BS_EC_MAX_M], *par[BS_EC_MAX_M];
	uint8_t *merged[BS_EC_MAX_K], *rcwpar[BS_EC_MAX_M];

	codec(&ec, k, m, su);
	shards_random(&ec, &s, su);
	logical = xmalloc(ec.stripe_width);
	oldb = xmalloc(ec.stripe_width);
	newb = xmalloc(ec.stripe_width);
	for (unsigned j = 0; j < m; j++) {
		ref[j] = xmalloc(su);
		par[j] = xmalloc(su);
		rcwpar[j] = xmalloc(su);
	}
	for (unsigned d = 0; d < k; d++) {
		merged[d] = xmalloc(su);
		memcpy(logical + d * su, s.buf[d], su);
	}
	for (unsigned i = 0; i < n; i++) {
		struct bs_ec_partial p;
		uint32_t off, len;
		const uint8_t *mp[BS_EC_MAX_K];

		pick_write(&ec, i % 7, &off, &len);
		assert_int_equal(bs_ec_plan_partial(&ec, 0, off, len, &p), 0);
		check_partial_plan(&ec, &p);
		memcpy(oldb, logical + off, len);
		fill_random(newb, len);
		/* RCW: each data shard's parity range, new over old */
		memcpy(logical + off, newb, len);
		for (unsigned d = 0; d < k; d++) {
			memcpy(merged[d],
			       logical + d * su + p.parity.off, p.parity.len);
			mp[d] = merged[d];
		}
		assert_int_equal(bs_ec_encode(&ec, mp, rcwpar, p.parity.len),
				 0);
		/* RMW: old parity range in, new out */
		for (unsigned j = 0; j < m; j++)
			memcpy(par[j], s.buf[k + j] + p.parity.off,
			       p.parity.len);
		assert_int_equal(bs_ec_update_range(&ec, ctx, &p, oldb, newb,
						    par), 0);
		/* Reference: re-encode the whole stripe */
		assert_int_equal(bs_ec_encode_stripes(&ec, logical, 1, ref), 0);
		for (unsigned j = 0; j < m; j++) {
			assert_memory_equal(par[j], ref[j] + p.parity.off,
					    p.parity.len);
			assert_memory_equal(rcwpar[j], ref[j] + p.parity.off,
					    p.parity.len);
			/* parity outside the range must not change */
			assert_memory_equal(s.buf[k + j], ref[j],
					    p.parity.off);
			memcpy(s.buf[k + j] + p.parity.off, par[j],
			       p.parity.len);
			assert_memory_equal(s.buf[k + j], ref[j], su);
		}
		for (unsigned d = 0; d < k; d++)
			memcpy(s.buf[d], logical + d * su, su);
	}
	for (unsigned j = 0; j < m; j++) {
		free(ref[j]);
		free(par[j]);
		free(rcwpar[j]);
	}
	for (unsigned d = 0; d < k; d++)
		free(merged[d]);
	free(logical);
	free(oldb);
	free(newb);
	shards_free(&s);
	bs_ec_ctx_free(&ctx);
}

static void test_ec_partial_write_parity_equals_reencode_2_1(void **state)
{
	partial_writes(2, 1, 4096, 300);
}

static void test_ec_partial_write_parity_equals_reencode_4_2(void **state)
{
	partial_writes(4, 2, 4096, 300);
	partial_writes(4, 2, 16384, 100);
}

static void test_ec_partial_write_parity_equals_reencode_8_3(void **state)
{
	partial_writes(8, 3, 4096, 300);
	partial_writes(1, 2, 4096, 50);
	partial_writes(16, 4, 4096, 50);
}

/* A shard-space update spanning several stripes of one data shard. */
static void test_ec_update_spans_stripes_in_shard_space(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	const size_t len = 9 * 4096 + 100;
	struct bs_ec ec;
	struct shards s;
	uint8_t *ref[BS_EC_MAX_M], *par[BS_EC_MAX_M], *newb = xmalloc(len);

	codec(&ec, 4, 2, 4096);
	shards_random(&ec, &s, len);
	for (unsigned j = 0; j < 2; j++)
		ref[j] = xmalloc(len);
	for (unsigned i = 0; i < 50; i++) {
		unsigned d = (unsigned)rnd_below(4);
		size_t a = rnd_below(len), b = a + 1 + rnd_below(len - a);

		fill_random(newb, b - a);
		for (unsigned j = 0; j < 2; j++)
			par[j] = s.buf[4 + j] + a;
		assert_int_equal(bs_ec_update(&ec, ctx, d, s.buf[d] + a, newb,
					      par, b - a), 0);
		memcpy(s.buf[d] + a, newb, b - a);
		assert_int_equal(bs_ec_encode(&ec,
					      (const uint8_t *const *)s.buf,
					      ref, len), 0);
		for (unsigned j = 0; j < 2; j++)
			assert_memory_equal(ref[j], s.buf[4 + j], len);
	}
	/* bigger than the scratch chunk: updated a chunk at a time */
	{
		const size_t big = 200 * 1024;
		struct shards t;
		uint8_t *nb = xmalloc(big), *r2[2] = { xmalloc(big),
						       xmalloc(big) };

		shards_random(&ec, &t, big);
		fill_random(nb, big);
		assert_int_equal(bs_ec_update(&ec, ctx, 3, t.buf[3], nb,
					      &t.buf[4], big), 0);
		memcpy(t.buf[3], nb, big);
		assert_int_equal(bs_ec_encode(&ec,
					      (const uint8_t *const *)t.buf,
					      r2, big), 0);
		assert_memory_equal(r2[0], t.buf[4], big);
		assert_memory_equal(r2[1], t.buf[5], big);
		assert_int_equal(bs_ec_update(&ec, ctx, 4, t.buf[3], nb,
					      &t.buf[4], big), -EINVAL);
		free(nb);
		free(r2[0]);
		free(r2[1]);
		shards_free(&t);
	}
	for (unsigned j = 0; j < 2; j++)
		free(ref[j]);
	free(newb);
	shards_free(&s);
	bs_ec_ctx_free(&ctx);
}

/* Layout */

static void check_map(const struct bs_ec *ec, uint64_t off, uint64_t len)
{
	struct bs_ec_map map;
	uint64_t total = 0, pos = off, end = off + len;
	uint64_t lo = UINT64_MAX, hi = 0;
	uint64_t seen[BS_EC_MAX_K] = { 0 };

	assert_int_equal(bs_ec_map_range(ec, off, len, &map), 0);
	for (unsigned d = 0; d < ec->k; d++) {
		total += map.shard[d].len;
		if (map.shard[d].len) {
			lo = BS_MIN(lo, map.shard[d].off);
			hi = BS_MAX(hi, map.shard[d].off + map.shard[d].len);
		}
		assert_int_equal(!!(map.mask & (1u << d)),
				 map.shard[d].len > 0);
	}
	assert_int_equal(total, len);
	assert_int_equal((unsigned)__builtin_popcount(map.mask), map.n);
	if (len) {
		assert_int_equal(map.hull.off, lo);
		assert_int_equal(map.hull.len, hi - lo);
	} else {
		assert_int_equal(map.n, 0);
	}
	/* Walk unit pieces: each lands inside its shard's extent, in order */
	while (pos < end) {
		struct bs_ec_loc loc;
		uint64_t n;
		const struct bs_ec_extent *e;

		bs_ec_locate(ec, pos, &loc);
		e = &map.shard[loc.shard];
		n = BS_MIN(ec->stripe_unit - loc.unit_off, end - pos);
		assert_int_equal(loc.shard_off, e->off + seen[loc.shard]);
		seen[loc.shard] += n;
		assert_true(seen[loc.shard] <= e->len);
		assert_int_equal(bs_ec_logical(ec, loc.shard, loc.shard_off),
				 pos);
		pos += n;
	}
	for (unsigned d = 0; d < ec->k; d++)
		assert_int_equal(seen[d], map.shard[d].len);
}

static void test_ec_locate_and_logical_round_trip(void **state)
{
	struct bs_ec ec;
	struct bs_ec_loc loc;

	codec(&ec, 4, 2, 4096);
	bs_ec_locate(&ec, 0, &loc);
	assert_int_equal(loc.stripe, 0);
	assert_int_equal(loc.shard, 0);
	assert_int_equal(loc.shard_off, 0);
	/* stripe 2, data shard 3, byte 5: 2 * 16K + 3 * 4K + 5 */
	bs_ec_locate(&ec, 2 * 16384 + 3 * 4096 + 5, &loc);
	assert_int_equal(loc.stripe, 2);
	assert_int_equal(loc.shard, 3);
	assert_int_equal(loc.unit_off, 5);
	assert_int_equal(loc.shard_off, 2 * 4096 + 5);
	assert_int_equal(bs_ec_logical(&ec, 3, 2 * 4096 + 5),
			 2 * 16384 + 3 * 4096 + 5);
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t off = rnd() >> 4;

		bs_ec_locate(&ec, off, &loc);
		assert_true(loc.shard < 4);
		assert_true(loc.unit_off < 4096);
		assert_int_equal(bs_ec_logical(&ec, loc.shard, loc.shard_off),
				 off);
	}
	/* Object boundaries: 4 MiB is not a multiple of 3 * 4K */
	codec(&ec, 3, 2, 4096);
	assert_int_equal(bs_ec_stripe_count(&ec, 0), 0);
	assert_int_equal(bs_ec_stripe_count(&ec, 1), 1);
	assert_int_equal(bs_ec_stripe_count(&ec, 12288), 1);
	assert_int_equal(bs_ec_stripe_count(&ec, 12289), 2);
	assert_int_equal(bs_ec_shard_size(&ec, 4 << 20), 342 * 4096);
	assert_int_equal(bs_ec_shard_size(&ec, 12288), 4096);
}

static void test_ec_map_range_matches_byte_walk(void **state)
{
	static const unsigned cfg[][3] = {
		{ 4, 2, 4096 }, { 3, 2, 8192 }, { 1, 1, 4096 }, { 16, 4, 4096 },
		{ 2, 1, 4096 }, { 8, 3, 4096 },
	};

	for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		struct bs_ec ec;
		uint64_t sw, su;

		codec(&ec, cfg[c][0], cfg[c][1], cfg[c][2]);
		sw = ec.stripe_width;
		su = ec.stripe_unit;
		/* Edges: empty, byte, unit, stripe, boundaries crossed */
		check_map(&ec, 0, 0);
		check_map(&ec, 0, 1);
		check_map(&ec, 0, su);
		check_map(&ec, 0, sw);
		check_map(&ec, sw - 1, 2);
		check_map(&ec, su - 1, 2);
		check_map(&ec, sw, 3 * sw);
		check_map(&ec, 5 * sw - 1, 1);
		check_map(&ec, su + 1, 4 * sw);
		for (unsigned i = 0; i < 2000; i++)
			check_map(&ec, rnd_below(20 * sw),
				  rnd_below(6 * sw));
	}
}

static void test_ec_map_range_rejects_overflow(void **state)
{
	struct bs_ec ec;
	struct bs_ec_map map;
	struct bs_ec_write_plan plan;

	codec(&ec, 4, 2, 0);
	assert_int_equal(bs_ec_map_range(&ec, UINT64_MAX - 5, 10, &map),
			 -EINVAL);
	assert_int_equal(bs_ec_map_range(&ec, BS_EC_MAX_OFF, 1, &map),
			 -EINVAL);
	assert_int_equal(bs_ec_plan_write(&ec, UINT64_MAX, 2, &plan),
			 -EINVAL);
	assert_int_equal(bs_ec_plan_write(&ec, 0, 0, &plan), -EINVAL);
}

/*
 * A whole object of @size bytes scattered into shard chunks, then random
 * ranges (some ending at the object's end) gathered back, and scattered
 * into the chunks.
 */
static void test_ec_scatter_gather_round_trip_on_object(void **state)
{
	static const unsigned cfg[][3] = {
		{ 4, 2, 4096 }, { 3, 2, 8192 }, { 8, 3, 4096 }, { 1, 1, 4096 },
	};

	for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		const uint64_t size = 1000003;	/* not stripe aligned */
		uint8_t *obj = xmalloc(size), *back = xmalloc(size);
		uint8_t *chunk[BS_EC_MAX_K];
		const uint8_t *cchunk[BS_EC_MAX_K];
		struct bs_ec ec;
		uint64_t csize;

		codec(&ec, cfg[c][0], cfg[c][1], cfg[c][2]);
		csize = bs_ec_shard_size(&ec, size);
		assert_int_equal(csize % ec.stripe_unit, 0);
		assert_true(csize * ec.k >= size);
		assert_true(csize * ec.k < size + ec.stripe_width);
		fill_random(obj, size);
		for (unsigned d = 0; d < ec.k; d++) {
			chunk[d] = calloc(1, csize);
			cchunk[d] = chunk[d];
		}
		bs_ec_scatter(&ec, 0, size, obj, chunk);
		bs_ec_gather(&ec, 0, size, cchunk, back);
		assert_memory_equal(obj, back, size);
		for (unsigned i = 0; i < 300; i++) {
			uint64_t off = rnd_below(size), len;
			struct bs_ec_map map;
			uint8_t *sb[BS_EC_MAX_K] = { 0 };
			const uint8_t *csb[BS_EC_MAX_K] = { 0 };

			len = i % 3 ? 1 + rnd_below(BS_MIN(size - off,
							   5 * ec.stripe_width))
				    : size - off;
			assert_int_equal(bs_ec_map_range(&ec, off, len, &map),
					 0);
			/* what a read fetches from each shard's chunk */
			for (unsigned d = 0; d < ec.k; d++) {
				if (!map.shard[d].len)
					continue;
				assert_true(map.shard[d].off +
					    map.shard[d].len <= csize);
				sb[d] = chunk[d] + map.shard[d].off;
				csb[d] = sb[d];
			}
			memset(back, 0, len);
			bs_ec_gather(&ec, off, len, csb, back);
			assert_memory_equal(back, obj + off, len);
			/* a write of new bytes lands where a read finds them */
			fill_random(obj + off, len);
			bs_ec_scatter(&ec, off, len, obj + off, sb);
		}
		bs_ec_gather(&ec, 0, size, cchunk, back);
		assert_memory_equal(obj, back, size);
		for (unsigned d = 0; d < ec.k; d++)
			free(chunk[d]);
		free(obj);
		free(back);
	}
}

/* A degraded read: the hull from k surviving shards, decoded, gathered. */
static void test_ec_degraded_read_decodes_hull(void **state)
{
	struct bs_ec_ctx *ctx = new_ctx();
	const uint64_t stripes = 8;
	struct bs_ec ec;
	struct shards s;
	uint8_t *logical, *back;

	codec(&ec, 4, 2, 4096);
	logical = xmalloc(stripes * ec.stripe_width);
	back = xmalloc(stripes * ec.stripe_width);
	fill_random(logical, stripes * ec.stripe_width);
	shards_alloc(&s, 6, stripes * ec.stripe_unit);
	bs_ec_scatter(&ec, 0, stripes * ec.stripe_width, logical, s.buf);
	assert_int_equal(bs_ec_encode_stripes(&ec, logical, stripes,
					      &s.buf[4]), 0);
	for (unsigned i = 0; i < 200; i++) {
		uint64_t off = rnd_below(stripes * ec.stripe_width);
		uint64_t len = 1 + rnd_below(stripes * ec.stripe_width - off);
		uint32_t lost = 1u << rnd_below(4) | 1u << (4 + rnd_below(2));
		struct bs_ec_map map;
		uint8_t *hull[6], *rebuilt[6] = { 0 };
		const uint8_t *sb[4];

		assert_int_equal(bs_ec_map_range(&ec, off, len, &map), 0);
		for (unsigned j = 0; j < 6; j++) {
			if (lost & (1u << j)) {
				rebuilt[j] = xmalloc(map.hull.len);
				hull[j] = rebuilt[j];
			} else {
				hull[j] = s.buf[j] + map.hull.off;
			}
		}
		assert_int_equal(bs_ec_decode(&ec, ctx, hull, 0x3fu & ~lost,
					      lost, map.hull.len), 0);
		for (unsigned d = 0; d < 4; d++)
			sb[d] = map.shard[d].len ? hull[d] + (map.shard[d].off -
							      map.hull.off)
						 : NULL;
		bs_ec_gather(&ec, off, len, sb, back);
		assert_memory_equal(back, logical + off, len);
		for (unsigned j = 0; j < 6; j++)
			free(rebuilt[j]);
	}
	free(logical);
	free(back);
	shards_free(&s);
	bs_ec_ctx_free(&ctx);
}

/*
 * Write plans applied to a simulated object: partial stripes by RMW, full
 * stripes by encode_stripes; the shards must equal a fresh encode of the
 * updated object.
 */
static void plan_writes(unsigned k, unsigned m, uint32_t su)
{
	struct bs_ec_ctx *ctx = new_ctx();
	const uint64_t stripes = 10;
	struct bs_ec ec;
	struct shards s;
	uint64_t size;
	uint8_t *logical, *oldb, *newb, *ref[BS_EC_MAX_M];

	codec(&ec, k, m, su);
	size = stripes * ec.stripe_width;
	logical = xmalloc(size);
	oldb = xmalloc(size);
	newb = xmalloc(size);
	fill_random(logical, size);
	shards_alloc(&s, k + m, stripes * su);
	bs_ec_scatter(&ec, 0, size, logical, s.buf);
	assert_int_equal(bs_ec_encode_stripes(&ec, logical, stripes,
					      &s.buf[k]), 0);
	for (unsigned j = 0; j < m; j++)
		ref[j] = xmalloc(stripes * su);
	for (unsigned i = 0; i < 200; i++) {
		uint64_t off = rnd_below(size), len, covered = 0;
		struct bs_ec_write_plan plan;
		const struct bs_ec_partial *parts[2];
		struct bs_ec_map map;

		len = 1 + rnd_below(BS_MIN(size - off, 4 * ec.stripe_width));
		if (i % 5 == 0) {	/* stripe aligned */
			off = rnd_below(stripes) * ec.stripe_width;
			len = (1 + rnd_below(stripes - off /
					     ec.stripe_width)) *
			      ec.stripe_width;
		}
		assert_int_equal(bs_ec_plan_write(&ec, off, len, &plan), 0);
		assert_int_equal(plan.first_stripe, off / ec.stripe_width);
		assert_int_equal(plan.n_stripes,
				 (off + len - 1) / ec.stripe_width -
				 plan.first_stripe + 1);
		/* head, full stripes, tail tile the range in order */
		if (plan.has_head) {
			check_partial_plan(&ec, &plan.head);
			assert_int_equal(plan.head.stripe * ec.stripe_width +
					 plan.head.off, off);
			assert_true(plan.head.len < ec.stripe_width);
			covered += plan.head.len;
		}
		if (plan.full_count) {
			assert_int_equal(plan.full_first * ec.stripe_width,
					 off + covered);
			covered += plan.full_count * ec.stripe_width;
		}
		if (plan.has_tail) {
			check_partial_plan(&ec, &plan.tail);
			assert_int_equal(plan.tail.off, 0);
			assert_int_equal(plan.tail.stripe * ec.stripe_width,
					 off + covered);
			assert_true(plan.tail.len < ec.stripe_width);
			covered += plan.tail.len;
		}
		assert_int_equal(covered, len);
		assert_int_equal(plan.has_head + plan.has_tail +
				 plan.full_count, plan.n_stripes);

		memcpy(oldb, logical + off, len);
		fill_random(newb, len);
		memcpy(logical + off, newb, len);
		parts[0] = plan.has_head ? &plan.head : NULL;
		parts[1] = plan.has_tail ? &plan.tail : NULL;
		for (unsigned h = 0; h < 2; h++) {
			const struct bs_ec_partial *p = parts[h];
			uint64_t loff;
			uint8_t *par[BS_EC_MAX_M];

			if (!p)
				continue;
			loff = p->stripe * ec.stripe_width + p->off - off;
			for (unsigned j = 0; j < m; j++)
				par[j] = s.buf[k + j] + p->stripe * su +
					 p->parity.off;
			assert_int_equal(bs_ec_update_range(&ec, ctx, p,
							    oldb + loff,
							    newb + loff, par),
					 0);
		}
		if (plan.full_count) {
			uint8_t *par[BS_EC_MAX_M];

			for (unsigned j = 0; j < m; j++)
				par[j] = s.buf[k + j] + plan.full_first * su;
			assert_int_equal(bs_ec_encode_stripes(&ec,
					logical + plan.full_first *
						  ec.stripe_width,
					plan.full_count, par), 0);
		}
		/* the new data goes to the data shards' chunks */
		assert_int_equal(bs_ec_map_range(&ec, off, len, &map), 0);
		{
			uint8_t *sb[BS_EC_MAX_K] = { 0 };

			for (unsigned d = 0; d < k; d++)
				if (map.shard[d].len)
					sb[d] = s.buf[d] + map.shard[d].off;
			bs_ec_scatter(&ec, off, len, newb, sb);
		}
		assert_int_equal(bs_ec_encode_stripes(&ec, logical, stripes,
						      ref), 0);
		for (unsigned j = 0; j < m; j++)
			assert_memory_equal(ref[j], s.buf[k + j],
					    stripes * su);
	}
	for (unsigned j = 0; j < m; j++)
		free(ref[j]);
	free(logical);
	free(oldb);
	free(newb);
	shards_free(&s);
	bs_ec_ctx_free(&ctx);
}

static void test_ec_write_plan_applied_to_object_matches_reencode(void **state)
{
	plan_writes(2, 1, 4096);
	plan_writes(4, 2, 4096);
	plan_writes(8, 3, 4096);
	plan_writes(3, 2, 8192);
}

static void test_ec_plan_partial_picks_reads(void **state)
{
	struct bs_ec ec;
	struct bs_ec_partial p;

	codec(&ec, 4, 2, 4096);
	/* One whole unit: RMW reads 1 data + 2 parity, RCW 3 data units */
	assert_int_equal(bs_ec_plan_partial(&ec, 7, 4096, 4096, &p), 0);
	assert_int_equal(p.stripe, 7);
	assert_int_equal(p.mask, 0x2);
	assert_int_equal(p.parity.off, 0);
	assert_int_equal(p.parity.len, 4096);
	assert_int_equal(p.rmw_read, 3 * 4096);
	assert_int_equal(p.rcw_read, 3 * 4096);
	/* 100 bytes inside unit 2 */
	assert_int_equal(bs_ec_plan_partial(&ec, 0, 2 * 4096 + 10, 100, &p),
			 0);
	assert_int_equal(p.mask, 0x4);
	assert_int_equal(p.data[2].off, 10);
	assert_int_equal(p.data[2].len, 100);
	assert_int_equal(p.parity.off, 10);
	assert_int_equal(p.parity.len, 100);
	assert_int_equal(p.rcw[2].len, 0);
	assert_int_equal(p.rcw[0].off, 10);
	assert_int_equal(p.rcw[0].len, 100);
	assert_int_equal(p.rmw_read, 300);
	/* crossing units 0 and 1: the parity range is the whole unit */
	assert_int_equal(bs_ec_plan_partial(&ec, 0, 4000, 200, &p), 0);
	assert_int_equal(p.mask, 0x3);
	assert_int_equal(p.data[0].off, 4000);
	assert_int_equal(p.data[0].len, 96);
	assert_int_equal(p.data[1].off, 0);
	assert_int_equal(p.data[1].len, 104);
	assert_int_equal(p.parity.len, 4096);
	assert_int_equal(p.rcw[0].off, 0);
	assert_int_equal(p.rcw[0].len, 4000);
	assert_int_equal(p.rcw[1].off, 104);
	assert_int_equal(p.rcw[1].len, 3992);
	/* three of four units: RCW reads one unit, RMW five */
	assert_int_equal(bs_ec_plan_partial(&ec, 0, 0, 3 * 4096, &p), 0);
	assert_int_equal(p.rcw_read, 4096);
	assert_int_equal(p.rmw_read, 5 * 4096);
	/* out of the stripe */
	assert_int_equal(bs_ec_plan_partial(&ec, 0, 0, 0, &p), -EINVAL);
	assert_int_equal(bs_ec_plan_partial(&ec, 0, 16000, 1000, &p), -EINVAL);
	assert_int_equal(bs_ec_plan_partial(&ec, 0, 20000, 1, &p), -EINVAL);
}

/* Scrub */

static void verify_profile(unsigned k, unsigned m, size_t len)
{
	struct bs_ec_ctx *ctx = new_ctx();
	const unsigned n = k + m;
	struct bs_ec ec;
	struct shards s;
	uint8_t *fix = xmalloc(len);
	int bad = 42;

	codec(&ec, k, m, 0);
	shards_random(&ec, &s, len);
	assert_int_equal(bs_ec_verify(&ec, ctx, (const uint8_t *const *)s.buf,
				      len, &bad), 0);
	assert_int_equal(bad, -1);
	for (unsigned i = 0; i < n; i++) {
		/* flip bytes at the start, in the middle and at the end */
		size_t where[3] = { 0, 1 + rnd_below(len - 2), len - 1 };
		uint8_t keep[3];
		uint8_t *bufs[BS_EC_MAX_SHARDS];

		for (unsigned w = 0; w < 3; w++) {
			keep[w] = s.buf[i][where[w]];
			s.buf[i][where[w]] ^= (uint8_t)(1 + rnd_below(255));
		}
		bad = 42;
		assert_int_equal(bs_ec_verify(&ec, ctx,
					      (const uint8_t *const *)s.buf,
					      len, &bad), -EBADMSG);
		assert_int_equal(bad, m >= 2 ? (int)i : -1);
		if (m >= 2) {
			/* repair from the healthy ones */
			uint32_t lost = 1u << (unsigned)bad;

			memcpy(bufs, s.buf, sizeof(bufs));
			bufs[i] = fix;
			assert_int_equal(bs_ec_decode(&ec, ctx, bufs,
						      ((1u << n) - 1) & ~lost,
						      lost, len), 0);
			memcpy(s.buf[i], fix, len);
		} else {
			for (int w = 2; w >= 0; w--)
				s.buf[i][where[w]] = keep[w];
		}
		assert_int_equal(bs_ec_verify(&ec, ctx,
					      (const uint8_t *const *)s.buf,
					      len, NULL), 0);
	}
	if (m >= 2) {
		/* two bad shards: detected, not located */
		for (size_t w = 0; w < len; w += 97) {
			s.buf[0][w] ^= 0x5a;
			s.buf[k][w] ^= 0x33;
		}
		assert_int_equal(bs_ec_verify(&ec, ctx,
					      (const uint8_t *const *)s.buf,
					      len, &bad), -EBADMSG);
		assert_int_equal(bad, -1);
	}
	free(fix);
	shards_free(&s);
	bs_ec_ctx_free(&ctx);
}

static void test_ec_verify_locates_single_bad_shard_m2_m3(void **state)
{
	verify_profile(4, 2, 4096);
	verify_profile(8, 3, 4096);
	/* longer than the scratch chunk: checked a chunk at a time */
	verify_profile(4, 2, 3 * 65536 + 100);
	verify_profile(16, 4, 1000);
}

static void test_ec_verify_detects_without_locating_m1(void **state)
{
	verify_profile(2, 1, 4096);
	verify_profile(4, 1, 70000);
}

/* Profiles */

static void test_ec_profile_rejects_invalid_with_clear_messages(void **state)
{
	static const struct {
		unsigned k, m;
		uint32_t su;
		const char *msg;
	} bad[] = {
		{ 0, 2, 4096, "profile 0+2: k must be from 1 to 16" },
		{ 17, 2, 4096, "profile 17+2: k must be from 1 to 16" },
		{ 4, 0, 4096, "profile 4+0: m must be from 1 to 4" },
		{ 4, 5, 4096, "profile 4+5: m must be from 1 to 4" },
		{ 4, 2, 0, "stripe unit 0 must be a non-zero multiple of 4096" },
		{ 4, 2, 1000, "stripe unit 1000 must be a non-zero multiple" },
		{ 4, 2, 6000, "stripe unit 6000 must be a non-zero multiple" },
		{ 4, 2, 2 << 20, "stripe unit 2097152 must be at most 1048576" },
	};
	struct bs_ec ec;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bs_error err = { 0 };

		assert_int_equal(bs_ec_profile_check(bad[i].k, bad[i].m,
						     bad[i].su, &err),
				 -EINVAL);
		assert_int_equal(err.code, -EINVAL);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s' lacks '%s'", err.msg, bad[i].msg);
		if (bad[i].su) {
			memset(&err, 0, sizeof(err));
			assert_int_equal(bs_ec_init(&ec, bad[i].k, bad[i].m,
						    bad[i].su, &err), -EINVAL);
			assert_non_null(strstr(err.msg, bad[i].msg));
		}
	}
	assert_int_equal(bs_ec_profile_check(4, 2, 4096, NULL), 0);
	assert_int_equal(bs_ec_profile_check(16, 4, 1 << 20, NULL), 0);
	assert_int_equal(bs_ec_profile_check(1, 1, 8192, NULL), 0);
	assert_int_equal(bs_ec_init(&ec, 8, 3, 0, NULL), 0);
	assert_int_equal(ec.stripe_unit, 4096);
	assert_int_equal(bs_ec_init(&ec, 8, 3, 65536, NULL), 0);
	assert_int_equal(ec.stripe_width, 8 * 65536);
}

/* Threads: one codec, one ctx per thread */

struct worker {
	pthread_t tid;
	const struct bs_ec *ec;
	const struct shards *s;
	unsigned seed;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct bs_ec_ctx *ctx;
	const size_t len = w->s->len;
	uint8_t *out[2] = { malloc(len), malloc(len) };

	if (bs_ec_ctx_new(&ctx) || !out[0] || !out[1]) {
		w->failures++;
		goto out;
	}
	for (unsigned i = 0; i < 300; i++) {
		unsigned a = (w->seed + i) % 6, b = (w->seed + 3 * i + 1) % 6;
		uint8_t *bufs[6];

		if (a == b)
			b = (b + 1) % 6;
		memcpy(bufs, w->s->buf, sizeof(bufs));
		bufs[a] = out[0];
		bufs[b] = out[1];
		if (bs_ec_decode(w->ec, ctx, bufs,
				 0x3fu & ~(1u << a) & ~(1u << b),
				 (1u << a) | (1u << b), len) ||
		    memcmp(bufs[a], w->s->buf[a], len) ||
		    memcmp(bufs[b], w->s->buf[b], len))
			w->failures++;
		if (bs_ec_verify(w->ec, ctx,
				 (const uint8_t *const *)w->s->buf, len, NULL))
			w->failures++;
	}
	bs_ec_ctx_free(&ctx);
out:
	free(out[0]);
	free(out[1]);
	return NULL;
}

static void test_ec_one_codec_many_threads_own_ctx(void **state)
{
	struct worker w[4];
	struct bs_ec ec;
	struct shards s;

	codec(&ec, 4, 2, 0);
	shards_random(&ec, &s, 4096);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ .ec = &ec, .s = &s, .seed = i };
		assert_int_equal(pthread_create(&w[i].tid, NULL, worker_run,
						&w[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(w[i].tid, NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	shards_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_encode_matches_isal_reference_encoder),
		cmocka_unit_test(test_ec_encode_stripes_equals_shard_space_encode),
		cmocka_unit_test(test_ec_decode_every_pattern_2_1),
		cmocka_unit_test(test_ec_decode_every_pattern_4_2),
		cmocka_unit_test(test_ec_decode_every_pattern_8_3),
		cmocka_unit_test(test_ec_decode_every_profile_every_pattern),
		cmocka_unit_test(test_ec_decode_uses_k_of_more_present_shards),
		cmocka_unit_test(test_ec_decode_rejects_bad_masks_and_too_few_shards),
		cmocka_unit_test(test_ec_decode_tables_are_cached_per_pattern),
		cmocka_unit_test(test_ec_partial_write_parity_equals_reencode_2_1),
		cmocka_unit_test(test_ec_partial_write_parity_equals_reencode_4_2),
		cmocka_unit_test(test_ec_partial_write_parity_equals_reencode_8_3),
		cmocka_unit_test(test_ec_update_spans_stripes_in_shard_space),
		cmocka_unit_test(test_ec_locate_and_logical_round_trip),
		cmocka_unit_test(test_ec_map_range_matches_byte_walk),
		cmocka_unit_test(test_ec_map_range_rejects_overflow),
		cmocka_unit_test(test_ec_scatter_gather_round_trip_on_object),
		cmocka_unit_test(test_ec_degraded_read_decodes_hull),
		cmocka_unit_test(test_ec_write_plan_applied_to_object_matches_reencode),
		cmocka_unit_test(test_ec_plan_partial_picks_reads),
		cmocka_unit_test(test_ec_verify_locates_single_bad_shard_m2_m3),
		cmocka_unit_test(test_ec_verify_detects_without_locating_m1),
		cmocka_unit_test(test_ec_profile_rejects_invalid_with_clear_messages),
		cmocka_unit_test(test_ec_one_codec_many_threads_own_ctx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
