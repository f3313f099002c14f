// SPDX-License-Identifier: Apache-2.0
/*
 * Erasure coding on ISA-L: a systematic Cauchy generator
 * (gf_gen_cauchy1_matrix), encode and read-modify-write updates with the
 * precomputed tables, decode matrices by gf_invert_matrix cached per
 * erasure pattern, and scrub's parity check that locates one bad shard.
 * The layout maths (logical <-> shard offsets) is integer arithmetic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l.h>

#include "bs/ec.h"

#define CHUNK		(64u * 1024)	/* scratch bytes per buffer */
#define CACHE_SLOTS	16
#define TABLE_BYTES	(32 * BS_EC_MAX_K * BS_EC_MAX_M)

/* Decode tables for one (k, m, sources, outputs); key 0: empty slot. */
struct dec_entry {
	uint64_t key;
	uint64_t used;		/* LRU tick */
	uint8_t tables[TABLE_BYTES];
};

struct bs_ec_ctx {
	uint64_t tick;
	uint64_t hits, misses;
	uint8_t *scratch;	/* (BS_EC_MAX_M + 1) * CHUNK bytes */
	struct dec_entry cache[CACHE_SLOTS];
};

/* Profile and codec */

int bs_ec_profile_check(unsigned k, unsigned m, uint32_t stripe_unit,
			struct bs_error *err)
{
	if (k < 1 || k > BS_EC_MAX_K)
		return bs_error_set(err, -EINVAL,
				    "erasure code profile %u+%u: k must be from 1 to %d data shards",
				    k, m, BS_EC_MAX_K);
	if (m < 1 || m > BS_EC_MAX_M)
		return bs_error_set(err, -EINVAL,
				    "erasure code profile %u+%u: m must be from 1 to %d parity shards",
				    k, m, BS_EC_MAX_M);
	if (k + m > BS_EC_MAX_SHARDS)
		return bs_error_set(err, -EINVAL,
				    "erasure code profile %u+%u: k+m must be at most %d shards",
				    k, m, BS_EC_MAX_SHARDS);
	if (stripe_unit == 0 || stripe_unit % BS_EC_UNIT_ALIGN)
		return bs_error_set(err, -EINVAL,
				    "erasure code stripe unit %u must be a non-zero multiple of %u bytes",
				    stripe_unit, BS_EC_UNIT_ALIGN);
	if (stripe_unit > BS_EC_UNIT_MAX)
		return bs_error_set(err, -EINVAL,
				    "erasure code stripe unit %u must be at most %u bytes",
				    stripe_unit, BS_EC_UNIT_MAX);
	return 0;
}

int bs_ec_init(struct bs_ec *ec, unsigned k, unsigned m, uint32_t stripe_unit,
	       struct bs_error *err)
{
	int ret;

	if (stripe_unit == 0)
		stripe_unit = BS_EC_UNIT_DEFAULT;
	ret = bs_ec_profile_check(k, m, stripe_unit, err);
	if (ret)
		return ret;
	memset(ec, 0, sizeof(*ec));
	ec->k = k;
	ec->m = m;
	ec->stripe_unit = stripe_unit;
	ec->stripe_width = k * stripe_unit;
	/*
	 * Cauchy rather than gf_gen_rs_matrix(): every square submatrix of a
	 * Cauchy matrix is invertible, so any k shards decode for any k+m,
	 * with no table of exceptions to trust.  This matrix defines what
	 * parity shards contain on disk: never change it.
	 */
	gf_gen_cauchy1_matrix(ec->matrix, (int)(k + m), (int)k);
	ec_init_tables((int)k, (int)m, &ec->matrix[k * k], ec->enc_tables);
	return 0;
}

int bs_ec_ctx_new(struct bs_ec_ctx **out)
{
	struct bs_ec_ctx *ctx;

	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->scratch = aligned_alloc(64, (BS_EC_MAX_M + 1) * CHUNK);
	if (!ctx->scratch) {
		free(ctx);
		return -ENOMEM;
	}
	*out = ctx;
	return 0;
}

void bs_ec_ctx_free(struct bs_ec_ctx **ctx)
{
	if (!*ctx)
		return;
	free((*ctx)->scratch);
	bs_free(ctx);
}

void bs_ec_ctx_stats(const struct bs_ec_ctx *ctx, uint64_t *hits,
		     uint64_t *misses)
{
	*hits = ctx->hits;
	*misses = ctx->misses;
}

