// SPDX-License-Identifier: Apache-2.0
/*
 * Object store life cycle and queries: store_mkfs() (superblock + a new
 * RocksDB paired by uuid), store_open() (checks, loads every object's
 * metadata into memory, rebuilds free space from it), store_close(), and
 * the synchronous queries stat/list/usage and per-PG blob reads.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bs/frame.h"
#include "bs/log.h"
#include "meta.h"
#include "store_int.h"

#define BS	STORE_BLOCK_SIZE
/* Smallest data file store_mkfs() accepts. */
#define STORE_MIN_SIZE	(16ull << 20)

static void super_crc(struct store_super *sb)
{
	sb->crc = bs_crc32c(0, sb, offsetof(struct store_super, crc));
}

/* "@path.meta", or @meta_dir made absolute; caller frees. */
static char *meta_path(const char *path, const char *meta_dir)
{
	char cwd[PATH_MAX], *out;
	const char *base = meta_dir ? meta_dir : path;
	const char *suffix = meta_dir ? "" : ".meta";

	if (base[0] == '/' || !getcwd(cwd, sizeof(cwd))) {
		if (asprintf(&out, "%s%s", base, suffix) < 0)
			abort();
	} else if (asprintf(&out, "%s/%s%s", cwd, base, suffix) < 0) {
		abort();
	}
	return out;
}

static void ident_encode(const uint8_t *uuid, uint8_t *out)
{
	uint32_t magic = META_IDENT_MAGIC, format = STORE_FORMAT;

	memcpy(out, &magic, 4);
	memcpy(out + 4, &format, 4);
	memcpy(out + 8, uuid, 16);
}

int store_mkfs(const char *path, const char *meta_dir, uint64_t size,
	       struct bs_error *err)
{
	return store_mkfs_journal(path, meta_dir, size, 0, err);
}

/* Where the journal goes in a store of @size bytes; false: too big. */
static bool journal_layout(struct store_super *sb, uint64_t size,
			   uint64_t jsize)
{
	const uint64_t mib = 1ull << 20;

	if (!jsize)
		jsize = BS_MIN(size / 64 / mib * mib, STORE_JOURNAL_AUTO_MAX);
	else
		jsize = (jsize + mib - 1) / mib * mib;
	if (jsize < mib) {
		sb->journal_off = STORE_LEGACY_JOFF;
		sb->journal_size = STORE_DATA_START - STORE_LEGACY_JOFF;
		sb->data_start = STORE_DATA_START;
		return true;
	}
	sb->journal_off = mib;
	sb->journal_size = jsize;
	sb->data_start = mib + jsize;
	return sb->data_start + STORE_MIN_SIZE / 2 <= size;
}

int store_mkfs_journal(const char *path, const char *meta_dir, uint64_t size,
		       uint64_t journal_size, struct bs_error *err)
{
	return store_mkfs_zero(path, meta_dir, size, journal_size, false, err);
}

/* Write zeroes over [@off, @end) of @fd: make the blocks written extents. */
static int zero_fill(int fd, uint64_t off, uint64_t end)
{
	const size_t chunk = 4u << 20;
	void *buf = bs_xcalloc(1, chunk);
	int ret = 0;

	while (off < end) {
		size_t n = (size_t)BS_MIN((uint64_t)chunk, end - off);
		ssize_t w = pwrite(fd, buf, n, (off_t)off);

		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			break;
		}
		off += (uint64_t)w;
	}
	free(buf);
	return ret;
}

int store_mkfs_zero(const char *path, const char *meta_dir, uint64_t size,
		    uint64_t journal_size, bool zero_data,
		    struct bs_error *err)
{
	struct store_super *sb = NULL;
	struct meta *m = NULL;
	uint8_t ident[META_IDENT_LEN], key = KEY_IDENT;
	char *mdir = meta_path(path, meta_dir);
	uint64_t dev_size;
	bool created = false;
	struct stat st;
	int fd, ret;

