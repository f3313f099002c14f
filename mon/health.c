// SPDX-License-Identifier: Apache-2.0
/*
 * Cluster health (health.h): which report describes each PG, the
 * ClusterStatus with its checks, PG state counts, usage and recovery,
 * the `pg ls` listing and the `osd rm` safety rule.  Every message built
 * here is heap-allocated field by field, so protobuf-c's free_unpacked
 * frees it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs/compiler.h"
#include "bs/error.h"
#include "health.h"

enum sev {
	SEV_OK,
	SEV_WARN,
	SEV_ERR,
};

static const char *const sev_names[] = {
	[SEV_OK] = "HEALTH_OK",
	[SEV_WARN] = "HEALTH_WARN",
	[SEV_ERR] = "HEALTH_ERR",
};

static char *xstr(const char *s)
{
	return bs_xstrdup(s);
}

static char *BS_PRINTF(1, 2) xfmt(const char *fmt, ...)
{
	char buf[BS_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return xstr(buf);
}

/* ---- PG state names ---- */

/* clang-format off */
static const struct {
	uint32_t flag;
	const char *name;
} flag_names[] = {	/* in the order Ceph prints them */
	{ BS__PG_STATE_FLAG__PG_ACTIVE, "active" },
	{ BS__PG_STATE_FLAG__PG_CLEAN, "clean" },
	{ BS__PG_STATE_FLAG__PG_PEERING, "peering" },
	{ BS__PG_STATE_FLAG__PG_RECOVERING, "recovering" },
	{ BS__PG_STATE_FLAG__PG_BACKFILLING, "backfilling" },
	{ BS__PG_STATE_FLAG__PG_UNDERSIZED, "undersized" },
	{ BS__PG_STATE_FLAG__PG_DEGRADED, "degraded" },
	{ BS__PG_STATE_FLAG__PG_INACTIVE, "inactive" },
	{ BS__PG_STATE_FLAG__PG_DOWN, "down" },
};
/* clang-format on */

const char *health_pg_flags_name(uint32_t flags, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; i < ARRAY_SIZE(flag_names) && off < len; i++) {
		if (!(flags & flag_names[i].flag))
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off ? "+" : "",
				flag_names[i].name);
	}
	if (!buf[0])
		snprintf(buf, len, "inactive");
	return buf;
}

const char *health_pg_state(const struct health_pg *p, char *buf,
			    size_t len)
{
	switch (p->kind) {
	case HEALTH_PG_REPORTED:
		return health_pg_flags_name(p->stat->state, buf, len);
	case HEALTH_PG_UNKNOWN:
		snprintf(buf, len, "unknown");
		return buf;
	default:
		snprintf(buf, len, "inactive");
		return buf;
	}
}

/* ---- which report describes each PG ---- */

static long pool_index(const Bs__ClusterMap *map, uint32_t id)
{
	size_t lo = 0, hi = map->n_pools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->pools[mid]->id < id)
			lo = mid + 1;
		else if (map->pools[mid]->id > id)
			hi = mid;
		else
			return (long)mid;
	}
	return -1;
}

static void take_report(struct health_pg *p, const struct osdmon_osd *rec,
			const Bs__PgStat *s, uint64_t now_ms)
{
	const Bs__OsdBeacon *b = rec->beacon;
	uint64_t age = now_ms - rec->beacon_ms;
	size_t i;

	if (p->stat && (b->epoch < p->reported_epoch ||
			(b->epoch == p->reported_epoch && age >= p->age_ms)))
		return;
	p->kind = HEALTH_PG_REPORTED;
	p->stat = s;
	p->reporter = (int32_t)rec->id;
	p->primary = (int32_t)rec->id;
	p->reported_epoch = b->epoch;
	p->age_ms = age;
	p->n_acting = 0;
	for (i = 0; i < s->n_acting && i < BS_PLACE_MAX_SIZE; i++)
		p->acting[p->n_acting++] = s->acting[i];
}

