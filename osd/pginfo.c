// SPDX-License-Identifier: Apache-2.0
/*
 * What a member keeps about a PG beside its objects, as per-PG blobs of
 * the store: its info (blob "I", a PgInfo: the last interval it took part
 * in, when the PG was last clean, the intervals since) and one claim per
 * object it lacks ('M' volume objnum -> version, flags: what the primary
 * that activated it decided it must get).  And the member's listing of a
 * PG for peering: objects and claims merged in oid order, a page at a
 * time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "osd.h"

#define PG_PAST_MAX	256	/* intervals kept before merging the oldest */

uint64_t osd_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void pg_info_release(struct pg_info *info)
{
	free(info->past);
	memset(info, 0, sizeof(*info));
}

void pg_info_copy(struct pg_info *dst, const struct pg_info *src)
{
	struct pg_interval *past = NULL;

	if (src->n_past) {
		past = bs_xmalloc(src->n_past * sizeof(*past));
		memcpy(past, src->past, src->n_past * sizeof(*past));
	}
	free(dst->past);
	*dst = *src;
	dst->past = past;
}

/*
 * Add (or, for an activation already there, replace) an interval, keeping
 * activation order.  Past PG_PAST_MAX the two oldest merge into one whose
 * members are both sets (peering then needs one member of the union).
 */
void pg_info_add_interval(struct pg_info *info, uint64_t activation,
			  const int32_t *members, unsigned n)
{
	struct pg_interval *iv;
	unsigned i;

	n = BS_MIN(n, (unsigned)BS_PLACE_MAX_SIZE);
	for (i = 0; i < info->n_past; i++)
		if (info->past[i].activation >= activation)
			break;
	if (i == info->n_past || info->past[i].activation != activation) {
		info->past = bs_xrealloc(info->past,
					 (info->n_past + 1) *
						 sizeof(*info->past));
		memmove(&info->past[i + 1], &info->past[i],
			(info->n_past - i) * sizeof(*info->past));
		info->n_past++;
	}
	iv = &info->past[i];
	iv->activation = activation;
	iv->n = n;
	memcpy(iv->members, members, n * sizeof(*members));
	while (info->n_past > PG_PAST_MAX) {
		struct pg_interval *a = &info->past[0], *b = &info->past[1];

		for (unsigned k = 0; k < a->n; k++) {
			bool dup = false;

			for (unsigned j = 0; j < b->n; j++)
				dup |= b->members[j] == a->members[k];
			if (!dup && b->n < BS_PLACE_MAX_SIZE)
				b->members[b->n++] = a->members[k];
		}
		b->activation = a->activation;
		memmove(&info->past[0], &info->past[1],
			(info->n_past - 1) * sizeof(*info->past));
		info->n_past--;
	}
}

/* Fill @m (and @ivp, @iv: n_past entries, @members: their members). */
void pg_info_to_msg(const struct pg_info *info, Bs__PgInfo *m,
		    Bs__PgInterval **ivp, Bs__PgInterval *iv,
		    int32_t *members)
{
	size_t k = 0;

	bs__pg_info__init(m);
	m->les = info->les;
	m->last_clean = info->last_clean;
	m->last_scrub_us = info->last_scrub_us;
	m->last_deep_scrub_us = info->last_deep_scrub_us;
	m->n_past = info->n_past;
	m->past = ivp;
	for (unsigned i = 0; i < info->n_past; i++) {
		bs__pg_interval__init(&iv[i]);
		iv[i].activation = info->past[i].activation;
		iv[i].n_members = info->past[i].n;
		iv[i].members = &members[k];
		memcpy(&members[k], info->past[i].members,
		       info->past[i].n * sizeof(*members));
		k += info->past[i].n;
		ivp[i] = &iv[i];
	}
}

void pg_info_from_msg(struct pg_info *info, const Bs__PgInfo *m)
{
	memset(info, 0, sizeof(*info));
	if (!m)
		return;
	info->les = m->les;
	info->last_clean = m->last_clean;
	info->last_scrub_us = m->last_scrub_us;
	info->last_deep_scrub_us = m->last_deep_scrub_us;
	for (size_t i = 0; i < m->n_past && i < 4 * PG_PAST_MAX; i++) {
		const Bs__PgInterval *iv = m->past[i];
		int32_t mem[BS_PLACE_MAX_SIZE];
		unsigned n = 0;

		for (size_t j = 0; j < iv->n_members && n < BS_PLACE_MAX_SIZE;
		     j++)
			if (iv->members[j] >= 0 &&
			    iv->members[j] <= OSD_MAX_ID)
				mem[n++] = iv->members[j];
		pg_info_add_interval(info, iv->activation, mem, n);
	}
}

