// SPDX-License-Identifier: Apache-2.0
/*
 * The journal ring of the object store: space accounting, the record and
 * tail codecs, and replay at open.  The write side (records written and
 * acknowledged in sequence order, ring space released by metadata
 * commits) lives in store_io.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs/frame.h"
#include "bs/log.h"
#include "journal.h"
#include "meta.h"
#include "store_int.h"

#define BS	STORE_BLOCK_SIZE

uint64_t journal_fit(const struct journal *j, uint64_t lsn, uint32_t len)
{
	uint64_t pos = lsn % j->size;

	if (pos + len > j->size)
		return lsn + (j->size - pos);
	return lsn;
}

int journal_reserve(struct journal *j, uint32_t len, uint64_t *lsn)
{
	uint64_t start = journal_fit(j, j->head, len);

	if (start + len - j->tail > j->size)
		return -EAGAIN;
	*lsn = start;
	j->head = start + len;
	return 0;
}

void jrec_seal(struct jrec_hdr *h)
{
	h->hcrc = bs_crc32c(0, h, offsetof(struct jrec_hdr, hcrc));
}

bool jrec_valid(const struct jrec_hdr *h, const uint8_t *uuid, uint64_t seq,
		uint64_t gen, uint64_t ring_left)
{
	uint64_t lb0, lb1;

	if (h->magic != JREC_MAGIC || h->type != JREC_WRITE ||
	    memcmp(h->uuid, uuid, sizeof(h->uuid)) || h->seq != seq ||
	    h->gen < gen ||
	    h->hcrc != bs_crc32c(0, h, offsetof(struct jrec_hdr, hcrc)))
		return false;
	if (!h->len || h->off >= STORE_MAX_OBJECT_SIZE ||
	    h->len > STORE_MAX_OBJECT_SIZE - h->off)
		return false;
	lb0 = h->off / BS;
	lb1 = (h->off + h->len + BS - 1) / BS;
	return h->nblk == lb1 - lb0 && h->nblk <= JOURNAL_MAX_BLOCKS &&
	       (1ull + h->nblk) * BS <= ring_left;
}

void jtail_encode(const struct journal *j, uint8_t *out)
{
	uint32_t magic = JTAIL_MAGIC, zero = 0;

	memcpy(out, &magic, 4);
	memcpy(out + 4, &zero, 4);
	memcpy(out + 8, &j->next_seq, 8);
	memcpy(out + 16, &j->head, 8);
	memcpy(out + 24, &j->gen, 8);
}

int jtail_decode(struct journal *j, const void *val, size_t len)
{
	const uint8_t *p = val;
	uint32_t magic;

	if (len != JTAIL_LEN)
		return -EINVAL;
	memcpy(&magic, p, 4);
	if (magic != JTAIL_MAGIC)
		return -EINVAL;
	memcpy(&j->next_seq, p + 8, 8);
	memcpy(&j->head, p + 16, 8);
	memcpy(&j->gen, p + 24, 8);
	j->tail = j->head;
	return 0;
}

/* replay */

struct replay {
	struct store *s;
	struct jrec_hdr *hdr;		/* one aligned block */
	uint8_t *data;			/* JOURNAL_MAX_BLOCKS blocks */
	struct ext_free *freed;		/* to free once committed */
	uint64_t applied;
};

/*
 * Read the record expected at @lsn, or at the start of the next lap (where
 * the writer puts a record that does not fit before the ring's end), and
 * check it whole.  False at the end of the journal: no record with the
 * expected sequence number, or a torn one.
 */
static bool replay_read(struct replay *r, uint64_t *lsn, uint64_t mingen)
{
	struct store *s = r->s;
	struct journal *j = &s->journal;
	uint64_t at[2] = { *lsn, *lsn + (j->size - *lsn % j->size) };
	unsigned t, k, ntry = *lsn % j->size ? 2 : 1;

	for (t = 0; t < ntry; t++) {
		uint64_t pos = at[t] % j->size;
		uint64_t foff = journal_file_off(j, at[t]);
		size_t dlen;

		if (pread(s->disk.fd, r->hdr, BS, (off_t)foff) != BS ||
		    !jrec_valid(r->hdr, s->uuid, j->next_seq, mingen,
				j->size - pos))
			continue;
		dlen = (size_t)r->hdr->nblk * BS;
		if (pread(s->disk.fd, r->data, dlen, (off_t)(foff + BS)) !=
		    (ssize_t)dlen)
			return false;
		for (k = 0; k < r->hdr->nblk; k++)
			if (bs_crc32c(0, r->data + (size_t)k * BS, BS) !=
			    r->hdr->crc[k])
				return false;	/* torn: the end */
		*lsn = at[t];
		return true;
	}
	return false;
}

static void freed_add(struct replay *r, struct ext_free *fr)
{
	if (!fr)
		return;
	fr->next = r->freed;
	r->freed = fr;
}

