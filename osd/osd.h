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
#include "bs/ec.h"
#include "bs/error.h"
#include "bs/log.h"
#include "bs/loop.h"
#include "bs/monc.h"
#include "bs/msgr.h"
#include "bs/osdmap.h"
#include "bs/past_intervals.h"
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

/*
 * The version an object carries while recovery installs it piece by
 * piece (epoch 0 sorts below every real version): a crash in the middle
 * leaves a copy that peering treats as absent.
 */
#define OSD_VERSION_PARTIAL	1ull

/*
 * Per-PG blob keys (store_pg_put): the PG's info, and one claim per
 * object the member lacks: 'M' volume:8 objnum:8 (big-endian) ->
 * version:8 (little-endian), flags:1 (bit 0: the object must not exist).
 */
#define PG_KEY_INFO		'I'	/* "I" -> PgInfo (osd.proto) */
#define PG_KEY_CLAIM		'M'
#define PG_KEY_EC_META		'E'	/* volume objnum -> ec_meta.c blob */
/*
 * Erasure-coded: "S" -> 1 + the slot this member's shards are for (one
 * byte), persisted with the info at activation.  A shard is only good for
 * its slot, and positional placement may move a member to another slot:
 * peering rebuilds every shard of a member whose "S" is not its slot.
 */
#define PG_KEY_SLOT		'S'
#define PG_CLAIM_KEY_LEN	17
#define PG_CLAIM_VAL_LEN	9
/* erasure-coded shards: 'U' volume:8 objnum:8 -> undo record (ec_undo.c) */
#define PG_KEY_UNDO		'U'

#define OSD_PEER_MAX		64	/* OSDs one peering talks to */
#define OSD_PEER_TIMEOUT_MS	10000	/* one peering request */
#define OSD_PEER_RETRY_MS	1000	/* peering again after a failure */
#define OSD_WIDE_PROBE_MAX	48	/* ask every up OSD up to this many */
#define OSD_QUERY_PAGE		16384	/* entries per PgQueryReply */
#define OSD_PUSH_TIMEOUT_MS	60000	/* one recovery push or pull */
#define OSD_STRAY_CHECK_MS	10000	/* strays ask their primary so often */
#define OSD_STATS_MS		5000	/* per-PG object counts refresh */

/* The OSD's own keys: [osd.N] (or [global]), then --KEY VALUE. */
struct osd_conf {
	char *data_path, *meta_dir;
	uint64_t osd_size;
	uint64_t journal_size;		/* bytes, --mkfs only; 0: auto */
	bool mkfs_zero;			/* --mkfs writes the whole file */
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
	unsigned locks;		/* recovery or scrub holds it: no writes */
	struct osd_list waiters;	/* ops waiting for nmut == 0 / locks */
	struct osd_list early;	/* replica: RepOps before their turn */
};

/* An interval of a PG's history (PgInterval in osd.proto). */
struct pg_interval {
	uint64_t activation;
	unsigned n;
	int32_t members[BS_PLACE_MAX_SIZE];
};

/* What a member keeps about a PG (PgInfo in osd.proto, blob "I"). */
struct pg_info {
	uint64_t les;			/* last activation it took part in */
	uint64_t last_clean;		/* activation last known clean */
	unsigned n_past;
	struct pg_interval *past;	/* since last_clean, oldest first */
	uint64_t last_scrub_us, last_deep_scrub_us;	/* wall clock */
};

/* One object or claim of a member's listing, sorted by oid. */
struct pg_entry {
	uint64_t volume, objnum;
	uint64_t version;
	uint64_t size;
	bool claim;
	bool deleted;		/* claim: must not exist */
	bool has_undo;		/* EC shard: can roll back to undo_prev */
	uint64_t undo_prev;	/* 0: the shard did not exist before */
};

/* An OSD that a peering asks (primary side). */
struct pg_peer {
	int32_t osd;
	bool in_w;			/* takes the new interval's writes */
	bool busy, done, failed;
	bool has_info;
	bool cand;			/* its objects and claims decide */
	int slot;			/* EC: its shard (-1: none) */
	struct pg_info info;
	struct pg_entry *ent;
	size_t n_ent, cap_ent;
	unsigned tries;
	size_t act_pos;			/* activation: claims sent so far */
	unsigned ec_slot;		/* 1 + slot its shards are for; 0: ? */
	struct pg_entry *rb;		/* EC: shards it must roll back */
	size_t n_rb, cap_rb;
};