static void place_unreported(struct health_pg *p,
			     const struct bs_osdmap *osdmap)
{
	const struct bs_osdmap_pool *pool;
	int n, primary;

	p->kind = HEALTH_PG_UNKNOWN;
	if (!osdmap)
		return;
	pool = bs_osdmap_pool(osdmap, p->pool->id);
	if (!pool)
		return;
	n = bs_osdmap_pg_acting(osdmap, pool, p->pg, p->acting);
	p->n_acting = n > 0 ? (unsigned)n : 0;
	primary = bs_osdmap_pg_primary(osdmap, pool, p->pg);
	p->primary = primary >= 0 ? primary : -1;
	if (p->primary < 0)
		p->kind = HEALTH_PG_INACTIVE;
}

void health_pgs_collect(struct health_pgs *out, const struct osdmon *om,
			const Bs__ClusterMap *map,
			const struct bs_osdmap *osdmap,
			const Bs__PoolInfo *only_pool, uint64_t now_ms)
{
	size_t *base = bs_xcalloc(map->n_pools + 1, sizeof(*base));
	size_t i, j, n = 0;

	for (i = 0; i < map->n_pools; i++) {
		base[i] = n;
		if (!only_pool || map->pools[i]->id == only_pool->id)
			n += map->pools[i]->pg_num;
	}
	out->n = n;
	out->pgs = bs_xcalloc(n + 1, sizeof(*out->pgs));
	for (i = 0; i < map->n_pools; i++) {
		const Bs__PoolInfo *pool = map->pools[i];

		if (only_pool && pool->id != only_pool->id)
			continue;
		for (j = 0; j < pool->pg_num; j++) {
			struct health_pg *p = &out->pgs[base[i] + j];

			p->pool = pool;
			p->pg = (uint32_t)j;
			p->reporter = -1;
			p->primary = -1;
		}
	}
	for (i = 0; om && i < om->n_osds; i++) {
		const struct osdmon_osd *rec = &om->osds[i];
		const Bs__OsdBeacon *b = osdmon_fresh_beacon(om, rec, now_ms);

		for (j = 0; b && j < b->n_pgs; j++) {
			const Bs__PgStat *s = b->pgs[j];
			long pi = pool_index(map, s->pool);

			if (pi < 0 || s->pg >= map->pools[pi]->pg_num ||
			    (only_pool && s->pool != only_pool->id))
				continue;
			take_report(&out->pgs[base[pi] + s->pg], rec, s,
				    now_ms);
		}
	}
	/* no OSD at all (a cluster being built): unknown, not inactive */
	for (i = 0; i < n; i++)
		if (!out->pgs[i].stat)
			place_unreported(&out->pgs[i],
					 map->n_osds ? osdmap : NULL);
	free(base);
}

void health_pgs_release(struct health_pgs *p)
{
	free(p->pgs);
	p->pgs = NULL;
	p->n = 0;
}

/* ---- checks ---- */

struct checks {
	Bs__HealthCheck **v;
	enum sev *sev;
	unsigned *omitted;	/* detail lines left out */
	size_t n;
	enum sev worst;
};

static Bs__HealthCheck *BS_PRINTF(4, 5)
check_new(struct checks *c, enum sev sev, const char *code,
	  const char *fmt, ...)
{
	char buf[BS_ERROR_MSG_MAX];
	Bs__HealthCheck *h = bs_xmalloc(sizeof(*h));
	va_list ap;

	bs__health_check__init(h);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	h->code = xstr(code);
	h->severity = xstr(sev_names[sev]);
	h->message = xstr(buf);
	c->v = bs_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->sev = bs_xrealloc(c->sev, (c->n + 1) * sizeof(*c->sev));
	c->omitted = bs_xrealloc(c->omitted, (c->n + 1) * sizeof(*c->omitted));
	c->v[c->n] = h;
	c->sev[c->n] = sev;
	c->omitted[c->n] = 0;
	c->n++;
	if (sev > c->worst)
		c->worst = sev;
	return h;
}