/* Layout */

void bs_ec_locate(const struct bs_ec *ec, uint64_t off, struct bs_ec_loc *loc)
{
	uint64_t in = off % ec->stripe_width;

	loc->stripe = off / ec->stripe_width;
	loc->shard = (unsigned)(in / ec->stripe_unit);
	loc->unit_off = (uint32_t)(in % ec->stripe_unit);
	loc->shard_off = loc->stripe * ec->stripe_unit + loc->unit_off;
}

uint64_t bs_ec_logical(const struct bs_ec *ec, unsigned shard,
		       uint64_t shard_off)
{
	uint64_t stripe = shard_off / ec->stripe_unit;

	return stripe * ec->stripe_width + (uint64_t)shard * ec->stripe_unit +
	       shard_off % ec->stripe_unit;
}

uint64_t bs_ec_stripe_count(const struct bs_ec *ec, uint64_t size)
{
	return size / ec->stripe_width + (size % ec->stripe_width != 0);
}

uint64_t bs_ec_shard_size(const struct bs_ec *ec, uint64_t size)
{
	return bs_ec_stripe_count(ec, size) * ec->stripe_unit;
}

static bool range_ok(uint64_t off, uint64_t len)
{
	return off <= BS_EC_MAX_OFF && len <= BS_EC_MAX_OFF - off;
}

int bs_ec_map_range(const struct bs_ec *ec, uint64_t off, uint64_t len,
		    struct bs_ec_map *map)
{
	const uint64_t su = ec->stripe_unit;
	struct bs_ec_loc first, last;
	uint64_t hull_end = 0;

	memset(map, 0, sizeof(*map));
	if (!range_ok(off, len))
		return -EINVAL;
	if (len == 0)
		return 0;
	bs_ec_locate(ec, off, &first);
	bs_ec_locate(ec, off + len - 1, &last);
	map->hull.off = UINT64_MAX;
	for (unsigned d = 0; d < ec->k; d++) {
		uint64_t start, end;

		/* A shard before the first byte's starts in the next stripe */
		if (d < first.shard)
			start = (first.stripe + 1) * su;
		else if (d == first.shard)
			start = first.shard_off;
		else
			start = first.stripe * su;
		/* and one after the last byte's ends in the stripe before */
		if (d < last.shard)
			end = (last.stripe + 1) * su;
		else if (d == last.shard)
			end = last.shard_off + 1;
		else
			end = last.stripe * su;
		if (end <= start)
			continue;
		map->shard[d].off = start;
		map->shard[d].len = end - start;
		map->mask |= 1u << d;
		map->n++;
		map->hull.off = BS_MIN(map->hull.off, start);
		hull_end = BS_MAX(hull_end, end);
	}
	map->hull.len = hull_end - map->hull.off;
	return 0;
}

/* Copy unit by unit between a logical buffer and per-shard buffers. */
static void copy_units(const struct bs_ec *ec, uint64_t off, uint64_t len,
		       uint8_t *const shard_buf[], uint8_t *logical,
		       bool to_logical)
{
	struct bs_ec_map map;
	uint64_t pos = off, end = off + len;

	if (bs_ec_map_range(ec, off, len, &map))
		return;
	while (pos < end) {
		struct bs_ec_loc loc;
		uint64_t n;
		uint8_t *s;

		bs_ec_locate(ec, pos, &loc);
		n = BS_MIN(ec->stripe_unit - loc.unit_off, end - pos);
		s = shard_buf[loc.shard] +
		    (loc.shard_off - map.shard[loc.shard].off);
		if (to_logical)
			memcpy(logical + (pos - off), s, n);
		else
			memcpy(s, logical + (pos - off), n);
		pos += n;
	}
}

void bs_ec_gather(const struct bs_ec *ec, uint64_t off, uint64_t len,
		  const uint8_t *const shard_buf[], uint8_t *dst)
{
	copy_units(ec, off, len, (uint8_t *const *)shard_buf, dst, true);
}

void bs_ec_scatter(const struct bs_ec *ec, uint64_t off, uint64_t len,
		   const uint8_t *src, uint8_t *const shard_buf[])
{
	copy_units(ec, off, len, shard_buf, (uint8_t *)src, false);
}

