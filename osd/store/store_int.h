/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the object store shared by its files: the superblock and
 * metadata record formats, the in-memory object metadata (every object's
 * extent map and crcs stay in memory, loaded at open), struct store, and
 * the prototypes of extmap.c, meta.c and store_io.c.
 */
#ifndef BS_OSD_STORE_STORE_INT_H
#define BS_OSD_STORE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "bs/error.h"
#include "bs/loop.h"
#include "disk.h"
#include "journal.h"
#include "store.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the on-disk formats are little-endian and so is this code"
#endif

/*
 * Superblock: block 0 of the data file, little-endian, 4096 bytes.
 *
 *   off   size  field
 *     0      8  magic       "BSLTSTOR"
 *     8      4  format      STORE_FORMAT (2; 1 is upgraded at open)
 *    12      4  block_size  4096
 *    16     16  uuid        pairs the data with its metadata
 *    32      8  size        bytes of the file or device in use
 *    40      8  data_start  byte offset of the data area (a MiB multiple)
 *    48      8  nblocks     size / block_size
 *    56      4  meta_len    length of meta_dir
 *    60      4  reserved    0
 *    64   1024  meta_dir    absolute path of the RocksDB directory
 *  1088      8  journal_off byte offset of the journal ring (format 2)
 *  1096      8  journal_size bytes of the ring (format 2)
 *  1104   2988  reserved    0
 *  4092      4  crc         crc32c of bytes 0..4091
 */
#define STORE_MAGIC		"BSLTSTOR"
#define STORE_FORMAT		2u
/* Format 1: data from 1 MiB, the space before it reserved (the journal). */
#define STORE_DATA_START	(1u << 20)
#define STORE_LEGACY_JOFF	4096u
/*
 * Metadata batches leave at most this often (ms) while only journaled
 * writes are in them (see meta_set_pace()).
 */
#define STORE_COMMIT_PACE_MS	10
/* The largest journal mkfs chooses by itself. */
#define STORE_JOURNAL_AUTO_MAX	(32ull << 20)
#define STORE_META_DIR_MAX	1024u

struct store_super {
	char magic[8];
	uint32_t format;
	uint32_t block_size;
	uint8_t uuid[16];
	uint64_t size;
	uint64_t data_start;
	uint64_t nblocks;
	uint32_t meta_len;
	uint32_t reserved;
	char meta_dir[STORE_META_DIR_MAX];
	uint64_t journal_off;
	uint64_t journal_size;
	uint8_t pad[2988];
	uint32_t crc;
};
_Static_assert(sizeof(struct store_super) == 4096, "superblock is one block");
_Static_assert(offsetof(struct store_super, meta_dir) == 64, "superblock");
_Static_assert(offsetof(struct store_super, crc) == 4092, "superblock");
_Static_assert(offsetof(struct store_super, journal_off) == 1088,
	       "superblock");

/*
 * RocksDB keys (all integers big-endian, so that keys sort numerically):
 *
 *   'S'                                  store identity (struct meta_ident)
 *   'O' pool:4 pg:4 volume:8 objnum:8     object header (OBJ_HDR)
 *   'O' pool:4 pg:4 volume:8 objnum:8 chunk:4
 *                                        extents + crcs of object blocks
 *                                        [chunk * 64, chunk * 64 + 64)
 *   'P' pool:4 pg:4 key:1..128           per-PG blob
 *
 * One PG's objects are the key range 'O' pool pg .. 'O' pool pg+1.
 */
#define KEY_IDENT		'S'
#define KEY_OBJ			'O'
#define KEY_PG			'P'
#define KEY_OBJ_LEN		25
#define KEY_CHUNK_LEN		29
#define KEY_PG_PREFIX_LEN	9
#define CHUNK_BLOCKS		64u

/*
 * Store identity value, little-endian:
 *   0  4  magic 'BSMI'   4  4  format   8  16  uuid
 */
