/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Erasure coding: the stripe maths of a k+m pool.  Layout (logical object
 * bytes <-> per-shard chunk bytes), full-stripe encode, read-modify-write
 * parity updates, decode of lost shards and parity checks for scrub, all on
 * ISA-L.  Pure computation: no loop, no disk, no network, and no allocation
 * outside bs_ec_ctx_new().  docs/erasure-coding.md explains the choices.
 */
#ifndef BS_EC_H
#define BS_EC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"

#define BS_EC_MAX_K		16
#define BS_EC_MAX_M		4
#define BS_EC_MAX_SHARDS	20	/* k + m */
#define BS_EC_UNIT_ALIGN	4096u	/* stripe_unit is a multiple of this */
#define BS_EC_UNIT_DEFAULT	4096u
#define BS_EC_UNIT_MAX		(1u << 20)
#define BS_EC_MAX_LEN		(1u << 30) /* longest buffer one call takes */
#define BS_EC_MAX_OFF		(1ull << 62) /* logical ranges end below */

/*
 * A codec: one profile (k data shards, m parity shards, stripe_unit bytes
 * per shard per stripe) and its precomputed encode tables.
 *
 * Shard i of an object lives on slot i of the PG's positional acting set:
 * 0..k-1 hold data, k..k+m-1 parity.  Logical byte off of an object is in
 * stripe off / stripe_width, data shard (off % stripe_width) / stripe_unit,
 * at offset (off % stripe_unit) of that shard's unit, and a shard's chunk is
 * the concatenation of its units of every stripe: shard offset
 * stripe * stripe_unit + unit offset.  Every shard's chunk of an object of
 * logical size L is bs_ec_shard_size(L) bytes: the last stripe is padded
 * with zeros (and parity covers the zeros).
 *
 * Filled by bs_ec_init(), then read-only: any number of threads may use one
 * codec at once, each with its own struct bs_ec_ctx.  Embeddable; nothing
 * to release.  Fields are read-only for users.
 */
struct bs_ec {
	unsigned k, m;
	uint32_t stripe_unit;		/* bytes per shard per stripe */
	uint32_t stripe_width;		/* k * stripe_unit logical bytes */
	/* (k+m) x k generator: identity on top, Cauchy rows below */
	uint8_t matrix[BS_EC_MAX_SHARDS * BS_EC_MAX_K];
	/* ec_init_tables() of the m parity rows: 32 * k * m bytes */
	uint8_t enc_tables[32 * BS_EC_MAX_K * BS_EC_MAX_M];
};

/*
 * Per-thread (or per-call) working memory: scratch buffers and the cache of
 * decode tables, keyed by (k, m, source shards, output shards), so one ctx
 * serves codecs of any profile.  Never share one ctx between threads
 * without a lock.  Opaque.
 */
struct bs_ec_ctx;

/*
 * Check a profile without building it (the mon validates "pool create"
 * with this).  k in 1..BS_EC_MAX_K, m in 1..BS_EC_MAX_M, k + m at most
 * BS_EC_MAX_SHARDS, stripe_unit a non-zero multiple of BS_EC_UNIT_ALIGN up
 * to BS_EC_UNIT_MAX.  Returns 0 or -EINVAL with @err (may be NULL) set.
 */
int bs_ec_profile_check(unsigned k, unsigned m, uint32_t stripe_unit,
			struct bs_error *err);

/*
 * Build the codec of profile k+m with @stripe_unit bytes per unit (0: the
 * default, BS_EC_UNIT_DEFAULT).  Returns 0, or -EINVAL with @err set.
 */
int bs_ec_init(struct bs_ec *ec, unsigned k, unsigned m, uint32_t stripe_unit,
	       struct bs_error *err);

/*
 * Allocate a context (about (BS_EC_MAX_M + 1) * 64 KiB of scratch and
 * 32 KiB of decode-table cache).  Returns 0 and *out, or -ENOMEM; never
 * aborts.  Caller frees with bs_ec_ctx_free(), which clears the pointer
 * and accepts NULL.
 */
int bs_ec_ctx_new(struct bs_ec_ctx **out);
void bs_ec_ctx_free(struct bs_ec_ctx **ctx);

/* Decode-table cache counters since bs_ec_ctx_new() (for metrics). */
void bs_ec_ctx_stats(const struct bs_ec_ctx *ctx, uint64_t *hits,
		     uint64_t *misses);

/* Layout: logical bytes <-> shard bytes (shard space) */

