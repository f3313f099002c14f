/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libbasalt internals shared by its files: the cluster (I/O thread, map,
 * OSD sessions), the volume handle, requests (one per API call) and
 * pieces (one per object touched, sent to that object's primary).
 *
 * Threads: API calls run on any thread and only read immutable fields or
 * atomics; they hand a request to the I/O thread with bs_loop_post().
 * Everything marked "I/O thread" is touched by that thread only.
 */
#ifndef BASALT_INT_H
#define BASALT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "basalt.h"
#include "bs/error.h"
#include "bs/list.h"
#include "bs/loop.h"
#include "bs/monc.h"
#include "bs/msgr.h"
#include "bs/osdmap.h"
#include "layout.h"

#define BASALT_EXPORT __attribute__((visibility("default")))

#define CLUSTER_MAGIC	0x42534c43u	/* "CLSB" */
#define VOLUME_MAGIC	0x4253564fu	/* "OVSB" */

#define PIECES_PER_REQUEST	64	/* pieces in flight per request */
#define EXTENT_BATCH		64	/* objects per block-status batch */
#define TICK_MS			10	/* retry and close timer */
#define RETRY_MIN_MS		20	/* first back-off before a resend */
#define RETRY_MAX_MS		1000	/* longest back-off */
#define NOPRIMARY_WAIT_MS	1000	/* recheck a PG without a primary */
#define REQ_POOL_MAX		4096	/* requests kept for reuse */

/*
 * A caller waiting for the I/O thread (synchronous calls).  Lives on the
 * caller's stack; the I/O thread never touches it after waiter_wake().
 */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	ssize_t res;
	struct bs_error err;
};

void waiter_init(struct waiter *w);
void waiter_release(struct waiter *w);
/* Wait for waiter_wake(); returns its @res (error text in w->err). */
ssize_t waiter_wait(struct waiter *w);
void waiter_wake(struct waiter *w, ssize_t res, const struct bs_error *err);

/* An open connection to one OSD (I/O thread). */
struct osd_session {
	int32_t osd;
	char *addr;
	struct bs_conn *conn;
	struct bs_list inflight;	/* pieces sent on conn */
	struct bs_list link;		/* cluster->closing_sessions */
};

enum request_kind {
	REQ_READ,
	REQ_WRITE,
	REQ_DISCARD,
	REQ_WRITE_ZEROES,
	REQ_FLUSH,
	REQ_EXTENTS,
	REQ_TRIM,		/* resize: discard past the new end */
};

/* Block status: what one object answered, in volume offsets. */
struct extent_slot {
	uint64_t *pairs;		/* off, len, off, len ... (malloc) */
	unsigned n;			/* pairs */
	bool done;
};

/*
 * One API call.  Allocated by the caller's thread from the cluster's pool,
 * started, split and completed on the I/O thread.
 * Invariant: inflight counts pieces that belong to it (sent or waiting);
 * it completes once inflight == 0 and (next == end or res < 0).
 */
struct request {
	struct bs_task task;		/* first run on the I/O thread */
	struct request *next_free;
	struct basalt_volume *vol;
	enum request_kind kind;
	unsigned flags;			/* BASALT_ZERO_* */
	uint8_t *buf;
	uint64_t off, end;		/* volume bytes [off, end) */
	uint64_t next;			/* first byte not yet given a piece */
	unsigned inflight;
	int res;			/* first error, 0 */
	struct bs_error err;
	uint64_t seq;			/* writes: start order; flush: barrier */
	struct bs_list link;		/* vol->writes or vol->flushes */
	bool linked;
	basalt_completion_fn *cb;	/* async, or internal (resize) */
	void *opaque;
	struct waiter *waiter;		/* sync */
	struct extent_slot *slots;	/* REQ_EXTENTS: per object from off */
	unsigned nslots;
};

enum piece_where {
	PIECE_IDLE,
	PIECE_SENT,			/* in session->inflight */
	PIECE_WAITING,			/* in cluster->waiting */
};

/* One object's share of a request (I/O thread, pooled). */
struct piece {
	struct request *req;
	struct piece *next_free;
	struct bs_list link;
	enum piece_where where;
	struct osd_session *session;
	int op;				/* Bs__OsdOpKind */
	uint64_t objnum, obj_off, len;
	uint64_t vol_off;		/* where it starts in the volume */
	uint64_t epoch;			/* map epoch it was last sent under */
	int32_t osd;			/* where it was last sent */
	uint64_t need_epoch;		/* waiting: resend once map >= this */
	uint64_t retry_at;		/* waiting: resend at this time (ms) */
	unsigned backoff_ms;
	unsigned attempts;
	int fail_res;			/* cannot be sent: fail on the sweep */
	struct iovec iov;
};

