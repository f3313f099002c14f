/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OSD object store: object data on one disk (a block device or a
 * preallocated file, O_DIRECT, through the loop) and object metadata in
 * RocksDB beside it.  Writes are redirect-on-write and crash-safe: an op
 * completes only once its data and the metadata pointing at it are durable,
 * and a crash leaves every object at its old or its new version.  See
 * docs/store.md for the on-disk format and the crash-consistency argument.
 *
 * Threading: every function runs on the thread of the loop given to
 * store_open() (the OSD thread); completions run there too.  The store
 * owns one helper thread that commits metadata batches.
 */
#ifndef BS_OSD_STORE_STORE_H
#define BS_OSD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"
#include "bs/loop.h"

#define STORE_BLOCK_SIZE	4096u
#define STORE_BLOCK_SHIFT	12
/* Largest object offset + length accepted (objects are 4 MiB by default). */
#define STORE_MAX_OBJECT_SIZE	(64ull << 20)
/* Largest key and value of a per-PG blob (store_pg_put). */
#define STORE_PG_KEY_MAX	128u
#define STORE_PG_VALUE_MAX	(1u << 20)
#define STORE_OP_PG_MAX		2u	/* per-PG blobs one mutation carries */

struct store;
struct store_op;

/* An object's name; keys sort by these fields in this order. */
struct store_oid {
	uint32_t pool;
	uint32_t pg;
	uint64_t volume;
	uint64_t objnum;
};

/*
 * Fault injection for the "faulty" disk backend (tests).  Owned by the
 * caller, borrowed by the store until store_close().  Counters count every
 * data read / write the store submits (1-based); a trigger fires on the op
 * whose count equals it (0: never).  fail_* completes that I/O with -EIO
 * without doing it; flip_write writes the data with one bit flipped (a
 * silent disk corruption); flip_read flips one bit in the data read.
 * fail_sync makes every data sync fail with -EIO while set; sync_delay_ms
 * makes every data sync (on the commit thread) take that much longer.
 */
struct store_faults {
	unsigned long reads, writes;
	unsigned long fail_read, fail_write;
	unsigned long flip_read, flip_write;
	bool fail_sync;
	unsigned sync_delay_ms;
};

struct store_opts {
	const char *path;	/* data file or block device */
	const char *meta_dir;	/* NULL: the one recorded by store_mkfs() */
	const char *backend;	/* "file" (default) or "faulty" */
	struct store_faults *faults;	/* "faulty" only */
	/*
	 * Make data writes durable with O_DSYNC instead of one fdatasync
	 * per metadata batch on the commit thread (slower on most disks).
	 */
	bool dsync;
};

/* Result of store_stat(). */
struct store_obj_stat {
	uint64_t version;
	uint64_t size;		/* end of the highest byte ever written */
	uint64_t allocated;	/* bytes of disk the object holds */
};

/* One object of store_list(). */
struct store_list_entry {
	struct store_oid oid;
	uint64_t version;
	uint64_t size;
};

/* Result of store_usage(), for "basalt osd df" and benchmarks. */
struct store_usage {
	uint64_t capacity;	/* bytes of the data area */
	uint64_t used;		/* bytes allocated (including in-flight) */
	uint64_t objects;
	uint64_t commits;	/* metadata batches committed since open */
	uint64_t committed_ops;	/* ops those batches carried */
	uint64_t journaled;	/* writes acknowledged by a journal record */
	uint64_t ring_full;	/* small writes that found the ring full */
	uint64_t replayed;	/* journal records replayed at open */
};

typedef void store_op_fn(struct store_op *op, int res);

/* Where an op is in its state machine (see store_io.c). */
enum store_op_state {
	STORE_OP_IDLE = 0,
	STORE_OP_WAIT_DEPS,	/* behind an earlier op on an edge block */
	STORE_OP_RMW_READ,	/* reading the edge blocks */
	STORE_OP_DATA_WRITE,	/* writing the new blocks */
	STORE_OP_WAIT_SPACE,	/* disk full until commits free blocks */
	STORE_OP_WAIT_TURN,	/* data written, earlier ops not committed */
	STORE_OP_COMMIT,	/* metadata in a batch */
	STORE_OP_READ,		/* read: data in flight */
	STORE_OP_DONE,
};

