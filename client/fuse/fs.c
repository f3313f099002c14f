// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-fuse: the file system operations.  "/" lists the pools, "/POOL"
 * its volumes, "/POOL/NAME" is a regular file of the volume's size whose
 * read, write, fsync and fallocate (punch hole, zero range) go to
 * libbasalt's synchronous calls, from FUSE's worker threads.
 *
 * open(O_TRUNC) is ignored and truncate may only grow a volume.
 *
 * Every open file is in direct_io mode: the kernel keeps no page cache of
 * a volume, so what one opener writes the next reads (mkfs, then e2fsck,
 * then debugfs), and writes made by other clients of the cluster are
 * never hidden behind stale pages.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse.h>
#include <linux/falloc.h>

#include "basalt.h"
#include "bs/log.h"

#include "bfuse.h"

/* An open volume file; fuse_file_info->fh points to it. */
struct bfs_file {
	struct basalt_volume *vol;
	_Atomic uint64_t size;		/* last size libbasalt reported */
};

static struct bfs *get_fs(void)
{
	return fuse_get_context()->private_data;
}

static struct bfs_file *get_file(const struct fuse_file_info *fi)
{
	return (struct bfs_file *)(uintptr_t)fi->fh;
}

static void fill_common(struct stat *st, const struct bfs *fs)
{
	memset(st, 0, sizeof(*st));
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_atime = st->st_mtime = st->st_ctime = fs->mount_time;
}

static void fill_dir(struct stat *st, const struct bfs *fs)
{
	fill_common(st, fs);
	st->st_mode = S_IFDIR | 0755;
	st->st_nlink = 2;
}

static void fill_volume(struct stat *st, const struct bfs *fs,
			uint64_t size, uint64_t created_us)
{
	fill_common(st, fs);
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	if (created_us)
		st->st_ctime = (time_t)(created_us / 1000000);
}

static int bfs_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	struct bfs *fs = get_fs();
	char pool[BFS_NAME_MAX + 1], name[BFS_NAME_MAX + 1];
	struct bfs_vol_info info;
	int depth, ret;

	if (fi && fi->fh) {
		struct bfs_file *f = get_file(fi);
		struct basalt_stat bst;

		if (basalt_stat(f->vol, &bst) == 0)
			f->size = bst.size;
		fill_volume(st, fs, f->size, 0);
		return 0;
	}
	depth = bfs_split_path(path, pool, name);
	switch (depth) {
	case 0:
		fill_dir(st, fs);
		return 0;
	case 1:
		if (!bfs_dir_has_pool(&fs->dir, pool))
			return -ENOENT;
		fill_dir(st, fs);
		return 0;
	case 2:
		ret = bfs_dir_volume(&fs->dir, pool, name, &info);
		if (ret)
			return ret;
		fill_volume(st, fs, info.size, info.created_us);
		return 0;
	default:
		return depth;
	}
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
	const struct bfs *fs;
};

static int fill_one(void *opaque, const char *name,
		    const struct bfs_vol_info *info)
{
	struct fill_ctx *c = opaque;
	struct stat st;

	if (info)
		fill_volume(&st, c->fs, info->size, info->created_us);
	else
		fill_dir(&st, c->fs);
	return c->filler(c->buf, name, &st, 0, FUSE_FILL_DIR_PLUS) ? -ENOMEM
								    : 0;
}

static int bfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		       off_t off, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	struct bfs *fs = get_fs();
	char pool[BFS_NAME_MAX + 1], name[BFS_NAME_MAX + 1];
	struct fill_ctx c = { .buf = buf, .filler = filler, .fs = fs };
	int depth;

	depth = bfs_split_path(path, pool, name);
	if (depth < 0)
		return depth;
	if (depth == 2)
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	return bfs_dir_list(&fs->dir, depth ? pool : NULL, fill_one, &c);
}

static int bfs_open(const char *path, struct fuse_file_info *fi)
{
	struct bfs *fs = get_fs();
	char pool[BFS_NAME_MAX + 1], name[BFS_NAME_MAX + 1];
	char full[2 * BFS_NAME_MAX + 2];
	struct basalt_stat bst;
	struct bfs_file *f;
	int depth, ret;

	depth = bfs_split_path(path, pool, name);
	if (depth < 0)
		return depth;
	if (depth < 2)
		return -EISDIR;
	snprintf(full, sizeof(full), "%s/%s", pool, name);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	ret = basalt_open(fs->cluster, full, &f->vol);
	if (ret < 0) {
		if (ret != -ENOENT)
			bs_warn("cannot open volume '%s': %s", full,
				basalt_get_error());
		free(f);
		return ret;
	}
	ret = basalt_stat(f->vol, &bst);
	if (ret < 0) {
		bs_warn("cannot stat volume '%s': %s", full,
			basalt_get_error());
		basalt_close(f->vol);
		free(f);
		return ret;
	}
	f->size = bst.size;
	fi->fh = (uintptr_t)f;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	return 0;
}

