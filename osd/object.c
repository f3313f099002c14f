// SPDX-License-Identifier: Apache-2.0
/*
 * The objects this OSD has mutations in flight for (struct osd_obj): their
 * version after every submitted op, so that the primary can stamp the next
 * op's predecessor and a replica can apply each object's ops in version
 * order; and the ops waiting until the object is quiet.  Entries come from
 * a free list and live only while needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "osd.h"

#define OBJ_FREE_MAX	1024

static size_t oid_hash(const struct store_oid *oid)
{
	uint64_t h = oid->volume * 0x9e3779b97f4a7c15ull;

	h ^= (oid->objnum + ((uint64_t)oid->pool << 32 | oid->pg)) *
	     0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ (h >> 29));
}

static bool oid_eq(const struct store_oid *a, const struct store_oid *b)
{
	return a->objnum == b->objnum && a->volume == b->volume &&
	       a->pool == b->pool && a->pg == b->pg;
}

struct osd_obj *osd_obj_find(struct osd *osd, const struct store_oid *oid)
{
	struct osd_obj *o;

	if (!osd->obj_nb)
		return NULL;
	o = osd->obj_tab[oid_hash(oid) & (osd->obj_nb - 1)];
	for (; o; o = o->hnext)
		if (oid_eq(&o->oid, oid))
			return o;
	return NULL;
}

static void tab_grow(struct osd *osd)
{
	size_t nb = osd->obj_nb ? osd->obj_nb * 2 : 256;
	struct osd_obj **tab = bs_xcalloc(nb, sizeof(*tab));

	for (size_t i = 0; i < osd->obj_nb; i++) {
		struct osd_obj *o, *next;

		for (o = osd->obj_tab[i]; o; o = next) {
			size_t b = oid_hash(&o->oid) & (nb - 1);

			next = o->hnext;
			o->hnext = tab[b];
			tab[b] = o;
		}
	}
	free(osd->obj_tab);
	osd->obj_tab = tab;
	osd->obj_nb = nb;
}

/*
 * The entry of @oid, made if needed with the store's durable state (which
 * is the whole truth when no entry exists: every mutation this OSD submits
 * holds one).
 */
struct osd_obj *osd_obj_get(struct osd *osd, const struct store_oid *oid)
{
	struct store_obj_stat st;
	struct osd_obj *o = osd_obj_find(osd, oid);
	size_t b;

	if (o)
		return o;
	if (osd->n_objs >= osd->obj_nb)
		tab_grow(osd);
	if (osd->obj_free) {
		o = osd->obj_free;
		osd->obj_free = o->hnext;
		osd->n_obj_free--;
	} else {
		o = bs_xmalloc(sizeof(*o));
	}
	memset(o, 0, sizeof(*o));
	o->oid = *oid;
	osd_list_init(&o->waiters);
	osd_list_init(&o->early);
	if (!store_stat(osd->store, oid, &st))
		o->cur = o->last = st.version;
	b = oid_hash(oid) & (osd->obj_nb - 1);
	o->hnext = osd->obj_tab[b];
	osd->obj_tab[b] = o;
	osd->n_objs++;
	return o;
}

void osd_obj_maybe_free(struct osd *osd, struct osd_obj *o)
{
	struct osd_obj **pp;

	if (!o || o->nmut || o->locks || !osd_list_empty(&o->waiters) ||
	    !osd_list_empty(&o->early))
		return;
	pp = &osd->obj_tab[oid_hash(&o->oid) & (osd->obj_nb - 1)];
	while (*pp != o)
		pp = &(*pp)->hnext;
	*pp = o->hnext;
	osd->n_objs--;
	if (osd->n_obj_free < OBJ_FREE_MAX) {
		o->hnext = osd->obj_free;
		osd->obj_free = o;
		osd->n_obj_free++;
	} else {
		free(o);
	}
}

/* One of @o's mutations completed: wake its waiters once it is quiet. */
void osd_obj_mut_done(struct osd *osd, struct osd_obj *o)
{
	if (!o->nmut) {
		bs_err("object %lu.%lu: mutation count underflow",
		       (unsigned long)o->oid.volume,
		       (unsigned long)o->oid.objnum);
		return;
	}
	if (--o->nmut)
		return;
	while (!osd_list_empty(&o->waiters)) {
		struct osd_op *op = container_of(o->waiters.next,
						 struct osd_op, link);

		osd_resume_later(op);
	}
	osd_obj_maybe_free(osd, o);
}

void osd_obj_free_all(struct osd *osd)
{
	for (size_t i = 0; i < osd->obj_nb; i++) {
		struct osd_obj *o, *next;

		for (o = osd->obj_tab[i]; o; o = next) {
			next = o->hnext;
			free(o);
		}
	}
	bs_free(&osd->obj_tab);
	osd->obj_nb = osd->n_objs = 0;
	while (osd->obj_free) {
		struct osd_obj *o = osd->obj_free;

		osd->obj_free = o->hnext;
		free(o);
	}
	osd->n_obj_free = 0;
}