/* One disk I/O of an op; private to the store. */
struct store_io {
	struct bs_op op;
	struct store_op *parent;
	struct iovec iov;
};

/* A new block run of a mutating op; private to the store. */
struct store_run {
	uint32_t lblk;		/* first object block */
	uint32_t nblk;
	uint64_t pblk;		/* first disk block */
};

struct obj;
struct obj_ver;
struct ext_free;
struct jent;

/* Generic metadata-batch waiter; private to the store. */
struct meta_waiter {
	void (*fn)(struct meta_waiter *w, int res);
	struct meta_waiter *next;
};

#define STORE_OP_INLINE_IO	2
#define STORE_OP_INLINE_CRC	16

/*
 * An asynchronous store request, embedded in its owner (found again with
 * container_of()) and zero-initialized before its first use.  Set @fn,
 * call one of the submit functions below; @fn
 * runs exactly once, on the loop thread and never from inside the submit
 * call, with res 0 or a negative errno.  The op and the buffers it borrows
 * must stay alive and untouched until then; one op serves one request at a
 * time.  Everything below @fn is private to the store, except the results
 * named in each function's comment.
 */
struct store_op {
	store_op_fn *fn;

	/* results */
	uint64_t version;	/* read: the version read */
	uint64_t bad_offset;	/* -EBADMSG: object offset of the bad block */

	/* private: the request */
	unsigned type;
	struct store_oid oid;
	uint64_t off, len;
	const void *wbuf;
	void *rbuf;
	/* optional per-PG blobs committed in the same batch */
	struct store_pg_blob {
		const void *key, *val;
		uint32_t klen, vlen;
		uint32_t pool, pg;
	} pg_blob[STORE_OP_PG_MAX];
	unsigned n_pg;

	/* private: state */
	enum store_op_state state;
	struct store *store;
	struct obj *obj;
	struct store_op *qprev, *qnext;	/* the object's op queue */
	int res;
	unsigned pending;		/* disk I/Os in flight */
	struct bs_task task;		/* deferred completion */
	struct meta_waiter waiter;

	uint32_t lb0, lb1;		/* blocks [lb0, lb1) */
	uint8_t *bounce;		/* aligned buffer, or NULL */
	uint8_t *data;			/* block lb0: bounce or wbuf */
	unsigned nruns;
	struct store_run *runs, runs_inline[2];
	uint32_t *crc, crc_inline[STORE_OP_INLINE_CRC];
	unsigned nio;
	struct store_io *io, io_inline[STORE_OP_INLINE_IO];
	uint32_t edge_lblk[2];		/* edge blocks to merge into */
	uint32_t edge_crc[2];		/* their crcs before the op */
	uint64_t edge_pblk[2];		/* 0: a hole */
	unsigned nedge;
	struct obj_ver *ver;		/* read: the version read */
	struct obj_ver *newver;		/* the version it commits */
	struct ext_free *to_free;	/* blocks it supersedes */
	uint64_t read_seq;		/* reads: the in-flight read list */
	struct store_op *rprev, *rnext;
	bool need_sync;
	bool early;			/* data written once in a batch */
	struct jent *jent;		/* in a batch: its sequence entry */
	struct store_op *wnext;		/* WAIT_SPACE list */
};

/*
 * Create the data file @path of @size bytes (or format the block device
 * @path; @size 0 means all of it), and a new RocksDB in @meta_dir (NULL:
 * "@path.meta").  Refuses existing non-empty files and existing metadata.
 * Synchronous.  Returns 0 or -errno with a message in @err.
 */
int store_mkfs(const char *path, const char *meta_dir, uint64_t size,
	       struct bs_error *err);
/*
 * store_mkfs() with a journal ring of @journal_size bytes (rounded up to
 * a MiB; 0: size / 64 rounded down to a MiB, at most 32 MiB, or the
 * 1020 KiB before the data area for stores below 64 MiB).
 */
int store_mkfs_journal(const char *path, const char *meta_dir, uint64_t size,
		       uint64_t journal_size, struct bs_error *err);