int bs_ec_plan_partial(const struct bs_ec *ec, uint64_t stripe, uint32_t off,
		       uint32_t len, struct bs_ec_partial *p)
{
	const uint32_t su = ec->stripe_unit;
	unsigned d0, d1;
	uint32_t u0, u1;

	memset(p, 0, sizeof(*p));
	if (len == 0 || off > ec->stripe_width ||
	    len > ec->stripe_width - off ||
	    stripe >= BS_EC_MAX_OFF / ec->stripe_width)
		return -EINVAL;
	p->stripe = stripe;
	p->off = off;
	p->len = len;
	d0 = off / su;
	u0 = off % su;
	d1 = (off + len - 1) / su;
	u1 = (off + len - 1) % su + 1;	/* end of the last unit's part */
	for (unsigned d = d0; d <= d1; d++) {
		p->data[d].off = d == d0 ? u0 : 0;
		p->data[d].len = (d == d1 ? u1 : su) - p->data[d].off;
		p->mask |= 1u << d;
	}
	/* Two touched units cover the whole unit between them */
	p->parity.off = d0 == d1 ? u0 : 0;
	p->parity.len = d0 == d1 ? u1 - u0 : su;
	for (unsigned d = 0; d < ec->k; d++) {
		const struct bs_ec_extent *w = &p->data[d];
		uint64_t hend = p->parity.off + p->parity.len;

		/* w shares an end with the parity range: rcw is the rest */
		if (!w->len)
			p->rcw[d] = p->parity;
		else if (w->off == p->parity.off)
			p->rcw[d] = (struct bs_ec_extent){
				w->off + w->len, hend - (w->off + w->len) };
		else
			p->rcw[d] = (struct bs_ec_extent){
				p->parity.off, w->off - p->parity.off };
		p->rcw_read += p->rcw[d].len;
	}
	p->rmw_read = len + (uint64_t)ec->m * p->parity.len;
	return 0;
}

int bs_ec_plan_write(const struct bs_ec *ec, uint64_t off, uint64_t len,
		     struct bs_ec_write_plan *plan)
{
	const uint64_t sw = ec->stripe_width;
	uint64_t end = off + len, first, last, head_end;
	int ret;

	memset(plan, 0, sizeof(*plan));
	if (len == 0 || !range_ok(off, len))
		return -EINVAL;
	first = off / sw;
	last = (end - 1) / sw;
	plan->first_stripe = first;
	plan->n_stripes = last - first + 1;
	head_end = BS_MIN(end, (first + 1) * sw);
	if (off % sw || head_end - off < sw) {
		ret = bs_ec_plan_partial(ec, first, (uint32_t)(off % sw),
					 (uint32_t)(head_end - off),
					 &plan->head);
		if (ret)
			return ret;
		plan->has_head = true;
	}
	if (last != first && end % sw) {
		ret = bs_ec_plan_partial(ec, last, 0,
					 (uint32_t)(end - last * sw),
					 &plan->tail);
		if (ret)
			return ret;
		plan->has_tail = true;
	}
	plan->full_first = first + plan->has_head;
	if (last + 1 - plan->has_tail > plan->full_first)
		plan->full_count = last + 1 - plan->has_tail -
				   plan->full_first;
	return 0;
}

/* Coding */

static bool len_ok(size_t len)
{
	return len <= BS_EC_MAX_LEN;
}

int bs_ec_encode(const struct bs_ec *ec, const uint8_t *const data[],
		 uint8_t *const parity[], size_t len)
{
	if (!len_ok(len))
		return -EINVAL;
	if (len == 0)
		return 0;
	/* ISA-L takes non-const pointers but only reads data and tables */
	ec_encode_data((int)len, (int)ec->k, (int)ec->m,
		       (unsigned char *)ec->enc_tables, (unsigned char **)data,
		       (unsigned char **)parity);
	return 0;
}

int bs_ec_encode_stripes(const struct bs_ec *ec, const uint8_t *data,
			 uint64_t n, uint8_t *const parity[])
{
	unsigned char *src[BS_EC_MAX_K], *dst[BS_EC_MAX_M];

	if (n > BS_EC_MAX_OFF / ec->stripe_width)
		return -EINVAL;
	for (uint64_t s = 0; s < n; s++) {
		for (unsigned d = 0; d < ec->k; d++)
			src[d] = (unsigned char *)data + s * ec->stripe_width +
				 d * ec->stripe_unit;
		for (unsigned j = 0; j < ec->m; j++)
			dst[j] = parity[j] + s * ec->stripe_unit;
		ec_encode_data((int)ec->stripe_unit, (int)ec->k, (int)ec->m,
			       (unsigned char *)ec->enc_tables, src, dst);
	}
	return 0;
}