/*
 * An object some member of an active PG lacks (or holds at another
 * version), with its authoritative state: recovery installs @version
 * (or, when @deleted, removes the object) on every peer of @need,
 * copying from one of @have.
 */
struct pg_miss {
	uint64_t volume, objnum;
	struct pg_miss *hnext;
	struct osd_list link;		/* pg->miss_queue while idle */
	uint64_t version, size;
	bool deleted;
	uint64_t need, have;		/* bits: pg->peers indexes */
	bool busy;			/* a recovery is running */
	bool unfound;			/* no reachable peer holds it */
	uint64_t retry_ms;
	struct osd_list waiters;	/* client ops waiting for it */
};

/* Where a primary's PG is (docs/osd.md "PG states"). */
enum pg_pstate {
	PGS_NONE = 0,		/* not the primary */
	PGS_INACTIVE,		/* fewer than min_size members up */
	PGS_PEERING,		/* asking members for their objects */
	PGS_ACTIVATING,		/* members persist the new interval */
	PGS_ACTIVE,		/* serves I/O; recovery may run */
	PGS_DOWN,		/* a past interval that may have taken
				   writes has no member up: waits */
};

struct scrub;
struct pwork;
struct ec_io;
struct ec_undo;

/*
 * A placement group as this OSD sees it at map epoch @epoch.  Created on
 * first use, refreshed on every map.  As primary, @activation is the epoch
 * at which it took the PG (versions are activation << 32 | counter); as
 * replica it is a fence: RepOps stamped with an older epoch are refused.
 * A change of interval (pg_refresh) makes the primary peer again
 * (peering.c); while active, the missing table drives recovery
 * (recovery.c).  Freed only at shutdown.
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
	struct osd_list waiting;	/* primary: ops until it is active */

	/* the interval: what a change of makes the primary peer again */
	bool up[BS_PLACE_MAX_SIZE];
	uint64_t up_from[BS_PLACE_MAX_SIZE];
	bool interval_changed;

	/* any role: store mutations in flight, and who waits for none */
	unsigned n_inflight;
	struct osd_list drain_waiters;	/* replica queries (osd_op) */
	bool self_probe_wait;		/* primary's own listing waits */

	/* primary: peering (peering.c) */
	enum pg_pstate pstate;
	unsigned gen;			/* bumped by each peering */
	uint64_t peer_epoch;		/* the activation it peers for */
	struct pg_peer *peers;
	unsigned n_peers;
	unsigned pending;		/* requests in flight */
	bool wide_probed;
	uint64_t retry_ms;		/* peer again at (0: no) */
	struct pg_info info;		/* merged; what members persist */
	uint64_t les_max;
	struct bs_past_interval *piv;	/* since the last clean */
	size_t n_piv;
	int32_t wait_osd;		/* PGS_DOWN: an OSD it waits for */
	uint64_t wait_epoch;		/* PGS_DOWN: that interval from */

	/* primary: recovery (recovery.c) */
	struct pg_miss **miss_tab;
	size_t miss_nb, n_miss;
	struct osd_list miss_queue;	/* idle entries */
	struct osd_list rlink;		/* osd->rec_pgs while it has work */
	bool clean, clean_sent;
	uint64_t backfill_mask;		/* W peers new since the last clean */
	uint64_t ec_stale;		/* W peers with another slot's shards */
	uint64_t objects, bytes;	/* decided at peering */
	uint64_t n_unfound;
	uint64_t rec_objects, rec_bytes;	/* recovered since activation */
	uint64_t rec_rate_objects, rec_rate_bytes;	/* per second */
	uint64_t rec_last_objects, rec_last_bytes, rec_last_ms;

	/* primary: scrub (scrub.c) */
	struct scrub *scrub;

	/* erasure-coded pool: slot i of acting holds shard i (ec.c) */
	bool erasure;
	struct bs_ec ec;
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
	OP_WAIT_REC,		/* primary: in a pg_miss's waiters */
	OP_WAIT_DRAIN,		/* replica query: in pg->drain_waiters */
	OP_WAIT_WORK,		/* a peer/install request in progress */
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
	/* erasure: this member's shard range (data NULL: the op's own) */
	uint64_t off, len;
	const uint8_t *data;
	bool zero;			/* erasure: all zeros, sent as a discard */
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
	void (*resume)(struct osd_op *op);	/* re-entered after waits */
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
	bool counted;			/* in pg->n_inflight */
	bool aborted;			/* its interval ended: EAGAIN */
	unsigned bad_reads;		/* reads repaired after -EBADMSG */
	int local_res;
	void *work;			/* peer.c / install.c state */
	bool mutating;			/* counted in obj->nmut */
	bool replied, reply_busy;
	unsigned calls;			/* RepOp calls in flight */
	unsigned n_targets;
	struct rep_target targets[BS_PLACE_MAX_SIZE];
	uint8_t *buf;			/* read data */
	size_t buf_cap;
	struct ec_io *ec;		/* erasure-coded client op (ec.c) */
	/* erasure: the object's ec_meta.c blob after the op (borrowed) */
	const uint8_t *ec_meta;
	size_t ec_meta_len;
	uint8_t ec_key[17];		/* EC_META_KEY_LEN */
	struct ec_undo *undo;		/* EC shard write (ec_undo.c) */
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
	struct bs_map_history hist;	/* placement of past epochs */
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

	/* background store ops (recovery, scrub, strays): drained at stop */
	unsigned bg_ops;

	/* recovery.c */
	struct osd_list rec_pgs;	/* PGs with idle missing objects */
	struct bs_task rec_task;	/* recovery_kick() on the next turn */
	unsigned rec_active;		/* background object recoveries */
	int64_t rec_tokens;		/* bytes it may copy now */
	uint64_t rec_refill_ms, rec_scan_ms;

	/* peer.c: strays and per-PG counts */
	struct pwork *removals;		/* stray PGs being removed */
	uint64_t next_stray_ms, next_stats_ms;
	struct store_pg_stat *stats;	/* store_pg_stats(), sorted */
	size_t n_stats;

	/* scrub.c */
	uint64_t next_scrub_ms;
	unsigned bg_scrubs;

	struct bs_ratelimit rl;
	const uint8_t *zeros;		/* STORE_MAX_OBJECT_SIZE of zeros */
	struct bs_ec_ctx *ec_ctx;	/* decode tables (ec.c) */
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
void osd_bg_done(struct osd *osd);
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
/* bs_release_fn for zero-copy replies: the reply's data left the op. */
void op_reply_released(void *opaque);
/*
 * Reply to @op with @data sent from the op's own buffers (zero copy).  The
 * op settles first, as @release may run inside the reply, and is freed
 * once @release (op_reply_released, or one that calls op_maybe_free) ran.
 */
