/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk-ops vtable of the object store: how data blocks reach the disk.
 * Backends are listed in one array in disk.c:
 *   file    a regular file or a block device, O_DIRECT, I/O on the loop
 *   faulty  the same file, synchronous I/O, with injected faults
 *           (struct store_faults) for tests
 */
#ifndef BS_OSD_STORE_DISK_H
#define BS_OSD_STORE_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "bs/error.h"
#include "bs/loop.h"
#include "store.h"

struct disk;

struct disk_ops {
	const char *name;
	/* open @path; sets d->fd and d->size.  -errno with a message */
	int (*open)(struct disk *d, const char *path, struct bs_error *err);
	void (*close)(struct disk *d);
	/* borrow @iov (and what it points at) until @op completes */
	void (*readv)(struct disk *d, struct bs_op *op,
		      const struct iovec *iov, unsigned n, uint64_t off);
	void (*writev)(struct disk *d, struct bs_op *op,
		       const struct iovec *iov, unsigned n, uint64_t off);
	/* a journal record: durable when it completes (O_DSYNC) */
	void (*jwritev)(struct disk *d, struct bs_op *op,
			const struct iovec *iov, unsigned n, uint64_t off);
	/*
	 * Make every completed write durable.  Blocking: called on the
	 * commit thread, never on the loop thread.  0 or -errno.
	 */
	int (*sync)(struct disk *d);
};

/* A deferred completion of the faulty backend. */
struct disk_done {
	struct bs_op *op;
	int res;
	struct disk_done *next;
};

struct disk {
	const struct disk_ops *ops;
	struct bs_loop *loop;
	int fd;
	int jfd;			/* O_DSYNC, for journal records */
	uint64_t size;			/* bytes */
	bool dsync;			/* O_DSYNC: writes are durable */
	struct store_faults *faults;	/* faulty only */
	struct disk_done *done_head, **done_tail;	/* faulty only */
	struct bs_task done_task;			/* faulty only */
};

/*
 * Open @path with backend @backend (NULL: "file") for I/O on @loop.
 * Returns 0, -ENOENT for an unknown backend, or the open error.
 */
int disk_open(struct disk *d, const char *backend, struct bs_loop *loop,
	      const char *path, bool dsync, struct store_faults *faults,
	      struct bs_error *err);
void disk_close(struct disk *d);

static inline void disk_readv(struct disk *d, struct bs_op *op,
			      const struct iovec *iov, unsigned n,
			      uint64_t off)
{
	d->ops->readv(d, op, iov, n, off);
}

static inline void disk_writev(struct disk *d, struct bs_op *op,
			       const struct iovec *iov, unsigned n,
			       uint64_t off)
{
	d->ops->writev(d, op, iov, n, off);
}

static inline void disk_jwritev(struct disk *d, struct bs_op *op,
				const struct iovec *iov, unsigned n,
				uint64_t off)
{
	d->ops->jwritev(d, op, iov, n, off);
}

static inline int disk_sync(struct disk *d)
{
	return d->dsync ? 0 : d->ops->sync(d);
}

/* Size of the open file or block device @fd in bytes, or -errno. */
int disk_fd_size(int fd, uint64_t *size);

#endif /* BS_OSD_STORE_DISK_H */
