/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The object store's journal: a ring in the data file that takes small
 * writes as one O_DSYNC record each (header + data), so that they are
 * durable without waiting for the metadata commit.  This header holds the
 * record and tail formats and the ring arithmetic (pure logic, no I/O);
 * journal.c also replays the ring at open.  See docs/store.md.
 */
#ifndef BS_OSD_STORE_JOURNAL_H
#define BS_OSD_STORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"
#include "store.h"

/* Writes of at most this many blocks go through the journal. */
#define JOURNAL_MAX_BLOCKS	32u
/* A record: one header block, then its data blocks. */
#define JOURNAL_MAX_RECORD	((1u + JOURNAL_MAX_BLOCKS) * STORE_BLOCK_SIZE)

/*
 * Record header: the first block of a record, little-endian, 4096 bytes.
 *
 *   off   size  field
 *     0      4  magic      'BSJR'
 *     4      4  type       1: write
 *     8     16  uuid       the store's (stale rings of another store fail)
 *    24      8  seq        consecutive over records and unjournaled ops
 *    32      8  gen        open count of the store when written
 *    40     24  oid        pool:4 pg:4 volume:8 objnum:8
 *    64      8  off        byte offset of the write in the object
 *    72      8  len        bytes written
 *    80      8  version    object version after the write
 *    88      4  nblk       data blocks following: the blocks of
 *                          [off, off + len), edges merged with old data
 *    92      4  reserved   0
 *    96    128  crc        crc32c of each data block (nblk used)
 *   224   3868  reserved   0
 *  4092      4  hcrc       crc32c of bytes 0..4091
 */
#define JREC_MAGIC		0x524a5342u
#define JREC_WRITE		1u

struct jrec_hdr {
	uint32_t magic;
	uint32_t type;
	uint8_t uuid[16];
	uint64_t seq;
	uint64_t gen;
	uint32_t pool, pg;
	uint64_t volume, objnum;
	uint64_t off, len;
	uint64_t version;
	uint32_t nblk;
	uint32_t reserved;
	uint32_t crc[JOURNAL_MAX_BLOCKS];
	uint8_t pad[3868];
	uint32_t hcrc;
};
_Static_assert(sizeof(struct jrec_hdr) == STORE_BLOCK_SIZE, "one block");
_Static_assert(offsetof(struct jrec_hdr, crc) == 96, "record header");
_Static_assert(offsetof(struct jrec_hdr, hcrc) == 4092, "record header");

/*
 * Journal tail, RocksDB key 'J', little-endian, 32 bytes, written in every
 * metadata batch: every op with a sequence number below seq is committed
 * to RocksDB; the next record, if any, starts at ring byte lsn % size;
 * valid records have gen >= gen.
 *   0  4  magic 'BSJT'   4  4  reserved 0
 *   8  8  seq           16  8  lsn        24  8  gen
 */
#define KEY_JOURNAL		'J'
#define JTAIL_MAGIC		0x544a5342u
#define JTAIL_LEN		32

/*
 * The ring: @size bytes at byte @off of the data file.  lsns are byte
 * positions that only grow; the ring byte of lsn x is x % size.  Records
 * never wrap: one that does not fit before the end starts at the next
 * lap.  Invariant: tail <= head <= tail + size.
 */
struct journal {
	uint64_t off, size;
	uint64_t head;		/* lsn of the next record */
	uint64_t tail;		/* lsn of the oldest live one */
	uint64_t next_seq;
	uint64_t gen;
};

/*
 * Reserve @len bytes for a record: sets *lsn (its start) and advances the
 * head.  -EAGAIN when the ring has no room until the tail moves.
 */
int journal_reserve(struct journal *j, uint32_t len, uint64_t *lsn);

/* Where a record of @len bytes goes if it does not fit at @lsn: the lsn. */
uint64_t journal_fit(const struct journal *j, uint64_t lsn, uint32_t len);

/* Byte offset in the data file of @lsn. */
static inline uint64_t journal_file_off(const struct journal *j,
					uint64_t lsn)
{
	return j->off + lsn % j->size;
}

/* Can the ring take records at all? */
static inline bool journal_enabled(const struct journal *j)
{
	return j->size >= 2 * JOURNAL_MAX_RECORD;
}

/* Fill the header's crc. */
void jrec_seal(struct jrec_hdr *h);
/*
 * Is @h a record of store @uuid with sequence @seq and generation at
 * least @gen, well formed, that fits @ring_left bytes?
 */
bool jrec_valid(const struct jrec_hdr *h, const uint8_t *uuid, uint64_t seq,
		uint64_t gen, uint64_t ring_left);

void jtail_encode(const struct journal *j, uint8_t *out);
/* -EINVAL if @val is not a tail record. */
int jtail_decode(struct journal *j, const void *val, size_t len);

struct store;
/*
 * Store open: read the tail from RocksDB, replay every valid record after
 * it (fresh blocks, metadata committed synchronously), start a new
 * generation.  Blocking; before any I/O on the loop.
 */
int journal_replay(struct store *s, struct bs_error *err);

#endif /* BS_OSD_STORE_JOURNAL_H */