static void xor_buf(uint8_t *dst, const uint8_t *a, const uint8_t *b,
		    size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		x ^= y;
		memcpy(dst + i, &x, 8);
	}
	for (; i < n; i++)
		dst[i] = a[i] ^ b[i];
}

int bs_ec_update(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		 unsigned shard, const uint8_t *old_data,
		 const uint8_t *new_data, uint8_t *const parity[], size_t len)
{
	uint8_t *delta = ctx->scratch;
	unsigned char *dst[BS_EC_MAX_M];

	if (shard >= ec->k || !len_ok(len))
		return -EINVAL;
	for (size_t pos = 0; pos < len; pos += CHUNK) {
		size_t n = BS_MIN(CHUNK, len - pos);

		xor_buf(delta, old_data + pos, new_data + pos, n);
		for (unsigned j = 0; j < ec->m; j++)
			dst[j] = parity[j] + pos;
		ec_encode_data_update((int)n, (int)ec->k, (int)ec->m,
				      (int)shard,
				      (unsigned char *)ec->enc_tables, delta,
				      dst);
	}
	return 0;
}

int bs_ec_update_range(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		       const struct bs_ec_partial *p, const uint8_t *old_data,
		       const uint8_t *new_data, uint8_t *const parity[])
{
	uint8_t *dst[BS_EC_MAX_M];
	uint64_t pos = 0;	/* logical bytes of the range done */

	if (p->len == 0 || p->off > ec->stripe_width ||
	    p->len > ec->stripe_width - p->off)
		return -EINVAL;
	for (unsigned d = 0; d < ec->k; d++) {
		const struct bs_ec_extent *w = &p->data[d];
		int ret;

		if (!w->len)
			continue;
		if (w->off < p->parity.off ||
		    w->off + w->len > p->parity.off + p->parity.len ||
		    pos + w->len > p->len)
			return -EINVAL;
		for (unsigned j = 0; j < ec->m; j++)
			dst[j] = parity[j] + (w->off - p->parity.off);
		ret = bs_ec_update(ec, ctx, d, old_data + pos, new_data + pos,
				   dst, w->len);
		if (ret)
			return ret;
		pos += w->len;
	}
	return pos == p->len ? 0 : -EINVAL;
}

bool bs_ec_can_decode(const struct bs_ec *ec, uint32_t present)
{
	uint32_t all = (1u << (ec->k + ec->m)) - 1;

	return (unsigned)__builtin_popcount(present & all) >= ec->k;
}

/* The @k lowest set bits of @mask. */
static uint32_t lowest_bits(uint32_t mask, unsigned k)
{
	uint32_t out = 0;

	while (k-- && mask) {
		uint32_t bit = mask & -mask;

		out |= bit;
		mask &= ~bit;
	}
	return out;
}

/*
 * Tables that compute the shards of @out from the k shards of @src, from
 * the cache or built: rows of the generator for @src inverted, times the
 * generator rows of @out (at most m of them).  NULL if the submatrix is
 * singular, which a Cauchy generator never gives.  Valid until the next
 * call on @ctx.
 */
static const uint8_t *dec_tables(const struct bs_ec *ec,
				 struct bs_ec_ctx *ctx, uint32_t src,
				 uint32_t out)
{
	const unsigned k = ec->k;
	uint8_t b[BS_EC_MAX_K * BS_EC_MAX_K], inv[BS_EC_MAX_K * BS_EC_MAX_K];
	uint8_t coef[BS_EC_MAX_M * BS_EC_MAX_K];
	uint64_t key = 1ull << 63 | (uint64_t)ec->m << 48 |
		       (uint64_t)k << 40 | (uint64_t)out << 20 | src;
	struct dec_entry *e = &ctx->cache[0];
	unsigned rows = 0, i = 0;

	for (unsigned s = 0; s < CACHE_SLOTS; s++) {
		struct dec_entry *c = &ctx->cache[s];

		if (c->key == key) {
			c->used = ++ctx->tick;
			ctx->hits++;
			return c->tables;
		}
		if (c->used < e->used)
			e = c;
	}
	ctx->misses++;
	if ((unsigned)__builtin_popcount(src) != k ||
	    (unsigned)__builtin_popcount(out) > ec->m)
		return NULL;
	for (unsigned r = 0; r < k + ec->m; r++)
		if (src & (1u << r))
			memcpy(&b[k * i++], &ec->matrix[k * r], k);
	if (gf_invert_matrix(b, inv, (int)k))
		return NULL;
	for (unsigned r = 0; r < k + ec->m; r++) {
		if (!(out & (1u << r)))
			continue;
		for (unsigned j = 0; j < k; j++) {
			uint8_t c = 0;

			for (unsigned t = 0; t < k; t++)
				c ^= gf_mul(ec->matrix[k * r + t],
					    inv[k * t + j]);
			coef[k * rows + j] = c;
		}
		rows++;
	}
	ec_init_tables((int)k, (int)rows, coef, e->tables);
	e->key = key;
	e->used = ++ctx->tick;
	return e->tables;
}