/* Add a detail line to the last check. */
static void BS_PRINTF(2, 3) detail(struct checks *c, const char *fmt, ...)
{
	Bs__HealthCheck *h = c->v[c->n - 1];
	char buf[BS_ERROR_MSG_MAX];
	va_list ap;

	if (h->n_detail >= HEALTH_MAX_DETAIL) {
		c->omitted[c->n - 1]++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	h->detail = bs_xrealloc(h->detail, (h->n_detail + 1) *
				sizeof(*h->detail));
	h->detail[h->n_detail++] = xstr(buf);
}

/* Close the checks: "and N more" lines, worst first. */
static void checks_finish(struct checks *c, Bs__ClusterStatus *st)
{
	size_t i, k = 0;
	int s;

	for (i = 0; i < c->n; i++) {
		Bs__HealthCheck *h = c->v[i];

		if (!c->omitted[i])
			continue;
		h->detail = bs_xrealloc(h->detail, (h->n_detail + 1) *
					sizeof(*h->detail));
		h->detail[h->n_detail++] = xfmt("... and %u more",
						c->omitted[i]);
	}
	st->checks = bs_xcalloc(c->n + 1, sizeof(*st->checks));
	for (s = SEV_ERR; s > SEV_OK; s--)
		for (i = 0; i < c->n; i++)
			if (c->sev[i] == (enum sev)s)
				st->checks[k++] = c->v[i];
	st->n_checks = k;
	st->health = xstr(sev_names[c->worst]);
	free(c->v);
	free(c->sev);
	free(c->omitted);
}

static void check_mons(struct checks *c, const struct health_mons *m,
		       Bs__ClusterStatus *st)
{
	unsigned i, out = 0;
	char names[BS_ERROR_MSG_MAX] = "";
	size_t off = 0;

	st->mon_id = m->self_id;
	st->from_leader = m->from_leader;
	st->leader_id = m->leader_id;
	st->term = m->term;
	st->num_mons = m->n;
	if (!m->from_leader) {
		if (m->leader_id < 0)
			check_new(c, SEV_ERR, "MON_QUORUM",
				  "no quorum: mon.%u knows no leader; changes are refused and what is shown may be old",
				  m->self_id);
		else
			check_new(c, SEV_WARN, "MON_LEADER",
				  "the leader mon.%d did not answer; no pg stats",
				  m->leader_id);
		return;
	}
	st->quorum = bs_xcalloc(m->n + 1, sizeof(*st->quorum));
	for (i = 0; i < m->n && i < HEALTH_MAX_MONS; i++) {
		if (m->in_quorum[i]) {
			st->quorum[st->n_quorum++] = m->ids[i];
			continue;
		}
		out++;
		if (off < sizeof(names))
			off += snprintf(names + off, sizeof(names) - off,
					"%smon.%u", out > 1 ? ", " : "",
					m->ids[i]);
	}
	if (out == 1)
		check_new(c, SEV_WARN, "MON_DOWN", "%s out of quorum", names);
	else if (out)
		check_new(c, SEV_WARN, "MON_DOWN", "%u mons out of quorum (%s)",
			  out, names);
}

static void check_osds(struct checks *c, const struct osdmon *om,
		       const Bs__ClusterMap *map, const struct health_conf *hc,
		       uint64_t now_ms, Bs__ClusterStatus *st)
{
	unsigned down_in = 0, nearfull = 0, full = 0;
	size_t i;

	for (i = 0; i < map->n_osds; i++) {
		const Bs__OsdInfo *o = map->osds[i];

		st->osds_total++;
		st->osds_up += o->up;
		st->osds_in += o->in;
		down_in += !o->up && o->in;
	}
	if (down_in) {
		check_new(c, SEV_WARN, "OSD_DOWN", "%u osds down", down_in);
		for (i = 0; i < map->n_osds; i++) {
			const Bs__OsdInfo *o = map->osds[i];

			if (!o->up && o->in)
				detail(c, "osd.%u (host %s) is down", o->id,
				       *o->host ? o->host : "?");
		}
	}
	for (i = 0; om && i < om->n_osds; i++) {
		const Bs__OsdBeacon *b = osdmon_fresh_beacon(om, &om->osds[i],
							     now_ms);

		if (!b)
			continue;
		st->capacity += b->capacity;
		st->used += b->used;
		if (!b->capacity)
			continue;
		/* used / capacity >= pct / 100, without overflow */
		if ((double)b->used * 100.0 >=
		    (double)hc->full_pct * (double)b->capacity)
			full++;
		else if ((double)b->used * 100.0 >=
			 (double)hc->nearfull_pct * (double)b->capacity)
			nearfull++;
	}
	for (int pass = 0; pass < 2; pass++) {
		unsigned count = pass ? nearfull : full;

		if (!count)
			continue;
		if (pass)
			check_new(c, SEV_WARN, "OSD_NEARFULL",
				  "%u osds near full (%u%% or more used)",
				  count, hc->nearfull_pct);
		else
			check_new(c, SEV_ERR, "OSD_FULL",
				  "%u osds full (%u%% or more used): writes will fail",
				  count, hc->full_pct);
		for (i = 0; i < om->n_osds; i++) {
			const Bs__OsdBeacon *b =
				osdmon_fresh_beacon(om, &om->osds[i], now_ms);
			double pct;

			if (!b || !b->capacity)
				continue;
			pct = 100.0 * (double)b->used / (double)b->capacity;
			if (pass ? (pct >= hc->nearfull_pct &&
				    pct < hc->full_pct) :
				   pct >= hc->full_pct)
				detail(c, "osd.%u is %.1f%% full", b->id, pct);
		}
	}
}

struct state_count {
	char name[96];
	uint64_t count;
};

static int state_count_cmp(const void *a, const void *b)
{
	const struct state_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void pg_id(const struct health_pg *p, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%x", p->pool->id, p->pg);
}

static void acting_str(const struct health_pg *p, char *buf, size_t len)
{
	size_t off = 0;
	unsigned i;

	off += snprintf(buf, len, "[");
	for (i = 0; i < p->n_acting && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%d", i ? "," : "",
				p->acting[i]);
	if (off < len)
		snprintf(buf + off, len - off, "]");
}

static void count_pgs(const struct health_pgs *pgs, Bs__ClusterStatus *st)
{
	struct state_count *sc = NULL;
	size_t n_sc = 0, i, k;
	char name[96];

	st->pgs_total = pgs->n;
	for (i = 0; i < pgs->n; i++) {
		const struct health_pg *p = &pgs->pgs[i];
		const Bs__PgStat *s = p->stat;

		health_pg_state(p, name, sizeof(name));
		for (k = 0; k < n_sc; k++)
			if (!strcmp(sc[k].name, name))
				break;
		if (k == n_sc) {
			sc = bs_xrealloc(sc, (n_sc + 1) * sizeof(*sc));
			snprintf(sc[k].name, sizeof(sc[k].name), "%s", name);
			sc[k].count = 0;
			n_sc++;
		}
		sc[k].count++;
		if (p->kind == HEALTH_PG_UNKNOWN) {
			st->pgs_unknown++;
			continue;
		}
		if (p->kind == HEALTH_PG_INACTIVE) {
			st->pgs_inactive++;
			continue;
		}
		if ((s->state & BS__PG_STATE_FLAG__PG_ACTIVE) &&
		    (s->state & BS__PG_STATE_FLAG__PG_CLEAN))
			st->pgs_active_clean++;
		st->pgs_degraded +=
			!!(s->state & BS__PG_STATE_FLAG__PG_DEGRADED);
		st->pgs_recovering +=
			!!(s->state & BS__PG_STATE_FLAG__PG_RECOVERING);
		st->pgs_undersized +=
			!!(s->state & BS__PG_STATE_FLAG__PG_UNDERSIZED);
		st->pgs_backfilling +=
			!!(s->state & BS__PG_STATE_FLAG__PG_BACKFILLING);
		if (s->state & BS__PG_STATE_FLAG__PG_PEERING)
			st->pgs_peering++;
		else if (s->state & BS__PG_STATE_FLAG__PG_DOWN)
			st->pgs_down++;
		else if (!(s->state & BS__PG_STATE_FLAG__PG_ACTIVE))
			st->pgs_inactive++;
		st->objects_unfound += s->unfound;
		st->objects += s->objects;
		st->bytes += s->bytes;
		st->object_copies += s->objects * p->pool->size;
		st->objects_degraded += s->objects_degraded;
		st->objects_misplaced += s->objects_misplaced;
		st->recovery_bytes_per_sec += s->recovery_bytes_per_sec;
		st->recovery_objects_per_sec += s->recovery_objects_per_sec;
	}
	if (n_sc)
		qsort(sc, n_sc, sizeof(*sc), state_count_cmp);
	st->pg_states = bs_xcalloc(n_sc + 1, sizeof(*st->pg_states));
	for (k = 0; k < n_sc; k++) {
		Bs__PgStateCount *c = bs_xmalloc(sizeof(*c));

		bs__pg_state_count__init(c);
		c->state = xstr(sc[k].name);
		c->count = sc[k].count;
		st->pg_states[k] = c;
	}
	st->n_pg_states = n_sc;
	free(sc);
}

/*
 * Is @p one the check of @kind lists?  0 inactive, 1 degraded, 2
 * peering, 3 unknown.
 */
static bool pg_matches(const struct health_pg *p, int kind)
{
	uint32_t f = p->stat ? p->stat->state : 0;

	if (kind == 0)
		return p->kind == HEALTH_PG_INACTIVE ||
		       (p->kind == HEALTH_PG_REPORTED &&
			!(f & (BS__PG_STATE_FLAG__PG_ACTIVE |
			       BS__PG_STATE_FLAG__PG_PEERING |
			       BS__PG_STATE_FLAG__PG_DOWN)));
	if (kind == 1)
		return p->kind == HEALTH_PG_REPORTED &&
		       (f & (BS__PG_STATE_FLAG__PG_DEGRADED |
			     BS__PG_STATE_FLAG__PG_UNDERSIZED));
	if (kind == 2)
		return p->kind == HEALTH_PG_REPORTED &&
		       (f & BS__PG_STATE_FLAG__PG_PEERING);
	return p->kind == HEALTH_PG_UNKNOWN;
}

static void pg_details(struct checks *c, const struct health_pgs *pgs,
		       int kind)
{
	char id[32], state[96], acting[BS_PLACE_MAX_SIZE * 12];
	size_t i;

	for (i = 0; i < pgs->n; i++) {
		const struct health_pg *p = &pgs->pgs[i];

		if (!pg_matches(p, kind))
			continue;
		pg_id(p, id, sizeof(id));
		health_pg_state(p, state, sizeof(state));
		acting_str(p, acting, sizeof(acting));
		detail(c, "pg %s is %s, acting %s", id, state, acting);
	}
}

/* The PGs that wait for an OSD, and those with unfound objects. */
static void down_details(struct checks *c, const struct health_pgs *pgs,
			 bool unfound)
{
	char id[32];

	for (size_t i = 0; i < pgs->n; i++) {
		const struct health_pg *p = &pgs->pgs[i];
		const Bs__PgStat *s = p->stat;

		if (p->kind != HEALTH_PG_REPORTED)
			continue;
		pg_id(p, id, sizeof(id));
		if (unfound && s->unfound)
			detail(c, "pg %s has %" PRIu64 " unfound objects", id,
			       s->unfound);
		else if (!unfound && (s->state & BS__PG_STATE_FLAG__PG_DOWN))
			detail(c, "pg %s is down: waiting for osd.%d, which may hold writes from epoch %" PRIu64 " (or 'basalt osd lost %d')",
			       id, s->wait_osd, s->wait_epoch, s->wait_osd);
	}
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void check_pgs(struct checks *c, const struct health_pgs *pgs,
		      const Bs__ClusterStatus *st)
{
	if (!st->osds_total) {
		if (st->pgs_total)
			check_new(c, SEV_WARN, "OSD_NONE",
				  "no osds yet: the %" PRIu64
				  " pgs of %u pools cannot store data",
				  st->pgs_total, st->pools);
		return;
	}
	if (st->pgs_inactive) {
		check_new(c, SEV_ERR, "PG_AVAILABILITY",
			  "%" PRIu64 " pgs inactive: their I/O is blocked",
			  st->pgs_inactive);
		pg_details(c, pgs, 0);
	}
	if (st->pgs_down) {
		check_new(c, SEV_ERR, "PG_DOWN",
			  "%" PRIu64 " pgs down: they wait for an osd that may hold their latest writes",
			  st->pgs_down);
		down_details(c, pgs, false);
	}
	if (st->objects_unfound) {
		check_new(c, SEV_ERR, "OBJECT_UNFOUND",
			  "%" PRIu64 " unfound objects", st->objects_unfound);
		down_details(c, pgs, true);
	}
	if (st->pgs_peering) {
		check_new(c, SEV_WARN, "PG_PEERING", "%" PRIu64 " pgs peering",
			  st->pgs_peering);
		pg_details(c, pgs, 2);
	}
	if (st->pgs_unknown) {
		check_new(c, SEV_WARN, "PG_UNKNOWN",
			  "%" PRIu64 " pgs unknown: not reported by their primary yet",
			  st->pgs_unknown);
		pg_details(c, pgs, 3);
	}
	if (st->pgs_degraded || st->pgs_undersized || st->objects_degraded) {
		check_new(c, SEV_WARN, "PG_DEGRADED",
			  "degraded data redundancy: %" PRIu64 "/%" PRIu64
			  " object copies degraded (%.3f%%), %" PRIu64
			  " pgs degraded, %" PRIu64 " pgs undersized",
			  st->objects_degraded, st->object_copies,
			  pct(st->objects_degraded, st->object_copies),
			  st->pgs_degraded, st->pgs_undersized);
		pg_details(c, pgs, 1);
	}
	if (st->objects_misplaced)
		check_new(c, SEV_WARN, "OBJECT_MISPLACED",
			  "%" PRIu64 "/%" PRIu64
			  " object copies misplaced (%.3f%%)",
			  st->objects_misplaced, st->object_copies,
			  pct(st->objects_misplaced, st->object_copies));
}

Bs__ClusterStatus *health_status(const struct osdmon *om,
				 const Bs__ClusterMap *map,
				 const struct bs_osdmap *osdmap,
				 const struct health_mons *mons,
				 const struct health_conf *hc,
				 uint64_t volumes, uint64_t now_ms)
{
	Bs__ClusterStatus *st = bs_xmalloc(sizeof(*st));
	struct checks c = { 0 };
	struct health_pgs pgs;

	bs__cluster_status__init(st);
	st->epoch = map->epoch;
	st->pools = (uint32_t)map->n_pools;
	st->volumes = volumes;
	check_mons(&c, mons, st);
	check_osds(&c, om, map, hc, now_ms, st);
	health_pgs_collect(&pgs, om, map, osdmap, NULL, now_ms);
	count_pgs(&pgs, st);
	check_pgs(&c, &pgs, st);
	health_pgs_release(&pgs);
	checks_finish(&c, st);
	return st;
}

/* ---- pg ls ---- */

static bool acting_has(const struct health_pg *p, uint32_t osd)
{
	unsigned i;

	for (i = 0; i < p->n_acting; i++)
		if (p->acting[i] == (int32_t)osd)
			return true;
	return false;
}

Bs__PgStatList *health_pg_list(const struct health_pgs *pgs,
			       uint64_t epoch, bool from_leader, bool has_osd,
			       uint32_t osd)
{
	Bs__PgStatList *l = bs_xmalloc(sizeof(*l));
	char state[96];
	size_t i;

	bs__pg_stat_list__init(l);
	l->epoch = epoch;
	l->from_leader = from_leader;
	l->pgs = bs_xcalloc(pgs->n + 1, sizeof(*l->pgs));
	for (i = 0; i < pgs->n; i++) {
		const struct health_pg *p = &pgs->pgs[i];
		const Bs__PgStat *s = p->stat;
		Bs__PgStatInfo *in;

		if (has_osd && !acting_has(p, osd))
			continue;
		in = bs_xmalloc(sizeof(*in));
		bs__pg_stat_info__init(in);
		in->pool = p->pool->id;
		in->pool_name = xstr(p->pool->name);
		in->pg = p->pg;
		in->state = xstr(health_pg_state(p, state, sizeof(state)));
		in->n_acting = p->n_acting;
		in->acting = bs_xcalloc(p->n_acting + 1, sizeof(*in->acting));
		memcpy(in->acting, p->acting,
		       p->n_acting * sizeof(*in->acting));
		in->primary = p->primary;
		in->reporter = p->reporter;
		if (s) {
			in->flags = s->state;
			in->objects = s->objects;
			in->bytes = s->bytes;
			in->objects_degraded = s->objects_degraded;
			in->objects_misplaced = s->objects_misplaced;
			in->recovery_bytes_per_sec = s->recovery_bytes_per_sec;
			in->unfound = s->unfound;
			in->last_clean = s->last_clean;
			if (s->state & BS__PG_STATE_FLAG__PG_DOWN) {
				in->wait_osd = s->wait_osd;
				in->wait_epoch = s->wait_epoch;
			}
			in->reported_epoch = p->reported_epoch;
			in->report_age_ms = p->age_ms;
		}
		l->pgs[l->n_pgs++] = in;
	}
	return l;
}

/* ---- map history ---- */

uint64_t health_trim_floor(const struct health_pgs *pgs)
{
	uint64_t floor = UINT64_MAX;

	for (size_t i = 0; i < pgs->n; i++) {
		const struct health_pg *p = &pgs->pgs[i];

		if (p->kind != HEALTH_PG_REPORTED || !p->stat->last_clean)
			return 0;
		floor = BS_MIN(floor, p->stat->last_clean);
	}
	return floor == UINT64_MAX ? 0 : floor;
}

/* ---- osd rm ---- */

int health_rm_check(const struct health_pgs *pgs, uint32_t id,
		    struct bs_error *err)
{
	const uint32_t clean = BS__PG_STATE_FLAG__PG_ACTIVE |
			       BS__PG_STATE_FLAG__PG_CLEAN;
	char pg[32], state[96];
	size_t i;

	for (i = 0; i < pgs->n; i++) {
		const struct health_pg *p = &pgs->pgs[i];

		pg_id(p, pg, sizeof(pg));
		health_pg_state(p, state, sizeof(state));
		if (p->kind != HEALTH_PG_REPORTED)
			return bs_error_set(err, -EBUSY,
					    "osd.%u may hold data: pg %s is %s (no report from its primary); wait until every pg is active+clean, or use --force if the data on osd.%u is not needed",
					    id, pg, state, id);
		if (acting_has(p, id))
			return bs_error_set(err, -EBUSY,
					    "osd.%u is still in the acting set of pg %s (%s); wait for the data to move",
					    id, pg, state);
		if ((p->stat->state & clean) != clean ||
		    (p->stat->state & ~clean))
			return bs_error_set(err, -EBUSY,
					    "osd.%u may hold the only copy of some data: pg %s is %s; wait until every pg is active+clean, or use --force if the data on osd.%u is not needed",
					    id, pg, state, id);
	}
	return 0;
}