/* Where one logical byte lives. */
struct bs_ec_loc {
	uint64_t stripe;
	unsigned shard;		/* data shard, 0..k-1 */
	uint32_t unit_off;	/* offset within the shard's unit */
	uint64_t shard_off;	/* stripe * stripe_unit + unit_off */
};

void bs_ec_locate(const struct bs_ec *ec, uint64_t off, struct bs_ec_loc *loc);

/*
 * The reverse: the logical offset of byte @shard_off of data shard @shard
 * (< k).  @shard_off must be below UINT64_MAX / k.
 */
uint64_t bs_ec_logical(const struct bs_ec *ec, unsigned shard,
		       uint64_t shard_off);

/* Stripes an object of @size logical bytes spans: ceil(size / width). */
uint64_t bs_ec_stripe_count(const struct bs_ec *ec, uint64_t size);

/* Bytes of every shard's chunk for an object of @size logical bytes. */
uint64_t bs_ec_shard_size(const struct bs_ec *ec, uint64_t size);

/* A byte range in shard space, or inside one unit. */
struct bs_ec_extent {
	uint64_t off;
	uint64_t len;		/* 0: none */
};

/*
 * What a logical range [off, off + len) reads.  Each data shard's part of
 * any logical range is ONE contiguous range of its chunk, shard[d] (len 0
 * when the range misses shard d).  hull is the smallest shard range that
 * covers every shard[d]: a degraded read fetches hull from k available
 * shards and decodes the missing data shards over it (bs_ec_decode()).
 */
struct bs_ec_map {
	struct bs_ec_extent shard[BS_EC_MAX_K];
	struct bs_ec_extent hull;
	uint32_t mask;		/* bit d set: shard[d].len > 0 */
	unsigned n;		/* data shards touched */
};

/*
 * Fill @map for [off, off + len).  len 0 gives an empty map.  Returns 0, or
 * -EINVAL if the range ends past BS_EC_MAX_OFF.
 */
int bs_ec_map_range(const struct bs_ec *ec, uint64_t off, uint64_t len,
		    struct bs_ec_map *map);

/*
 * Copy between a logical buffer of [off, off + len) and per-data-shard
 * buffers laid out as bs_ec_map_range() says: shard_buf[d] holds
 * map.shard[d].len bytes starting at shard offset map.shard[d].off
 * (entries of untouched shards are not read and may be NULL).  gather:
 * shards -> @dst; scatter: @src -> shards.  A range ending past
 * BS_EC_MAX_OFF copies nothing.
 */
void bs_ec_gather(const struct bs_ec *ec, uint64_t off, uint64_t len,
		  const uint8_t *const shard_buf[], uint8_t *dst);
void bs_ec_scatter(const struct bs_ec *ec, uint64_t off, uint64_t len,
		   const uint8_t *src, uint8_t *const shard_buf[]);

/*
 * A write to part of one stripe: [off, off + len) of the stripe's
 * stripe_width logical bytes, 0 < len.  All ranges are offsets within a
 * unit (add stripe * stripe_unit for the shard offset).
 *
 * - data[d]: the bytes data shard d receives (len 0: untouched).
 * - parity: the bytes of every parity unit that change: the hull of the
 *   data[d] (the whole unit as soon as the write touches two units).
 * - Read-modify-write (RMW) reads the old data[d] of touched shards and the
 *   old parity range of all m parity shards: rmw_read bytes.  Then
 *   bs_ec_update_range() (or bs_ec_update() per shard) gives new parity.
 * - Reconstruct-write (RCW) reads, on every data shard, the bytes of the
 *   parity range the write does not cover, rcw[d]: rcw_read bytes; merged
 *   with the new data they give k buffers over the parity range, and
 *   bs_ec_encode() of those gives the new parity.  No parity read.
 * Both write data[d] to the touched data shards and parity to all m parity
 * shards.  Pick the one that reads fewer bytes; on a tie, the one that
 * reads from fewer shards.
 */
struct bs_ec_partial {
	uint64_t stripe;
	uint32_t off, len;	/* within the stripe's logical bytes */
	struct bs_ec_extent data[BS_EC_MAX_K];
	struct bs_ec_extent parity;
	struct bs_ec_extent rcw[BS_EC_MAX_K];
	uint64_t rmw_read, rcw_read;
	uint32_t mask;		/* bit d set: data[d].len > 0 */
};