#define META_IDENT_MAGIC	0x494d5342u
#define META_IDENT_LEN		24

/*
 * Object header value, little-endian, 32 bytes:
 *   0  4  magic 'OBJH'   4  4  reserved 0
 *   8  8  version       16  8  size      24  4  reserved 0
 *  28  4  crc32c of bytes 0..27
 */
#define OBJ_HDR_MAGIC		0x484a424fu
#define OBJ_HDR_LEN		32

/*
 * Chunk value, little-endian:
 *   0  4  magic 'OBJC'   4  4  n_ext (1..64)
 *   8  16 * n_ext  extents { lblk:4, nblk:4, pblk:8 }, sorted, disjoint,
 *                  inside the chunk
 *   ..  4 * (sum of nblk)  crc32c of each block, in extent order
 *   ..  4  crc32c of all the bytes before it
 */
#define OBJ_CHUNK_MAGIC		0x434a424fu
#define OBJ_CHUNK_MAX_LEN	(8 + 16 * CHUNK_BLOCKS + 4 * CHUNK_BLOCKS + 4)

/* One extent of an object: object blocks -> disk blocks, with crcs. */
struct extent {
	uint32_t lblk;
	uint32_t nblk;
	uint64_t pblk;
	uint32_t crc_idx;	/* crc of block lblk is ver->crc[crc_idx] */
};

/*
 * One version of an object's metadata, immutable once built, shared by
 * refcount (the object's head and durable pointers, ops, reads).
 * Invariant: ext sorted by lblk, disjoint, adjacent extents not mergeable;
 * crc[ext[i].crc_idx + k] is the crc32c of block ext[i].lblk + k.
 */
struct obj_ver {
	unsigned refs;
	uint64_t version;
	uint64_t size;
	uint32_t n_ext;
	uint32_t n_blk;
	struct extent *ext;
	uint32_t *crc;
};

/* Disk blocks to free once no read that might use them is in flight. */
struct ext_free {
	struct ext_free *next;
	uint64_t seq;		/* reads with read_seq <= seq may use them */
	uint32_t n;
	struct alloc_run runs[];
};

/*
 * An object in memory.  head: its metadata with every issued (batched)
 * mutation applied; durable: what the metadata on disk says (reads use
 * it).  Either is NULL when the object does not exist there.  Mutations
 * queue in submission order from q_first; those before q_issue are in
 * metadata batches, the rest wait their turn.  The obj is freed when it
 * has no version and no queued op.
 */
struct obj {
	struct store_oid oid;
	struct obj *hnext;
	struct obj_ver *head, *durable;
	struct store_op *q_first, *q_last, *q_issue;
	bool in_progress, again;	/* obj_progress() re-entry */
};

struct meta;

struct store {
	struct bs_loop *loop;
	struct disk disk;
	struct alloc alloc;
	struct meta *meta;
	uint8_t uuid[16];
	uint64_t nblocks;		/* blocks of the file */
	uint64_t data_start_blk;	/* first block of the data area */
	bool broken;			/* a metadata commit failed: -EIO */

	struct obj **buckets;
	size_t nbuckets;
	size_t nobjs;			/* in the table */

	/* reads in flight, oldest (smallest read_seq) first */
	struct store_op *reads_head, *reads_tail;
	uint64_t read_seq;
	/* superseded blocks waiting for older reads, oldest first */
	struct ext_free *free_head, **free_tail;

	uint64_t inflight;		/* ops submitted, not completed */
	uint8_t *encbuf;		/* OBJ_CHUNK_MAX_LEN bytes */