/*
 * store_mkfs_journal(); with @zero_data, a regular file's data area is
 * written with zeroes too (its journal ring always is): ext4 allocates a
 * file as unwritten extents, and the first write to each block then costs
 * an extent conversion whose metadata the next O_DSYNC journal write must
 * write synchronously.
 */
int store_mkfs_zero(const char *path, const char *meta_dir, uint64_t size,
		    uint64_t journal_size, bool zero_data,
		    struct bs_error *err);

/*
 * Open a store made by store_mkfs() for use from @loop's thread: checks the
 * superblock and its pairing with the metadata, loads every object's
 * metadata into memory and rebuilds the free-space map from it.
 * Synchronous.  Returns 0 and sets *out, or -errno with a message.
 */
int store_open(struct store **out, struct bs_loop *loop,
	       const struct store_opts *opts, struct bs_error *err);

/*
 * Close the store.  Every op must have completed, and the call must not
 * come from inside a store callback (the loop still unwinds it).
 * Everything acknowledged is already durable; this only releases
 * resources.  *sp is set to NULL.
 */
void store_close(struct store **sp);

/*
 * Read @len bytes at @off of object @oid into @buf (borrowed until @op
 * completes).  Never-written ranges read as zeros; every block is checked
 * against its crc32c.  Sees every op that completed before the call.
 * res: 0 and op->version set; -ENOENT if the object does not exist (@buf is
 * zero-filled all the same); -EBADMSG on a checksum mismatch (logged,
 * op->bad_offset set, @buf zero-filled); -EIO, -EINVAL.
 */
void store_read(struct store *s, struct store_op *op,
		const struct store_oid *oid, uint64_t off, uint64_t len,
		void *buf);

/*
 * Write @len bytes of @buf (borrowed until @op completes) at @off of @oid,
 * creating it if needed, and set its version to @version.  Mutations of
 * one object take effect in submission order.  res 0 means durable.
 * Errors: -EINVAL (range), -ENOSPC, -EIO, -EBADMSG (an edge block read for
 * read-modify-write failed its crc).  A failed op leaves the object as it
 * was.
 */
void store_write(struct store *s, struct store_op *op,
		 const struct store_oid *oid, uint64_t off, uint64_t len,
		 const void *buf, uint64_t version);

/*
 * Make [@off, @off + @len) of @oid read as zeros and free its blocks, and
 * set the version.  write_zeroes also extends the object's size to cover
 * the range; discard leaves the size alone.  Ordering and errors as for
 * store_write().
 */
void store_write_zeroes(struct store *s, struct store_op *op,
			const struct store_oid *oid, uint64_t off,
			uint64_t len, uint64_t version);
void store_discard(struct store *s, struct store_op *op,
		   const struct store_oid *oid, uint64_t off, uint64_t len,
		   uint64_t version);

/* Delete @oid and free its blocks; -ENOENT if it does not exist. */
void store_delete(struct store *s, struct store_op *op,
		  const struct store_oid *oid);

/*
 * Attach a per-PG blob put to a mutation before submitting it: the blob
 * (pool @pool, pg @pg, @key -> @val, or a delete of @key if @val is NULL)
 * is committed in the same metadata batch as the op's object metadata,
 * atomically (a PG log entry).  Both buffers are borrowed until @op
 * completes.  Up to STORE_OP_PG_MAX blobs, applied in order (more make the
 * op fail with -EINVAL); the next store_write()/..._zeroes()/discard()/
 * delete() uses them.
 */
void store_op_attach_pg(struct store_op *op, uint32_t pool, uint32_t pg,
			const void *key, size_t klen, const void *val,
			size_t vlen);

/*
 * Per-PG blobs (PG log, PG metadata): put @val under @key in PG
 * @pool.@pg, or delete it (@val NULL).  Committed in the next metadata
 * batch; buffers borrowed until @op completes.  res 0 means durable.
 */
void store_pg_put(struct store *s, struct store_op *op, uint32_t pool,
		  uint32_t pg, const void *key, size_t klen, const void *val,
		  size_t vlen);

/*
 * Read a per-PG blob.  Blocks on RocksDB: for peering and start-up, not for
 * the I/O path.  Sees only committed puts.  On success *val is malloc'ed
 * (caller frees) and *vlen set; -ENOENT if absent.
 */