	if (strlen(mdir) >= STORE_META_DIR_MAX) {
		ret = bs_error_set(err, -ENAMETOOLONG,
				   "metadata path '%s' is too long", mdir);
		goto out_free;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd != -1)
		created = true;
	else if (errno == EEXIST)
		fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd == -1) {
		ret = bs_error_errno(err, -errno, "cannot create '%s'", path);
		goto out_free;
	}
	if (fstat(fd, &st) == -1) {
		ret = bs_error_errno(err, -errno, "cannot stat '%s'", path);
		goto out_close;
	}
	if (S_ISBLK(st.st_mode)) {
		ret = disk_fd_size(fd, &dev_size);
		if (ret < 0) {
			bs_error_errno(err, ret, "cannot size '%s'", path);
			goto out_close;
		}
		if (!size || size > dev_size)
			size = dev_size;
		sb = bs_xcalloc(1, sizeof(*sb));
		if (pread(fd, sb, sizeof(*sb), 0) == (ssize_t)sizeof(*sb) &&
		    !memcmp(sb->magic, STORE_MAGIC, sizeof(sb->magic))) {
			ret = bs_error_set(err, -EEXIST,
					   "'%s' already holds a basalt store; "
					   "wipe its first block first", path);
			goto out_close;
		}
	} else if (!S_ISREG(st.st_mode)) {
		ret = bs_error_set(err, -EINVAL,
				   "'%s' is neither a file nor a block device",
				   path);
		goto out_close;
	} else if (st.st_size != 0) {
		ret = bs_error_set(err, -EEXIST,
				   "'%s' already exists and is not empty; "
				   "remove it first", path);
		goto out_close;
	}
	size = BS_ALIGN_DOWN(size, BS);
	if (size < STORE_MIN_SIZE) {
		ret = bs_error_set(err, -EINVAL, "store size %" PRIu64
				   " is below the minimum of %llu bytes", size,
				   STORE_MIN_SIZE);
		goto out_close;
	}
	if (S_ISREG(st.st_mode)) {
		ret = posix_fallocate(fd, 0, (off_t)size);
		if (ret) {
			bs_error_errno(err, -ret, "cannot allocate %" PRIu64
				       " bytes for '%s'", size, path);
			ret = -ret;
			goto out_close;
		}
	}

	if (!sb)
		sb = bs_xcalloc(1, sizeof(*sb));
	memset(sb, 0, sizeof(*sb));
	memcpy(sb->magic, STORE_MAGIC, sizeof(sb->magic));
	sb->format = STORE_FORMAT;
	sb->block_size = BS;
	if (getrandom(sb->uuid, sizeof(sb->uuid), 0) != sizeof(sb->uuid)) {
		ret = bs_error_errno(err, -EIO, "cannot get a random uuid");
		goto out_close;
	}
	sb->size = size;
	if (!journal_layout(sb, size, journal_size)) {
		ret = bs_error_set(err, -EINVAL, "a journal of %" PRIu64
				   " bytes leaves too little of the %" PRIu64
				   " bytes of '%s' for data", journal_size,
				   size, path);
		goto out_close;
	}
	sb->nblocks = size / BS;
	sb->meta_len = (uint32_t)strlen(mdir);
	memcpy(sb->meta_dir, mdir, sb->meta_len);
	super_crc(sb);

	/* metadata first: the superblock is what makes the store valid */
	ret = meta_open(&m, mdir, true, NULL, NULL, err);
	if (ret < 0)
		goto out_close;
	ident_encode(sb->uuid, ident);
	ret = meta_put_sync(m, &key, 1, ident, sizeof(ident), err);
	meta_close(&m);
	if (ret < 0)
		goto out_close;
	if (S_ISREG(st.st_mode)) {
		/* the ring takes O_DSYNC writes from the first lap on */
		ret = zero_fill(fd, sb->journal_off,
				zero_data ? size :
					    sb->journal_off + sb->journal_size);
		if (ret < 0) {
			bs_error_errno(err, ret, "cannot zero '%s'", path);
			goto out_close;
		}
	}
	if (pwrite(fd, sb, sizeof(*sb), 0) != (ssize_t)sizeof(*sb) ||
	    fsync(fd) == -1) {
		ret = bs_error_errno(err, -errno ? -errno : -EIO,
				     "cannot write the superblock of '%s'",
				     path);
		goto out_close;
	}
	ret = 0;
out_close:
	close(fd);
	if (ret < 0 && created)
		unlink(path);
out_free:
	free(sb);
	free(mdir);
	return ret;
}

static int read_super(struct store *s, const char *path,
		      struct store_super *sb, struct bs_error *err)
{
	ssize_t n = pread(s->disk.fd, sb, sizeof(*sb), 0);