void op_reply_zc(struct osd_op *op, uint16_t type,
		 const ProtobufCMessage *body, const struct iovec *data,
		 unsigned ndata, bs_release_fn *release);
/* Replied: leave every list, release the object (no free yet). */
void op_settle(struct osd_op *op);
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
void op_local_uncount(struct osd_op *op);
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
bool pg_can_serve(const struct pg *pg);
bool pg_has_member(const struct pg *pg, int32_t osd);
void pg_wait_members(struct pg *pg, struct osd_op *op);
void pg_fail_waiting(struct osd *osd, int neg_errno, const char *why);
void pg_resume_waiting(struct pg *pg);
void pg_inflight_inc(struct pg *pg);
void pg_inflight_dec(struct osd *osd, struct pg *pg);
struct pg *pg_find(struct osd *osd, uint32_t pool, uint32_t pgid);
struct pg *pg_lookup(struct osd *osd, uint32_t pool, uint32_t pgid);
bool pg_is_active(const struct pg *pg);
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
void query_pg_state(struct osd *osd, struct bs_conn *conn,
		    struct bs_msg *msg);
void query_locate(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg);

/* pginfo.c: per-PG blobs and the member's listing */
void pg_info_release(struct pg_info *info);
void pg_info_copy(struct pg_info *dst, const struct pg_info *src);
int pg_info_load(struct osd *osd, uint32_t pool, uint32_t pg,
		 struct pg_info *info);
uint8_t *pg_info_pack(const struct pg_info *info, size_t *len);
void pg_info_to_msg(const struct pg_info *info, Bs__PgInfo *m,
		    Bs__PgInterval **ivp, Bs__PgInterval *iv,
		    int32_t *members);
void pg_info_from_msg(struct pg_info *info, const Bs__PgInfo *m);
void pg_info_add_interval(struct pg_info *info, uint64_t activation,
			  const int32_t *members, unsigned n);