/* Compute shards @out (at most m) from the k shards @src, @len bytes. */
static int run_decode(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		      uint32_t src, uint32_t out, uint8_t *const in_buf[],
		      uint8_t *const out_buf[], size_t len)
{
	unsigned char *sp[BS_EC_MAX_K], *dp[BS_EC_MAX_M];
	const uint8_t *tables = dec_tables(ec, ctx, src, out);
	unsigned ns = 0, nd = 0;

	if (!tables)
		return -EIO;
	for (unsigned i = 0; i < ec->k + ec->m; i++) {
		if (src & (1u << i))
			sp[ns++] = in_buf[i];
		else if (out & (1u << i))
			dp[nd++] = out_buf[i];
	}
	ec_encode_data((int)len, (int)ec->k, (int)nd, (unsigned char *)tables,
		       sp, dp);
	return 0;
}

int bs_ec_decode(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		 uint8_t *const shards[], uint32_t present, uint32_t want,
		 size_t len)
{
	uint32_t all = (1u << (ec->k + ec->m)) - 1;

	if ((present | want) & ~all || present & want || !len_ok(len) ||
	    !bs_ec_can_decode(ec, present))
		return -EINVAL;
	if (!want || !len)
		return 0;
	return run_decode(ec, ctx, lowest_bits(present, ec->k), want, shards,
			  shards, len);
}

/*
 * Whether shards @out agree with what the k shards @src give (1), or not
 * (0), over @len bytes: regenerated a chunk at a time into scratch.
 */
static int agrees(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		  uint32_t src, uint32_t out, const uint8_t *const shards[],
		  size_t len)
{
	uint8_t *in[BS_EC_MAX_SHARDS], *regen[BS_EC_MAX_SHARDS];
	unsigned nd = 0;
	int ret;

	for (unsigned i = 0; i < ec->k + ec->m; i++)
		if (out & (1u << i))
			regen[i] = ctx->scratch + (size_t)CHUNK * nd++;
	for (size_t pos = 0; pos < len; pos += CHUNK) {
		size_t n = BS_MIN(CHUNK, len - pos);

		for (unsigned i = 0; i < ec->k + ec->m; i++)
			in[i] = (uint8_t *)shards[i] + pos;
		ret = run_decode(ec, ctx, src, out, in, regen, n);
		if (ret)
			return ret;
		for (unsigned i = 0; i < ec->k + ec->m; i++)
			if (out & (1u << i) &&
			    memcmp(regen[i], shards[i] + pos, n))
				return 0;
	}
	return 1;
}

int bs_ec_verify(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		 const uint8_t *const shards[], size_t len, int *bad_shard)
{
	const unsigned n = ec->k + ec->m;
	uint32_t all = (1u << n) - 1, data = (1u << ec->k) - 1;
	int ret, found = -1, candidates = 0;

	if (bad_shard)
		*bad_shard = -1;
	if (!len_ok(len))
		return -EINVAL;
	ret = agrees(ec, ctx, data, all & ~data, shards, len);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	/*
	 * Without shard i the other k+m-1 form a code of distance m: with
	 * m >= 2 they agree only if the one bad shard is the one left out.
	 */
	for (unsigned i = 0; ec->m >= 2 && i < n; i++) {
		uint32_t rest = all & ~(1u << i);
		uint32_t src = lowest_bits(rest, ec->k);

		ret = agrees(ec, ctx, src, rest & ~src, shards, len);
		if (ret < 0)
			return ret;
		if (ret) {
			found = (int)i;
			candidates++;
		}
	}
	if (bad_shard && candidates == 1)
		*bad_shard = found;
	return -EBADMSG;
}