	if (n == -1)
		return bs_error_errno(err, -errno, "cannot read the "
				      "superblock of '%s'", path);
	if (n != (ssize_t)sizeof(*sb) ||
	    memcmp(sb->magic, STORE_MAGIC, sizeof(sb->magic)))
		return bs_error_set(err, -EINVAL, "'%s' is not a basalt "
				    "store (no superblock); run mkfs first",
				    path);
	if (sb->crc != bs_crc32c(0, sb, offsetof(struct store_super, crc)))
		return bs_error_set(err, -EINVAL, "superblock of '%s' is "
				    "corrupt (crc mismatch)", path);
	if ((sb->format != STORE_FORMAT && sb->format != 1) ||
	    sb->block_size != BS)
		return bs_error_set(err, -EINVAL, "'%s' has format %" PRIu32
				    " and block size %" PRIu32 "; this "
				    "build reads format %u, block size %u",
				    path, sb->format, sb->block_size,
				    STORE_FORMAT, BS);
	if (sb->format == 1) {
		/* its reserved area becomes the journal */
		sb->journal_off = STORE_LEGACY_JOFF;
		sb->journal_size = STORE_DATA_START - STORE_LEGACY_JOFF;
		if (sb->data_start != STORE_DATA_START)
			sb->data_start = 0;	/* refused below */
	}
	if (sb->size > s->disk.size || sb->nblocks != sb->size / BS ||
	    sb->data_start % (1u << 20) || !sb->data_start ||
	    sb->journal_off % BS || sb->journal_size % BS ||
	    sb->journal_off < BS ||
	    sb->journal_off + sb->journal_size > sb->data_start ||
	    sb->data_start >= sb->size || sb->meta_len >= STORE_META_DIR_MAX)
		return bs_error_set(err, -EINVAL, "superblock of '%s' is "
				    "inconsistent (size %" PRIu64 ", file "
				    "size %" PRIu64 ")", path, sb->size,
				    s->disk.size);
	sb->meta_dir[sb->meta_len] = '\0';
	return 0;
}

/* Loading object metadata from RocksDB at open. */
struct loader {
	struct store *s;
	struct bs_error *err;
	bool have;		/* an object is being built */
	struct store_oid oid;
	struct ver_builder b;
	uint64_t objects;
};

static int load_corrupt(struct loader *l, const struct store_oid *oid,
			const char *what)
{
	return bs_error_set(l->err, -EUCLEAN, "metadata of object %" PRIu32
			    ".%" PRIx32 "/%" PRIx64 ".%" PRIx64
			    " is corrupt: %s", oid->pool, oid->pg,
			    oid->volume, oid->objnum, what);
}

static int load_finish(struct loader *l)
{
	struct store *s = l->s;
	struct obj_ver *v;
	struct obj *o;
	uint32_t i;
	int ret;

	if (!l->have)
		return 0;
	l->have = false;
	v = builder_finish(&l->b);
	builder_release(&l->b);
	for (i = 0; i < v->n_ext; i++) {
		const struct extent *e = &v->ext[i];

		ret = e->pblk < s->data_start_blk ? -ERANGE :
			alloc_mark_used(&s->alloc, e->pblk, e->nblk);
		if (ret < 0) {
			ver_put(&v);
			return load_corrupt(l, &l->oid, ret == -EEXIST ?
					    "blocks shared with another object" :
					    "blocks outside the data area");
		}
	}
	o = obj_get(s, &l->oid);
	o->head = v;
	o->durable = v;
	ver_get(v);
	l->objects++;
	return 0;
}

static int load_one(void *opaque, const uint8_t *key, size_t klen,
		    const uint8_t *val, size_t vlen)
{
	struct loader *l = opaque;
	struct store_oid oid;
	uint64_t version, size;
	uint32_t chunk;
	int ret;

	if (klen != KEY_OBJ_LEN && klen != KEY_CHUNK_LEN)
		return bs_error_set(l->err, -EUCLEAN, "metadata holds an "
				    "object key of %zu bytes", klen);
	key_decode_oid(key, &oid);
	if (klen == KEY_OBJ_LEN) {
		ret = load_finish(l);
		if (ret < 0)
			return ret;
		if (rec_decode_hdr(val, vlen, &version, &size) < 0)
			return load_corrupt(l, &oid, "bad header record");
		l->oid = oid;
		l->have = true;
		builder_init(&l->b, version, size);
		return 0;
	}
	if (!l->have || store_oid_cmp(&oid, &l->oid))
		return load_corrupt(l, &oid, "extents without a header");
	memcpy(&chunk, key + KEY_OBJ_LEN, 4);
	chunk = be32toh(chunk);
	ret = builder_add_chunk(&l->b, chunk, val, vlen, l->err);
	if (ret < 0) {
		bs_error_prefix(l->err, "metadata of object %" PRIu32 ".%"
				PRIx32 "/%" PRIx64 ".%" PRIx64 " is corrupt",
				oid.pool, oid.pg, oid.volume, oid.objnum);
		return -EUCLEAN;
	}
	return 0;
}