void pg_claim_key(uint8_t *key, uint64_t volume, uint64_t objnum);
void pg_claim_val(uint8_t *val, uint64_t version, bool deleted);
int pg_list_entries(struct osd *osd, uint32_t pool, uint32_t pg,
		    bool has_after, uint64_t after_vol, uint64_t after_obj,
		    size_t max, struct pg_entry **out, size_t *n, bool *more);
uint64_t osd_wall_us(void);
unsigned pg_slot_load(struct osd *osd, uint32_t pool, uint32_t pg);

/* decide.c: peering's decision, pure logic */
struct pg_decision {
	uint64_t volume, objnum;
	uint64_t version;	/* authoritative (deleted: the removal's) */
	uint64_t size;
	bool deleted;		/* the object must not exist */
	uint64_t need;		/* members (peer bits) lacking it */
	uint64_t have;		/* OSDs holding @version */
	uint64_t rollback;	/* EC: members to roll back to @version */
};
/* Erasure-coded PGs: k shards of one version decode (pg_peer.slot). */
struct pg_ec_rule {
	unsigned k, slots, min_size;
};
typedef void pg_decide_fn(void *opaque, const struct pg_decision *d);
void pg_decide_candidates(struct pg_peer *peers, unsigned n);

/* Why a PG must wait (pg_decide_blocked). */
struct pg_block {
	int32_t osd;			/* a member it waits for */
	uint64_t epoch;			/* that interval's first epoch */
	bool retry;			/* some member is up: ask again */
};

/*
 * May peering go on?  Every interval of @iv (the past intervals) that
 * may have taken writes and ends at or after @from (the newest last
 * clean or les the asked OSDs report: older intervals were settled by
 * that activation) needs @k members (1 for a replicated PG, k for an
 * erasure-coded one), up in the interval, that answered this peering
 * (done in @peers), unless all its other members are lost in @map (osd
 * lost, or removed).  Returns true and fills @out for the newest
 * interval that has too few; false when the PG may activate.
 */
bool pg_decide_blocked(const struct bs_past_interval *iv, size_t n,
		       uint64_t from, unsigned k, const struct pg_peer *peers,
		       unsigned n_peers, const struct bs_osdmap *map,
		       struct pg_block *out);
void pg_decide_objects(const struct pg_peer *peers, unsigned n,
		       uint64_t activation, pg_decide_fn *fn, void *opaque);
void pg_decide_objects_ec(const struct pg_peer *peers, unsigned n,
			  uint64_t activation, const struct pg_ec_rule *ec,
			  pg_decide_fn *fn, void *opaque);

/* peering.c (primary) */
void peering_start(struct osd *osd, struct pg *pg);
void peering_stop(struct osd *osd, struct pg *pg);
void peering_drained(struct osd *osd, struct pg *pg);
void peering_tick(struct osd *osd, uint64_t now_ms);
void peering_check_clean(struct osd *osd, struct pg *pg);
int pg_peer_index(const struct pg *pg, int32_t osd);
uint64_t pg_w_mask(const struct pg *pg);
void peering_handle_stray(struct osd_op *op);

/* peer.c (any member: requests of peering, strays) */
void peer_handle(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg);
void peer_drained(struct osd *osd, struct pg *pg);
void peer_fence(struct osd *osd, struct pg *pg, uint64_t activation);
void peer_tick(struct osd *osd, uint64_t now_ms);
void peer_clean_local(struct osd *osd, uint32_t pool, uint32_t pg,
		      uint64_t last_clean);
const struct store_pg_stat *peer_pg_stat(struct osd *osd, uint32_t pool,
					 uint32_t pg);

/* install.c: put a whole object in place (recovery's write side) */
struct install;
typedef void install_fn(struct install *in, int res);
struct install_range {
	uint64_t off, len;
	const uint8_t *data;
};
struct install {
	struct osd *osd;
	struct store_oid oid;
	uint64_t version, size;
	bool deleted;
	const struct install_range *ranges;
	size_t n_ranges;
	/*
	 * Erasure-coded: the object's record at @version (ec_meta.c), put
	 * with the final piece (borrowed; NULL: keep ours); a deletion
	 * drops ours.
	 */
	bool ec;
	const void *ec_meta;
	size_t ec_meta_len;
	install_fn *fn;
	/* private */
	unsigned step;
	bool exists;
	void *run;
	struct store_op sop;
	uint8_t claim_key[PG_CLAIM_KEY_LEN];
	uint8_t ec_key[17];		/* EC_META_KEY_LEN */
};
void install_start(struct install *in);
void install_push(struct osd_op *op);
void install_pull(struct osd_op *op);
int install_read_ranges(struct osd *osd, const struct store_oid *oid,
			uint64_t size, uint64_t (**ranges)[2], size_t *n);

