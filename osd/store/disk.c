// SPDX-License-Identifier: Apache-2.0
/*
 * Disk backends of the object store.  "file" opens a regular file or a
 * block device with O_DIRECT and does every read and write on the loop's
 * io_uring.  "faulty" does the same I/O synchronously and completes it on
 * the next loop turn, failing or corrupting the Nth read or write on
 * request (struct store_faults): the fault injection of the unit tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bs/error.h"
#include "bs/loop.h"
#include "disk.h"

int disk_fd_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) == -1)
			return -errno;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = (uint64_t)st.st_size;
	return 0;
}

static void file_close(struct disk *d);

static int file_open(struct disk *d, const char *path, struct bs_error *err)
{
	int flags = O_RDWR | O_DIRECT | O_CLOEXEC, ret;

	if (d->dsync)
		flags |= O_DSYNC;
	d->fd = open(path, flags);
	if (d->fd == -1)
		return bs_error_errno(err, -errno, "cannot open '%s'", path);
	/* journal records: durable when the write completes */
	d->jfd = open(path, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
	if (d->jfd == -1) {
		ret = bs_error_errno(err, -errno, "cannot open '%s'", path);
		close(d->fd);
		d->fd = -1;
		return ret;
	}
	ret = disk_fd_size(d->fd, &d->size);
	if (ret < 0) {
		file_close(d);
		return bs_error_errno(err, ret, "cannot size '%s'", path);
	}
	return 0;
}

static void file_close(struct disk *d)
{
	if (d->fd != -1)
		close(d->fd);
	if (d->jfd != -1)
		close(d->jfd);
	d->fd = d->jfd = -1;
}

static void file_readv(struct disk *d, struct bs_op *op,
		       const struct iovec *iov, unsigned n, uint64_t off)
{
	bs_loop_readv(d->loop, op, d->fd, iov, n, off);
}

static void file_writev(struct disk *d, struct bs_op *op,
			const struct iovec *iov, unsigned n, uint64_t off)
{
	bs_loop_writev(d->loop, op, d->fd, iov, n, off);
}

static void file_jwritev(struct disk *d, struct bs_op *op,
			 const struct iovec *iov, unsigned n, uint64_t off)
{
	bs_loop_writev(d->loop, op, d->jfd, iov, n, off);
}

static int file_sync(struct disk *d)
{
	if (fdatasync(d->fd) == -1)
		return -errno;
	return 0;
}

/* faulty: synchronous I/O, completed on the next turn */

static void faulty_run_done(struct bs_task *task)
{
	struct disk *d = container_of(task, struct disk, done_task);
	struct disk_done *list = d->done_head, *dd;

	d->done_head = NULL;
	d->done_tail = &d->done_head;
	while ((dd = list)) {
		struct bs_op *op = dd->op;
		int res = dd->res;

		list = dd->next;
		free(dd);
		op->fn(op, res);
	}
}

static void faulty_complete(struct disk *d, struct bs_op *op, int res)
{
	struct disk_done *dd = bs_xmalloc(sizeof(*dd));

	dd->op = op;
	dd->res = res;
	dd->next = NULL;
	*d->done_tail = dd;
	d->done_tail = &dd->next;
	bs_loop_defer(d->loop, &d->done_task);
}

static int faulty_open(struct disk *d, const char *path, struct bs_error *err)
{
	d->done_head = NULL;
	d->done_tail = &d->done_head;
	d->done_task.fn = faulty_run_done;
	return file_open(d, path, err);
}

static void faulty_close(struct disk *d)
{
	/* completions still queued are dropped, like the loop's */
	while (d->done_head) {
		struct disk_done *dd = d->done_head;

		d->done_head = dd->next;
		free(dd);
	}
	file_close(d);
}