static int bfs_release(const char *path, struct fuse_file_info *fi)
{
	struct bfs_file *f = get_file(fi);
	int ret;

	ret = basalt_close(f->vol);
	if (ret < 0)
		bs_warn("closing volume '%s': %s", path, basalt_get_error());
	free(f);
	fi->fh = 0;
	return 0;
}

/*
 * Clamp [off, off + *len) to the volume: 0 with *len cut at the end
 * (possibly to 0), after asking libbasalt again when the request reaches
 * past the size we knew (the volume may have grown).
 */
static void clamp_to_size(struct bfs_file *f, off_t off, size_t *len)
{
	struct basalt_stat bst;
	uint64_t size = f->size;

	if ((uint64_t)off + *len > size && basalt_stat(f->vol, &bst) == 0) {
		f->size = bst.size;
		size = bst.size;
	}
	if ((uint64_t)off >= size)
		*len = 0;
	else if ((uint64_t)off + *len > size)
		*len = (size_t)(size - (uint64_t)off);
}

static int bfs_read(const char *path, char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	struct bfs_file *f = get_file(fi);
	ssize_t ret;

	if (off < 0)
		return -EINVAL;
	clamp_to_size(f, off, &len);
	if (!len)
		return 0;		/* end of file */
	ret = basalt_read(f->vol, buf, len, (uint64_t)off);
	if (ret < 0)
		bs_warn("read of %zu bytes at %lld from '%s': %s", len,
			(long long)off, path, basalt_get_error());
	return (int)ret;
}

static int bfs_write(const char *path, const char *buf, size_t len,
		     off_t off, struct fuse_file_info *fi)
{
	struct bfs_file *f = get_file(fi);
	ssize_t ret;

	if (off < 0)
		return -EINVAL;
	if (!len)
		return 0;
	clamp_to_size(f, off, &len);
	if (!len)
		return -ENOSPC;		/* a volume does not grow by writing */
	ret = basalt_write(f->vol, buf, len, (uint64_t)off);
	if (ret < 0)
		bs_warn("write of %zu bytes at %lld to '%s': %s", len,
			(long long)off, path, basalt_get_error());
	return (int)ret;
}

static int bfs_fsync(const char *path, int datasync,
		     struct fuse_file_info *fi)
{
	int ret;

	ret = basalt_flush(get_file(fi)->vol);
	if (ret < 0)
		bs_warn("flush of '%s': %s", path, basalt_get_error());
	return ret;
}

/*
 * PUNCH_HOLE|KEEP_SIZE frees the range, ZERO_RANGE zeroes it and keeps it
 * allocated, plain allocation inside the volume is a no-op (volumes are
 * thin).  Nothing may grow the volume: use truncate for that.
 */
