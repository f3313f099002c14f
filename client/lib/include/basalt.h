/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libbasalt: the C client library of Basalt (like librbd).
 *
 * Connect to a cluster with a configuration file, open a volume by
 * "pool/name", and read, write, flush, discard and zero it, synchronously
 * or asynchronously.  Every function is safe to call from any thread.  The
 * library runs its own I/O thread; asynchronous completions are called on
 * that thread and must not block.
 *
 * Errors: functions return 0 (or a byte count) on success and a negative
 * errno on failure; basalt_get_error() then gives a one-line message for
 * the calling thread.  The library never prints.
 */
#ifndef BASALT_H
#define BASALT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BASALT_API_VERSION 1

struct basalt_cluster;
struct basalt_volume;

struct basalt_stat {
	uint64_t size;		/* provisioned bytes */
	uint64_t object_size;	/* bytes per object */
	uint64_t volume_id;
	uint32_t pool_id;
	uint32_t block_size;	/* smallest efficient I/O, bytes */
};

/* Completion of an asynchronous call: @res is as the synchronous call's. */
typedef void basalt_completion_fn(void *opaque, ssize_t res);

/*
 * Connect using @conf_path (NULL: $BASALT_CONF, else
 * /etc/basalt/basalt.conf).  Returns 0 and sets *out, or -errno
 * (-EHOSTUNREACH when no monitor answers).
 */
int basalt_connect(const char *conf_path, struct basalt_cluster **out);

/* Close every open volume's connections and free @cluster. */
void basalt_disconnect(struct basalt_cluster *cluster);

/*
 * Open the volume "POOL/NAME".  -ENOENT if it does not exist, -EINVAL for a
 * malformed name.
 */
int basalt_open(struct basalt_cluster *cluster, const char *pool_name,
		struct basalt_volume **out);

/* Wait for the volume's requests in flight, then free it. */
int basalt_close(struct basalt_volume *vol);

/*
 * Synchronous I/O.  Lengths may be any size and offsets any alignment;
 * requests past the end of the volume fail with -ERANGE, zero lengths with
 * -EINVAL.  Unwritten ranges read as zeros.  A write is acknowledged only
 * once durable on every up member of its placement group.
 */
ssize_t basalt_read(struct basalt_volume *vol, void *buf, size_t len,
		    uint64_t off);
ssize_t basalt_write(struct basalt_volume *vol, const void *buf, size_t len,
		     uint64_t off);
/* Returns once every write completed before the call is durable. */
int basalt_flush(struct basalt_volume *vol);
/* Free the range (it reads back as zeros). */
int basalt_discard(struct basalt_volume *vol, uint64_t off, uint64_t len);
/* Zero the range; BASALT_ZERO_NO_HOLE keeps it allocated. */
#define BASALT_ZERO_NO_HOLE 0x1u
int basalt_write_zeroes(struct basalt_volume *vol, uint64_t off, uint64_t len,
			unsigned flags);
int basalt_stat(struct basalt_volume *vol, struct basalt_stat *st);
/* Grow or shrink the volume (shrinking frees the data past the end). */
int basalt_resize(struct basalt_volume *vol, uint64_t size);

/*
 * Asynchronous I/O: returns 0 once queued (then @cb runs exactly once, on
 * the library thread) or -errno without calling @cb.  Buffers are
 * borrowed until @cb runs.
 */
int basalt_aio_read(struct basalt_volume *vol, void *buf, size_t len,
		    uint64_t off, basalt_completion_fn *cb, void *opaque);
int basalt_aio_write(struct basalt_volume *vol, const void *buf, size_t len,
		     uint64_t off, basalt_completion_fn *cb, void *opaque);
int basalt_aio_flush(struct basalt_volume *vol, basalt_completion_fn *cb,
		     void *opaque);
int basalt_aio_discard(struct basalt_volume *vol, uint64_t off, uint64_t len,
		       basalt_completion_fn *cb, void *opaque);
int basalt_aio_write_zeroes(struct basalt_volume *vol, uint64_t off,
			    uint64_t len, unsigned flags,
			    basalt_completion_fn *cb, void *opaque);

/*
 * Allocation map: call @fn for each extent of [off, off + len) in order,
 * with @allocated 0 for holes (never written, discarded) and 1 for data.
 * Stops early (returning @fn's value) if @fn returns non-zero.
 */
typedef int basalt_extent_fn(void *opaque, uint64_t off, uint64_t len,
			     int allocated);
int basalt_block_status(struct basalt_volume *vol, uint64_t off, uint64_t len,
			basalt_extent_fn *fn, void *opaque);

/*
 * The message and errno of the calling thread's last failed call
 * (thread-local; successful calls leave them alone).  The errno is
 * positive (EIO, not -EIO); "" and 0 before any failure.
 */
const char *basalt_get_error(void);
int basalt_get_errno(void);

#ifdef __cplusplus
}
#endif

#endif /* BASALT_H */