static size_t iov_len(const struct iovec *iov, unsigned n)
{
	size_t len = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

static void flip_one_bit(const struct iovec *iov, unsigned n)
{
	size_t len = iov_len(iov, n), at = len / 2;
	unsigned i;

	for (i = 0; i < n && len; i++) {
		if (at < iov[i].iov_len) {
			((unsigned char *)iov[i].iov_base)[at] ^= 0x10;
			return;
		}
		at -= iov[i].iov_len;
	}
}

static void faulty_readv(struct disk *d, struct bs_op *op,
			 const struct iovec *iov, unsigned n, uint64_t off)
{
	struct store_faults *f = d->faults;
	unsigned long nr = ++f->reads;
	ssize_t ret;

	if (nr == f->fail_read) {
		faulty_complete(d, op, -EIO);
		return;
	}
	ret = preadv(d->fd, iov, (int)n, (off_t)off);
	if (ret == -1) {
		faulty_complete(d, op, -errno);
		return;
	}
	if (nr == f->flip_read)
		flip_one_bit(iov, n);
	faulty_complete(d, op, (int)ret);
}

static void faulty_writev(struct disk *d, struct bs_op *op,
			  const struct iovec *iov, unsigned n, uint64_t off)
{
	struct store_faults *f = d->faults;
	unsigned long nw = ++f->writes;
	ssize_t ret;

	if (nw == f->fail_write) {
		faulty_complete(d, op, -EIO);
		return;
	}
	if (nw == f->flip_write) {
		/* the caller's buffer is const to us: corrupt a copy */
		size_t len = iov_len(iov, n), pos = 0;
		struct iovec one;
		unsigned i;
		void *copy;

		if (posix_memalign(&copy, 4096, len)) {
			faulty_complete(d, op, -ENOMEM);
			return;
		}
		for (i = 0; i < n; i++) {
			memcpy((char *)copy + pos, iov[i].iov_base,
			       iov[i].iov_len);
			pos += iov[i].iov_len;
		}
		one.iov_base = copy;
		one.iov_len = len;
		flip_one_bit(&one, 1);
		ret = pwritev(d->fd, &one, 1, (off_t)off);
		free(copy);
	} else {
		ret = pwritev(d->fd, iov, (int)n, (off_t)off);
	}
	faulty_complete(d, op, ret == -1 ? -errno : (int)ret);
}

/* Journal records are not counted: the faults aim at data writes. */
static void faulty_jwritev(struct disk *d, struct bs_op *op,
			   const struct iovec *iov, unsigned n, uint64_t off)
{
	ssize_t ret = pwritev(d->jfd, iov, (int)n, (off_t)off);

	faulty_complete(d, op, ret == -1 ? -errno : (int)ret);
}

static int faulty_sync(struct disk *d)
{
	if (d->faults->sync_delay_ms)
		usleep(d->faults->sync_delay_ms * 1000u);
	if (d->faults->fail_sync)
		return -EIO;
	return file_sync(d);
}

/* clang-format off */
static const struct disk_ops disk_backends[] = {
	{
		.name = "file",
		.open = file_open,
		.close = file_close,
		.readv = file_readv,
		.writev = file_writev,
		.jwritev = file_jwritev,
		.sync = file_sync,
	},
	{
		.name = "faulty",
		.open = faulty_open,
		.close = faulty_close,
		.readv = faulty_readv,
		.writev = faulty_writev,
		.jwritev = faulty_jwritev,
		.sync = faulty_sync,
	},
};
/* clang-format on */

int disk_open(struct disk *d, const char *backend, struct bs_loop *loop,
	      const char *path, bool dsync, struct store_faults *faults,
	      struct bs_error *err)
{
	unsigned i;

	memset(d, 0, sizeof(*d));
	d->fd = d->jfd = -1;
	d->loop = loop;
	d->dsync = dsync;
	if (!backend)
		backend = "file";
	for (i = 0; i < ARRAY_SIZE(disk_backends); i++) {
		if (strcmp(disk_backends[i].name, backend) == 0)
			break;
	}
	if (i == ARRAY_SIZE(disk_backends))
		return bs_error_set(err, -ENOENT, "unknown disk backend '%s'",
				    backend);
	if (strcmp(backend, "faulty") == 0) {
		if (!faults)
			return bs_error_set(err, -EINVAL,
					    "disk backend 'faulty' needs faults");
		d->faults = faults;
	}
	d->ops = &disk_backends[i];
	return d->ops->open(d, path, err);
}

void disk_close(struct disk *d)
{
	if (d->ops)
		d->ops->close(d);
	d->ops = NULL;
}