/* Apply the record in r->hdr / r->data: fresh blocks, new version. */
static int replay_apply(struct replay *r, struct bs_error *err)
{
	struct store *s = r->s;
	const struct jrec_hdr *h = r->hdr;
	struct store_oid oid = { .pool = h->pool, .pg = h->pg,
				 .volume = h->volume, .objnum = h->objnum };
	struct alloc_run ar[JOURNAL_MAX_BLOCKS];
	struct store_run runs[JOURNAL_MAX_BLOCKS];
	uint32_t lb0 = (uint32_t)(h->off / BS), lblk = lb0;
	struct obj_ver *old, *nv;
	struct ext_free *fr = NULL;
	struct obj *o;
	int n, k;

	n = alloc_get(&s->alloc, h->nblk, ar, JOURNAL_MAX_BLOCKS);
	if (n < 0)
		return bs_error_set(err, n, "journal replay: no space for "
				    "record %" PRIu64, h->seq);
	for (k = 0; k < n; k++) {
		size_t len = (size_t)ar[k].nblk * BS;

		runs[k].lblk = lblk;
		runs[k].nblk = (uint32_t)ar[k].nblk;
		runs[k].pblk = ar[k].pblk;
		if (pwrite(s->disk.fd, r->data + (size_t)(lblk - lb0) * BS,
			   len, (off_t)(ar[k].pblk * BS)) != (ssize_t)len)
			return bs_error_errno(err, -EIO, "journal replay: "
					      "cannot write record %" PRIu64,
					      h->seq);
		lblk += runs[k].nblk;
	}
	o = obj_get(s, &oid);
	old = o->head;
	nv = ver_apply(old, lb0, lb0 + h->nblk, runs, (unsigned)n, h->crc,
		       h->version,
		       BS_MAX(old ? old->size : 0, h->off + h->len), &fr);
	meta_put_version(s, &oid, old, nv, lb0 / CHUNK_BLOCKS,
			 (lb0 + h->nblk - 1) / CHUNK_BLOCKS);
	freed_add(r, fr);
	ver_put(&o->durable);
	ver_put(&o->head);
	o->head = nv;
	o->durable = nv;
	ver_get(nv);
	r->applied++;
	return 0;
}

int journal_replay(struct store *s, struct bs_error *err)
{
	struct journal *j = &s->journal;
	struct replay r = { .s = s };
	uint8_t key = KEY_JOURNAL, tail[JTAIL_LEN];
	uint64_t lsn, mingen;
	size_t vlen;
	void *val;
	int ret;

	ret = meta_get(s->meta, &key, 1, &val, &vlen);
	if (ret == 0) {
		ret = jtail_decode(j, val, vlen);
		free(val);
		if (ret < 0)
			return bs_error_set(err, -EUCLEAN, "the journal tail "
					    "record is corrupt");
	} else if (ret == -ENOENT) {
		j->next_seq = 1;
		j->head = j->tail = 0;
		j->gen = 0;
	} else {
		return bs_error_set(err, ret, "cannot read the journal tail");
	}
	mingen = j->gen;
	lsn = j->head;
	if (journal_enabled(j)) {
		if (posix_memalign((void **)&r.hdr, BS, BS) ||
		    posix_memalign((void **)&r.data, BS,
				   (size_t)JOURNAL_MAX_BLOCKS * BS))
			abort();
		while (replay_read(&r, &lsn, mingen)) {
			mingen = r.hdr->gen;
			ret = replay_apply(&r, err);
			if (ret < 0)
				goto out;
			lsn += (1ull + r.hdr->nblk) * BS;
			j->next_seq++;
		}
	}
	/* the records are durable at home before the tail moves past them */
	if (r.applied && disk_sync(&s->disk) < 0) {
		ret = bs_error_errno(err, -EIO, "journal replay: data sync "
				     "failed");
		goto out;
	}
	j->head = j->tail = lsn;
	j->gen++;
	jtail_encode(j, tail);
	meta_put(s->meta, &key, 1, tail, sizeof(tail));
	ret = meta_commit_now(s->meta, err);
	if (ret < 0)
		goto out;
	s->replayed = r.applied;
	if (r.applied)
		bs_notice("store: replayed %" PRIu64 " journal records",
			  r.applied);
	while (r.freed) {
		struct ext_free *fr = r.freed;
		uint32_t i;

		r.freed = fr->next;
		for (i = 0; i < fr->n; i++)
			alloc_put(&s->alloc, fr->runs[i].pblk,
				  fr->runs[i].nblk);
		free(fr);
	}
out:
	while (r.freed) {
		struct ext_free *fr = r.freed;

		r.freed = fr->next;
		free(fr);
	}
	free(r.hdr);
	free(r.data);
	return ret;
}