static int load_objects(struct store *s, struct bs_error *err)
{
	struct loader l = { .s = s, .err = err };
	uint8_t lo = KEY_OBJ, hi = KEY_OBJ + 1;
	int ret;

	ret = meta_iterate(s->meta, &lo, 1, &hi, 1, load_one, &l);
	if (ret == 0)
		ret = load_finish(&l);
	if (l.have)
		builder_release(&l.b);
	if (ret == -EIO && !err->code)
		bs_error_set(err, ret, "cannot read the metadata");
	if (ret == 0)
		bs_info("store: loaded %" PRIu64 " objects", l.objects);
	return ret;
}

/*
 * A format 1 store now has a journal in its reserved area: mark it format
 * 2 so that older builds, which would ignore the journal, refuse it.
 */
static int upgrade_super(struct store *s, const char *path,
			 struct store_super *sb, struct bs_error *err)
{
	sb->format = STORE_FORMAT;
	super_crc(sb);
	if (pwrite(s->disk.fd, sb, sizeof(*sb), 0) != (ssize_t)sizeof(*sb) ||
	    disk_sync(&s->disk) < 0)
		return bs_error_errno(err, -EIO, "cannot upgrade the "
				      "superblock of '%s'", path);
	bs_notice("store: '%s' upgraded to format %u (journal of %" PRIu64
		  " bytes)", path, STORE_FORMAT, sb->journal_size);
	return 0;
}

int store_open(struct store **out, struct bs_loop *loop,
	       const struct store_opts *opts, struct bs_error *err)
{
	struct store *s = bs_xcalloc(1, sizeof(*s));
	struct store_super *sb;
	struct bs_error lerr = { 0 };
	uint8_t key = KEY_IDENT, want[META_IDENT_LEN];
	const char *mdir;
	size_t vlen;
	void *val;
	int ret;

	if (!err)
		err = &lerr;
	s->loop = loop;
	s->free_tail = &s->free_head;
	if (posix_memalign((void **)&sb, BS, sizeof(*sb)))
		abort();
	ret = disk_open(&s->disk, opts->backend, loop, opts->path,
			opts->dsync, opts->faults, err);
	if (ret < 0)
		goto out_free;
	ret = read_super(s, opts->path, sb, err);
	if (ret < 0)
		goto out_close_disk;
	memcpy(s->uuid, sb->uuid, sizeof(s->uuid));
	s->nblocks = sb->nblocks;
	s->data_start_blk = sb->data_start / BS;

	mdir = opts->meta_dir ? opts->meta_dir : sb->meta_dir;
	ret = meta_open(&s->meta, mdir, false, loop, &s->disk, err);
	if (ret < 0)
		goto out_close_disk;
	ret = meta_get(s->meta, &key, 1, &val, &vlen);
	ident_encode(s->uuid, want);
	if (ret == 0) {
		/* magic and uuid; the format may be 1 (upgraded) */
		if (vlen != sizeof(want) || memcmp(val, want, 4) ||
		    memcmp((uint8_t *)val + 8, want + 8, 16))
			ret = -EINVAL;
		free(val);
	}
	if (ret < 0) {
		bs_error_set(err, ret == -EIO ? -EIO : -EINVAL,
			     "metadata '%s' does not belong to '%s' (uuid "
			     "mismatch or missing)", mdir, opts->path);
		ret = err->code;
		goto out_close_meta;
	}

	ret = alloc_init(&s->alloc, s->nblocks);
	if (ret < 0) {
		bs_error_errno(err, ret, "cannot allocate the free-space map");
		goto out_close_meta;
	}
	alloc_mark_used(&s->alloc, 0, s->data_start_blk);
	ret = load_objects(s, err);
	if (ret < 0)
		goto out_release;
	s->encbuf = bs_xmalloc(OBJ_CHUNK_MAX_LEN);
	s->journal.off = sb->journal_off;
	s->journal.size = sb->journal_size;
	ret = journal_replay(s, err);
	if (ret < 0)
		goto out_release;
	if (sb->format == 1) {
		ret = upgrade_super(s, opts->path, sb, err);
		if (ret < 0)
			goto out_release;
	}
	s->committed_lsn = s->journal.tail;
	meta_set_submit_hook(s->meta, store_submit_hook, s);
	/* journaled writes do not wait for commits: let batches grow */
	if (journal_enabled(&s->journal) && !opts->dsync)
		meta_set_pace(s->meta, STORE_COMMIT_PACE_MS);
	free(sb);
	*out = s;
	return 0;

out_release:
	free(s->encbuf);
	store_free_objects(s);
	alloc_release(&s->alloc);
out_close_meta:
	meta_close(&s->meta);
out_close_disk:
	disk_close(&s->disk);
out_free:
	free(sb);
	free(s);
	return ret;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;
	int i;

	if (!s)
		return;
	*sp = NULL;
	/* acknowledged ops may still wait for their metadata commit */
	for (i = 0; (s->jbusy || meta_busy(s->meta)) && i < 600; i++)
		bs_loop_run_once(s->loop, 100);
	if (s->inflight || meta_busy(s->meta))
		bs_err("store: closed with %" PRIu64 " ops in flight",
		       s->inflight);
	assert(!s->inflight);
	meta_close(&s->meta);
	while (s->free_head) {
		struct ext_free *fr = s->free_head;

		s->free_head = fr->next;
		free(fr);
	}
	store_free_objects(s);
	store_free_jents(s);
	alloc_release(&s->alloc);
	disk_close(&s->disk);
	free(s->encbuf);
	free(s);
}