	/* the journal and acknowledgement order (store_io.c) */
	struct journal journal;
	struct jent *aq_head, *aq_tail;	/* not acknowledged, seq order */
	struct jent *jfree;		/* recycled */
	uint64_t jbusy;			/* jents not retired */
	uint64_t sub_lsn;		/* head when the last batch left */
	uint64_t committed_lsn;		/* tail of the last commit */
	struct meta_waiter jwaiter;	/* moves committed_lsn */
	uint64_t journaled, ring_full;	/* records written, ring full */
	uint64_t replayed;		/* records replayed at open */
	bool draining, jwarned;
	/* ops waiting for blocks that commits in flight will free */
	struct store_op *space_head, **space_tail;
	struct bs_task space_task;
};

/* extmap.c: pure logic on struct obj_ver and record encodings */
void ver_get(struct obj_ver *v);
void ver_put(struct obj_ver **vp);
/* A version with no extents (new object). */
struct obj_ver *ver_new_empty(uint64_t version, uint64_t size);
/*
 * The version made from @old (NULL: none) by replacing object blocks
 * [@lb0, @lb1) with @runs (sorted, inside the range; blocks not covered
 * become holes) whose crcs are @crc in run order.  The blocks of @old that
 * are dropped go to *@freed (NULL if none; caller frees).  Aborts on OOM.
 */
struct obj_ver *ver_apply(const struct obj_ver *old, uint32_t lb0,
			  uint32_t lb1, const struct store_run *runs,
			  unsigned nruns, const uint32_t *crc,
			  uint64_t version, uint64_t size,
			  struct ext_free **freed);
/* Index of the first extent ending after @lblk (n_ext if none). */
uint32_t ver_find(const struct obj_ver *v, uint32_t lblk);
/* Every block of @v as runs (for delete); NULL if none. */
struct ext_free *ver_all_blocks(const struct obj_ver *v);

void key_obj(const struct store_oid *oid, uint8_t *out);
void key_chunk(const struct store_oid *oid, uint32_t chunk, uint8_t *out);
void key_decode_oid(const uint8_t *key, struct store_oid *oid);
/* 'P' pool pg key; returns the length (KEY_PG_PREFIX_LEN + klen) */
size_t key_pg(uint32_t pool, uint32_t pg, const void *key, size_t klen,
	      uint8_t *out);

void rec_encode_hdr(const struct obj_ver *v, uint8_t *out);
/* Chunk @chunk of @v into @out; returns its length, 0 if it is empty. */
size_t rec_encode_chunk(const struct obj_ver *v, uint32_t chunk,
			uint8_t *out);
int rec_decode_hdr(const void *val, size_t len, uint64_t *version,
		   uint64_t *size);

/* Rebuilds an obj_ver from its header and chunk records (store open). */
struct ver_builder {
	uint64_t version, size;
	struct extent *ext;
	uint32_t *crc;
	uint32_t n_ext, n_blk, cap_ext, cap_blk;
	uint32_t next_chunk;	/* chunks must come in increasing order */
};
void builder_init(struct ver_builder *b, uint64_t version, uint64_t size);
/* -EINVAL (with a reason in @err) if the record is malformed. */
int builder_add_chunk(struct ver_builder *b, uint32_t chunk,
		      const void *val, size_t len, struct bs_error *err);
struct obj_ver *builder_finish(struct ver_builder *b);
void builder_release(struct ver_builder *b);

/* store_io.c */
struct obj *obj_lookup(struct store *s, const struct store_oid *oid);
struct obj *obj_get(struct store *s, const struct store_oid *oid);
void obj_maybe_free(struct store *s, struct obj *o);
void store_free_objects(struct store *s);
void store_free_jents(struct store *s);
/* meta.c submit hook: the journal tail and its waiter into the batch */
void store_submit_hook(void *opaque);
/*
 * Put the metadata of @oid going from @old to @nv (either NULL: no
 * object) for chunks [@c0, @c1] into the batch being filled.
 */
void meta_put_version(struct store *s, const struct store_oid *oid,
		      const struct obj_ver *old, const struct obj_ver *nv,
		      uint32_t c0, uint32_t c1);

#endif /* BS_OSD_STORE_STORE_INT_H */