/* recovery.c (primary) */
struct pg_miss *pg_miss_find(struct pg *pg, uint64_t volume,
			     uint64_t objnum);
struct pg_miss *pg_miss_add(struct pg *pg, uint64_t volume, uint64_t objnum);
void pg_miss_clear(struct osd *osd, struct pg *pg);
void recovery_queue(struct osd *osd, struct pg *pg, struct pg_miss *m);
void recovery_wait(struct osd_op *op, struct pg_miss *m);
void recovery_kick(struct osd *osd);
void recovery_kick_later(struct osd *osd);
void recovery_tick(struct osd *osd, uint64_t now_ms);
void recovery_repair_self(struct osd_op *op, uint64_t version,
			  uint64_t size);
void recovery_shard_bad(struct osd *osd, struct pg *pg,
			const struct store_oid *oid, int32_t member,
			uint64_t version);

/* scrub.c */
void scrub_handle(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg);
void scrub_member_map(struct osd_op *op);
void scrub_tick(struct osd *osd, uint64_t now_ms);
void scrub_abort(struct osd *osd, struct pg *pg);

/* heartbeat.c */
void heartbeat_want_begin(struct osd *osd);
void heartbeat_want(struct osd *osd, int32_t id);
void heartbeat_tick(struct osd *osd, uint64_t now_ms);
void heartbeat_release(struct osd *osd);
void heartbeat_conn_closed(struct osd *osd, struct bs_conn *conn);
uint32_t pg_state_flags(const struct pg *pg);
const char *pg_state_name(uint32_t flags, char *buf, size_t len);
uint64_t pg_objects(struct osd *osd, const struct pg *pg);
uint64_t pg_degraded(struct osd *osd, const struct pg *pg);

/*
 * ec.c: rebuild shards of one object for recovery.  Reads [0, len) of the
 * shards in @sources (k of them, all at @version) and decodes those in
 * @want into buf[slot]; then fn(f, res).  bufs are freed by
 * ec_fetch_release().
 */
struct ec_fetch;
typedef void ec_fetch_fn(struct ec_fetch *f, int res);
struct ec_fetch_sub {
	struct ec_fetch *f;
	unsigned slot;
	struct store_op sop;
};
struct ec_fetch {
	struct osd *osd;
	struct pg *pg;
	struct store_oid oid;
	uint64_t version, len;
	uint32_t sources, want;		/* slots */
	int32_t src[BS_EC_MAX_SHARDS];	/* the OSD read for each source */
	uint8_t *buf[BS_EC_MAX_SHARDS];
	ec_fetch_fn *fn;
	bool want_meta;			/* also a source's ec_meta.c record */
	uint32_t bad;			/* result: sources that failed */
	uint32_t corrupt;		/* of them: a bad checksum */
	void *meta;			/* result: that record, malloc'ed */
	size_t meta_len;
	/* private */
	unsigned pending;
	int res;
	struct ec_fetch_sub sub[BS_EC_MAX_SHARDS];
};
void ec_fetch_start(struct ec_fetch *f);
void ec_fetch_release(struct ec_fetch *f);
int ec_slot_of(const struct pg *pg, int32_t osd);
int ec_holder_slot(const struct pg *pg, unsigned peer);
unsigned ec_shards_usable(struct osd *osd, const struct pg *pg,
			  const struct pg_miss *m);

/* ec.c: client ops of erasure-coded PGs on the primary, shard reads */
void ec_primary_start(struct osd_op *op);
void ec_check(struct osd_op *op);
void ec_member_read(struct osd_op *op);
void ec_release(struct osd *osd);
void ec_op_free(struct osd_op *op);

/*
 * ec_meta.c: the logical size and 4 KiB block allocation of an
 * erasure-coded object, kept by every member as a per-PG blob written
 * with its shard.
 */