/* The PgInfo encoding of @info (malloc'ed, caller frees). */
uint8_t *pg_info_pack(const struct pg_info *info, size_t *len)
{
	Bs__PgInfo m;
	Bs__PgInterval **ivp, *iv;
	int32_t *members;
	uint8_t *buf;
	size_t n = info->n_past ? info->n_past : 1;

	ivp = bs_xmalloc(n * sizeof(*ivp));
	iv = bs_xmalloc(n * sizeof(*iv));
	members = bs_xmalloc(n * BS_PLACE_MAX_SIZE * sizeof(*members));
	pg_info_to_msg(info, &m, ivp, iv, members);
	*len = bs__pg_info__get_packed_size(&m);
	buf = bs_xmalloc(*len ? *len : 1);
	bs__pg_info__pack(&m, buf);
	free(members);
	free(iv);
	free(ivp);
	return buf;
}

/*
 * Load this OSD's info of PG @pool.@pg (blocking on RocksDB: peering
 * only).  0 and *info set; -ENOENT when none is kept (*info zeroed).
 */
int pg_info_load(struct osd *osd, uint32_t pool, uint32_t pg,
		 struct pg_info *info)
{
	uint8_t key = PG_KEY_INFO;
	Bs__PgInfo *m;
	void *val = NULL;
	size_t vlen = 0;
	int ret;

	memset(info, 0, sizeof(*info));
	ret = store_pg_get(osd->store, pool, pg, &key, 1, &val, &vlen);
	if (ret)
		return ret;
	m = bs__pg_info__unpack(NULL, vlen, val);
	free(val);
	if (!m) {
		bs_err("pg %u.%x: its info does not decode: ignored", pool,
		       pg);
		return -ENOENT;
	}
	pg_info_from_msg(info, m);
	bs__pg_info__free_unpacked(m, NULL);
	return 0;
}

void pg_claim_key(uint8_t *key, uint64_t volume, uint64_t objnum)
{
	key[0] = PG_KEY_CLAIM;
	for (int i = 0; i < 8; i++) {
		key[1 + i] = (uint8_t)(volume >> (56 - 8 * i));
		key[9 + i] = (uint8_t)(objnum >> (56 - 8 * i));
	}
}

void pg_claim_val(uint8_t *val, uint64_t version, bool deleted)
{
	for (int i = 0; i < 8; i++)
		val[i] = (uint8_t)(version >> (8 * i));
	val[8] = deleted ? 1 : 0;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The undo record's key and header (the record: ec_undo.c). */
void ec_undo_key(uint8_t *key, uint64_t volume, uint64_t objnum)
{
	key[0] = PG_KEY_UNDO;
	for (int i = 0; i < 8; i++) {
		key[1 + i] = (uint8_t)(volume >> (56 - 8 * i));
		key[9 + i] = (uint8_t)(objnum >> (56 - 8 * i));
	}
}

int ec_undo_parse(const void *val, size_t vlen, struct ec_undo_rec *r)
{
	const uint8_t *p = val;
	uint32_t magic;

	if (vlen < EC_UNDO_HDR_LEN)
		return -EBADMSG;
	magic = (uint32_t)le64(p) & 0xffffffffu;
	if (magic != EC_UNDO_MAGIC)
		return -EBADMSG;
	r->meta_len = (size_t)(le64(p) >> 32);
	r->version = le64(p + 8);
	r->prev = le64(p + 16);
	r->off = le64(p + 24);
	r->len = le64(p + 32);
	r->nbytes = le64(p + 40);
	r->bytes = p + EC_UNDO_HDR_LEN;
	if (!r->version || r->prev >= r->version || !r->len ||
	    r->off >= STORE_MAX_OBJECT_SIZE ||
	    r->len > STORE_MAX_OBJECT_SIZE - r->off || r->nbytes > r->len ||
	    r->meta_len > EC_META_MAX_LEN ||
	    r->nbytes + r->meta_len != vlen - EC_UNDO_HDR_LEN)
		return -EBADMSG;
	r->meta = r->meta_len ? r->bytes + r->nbytes : NULL;
	return 0;
}

struct claim_list {
	struct pg_entry *v;
	size_t n, cap;
	struct pg_entry *u;	/* undo records: version, undo_prev */
	size_t nu, capu;
};

static int undo_one(struct claim_list *t, const uint8_t *k, const void *val,
		    size_t vlen)
{
	struct ec_undo_rec r;

	if (ec_undo_parse(val, vlen, &r))
		return 0;	/* not one we can use: no roll-back */
	if (t->nu == t->capu) {
		t->capu = t->capu ? t->capu * 2 : 64;
		t->u = bs_xrealloc(t->u, t->capu * sizeof(*t->u));
	}
	memset(&t->u[t->nu], 0, sizeof(t->u[t->nu]));
	t->u[t->nu].volume = be64(k + 1);
	t->u[t->nu].objnum = be64(k + 9);
	t->u[t->nu].version = r.version;
	t->u[t->nu].undo_prev = r.prev;
	t->nu++;
	return 0;
}

static int claim_one(void *opaque, const void *key, size_t klen,
		     const void *val, size_t vlen)
{
	struct claim_list *t = opaque;
	const uint8_t *k = key, *v = val;

	if (klen == PG_CLAIM_KEY_LEN && k[0] == PG_KEY_UNDO)
		return undo_one(t, k, val, vlen);
	if (klen != PG_CLAIM_KEY_LEN || k[0] != PG_KEY_CLAIM ||
	    vlen != PG_CLAIM_VAL_LEN)
		return 0;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = bs_xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n].volume = be64(k + 1);
	t->v[t->n].objnum = be64(k + 9);
	t->v[t->n].version = le64(v);
	t->v[t->n].size = 0;
	t->v[t->n].claim = true;
	t->v[t->n].deleted = v[8] & 1;
	t->v[t->n].has_undo = false;
	t->v[t->n].undo_prev = 0;
	t->n++;
	return 0;
}

