/* SPDX-License-Identifier: Apache-2.0 */
/*
 * basalt-osd: struct osd and the prototypes its files share, grouped by
 * file.  One thread runs everything around one bs_loop: the messenger
 * (clients and peer OSDs), the mon client and the object store.  See
 * docs/osd.md for the data path, versions and activation epochs.
 */
#ifndef BS_OSD_OSD_H
#define BS_OSD_OSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/conf.h"
#include "bs/conf_global.h"
#include "bs/error.h"
#include "bs/log.h"
#include "bs/loop.h"
#include "bs/monc.h"
#include "bs/msgr.h"
#include "bs/osdmap.h"
#include "proto/osd.pb-c.h"
#include "store.h"

#define OSD_TICK_MS		100
#define OSD_GAP_WAIT_MS		5000	/* replica: wait for a missing version */
#define OSD_REP_TRIES		5	/* sends of one RepOp to one replica */
#define OSD_STOP_DRAIN_MS	5000	/* SIGTERM: wait this long for ops */
#define OSD_MARK_DOWN_MS	2000	/* SIGTERM: wait this long for the mon */
#define OSD_BOOT_RETRY_MS	1000
#define OSD_MAX_ID		1000000

/* An object whose local state is unknown after a failed store op. */
#define OSD_OBJ_BROKEN		UINT64_MAX

/* The OSD's own keys: [osd.N] (or [global]), then --KEY VALUE. */
struct osd_conf {
	char *data_path, *meta_dir;
	uint64_t osd_size;
	char *addr;
	char *host, *rack, *site;
	uint64_t weight;
	bool dsync;
	uint64_t rep_timeout;		/* ms, per RepOp send */
	uint64_t map_wait_timeout;	/* ms an op waits for a newer map */
};

extern const struct bs_conf_key osd_conf_keys[];
extern const size_t osd_conf_nkeys;

/* A tiny intrusive doubly linked list. */
struct osd_list {
	struct osd_list *next, *prev;
};

static inline void osd_list_init(struct osd_list *l)
{
	l->next = l->prev = l;
}

static inline bool osd_list_empty(const struct osd_list *l)
{
	return l->next == l;
}