#define EC_META_KEY_LEN		17
#define EC_META_HDR_LEN		24
#define EC_META_BLOCK		4096u
#define EC_META_MAX_BLOCKS	(STORE_MAX_OBJECT_SIZE / EC_META_BLOCK)
#define EC_META_MAX_LEN		(EC_META_HDR_LEN + EC_META_MAX_BLOCKS / 8)
struct ec_meta {
	uint64_t version;
	uint64_t size;			/* logical: end of the highest write */
	uint8_t map[EC_META_MAX_BLOCKS / 8];	/* bit per block: data */
};
void ec_meta_key(const struct store_oid *oid, uint8_t key[EC_META_KEY_LEN]);
/* Decode (and check) a blob into @m (NULL: only check); -EINVAL if bad. */
int ec_meta_decode(const void *val, size_t len, struct ec_meta *m);
/* Encode into @out (EC_META_MAX_LEN bytes); returns the length. */
size_t ec_meta_encode(const struct ec_meta *m, uint8_t *out);
/*
 * Our blob of @oid if it describes @version (0), else -ENOENT, -ESTALE or
 * -EINVAL.  Blocks on RocksDB (a point read, usually from its memtable).
 */
int ec_meta_load(struct osd *osd, const struct store_oid *oid,
		 uint64_t version, struct ec_meta *m);
/* 0 if @val is a sound blob that describes @version; -EINVAL, -ESTALE. */
int ec_meta_check(const void *val, size_t len, uint64_t version);
/* Our blob of @oid as stored (*val malloc'ed) if it describes @version. */
int ec_meta_get(struct osd *osd, const struct store_oid *oid,
		uint64_t version, void **val, size_t *len);
/* The effect of a client mutation on the logical object (not DELETE). */
void ec_meta_apply(struct ec_meta *m, unsigned kind, uint32_t flags,
		   uint64_t off, uint64_t len);
/* Ranges of data in [@off, +@len), merged, at most @max; returns count. */
size_t ec_meta_extents(const struct ec_meta *m, uint64_t off, uint64_t len,
		       uint64_t (*ranges)[2], size_t max);
/* Put (@val) or delete (NULL) @op's blob in the batch of op->sop's next op. */
void ec_meta_attach(struct osd_op *op, const void *val, size_t len);

/*
 * ec_undo.c: shard writes that keep an undo record (docs/erasure-coding.md
 * "Crash consistency"), and roll-backs with it.  ec_shard_write() and
 * ec_shard_delete() use op->sop and call @done with it, as store_write()
 * would; @data is borrowed until then, and NULL discards the range (a
 * shard of zeros, kept a hole).
 */
#define EC_UNDO_HDR_LEN		48
#define EC_UNDO_MAGIC		0x4f444e55u	/* "UNDO" little-endian */
struct ec_undo_rec {
	uint64_t version;		/* the write's */
	uint64_t prev;			/* before it (0: none) */
	uint64_t off, len;		/* the shard range it wrote */
	uint64_t nbytes;		/* old bytes kept: [off, +nbytes) */
	const uint8_t *bytes;
	const uint8_t *meta;		/* the ec_meta.c record of prev ... */
	size_t meta_len;		/* ... if it had one (0: none) */
};
struct ec_rollback_ent {
	uint64_t volume, objnum;
	uint64_t prev;			/* the version to go back to */
};
struct ec_rollback;
typedef void ec_rollback_fn(struct ec_rollback *rb, int res);
struct ec_rollback {
	struct osd *osd;
	uint32_t pool, pg;
	const struct ec_rollback_ent *ent;
	size_t n;
	ec_rollback_fn *fn;
	/* results and private */
	size_t pos, done;
	uint64_t from;
	struct store_op sop;
	uint8_t key[PG_CLAIM_KEY_LEN];
	uint8_t ekey[EC_META_KEY_LEN];
	void *val;
	uint8_t *buf;
};
void ec_undo_key(uint8_t *key, uint64_t volume, uint64_t objnum);
int ec_undo_parse(const void *val, size_t vlen, struct ec_undo_rec *r);
void ec_shard_write(struct osd_op *op, uint64_t off, uint64_t len,
		    const void *data, uint64_t version, store_op_fn *done);
void ec_shard_delete(struct osd_op *op, store_op_fn *done);
void ec_undo_free(struct osd_op *op);
/* Roll rb->ent back in order; rb->fn(rb, res) may run before it returns. */
void ec_rollback_start(struct ec_rollback *rb);
void ec_rollback_handle(struct osd_op *op);
void ec_shard_read_handle(struct osd *osd, struct bs_conn *conn,
			  struct bs_msg *msg);

/* bufpool.c */
void *osd_buf_get(struct osd *osd, size_t len, size_t *cap);
void osd_buf_put(struct osd *osd, void *buf, size_t cap);
void osd_buf_release(struct osd *osd);

#endif /* BS_OSD_OSD_H */