int store_pg_get(struct store *s, uint32_t pool, uint32_t pg,
		 const void *key, size_t klen, void **val, size_t *vlen);

/*
 * Call @fn for every blob of PG @pool.@pg in key order (blocking, like
 * store_pg_get).  Stops early and returns what @fn returns if non-zero.
 */
typedef int store_pg_iter_fn(void *opaque, const void *key, size_t klen,
			     const void *val, size_t vlen);
int store_pg_iterate(struct store *s, uint32_t pool, uint32_t pg,
		     store_pg_iter_fn *fn, void *opaque);

/* Durable state of @oid from memory; -ENOENT if it does not exist. */
int store_stat(struct store *s, const struct store_oid *oid,
	       struct store_obj_stat *out);

/*
 * List the objects of PG @pool.@pg (durable state), sorted by oid.  Sets
 * *out (malloc'ed, caller frees; NULL when empty) and *n.  Scans every
 * object in memory: for peering, not for the I/O path.
 */
int store_list(struct store *s, uint32_t pool, uint32_t pg,
	       struct store_list_entry **out, size_t *n);

void store_usage(struct store *s, struct store_usage *out);

/*
 * Are acknowledged ops still waiting for their metadata commit (so that
 * the blocks they superseded are not free yet)?  Tests and benchmarks.
 */
bool store_busy(const struct store *s);

/* Compare two oids in key order (<0, 0, >0). */
int store_oid_cmp(const struct store_oid *a, const struct store_oid *b);

/*
 * Allocated ranges of @oid within [@off, @off + @len) in its durable state
 * (extents.c): fills @ranges with up to @max (offset, length) byte pairs,
 * sorted, merged, clipped to the window, and sets *n.  Block granular: a
 * partly written block counts whole (clipped to the window).  Returns 0;
 * -ENOENT if the object does not exist; -E2BIG when more than @max ranges
 * exist (the first @max are filled); -EINVAL for a bad window.  From
 * memory, no I/O; @max = @len / 8192 + 2 always suffices.
 */
int store_extents(struct store *s, const struct store_oid *oid, uint64_t off,
		  uint64_t len, uint64_t (*ranges)[2], size_t max, size_t *n);

/* ---- per-PG helpers (store_pg.c), added for peering ---- */

/* Objects and logical bytes of one PG (store_pg_stats, store_blob_pgs). */
struct store_pg_stat {
	uint32_t pool, pg;
	uint64_t objects;
	uint64_t bytes;		/* sum of object sizes */
	uint64_t allocated;	/* bytes of disk they hold */
};

/*
 * Every PG holding at least one object, with counts, sorted by pool and
 * PG, in one pass over the in-memory metadata (no I/O).  *out is
 * malloc'ed (caller frees; NULL when empty).  Returns 0.
 */
int store_pg_stats(struct store *s, struct store_pg_stat **out, size_t *n);

/*
 * Every PG that keeps a per-PG blob whose key starts with byte @key0
 * (counts zero), sorted.  Blocks on RocksDB (start-up only).  Returns 0
 * or -EIO; *out as for store_pg_stats().
 */
int store_blob_pgs(struct store *s, uint8_t key0, struct store_pg_stat **out,
		   size_t *n);

/* One blob of store_pg_put_many(): @val NULL deletes @key. */
struct store_pg_kv {
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
};

/*
 * Put (or delete) @n >= 1 blobs of PG @pool.@pg, all in one metadata
 * batch, atomically; @op completes when they are durable (res as for
 * store_pg_put()).  The bytes are copied during the call.
 */
void store_pg_put_many(struct store *s, struct store_op *op, uint32_t pool,
		       uint32_t pg, const struct store_pg_kv *kv, size_t n);

/*
 * Where byte @off of object @oid (durable state) lives in the data file:
 * sets *st and *disk_off.  -ENOENT: no such object; -ENODATA: the block is
 * a hole (*st set); -EINVAL: @off beyond any object.  Debugging and tests.
 */
int store_locate(struct store *s, const struct store_oid *oid, uint64_t off,
		 struct store_obj_stat *st, uint64_t *disk_off);

#endif /* BS_OSD_STORE_STORE_H */