static int bfs_fallocate(const char *path, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct bfs_file *f = get_file(fi);
	size_t clamped;
	int ret;

	if (off < 0 || len <= 0)
		return -EINVAL;
	clamped = (size_t)len;
	clamp_to_size(f, off, &clamped);
	if (mode & FALLOC_FL_KEEP_SIZE) {
		len = (off_t)clamped;	/* past the end: nothing to do */
		if (!len)
			return 0;
	} else if ((off_t)clamped != len) {
		return -EOPNOTSUPP;
	}

	switch (mode & ~FALLOC_FL_KEEP_SIZE) {
	case 0:
		return 0;
	case FALLOC_FL_PUNCH_HOLE:
		if (!(mode & FALLOC_FL_KEEP_SIZE))
			return -EINVAL;	/* as Linux requires */
		ret = basalt_discard(f->vol, (uint64_t)off, (uint64_t)len);
		break;
	case FALLOC_FL_ZERO_RANGE:
		ret = basalt_write_zeroes(f->vol, (uint64_t)off,
					  (uint64_t)len, BASALT_ZERO_NO_HOLE);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (ret < 0)
		bs_warn("fallocate(0x%x) of %lld bytes at %lld in '%s': %s",
			mode, (long long)len, (long long)off, path,
			basalt_get_error());
	return ret;
}

/*
 * Grow the volume.  Shrinking is refused (-EPERM): an open(O_TRUNC) or a
 * shell's "> FILE" would otherwise drop a whole volume; use
 * "basalt volume resize --allow-shrink".
 */
static int bfs_truncate(const char *path, off_t size,
			struct fuse_file_info *fi)
{
	struct bfs *fs = get_fs();
	struct bfs_file *f = fi && fi->fh ? get_file(fi) : NULL;
	struct fuse_file_info tmp_fi = { 0 };
	struct basalt_stat bst;
	int ret;

	if (size < 0 || size % 512)
		return -EINVAL;
	if (!f) {
		ret = bfs_open(path, &tmp_fi);
		if (ret)
			return ret;
		f = get_file(&tmp_fi);
	}
	ret = basalt_stat(f->vol, &bst);
	if (ret < 0)
		goto out;
	if ((uint64_t)size == bst.size)
		goto out;
	if ((uint64_t)size < bst.size) {
		bs_notice("refusing to shrink '%s' from %llu to %lld bytes (use 'basalt volume resize --allow-shrink')",
			  path, (unsigned long long)bst.size,
			  (long long)size);
		ret = -EPERM;
		goto out;
	}
	ret = basalt_resize(f->vol, (uint64_t)size);
	if (ret < 0) {
		bs_warn("resize of '%s' to %lld bytes: %s", path,
			(long long)size, basalt_get_error());
		goto out;
	}
	f->size = (uint64_t)size;
	bfs_dir_mark_stale(&fs->dir);
out:
	if (tmp_fi.fh)
		bfs_release(path, &tmp_fi);
	return ret < 0 ? ret : 0;
}

struct seek_ctx {
	int want;		/* 1: data, 0: a hole */
	uint64_t found;
	bool hit;
};

static int seek_extent(void *opaque, uint64_t off, uint64_t len,
		       int allocated)
{
	struct seek_ctx *c = opaque;

	if (!!allocated != c->want)
		return 0;
	c->found = off;
	c->hit = true;
	return 1;
}

/*
 * SEEK_DATA and SEEK_HOLE from libbasalt's allocation map, so that cp,
 * tar or qemu-img skip the holes of a thin volume.  (The kernel handles
 * the other whence values itself.)
 */
static off_t bfs_lseek(const char *path, off_t off, int whence,
		       struct fuse_file_info *fi)
{
	struct bfs_file *f = get_file(fi);
	struct seek_ctx c = { .want = whence == SEEK_DATA };
	struct basalt_stat bst;
	int ret;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	ret = basalt_stat(f->vol, &bst);
	if (ret < 0)
		return ret;
	f->size = bst.size;
	if (off < 0 || (uint64_t)off >= bst.size)
		return -ENXIO;
	ret = basalt_block_status(f->vol, (uint64_t)off,
				  bst.size - (uint64_t)off, seek_extent, &c);
	if (ret < 0) {
		bs_warn("block status of '%s': %s", path, basalt_get_error());
		return ret;
	}
	if (c.hit)
		return (off_t)c.found;
	/* No data up to the end; the end itself is a hole. */
	return whence == SEEK_DATA ? -ENXIO : (off_t)bst.size;
}

static void *bfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/*
	 * open(O_TRUNC) comes to bfs_open() with the flag, which ignores it
	 * as a block device does: "dd of=FILE" without conv=notrunc must
	 * not drop a volume.
	 */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Sizes and volumes change behind our back: cache briefly. */
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	return get_fs();
}

const struct fuse_operations bfs_ops = {
	.init		= bfs_init,
	.getattr	= bfs_getattr,
	.readdir	= bfs_readdir,
	.open		= bfs_open,
	.release	= bfs_release,
	.read		= bfs_read,
	.write		= bfs_write,
	.fsync		= bfs_fsync,
	.fallocate	= bfs_fallocate,
	.truncate	= bfs_truncate,
	.lseek		= bfs_lseek,
};

int bfs_connect(struct bfs *fs, struct bs_error *err)
{
	int ret;

	ret = basalt_connect(fs->conf_path, &fs->cluster);
	if (ret < 0)
		return bs_error_set(err, ret, "%s", basalt_get_error());
	ret = bfs_dir_init(&fs->dir, fs->conf_path, err);
	if (ret)
		goto out_disconnect;
	ret = bfs_dir_refresh(&fs->dir, true, err);
	if (ret)
		goto out_dir;
	return 0;

out_dir:
	bfs_dir_release(&fs->dir);
out_disconnect:
	basalt_disconnect(fs->cluster);
	fs->cluster = NULL;
	return ret;
}

void bfs_disconnect(struct bfs *fs)
{
	bfs_dir_release(&fs->dir);
	if (fs->cluster) {
		basalt_disconnect(fs->cluster);
		fs->cluster = NULL;
	}
}