static inline void osd_list_add_tail(struct osd_list *head,
				     struct osd_list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

/* Insert @n before @pos. */
static inline void osd_list_add_before(struct osd_list *pos,
				       struct osd_list *n)
{
	osd_list_add_tail(pos, n);
}

/* Unlink @n (a no-op on an unlinked, initialised node). */
static inline void osd_list_del(struct osd_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/*
 * An object with mutations in flight or ops waiting on it.  The table
 * entry exists only while needed; otherwise the store's durable state is
 * the truth.  Invariant: cur and last account for every mutation this OSD
 * submitted to the store for the object, as primary or as replica.
 */
struct osd_obj {
	struct store_oid oid;
	struct osd_obj *hnext;
	uint64_t cur;		/* version after every submitted op; 0: absent */
	uint64_t last;		/* highest version submitted (deletes too) */
	unsigned nmut;		/* mutations submitted, not completed */
	struct osd_list waiters;	/* ops waiting for nmut == 0 */
	struct osd_list early;	/* replica: RepOps before their turn */
};

/*
 * A placement group as this OSD sees it at map epoch @epoch.  Created on
 * first use, refreshed on every map.  As primary, @activation is the epoch
 * at which it took the PG (versions are activation << 32 | counter); as
 * replica it is a fence: RepOps stamped with an older epoch are refused.
 * Peering and recovery (the next issue) hook in at pg_refresh().
 */
struct pg {
	uint32_t pool, id;
	struct pg *hnext;
	uint64_t epoch;
	int32_t acting[BS_PLACE_MAX_SIZE];
	unsigned n_acting, n_up;
	unsigned size, min_size;
	int32_t primary;		/* -1: no member up */
	uint64_t primary_up_from;
	bool is_primary;
	bool set_changed;		/* acting set differs from before */
	bool gone;			/* its pool no longer exists */
	uint64_t activation;
	uint32_t counter;		/* primary: last version counter */
	bool warned_min_size;
	struct osd_list ops;		/* primary: mutations in flight */
	struct osd_list waiting;	/* primary: mutations below min_size */
};

/* A connection to another OSD, made on first use. */
struct osd_peer {
	char *addr;
	struct bs_conn *conn;
};

enum osd_op_state {
	OP_NEW = 0,
	OP_WAIT_MAP,		/* in osd->map_waiters */
	OP_WAIT_PG,		/* in pg->waiting (below min_size) */
	OP_WAIT_OBJ,		/* in obj->waiters */
	OP_WAIT_TURN,		/* replica: in obj->early */
	OP_READY,		/* in osd->ready, resumed on the next turn */
	OP_RUNNING,
	OP_DONE,		/* replied */
};

enum rep_state {
	REP_SENT = 1,
	REP_DONE,
	REP_FAILED,
};

/* One replica of a primary's mutation. */
struct rep_target {
	struct osd_op *op;
	int32_t osd;
	enum rep_state state;
	int res;
	uint64_t fail_epoch;		/* map epoch when it failed */
	unsigned tries;
};

/*
 * A request in progress: a client op (BS_MSG_OSD_OP) on the primary or a
 * RepOp on a replica.  Taken from a free list, owns the request message
 * (whose data segment the store and the RepOps borrow) and a reference on
 * its connection.  Freed by op_maybe_free() once replied, with no store
 * op, RepOp call or zero-copy reply outstanding.
 */
struct osd_op {
	struct osd *osd;
	struct osd_op *free_next;
	struct osd_list link;		/* the list of its state */
	struct osd_list tlink;		/* osd->timed (replica early) */
	struct bs_conn *conn;
	struct bs_msg *msg;
	bool is_rep;
	enum osd_op_state state;
	uint64_t need_epoch;		/* wait for a map this new */
	uint64_t deadline_ms;		/* of a wait */

	/* the request, validated */
	unsigned kind;			/* Bs__OsdOpKind */
	struct store_oid oid;
	uint64_t off, len;
	uint32_t flags;
	uint64_t req_epoch;
	uint64_t version, prev_version;
	int32_t from_osd;		/* RepOp: the sending primary */

	struct pg *pg;
	struct osd_obj *obj;
	struct store_op sop;
	bool local_busy, local_done;
	int local_res;
	bool mutating;			/* counted in obj->nmut */
	bool replied, reply_busy;
	unsigned calls;			/* RepOp calls in flight */
	unsigned n_targets;
	struct rep_target targets[BS_PLACE_MAX_SIZE];
	uint8_t *buf;			/* read data */
	size_t buf_cap;
};

struct osd_bufpool {
	void *free[10][32];
	unsigned n[10];
};

struct osd {
	int32_t id;
	char name[16];
	struct bs_global_conf global;
	struct osd_conf conf;
	const char *addr_file;
	struct bs_loop *loop;
	struct store *store;
	struct bs_msgr *msgr;
	struct bs_monc *monc;
	struct bs_osdmap *map;
	uint64_t capacity;

	/* membership: boot, then active once the map shows this boot */
	uint64_t boot_epoch;
	bool booting, active;
	uint64_t boot_retry_ms;

	struct osd_peer *peers;		/* by OSD id */
	unsigned n_peers;
	struct bs_conn **dead;		/* to close on the next turn */
	unsigned n_dead, dead_cap;
	struct bs_task dead_task;

	struct pg **pg_tab;
	size_t pg_nb, n_pgs;
	struct osd_obj **obj_tab;
	size_t obj_nb, n_objs;
	struct osd_obj *obj_free;
	unsigned n_obj_free;

	struct osd_op *op_free;
	unsigned n_op_free;
	unsigned ops_live;
	struct osd_list map_waiters;
	struct osd_list timed;		/* replica ops waiting their turn */
	struct osd_list ready;
	struct bs_task ready_task;
	bool fetching_map;
	uint64_t fetch_ms;

	struct bs_op tick_op;
	int sig_fd;
	struct bs_op sig_op;

	bool stopping, marked_down;
	uint64_t stop_start_ms;
	int exit_code;

	/* heartbeat.c */
	struct hb_peer **hb;
	unsigned n_hb, hb_cap;
	uint64_t next_beacon_ms;

	struct bs_ratelimit rl;
	const uint8_t *zeros;		/* STORE_MAX_OBJECT_SIZE of zeros */
	struct osd_bufpool bufs;
};

/* config.c */
int osd_conf_finish(struct osd *osd, struct bs_error *err);

/* osd.c */
int osd_start(struct osd *osd, const struct bs_conf *conf,
	      struct bs_error *err);
int osd_run(struct osd *osd);
void osd_release(struct osd *osd);
int osd_mkfs(struct osd *osd, struct bs_error *err);
void osd_wait_map(struct osd_op *op);
void osd_resume_later(struct osd_op *op);
struct bs_conn *osd_peer_conn(struct osd *osd, int32_t id);
bool osd_is_up(const struct osd *osd, int32_t id);

/* op_table.c */
struct osd_kind_info {
	const char *name;
	bool mutation;		/* versioned and replicated */
	bool range;		/* offset/length must be a valid range */
	bool data_in;		/* request carries `length` bytes */
};
const struct osd_kind_info *osd_kind(unsigned kind);
void osd_dispatch(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg);

/* ops (primary.c) */
struct osd_op *op_new(struct osd *osd, struct bs_conn *conn,
		      struct bs_msg *msg);
void op_maybe_free(struct osd_op *op);
/* Replied (successfully): leave every list, release, maybe free. */
void op_done(struct osd_op *op);
void op_reply_error(struct osd_op *op, int neg_errno, const char *fmt, ...)
	BS_PRINTF(3, 4);
void op_resume(struct osd_op *op);
void op_free_cache(struct osd *osd);
int op_validate(struct osd_op *op, const struct osd_kind_info *ki,
		uint64_t data_len, struct bs_error *err);
int op_set_oid(struct osd_op *op, const Bs__ObjectId *oid,
	       struct bs_error *err);
int op_check_object(struct osd_op *op, const struct bs_osdmap_pool **out,
		    struct bs_error *err);
void op_submit_local(struct osd_op *op, store_op_fn *done);
void primary_handle(struct osd *osd, struct bs_conn *conn,
		    struct bs_msg *msg);
void primary_continue(struct osd_op *op);
void primary_check(struct osd_op *op);

/* replicate.c */
void rep_send(struct osd_op *op, struct rep_target *t);
void rep_handle(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg);
void replica_continue(struct osd_op *op);
void rep_expire(struct osd *osd, uint64_t now_ms);

/* pg.c */
struct pg *pg_get(struct osd *osd, const struct bs_osdmap_pool *pool,
		  uint32_t pgid);
void pg_map_changed(struct osd *osd);
bool pg_can_write(const struct pg *pg);
bool pg_has_member(const struct pg *pg, int32_t osd);
void pg_wait_members(struct pg *pg, struct osd_op *op);
void pg_fail_waiting(struct osd *osd, int neg_errno, const char *why);
void pg_free_all(struct osd *osd);
const char *pg_name(uint32_t pool, uint32_t pg, char *buf, size_t len);

/* object.c */
struct osd_obj *osd_obj_find(struct osd *osd, const struct store_oid *oid);
struct osd_obj *osd_obj_get(struct osd *osd, const struct store_oid *oid);
void osd_obj_mut_done(struct osd *osd, struct osd_obj *obj);
void osd_obj_maybe_free(struct osd *osd, struct osd_obj *obj);
void osd_obj_free_all(struct osd *osd);

/* query.c */
void query_pg_list(struct osd *osd, struct bs_conn *conn,
		   struct bs_msg *msg);
void query_statfs(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg);
void query_stat(struct osd_op *op);
void query_extents(struct osd_op *op);

/* heartbeat.c */
void heartbeat_want_begin(struct osd *osd);
void heartbeat_want(struct osd *osd, int32_t id);
void heartbeat_tick(struct osd *osd, uint64_t now_ms);
void heartbeat_release(struct osd *osd);

/* bufpool.c */
void *osd_buf_get(struct osd *osd, size_t len, size_t *cap);
void osd_buf_put(struct osd *osd, void *buf, size_t cap);
void osd_buf_release(struct osd *osd);

#endif /* BS_OSD_OSD_H */