struct basalt_cluster {
	uint32_t magic;
	struct bs_loop *loop;
	pthread_t thread;
	bool thread_started;
	struct bs_monc *monc;
	struct bs_msgr *msgr;		/* OSD connections */
	char **mon_addrs;
	unsigned n_mons;
	char mon_list[256];		/* for messages */
	uint64_t mon_timeout_ms;
	uint64_t close_grace_ms;
	uint64_t max_piece;		/* data bytes per OSD op */

	/* connect(): the first map, or why there is none */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool connect_done;
	int connect_res;
	struct bs_error connect_err;

	/* any thread: requests for reuse */
	pthread_mutex_t pool_lock;
	struct request *free_reqs;
	unsigned n_free_reqs;

	/* I/O thread */
	struct bs_osdmap *map;
	struct osd_session **sessions;	/* by OSD id */
	uint32_t n_sessions;
	struct bs_list closing_sessions;	/* closed on the next turn */
	struct bs_task reap_task;
	struct bs_list waiting;		/* pieces to resend */
	struct bs_task sweep_task;
	struct bs_op tick_op;
	struct bs_list volumes;		/* open volumes */
	struct piece *free_pieces;
	struct bs_task shutdown_task;
	bool shutting_down;		/* disconnect: closing volumes */
	bool stopping;			/* no more I/O: cancel everything */
	bool exit;			/* leave the loop */
};

/* Resize of one volume (volume.c), run on the I/O thread. */
struct resize_ctx;

struct basalt_volume {
	uint32_t magic;
	struct basalt_cluster *cluster;
	char pool[LAYOUT_NAME_MAX + 1];
	char name[LAYOUT_NAME_MAX + 1];
	char spec[2 * LAYOUT_NAME_MAX + 2];	/* "pool/name" */
	uint64_t id;
	uint32_t pool_id;
	uint64_t object_size;
	_Atomic uint64_t size;
	atomic_bool closing;		/* no new requests */
	atomic_uint n_reqs;		/* submitted, not yet completed */

	/* I/O thread */
	struct bs_list link;		/* cluster->volumes */
	struct bs_list writes;		/* writing requests in start order */
	struct bs_list flushes;		/* flushes waiting for older writes */
	uint64_t next_seq;
	bool close_started;
	bool cancelled;			/* close grace over: fail what waits */
	uint64_t close_deadline;
	struct waiter *close_waiter;
	struct bs_task open_task, close_task;
	struct waiter *open_waiter;
};

/* errors.c: the calling thread's last error */
int lib_set_error(int code, const char *fmt, ...) BS_PRINTF(2, 3);
/* Copy @err (code and text) as the thread's last error; returns its code. */
int lib_set_bs_error(const struct bs_error *err);

/* cluster.c */
bool cluster_on_io_thread(const struct basalt_cluster *c);
int cluster_check(const struct basalt_cluster *c);
/* I/O thread: arm the retry/close tick if it is not running. */
void cluster_arm_tick(struct basalt_cluster *c);
/* I/O thread: the last volume went away during disconnect. */
void cluster_stop(struct basalt_cluster *c);

/* volume.c */
int volume_check(struct basalt_volume *vol);
/* I/O thread: a request of @vol completed; finish a pending close. */
void volume_request_done(struct basalt_volume *vol);
/* I/O thread: begin closing @vol (wake @w when it is freed). */
void volume_close_begin(struct basalt_volume *vol, struct waiter *w);
/* I/O thread: the close grace of @vol is over: cancel what waits. */
void volume_cancel(struct basalt_volume *vol);

/* io.c */
struct request *request_alloc(struct basalt_cluster *c);
void request_free(struct basalt_cluster *c, struct request *req);
/*
 * Start @req (any thread): counts it on its volume and posts it.
 * Returns 0, or -EBADF (volume closing) without posting.
 */
int request_submit(struct request *req);
/* I/O thread: a piece of @req is finished with @res (0 or -errno). */
void request_piece_done(struct request *req, int res,
			const struct bs_error *err);
/* Fill a request for @kind on @vol. */
void request_setup(struct request *req, struct basalt_volume *vol,
		   enum request_kind kind, void *buf, uint64_t off,
		   uint64_t len, unsigned flags);

/* objecter.c */
struct piece *piece_get(struct basalt_cluster *c);
void piece_put(struct basalt_cluster *c, struct piece *p);
/* I/O thread: send @p to its primary now, or queue it until it can be. */
void objecter_send(struct basalt_cluster *c, struct piece *p);
/* I/O thread: a new map arrived: drop stale sessions, resend. */
void objecter_map_changed(struct basalt_cluster *c);
/* I/O thread: resend due pieces; fail those of cancelled volumes. */
void objecter_sweep(struct basalt_cluster *c);
/* I/O thread: fail every waiting piece of @vol (NULL: all), cancel sends. */
void objecter_cancel(struct basalt_cluster *c, struct basalt_volume *vol);
/* I/O thread: close every session (shutdown). */
void objecter_close_all(struct basalt_cluster *c);
void objecter_init(struct basalt_cluster *c);
void objecter_free(struct basalt_cluster *c);

#endif /* BASALT_INT_H */