/*
 * A logical write [off, off + len) split by stripe: an optional partial
 * head stripe, full_count fully covered stripes from full_first (encode
 * them from the new data alone: bs_ec_encode_stripes()), and an optional
 * partial tail stripe.  A write inside one stripe that does not cover it
 * is a head only.
 */
struct bs_ec_write_plan {
	uint64_t first_stripe, n_stripes;
	bool has_head, has_tail;
	struct bs_ec_partial head, tail;
	uint64_t full_first, full_count;
};

/*
 * Plan a partial-stripe write of [off, off + len) within stripe @stripe
 * (off + len <= stripe_width, len > 0).  Returns 0 or -EINVAL.
 */
int bs_ec_plan_partial(const struct bs_ec *ec, uint64_t stripe, uint32_t off,
		       uint32_t len, struct bs_ec_partial *p);

/*
 * Plan a logical write (len > 0, ending at most at BS_EC_MAX_OFF).  Returns
 * 0 or -EINVAL.
 */
int bs_ec_plan_write(const struct bs_ec *ec, uint64_t off, uint64_t len,
		     struct bs_ec_write_plan *plan);

/*
 * Coding, all in shard space: every pointer of one call addresses the same
 * shard offset of its shard, and @len bytes from there (one unit, part of a
 * unit, or a run of whole stripes: a run of stripes is contiguous in every
 * shard).  Buffers are the caller's; nothing is allocated.  @len is at most
 * BS_EC_MAX_LEN; 0 is a no-op.  These may be called from any thread; those
 * taking a ctx need one the caller owns for the duration of the call.
 * Returns 0 or -EINVAL for arguments out of range.
 */

/* @data: k pointers in; @parity: m pointers out. */
int bs_ec_encode(const struct bs_ec *ec, const uint8_t *const data[],
		 uint8_t *const parity[], size_t len);

/*
 * Encode @n whole stripes from a logical buffer (@n * stripe_width bytes:
 * the object's bytes from a stripe boundary) into @parity: m pointers to
 * @n * stripe_unit bytes each, the parity shards' chunk bytes of those
 * stripes.  One ISA-L pass per stripe.
 */
int bs_ec_encode_stripes(const struct bs_ec *ec, const uint8_t *data,
			 uint64_t n, uint8_t *const parity[]);

/*
 * Read-modify-write of data shard @shard (< k): @old_data and @new_data are
 * @len bytes of that shard before and after the write; @parity (m pointers,
 * same shard offset) holds the old parity and receives the new one in
 * place: parity ^= G[.][shard] * (old ^ new), with ec_encode_data_update().
 */
int bs_ec_update(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		 unsigned shard, const uint8_t *old_data,
		 const uint8_t *new_data, uint8_t *const parity[], size_t len);

/*
 * Read-modify-write of a partial stripe write in logical order: @p from
 * bs_ec_plan_partial(); @old_data and @new_data are the p->len logical bytes
 * of the range before and after; @parity: m pointers to the old bytes of the
 * parity range p->parity (the first pointed-to byte is unit offset
 * p->parity.off), updated in place to the new parity.
 */
int bs_ec_update_range(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		       const struct bs_ec_partial *p, const uint8_t *old_data,
		       const uint8_t *new_data, uint8_t *const parity[]);

/*
 * Rebuild lost shards.  @shards: k+m pointers.  For each bit i of
 * @present, shards[i] holds @len bytes of shard i (input); for each bit of
 * @want, shards[i] receives them (output).  @present needs at least k bits
 * (the k lowest are used); @want must not intersect @present.  Decode
 * tables are cached in @ctx per pattern.  Returns 0 or -EINVAL (too few
 * shards, bad masks).
 */
int bs_ec_decode(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		 uint8_t *const shards[], uint32_t present, uint32_t want,
		 size_t len);

/* Whether shards @present suffice to decode (at least k of them). */
bool bs_ec_can_decode(const struct bs_ec *ec, uint32_t present);

/*
 * Scrub: check that the k+m @shards (all present, @len bytes each) are
 * consistent.  Returns 0 if they are, -EBADMSG if not, with *bad_shard the
 * one shard whose exclusion makes the others consistent (m >= 2 and a
 * single bad shard), or -1 when that cannot be told (m = 1, or several
 * shards bad); repair it with bs_ec_decode() from the others.  @bad_shard
 * may be NULL; it is set to -1 when the shards are consistent.
 */
int bs_ec_verify(const struct bs_ec *ec, struct bs_ec_ctx *ctx,
		 const uint8_t *const shards[], size_t len, int *bad_shard);

#endif /* BS_EC_H */