int store_stat(struct store *s, const struct store_oid *oid,
	       struct store_obj_stat *out)
{
	struct obj *o = obj_lookup(s, oid);

	if (!o || !o->durable)
		return -ENOENT;
	out->version = o->durable->version;
	out->size = o->durable->size;
	out->allocated = (uint64_t)o->durable->n_blk * BS;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct store_list_entry *x = a, *y = b;

	return store_oid_cmp(&x->oid, &y->oid);
}

int store_list(struct store *s, uint32_t pool, uint32_t pg,
	       struct store_list_entry **out, size_t *n)
{
	struct store_list_entry *v = NULL;
	size_t i, cnt = 0, cap = 0;

	for (i = 0; i < s->nbuckets; i++) {
		struct obj *o;

		for (o = s->buckets[i]; o; o = o->hnext) {
			if (o->oid.pool != pool || o->oid.pg != pg ||
			    !o->durable)
				continue;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 64;
				v = bs_xrealloc(v, cap * sizeof(*v));
			}
			v[cnt].oid = o->oid;
			v[cnt].version = o->durable->version;
			v[cnt].size = o->durable->size;
			cnt++;
		}
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), entry_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

bool store_busy(const struct store *s)
{
	return s->jbusy || meta_busy(s->meta);
}

void store_usage(struct store *s, struct store_usage *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->capacity = (s->nblocks - s->data_start_blk) * BS;
	out->used = (s->nblocks - s->alloc.nfree - s->data_start_blk) * BS;
	for (i = 0; i < s->nbuckets; i++) {
		struct obj *o;

		for (o = s->buckets[i]; o; o = o->hnext)
			out->objects += o->durable != NULL;
	}
	meta_counters(s->meta, &out->commits, &out->committed_ops);
	/* each batch also carries the journal tail's waiter */
	out->committed_ops -= out->commits;
	out->journaled = s->journaled;
	out->ring_full = s->ring_full;
	out->replayed = s->replayed;
}

int store_pg_get(struct store *s, uint32_t pool, uint32_t pg,
		 const void *key, size_t klen, void **val, size_t *vlen)
{
	uint8_t pk[KEY_PG_PREFIX_LEN + STORE_PG_KEY_MAX];

	if (!klen || klen > STORE_PG_KEY_MAX)
		return -EINVAL;
	return meta_get(s->meta, pk, key_pg(pool, pg, key, klen, pk), val,
			vlen);
}

struct pg_iter {
	store_pg_iter_fn *fn;
	void *opaque;
};

static int pg_iter_one(void *opaque, const uint8_t *key, size_t klen,
		       const uint8_t *val, size_t vlen)
{
	struct pg_iter *it = opaque;

	if (klen <= KEY_PG_PREFIX_LEN)
		return 0;
	return it->fn(it->opaque, key + KEY_PG_PREFIX_LEN,
		      klen - KEY_PG_PREFIX_LEN, val, vlen);
}

int store_pg_iterate(struct store *s, uint32_t pool, uint32_t pg,
		     store_pg_iter_fn *fn, void *opaque)
{
	uint8_t lo[KEY_PG_PREFIX_LEN], hi[KEY_PG_PREFIX_LEN];
	struct pg_iter it = { fn, opaque };
	size_t hilen = KEY_PG_PREFIX_LEN;

	key_pg(pool, pg, NULL, 0, lo);
	if (pg != UINT32_MAX) {
		key_pg(pool, pg + 1, NULL, 0, hi);
	} else if (pool != UINT32_MAX) {
		key_pg(pool + 1, 0, NULL, 0, hi);
	} else {
		hi[0] = KEY_PG + 1;
		hilen = 1;
	}
	return meta_iterate(s->meta, lo, sizeof(lo), hi, hilen, pg_iter_one,
			    &it);
}