static int ent_cmp(uint64_t av, uint64_t ao, uint64_t bv, uint64_t bo)
{
	if (av != bv)
		return av < bv ? -1 : 1;
	if (ao != bo)
		return ao < bo ? -1 : 1;
	return 0;
}

/*
 * The objects and claims of PG @pool.@pg on this OSD, merged in oid
 * order (an object before its claim), from after the given oid, at most
 * @max; *more when some are left.  Blocking (RocksDB for the claims):
 * peering only.  *out malloc'ed, caller frees.
 */
int pg_list_entries(struct osd *osd, uint32_t pool, uint32_t pg,
		    bool has_after, uint64_t after_vol, uint64_t after_obj,
		    size_t max, struct pg_entry **out, size_t *n, bool *more)
{
	struct store_list_entry *live = NULL;
	struct claim_list t = { 0 };
	struct pg_entry *v = NULL;
	size_t nl = 0, i = 0, j = 0, cnt = 0, ui = 0;
	int ret;

	*out = NULL;
	*n = 0;
	*more = false;
	ret = store_list(osd->store, pool, pg, &live, &nl);
	if (ret)
		return ret;
	ret = store_pg_iterate(osd->store, pool, pg, claim_one, &t);
	if (ret) {
		free(live);
		free(t.v);
		free(t.u);
		return ret;
	}
	if (max)
		v = bs_xmalloc(BS_MIN(max, nl + t.n + 1) * sizeof(*v));
	while (i < nl || j < t.n) {
		struct pg_entry e;
		int c;

		if (i < nl && j < t.n)
			c = ent_cmp(live[i].oid.volume, live[i].oid.objnum,
				    t.v[j].volume, t.v[j].objnum);
		else
			c = i < nl ? -1 : 1;
		if (c <= 0) {
			e.volume = live[i].oid.volume;
			e.objnum = live[i].oid.objnum;
			e.version = live[i].version;
			e.size = live[i].size;
			e.claim = false;
			e.deleted = false;
			e.has_undo = false;
			e.undo_prev = 0;
			/* both sorted by oid: the undo record, if any */
			while (ui < t.nu && ent_cmp(t.u[ui].volume,
						    t.u[ui].objnum, e.volume,
						    e.objnum) < 0)
				ui++;
			if (ui < t.nu && !ent_cmp(t.u[ui].volume,
						  t.u[ui].objnum, e.volume,
						  e.objnum) &&
			    t.u[ui].version == e.version) {
				e.has_undo = true;
				e.undo_prev = t.u[ui].undo_prev;
			}
			i++;
		} else {
			e = t.v[j++];
		}
		if (has_after && ent_cmp(e.volume, e.objnum, after_vol,
					 after_obj) <= 0)
			continue;
		if (cnt == max) {
			/* never split one object's two entries */
			if (cnt && !ent_cmp(e.volume, e.objnum,
					    v[cnt - 1].volume,
					    v[cnt - 1].objnum)) {
				v = bs_xrealloc(v, (cnt + 1) * sizeof(*v));
				v[cnt++] = e;
				continue;
			}
			*more = true;
			break;
		}
		v[cnt++] = e;
	}
	free(live);
	free(t.v);
	free(t.u);
	*out = v;
	*n = cnt;
	return 0;
}

/* 1 + the slot this member's shards of @pool.@pg are for (0: unknown). */
unsigned pg_slot_load(struct osd *osd, uint32_t pool, uint32_t pg)
{
	uint8_t key = PG_KEY_SLOT;
	unsigned slot = 0;
	void *val;
	size_t len;

	if (store_pg_get(osd->store, pool, pg, &key, 1, &val, &len))
		return 0;
	if (len == 1 && *(uint8_t *)val <= BS_EC_MAX_SHARDS)
		slot = *(uint8_t *)val;
	free(val);
	return slot;
}
