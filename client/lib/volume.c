// SPDX-License-Identifier: Apache-2.0
/*
 * Volume handles: basalt_open() looks the volume up in the mon's
 * directory, basalt_close() drains it, basalt_stat() and basalt_resize()
 * (through the mon; shrinking first frees the objects past the new end).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "basalt_int.h"
#include "bs/log.h"
#include "bs/msg_types.h"

#define BLOCK_SIZE	4096	/* the OSD checksums 4 KiB blocks */

int volume_check(struct basalt_volume *vol)
{
	if (!vol || vol->magic != VOLUME_MAGIC)
		return lib_set_error(-EBADF,
				     "not an open volume handle (NULL or closed)");
	if (atomic_load(&vol->closing))
		return lib_set_error(-EBADF, "volume '%s' is closed",
				     vol->spec);
	return 0;
}

/* ---- open ---- */

static void open_reply_cb(void *opaque, int res, struct bs_msg *reply,
			  const struct bs_error *err)
{
	struct basalt_volume *vol = opaque;
	struct basalt_cluster *c = vol->cluster;
	struct waiter *w = vol->open_waiter;
	struct bs_error e = { 0 };
	const Bs__VolumeList *list;
	const Bs__Volume *v = NULL;
	size_t i;
	int ret;

	if (res == -ENOENT) {
		if (c->map && !bs_osdmap_pool_by_name(c->map, vol->pool))
			bs_error_set(&e, -ENOENT,
				     "volume '%s' does not exist (there is no pool '%s')",
				     vol->spec, vol->pool);
		else
			bs_error_set(&e, -ENOENT, "volume '%s' does not exist",
				     vol->spec);
		goto out_fail;
	}
	if (res) {
		bs_error_set(&e, res, "cannot look up volume '%s': %s",
			     vol->spec, err && err->msg[0] ? err->msg :
							     strerror(-res));
		goto out_fail;
	}
	list = (const Bs__VolumeList *)reply->body;
	for (i = 0; i < list->n_volumes; i++)
		if (list->volumes[i]->name &&
		    !strcmp(list->volumes[i]->name, vol->name))
			v = list->volumes[i];
	if (!v) {
		bs_error_set(&e, -ENOENT, "volume '%s' does not exist",
			     vol->spec);
		goto out_fail;
	}
	ret = layout_check_volume(vol->spec, v->size, v->object_size, &e);
	if (ret)
		goto out_fail;
	vol->id = v->id;
	vol->pool_id = v->pool_id;
	vol->object_size = v->object_size;
	atomic_store(&vol->size, v->size);
	bs_msg_free(reply);
	bs_list_add_tail(&c->volumes, &vol->link);
	vol->magic = VOLUME_MAGIC;
	vol->open_waiter = NULL;
	waiter_wake(w, 0, NULL);
	return;

out_fail:
	if (reply)
		bs_msg_free(reply);
	vol->open_waiter = NULL;
	waiter_wake(w, e.code, &e);
}

static void open_task_fn(struct bs_task *t)
{
	struct basalt_volume *vol = container_of(t, struct basalt_volume,
						 open_task);
	struct basalt_cluster *c = vol->cluster;
	Bs__VolumeQuery q = BS__VOLUME_QUERY__INIT;
	struct bs_error e = { 0 };
	int ret;

	if (c->shutting_down) {
		bs_error_set(&e, -ECANCELED,
			     "cannot open volume '%s': the cluster is disconnecting",
			     vol->spec);
		waiter_wake(vol->open_waiter, e.code, &e);
		return;
	}
	q.pool = vol->pool;
	q.name = vol->name;
	ret = bs_monc_call(c->monc, BS_MSG_MON_VOLUME_QUERY, &q.base,
			   open_reply_cb, vol);
	if (ret) {
		bs_error_errno(&e, ret, "cannot look up volume '%s'",
			       vol->spec);
		waiter_wake(vol->open_waiter, e.code, &e);
	}
}

BASALT_EXPORT int basalt_open(struct basalt_cluster *c, const char *spec,
			      struct basalt_volume **out)
{
	struct bs_error e = { 0 };
	struct basalt_volume *vol;
	struct waiter w;
	ssize_t res;
	int ret;

	ret = cluster_check(c);
	if (ret)
		return ret;
	if (!out)
		return lib_set_error(-EINVAL, "basalt_open: @out is NULL");
	*out = NULL;
	if (cluster_on_io_thread(c))
		return lib_set_error(-EDEADLK,
				     "basalt_open() cannot be called from a completion callback");
	vol = calloc(1, sizeof(*vol));
	if (!vol)
		return lib_set_error(-ENOMEM, "out of memory");
	ret = layout_parse_name(spec, vol->pool, vol->name, &e);
	if (ret) {
		free(vol);
		return lib_set_bs_error(&e);
	}
	snprintf(vol->spec, sizeof(vol->spec), "%s/%s", vol->pool, vol->name);
	vol->cluster = c;
	atomic_init(&vol->size, 0);
	atomic_init(&vol->closing, false);
	atomic_init(&vol->n_reqs, 0);
	bs_list_init(&vol->link);
	bs_list_init(&vol->writes);
	bs_list_init(&vol->flushes);
	vol->open_task.fn = open_task_fn;

	waiter_init(&w);
	vol->open_waiter = &w;
	bs_loop_post(c->loop, &vol->open_task);
	res = waiter_wait(&w);
	if (res < 0) {
		ret = lib_set_bs_error(&w.err);
		waiter_release(&w);
		free(vol);
		return ret;
	}
	waiter_release(&w);
	*out = vol;
	return 0;
}

/* ---- close ---- */

static void volume_finish(struct basalt_volume *vol)
{
	struct basalt_cluster *c = vol->cluster;
	struct waiter *w = vol->close_waiter;

	bs_list_del(&vol->link);
	vol->magic = 0;
	free(vol);
	if (w)
		waiter_wake(w, 0, NULL);
	if (c->shutting_down && bs_list_empty(&c->volumes))
		cluster_stop(c);
}

void volume_request_done(struct basalt_volume *vol)
{
	if (vol->close_started && atomic_load(&vol->n_reqs) == 0)
		volume_finish(vol);
}

void volume_cancel(struct basalt_volume *vol)
{
	vol->cancelled = true;
	/* may complete the last request and so free @vol */
	objecter_cancel(vol->cluster, vol);
}

void volume_close_begin(struct basalt_volume *vol, struct waiter *w)
{
	struct basalt_cluster *c = vol->cluster;

	atomic_store(&vol->closing, true);
	vol->close_started = true;
	vol->close_waiter = w;
	vol->close_deadline = bs_now_ms() + c->close_grace_ms;
	if (atomic_load(&vol->n_reqs) == 0) {
		volume_finish(vol);
		return;
	}
	if (!c->close_grace_ms || c->stopping) {
		volume_cancel(vol);
		return;
	}
	cluster_arm_tick(c);
}

static void close_task_fn(struct bs_task *t)
{
	struct basalt_volume *vol = container_of(t, struct basalt_volume,
						 close_task);

	volume_close_begin(vol, vol->close_waiter);
}

BASALT_EXPORT int basalt_close(struct basalt_volume *vol)
{
	struct basalt_cluster *c;
	struct waiter w;
	int ret;

	ret = volume_check(vol);
	if (ret)
		return ret;
	c = vol->cluster;
	if (cluster_on_io_thread(c))
		return lib_set_error(-EDEADLK,
				     "basalt_close() cannot be called from a completion callback");
	if (atomic_exchange(&vol->closing, true))
		return lib_set_error(-EBADF, "volume '%s' is already closed",
				     vol->spec);
	waiter_init(&w);
	vol->close_waiter = &w;
	vol->close_task.fn = close_task_fn;
	bs_loop_post(c->loop, &vol->close_task);
	waiter_wait(&w);
	waiter_release(&w);
	return 0;
}

/* ---- stat ---- */

BASALT_EXPORT int basalt_stat(struct basalt_volume *vol,
			      struct basalt_stat *st)
{
	int ret = volume_check(vol);

	if (ret)
		return ret;
	if (!st)
		return lib_set_error(-EINVAL, "basalt_stat: @st is NULL");
	memset(st, 0, sizeof(*st));
	st->size = atomic_load(&vol->size);
	st->object_size = vol->object_size;
	st->volume_id = vol->id;
	st->pool_id = vol->pool_id;
	st->block_size = BLOCK_SIZE;
	return 0;
}

/* ---- resize ---- */

/*
 * Resize states, on the I/O thread:
 *   grow:   MON -> done (the handle's size changes once the mon agreed)
 *   shrink: TRIM (handle size lowered, objects past the new end
 *           deleted, the partial last one discarded) -> MON -> done;
 *           a failure restores the handle's old size.
 */
enum resize_state {
	RESIZE_TRIM,
	RESIZE_MON,
};

struct resize_ctx {
	struct bs_task task;
	struct basalt_volume *vol;
	enum resize_state state;
	uint64_t old_size, new_size;
	struct waiter *waiter;
};

static void resize_finish(struct resize_ctx *rc, int res,
			  const struct bs_error *err)
{
	struct basalt_volume *vol = rc->vol;

	if (res < 0 && rc->new_size < rc->old_size)
		atomic_store(&vol->size, rc->old_size);
	waiter_wake(rc->waiter, res, err);	/* @rc is gone after this */
	atomic_fetch_sub(&vol->n_reqs, 1);
	volume_request_done(vol);
}

static void resize_reply_cb(void *opaque, int res, struct bs_msg *reply,
			    const struct bs_error *err)
{
	struct resize_ctx *rc = opaque;
	struct basalt_volume *vol = rc->vol;
	const Bs__MonCommandReply *r;
	struct bs_error e = { 0 };

	if (res) {
		bs_error_set(&e, res, "cannot resize volume '%s': %s",
			     vol->spec, err && err->msg[0] ? err->msg :
							     strerror(-res));
		resize_finish(rc, res, &e);
		return;
	}
	r = (const Bs__MonCommandReply *)reply->body;
	if (r->volume && r->volume->size)
		atomic_store(&vol->size, r->volume->size);
	else
		atomic_store(&vol->size, rc->new_size);
	bs_msg_free(reply);
	resize_finish(rc, 0, NULL);
}

static void resize_continue(struct resize_ctx *rc);

static void resize_trim_done(void *opaque, ssize_t res)
{
	struct resize_ctx *rc = opaque;
	struct bs_error e = { 0 };

	if (res < 0) {
		bs_error_set(&e, (int)res,
			     "cannot shrink volume '%s': freeing the data past the new end failed: %s",
			     rc->vol->spec, basalt_get_error());
		resize_finish(rc, (int)res, &e);
		return;
	}
	rc->state = RESIZE_MON;
	resize_continue(rc);
}

static void resize_continue(struct resize_ctx *rc)
{
	struct basalt_volume *vol = rc->vol;
	struct basalt_cluster *c = vol->cluster;
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeResize vr = BS__VOLUME_RESIZE__INIT;
	struct bs_error e = { 0 };
	struct request *req;
	int ret;

	switch (rc->state) {
	case RESIZE_TRIM:
		req = request_alloc(c);
		if (!req) {
			bs_error_set(&e, -ENOMEM, "out of memory");
			resize_finish(rc, -ENOMEM, &e);
			return;
		}
		atomic_store(&vol->size, rc->new_size);
		request_setup(req, vol, REQ_TRIM, NULL, rc->new_size,
			      rc->old_size - rc->new_size, 0);
		req->cb = resize_trim_done;
		req->opaque = rc;
		ret = request_submit(req);
		if (ret) {
			request_free(c, req);
			bs_error_set(&e, ret, "volume '%s' is closed",
				     vol->spec);
			resize_finish(rc, ret, &e);
		}
		return;
	case RESIZE_MON:
		vr.pool = vol->pool;
		vr.name = vol->name;
		vr.size = rc->new_size;
		cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_RESIZE;
		cmd.volume_resize = &vr;
		ret = bs_monc_command(c->monc, &cmd, resize_reply_cb, rc);
		if (ret) {
			bs_error_errno(&e, ret, "cannot resize volume '%s'",
				       vol->spec);
			resize_finish(rc, ret, &e);
		}
		return;
	}
}

static void resize_task_fn(struct bs_task *t)
{
	struct resize_ctx *rc = container_of(t, struct resize_ctx, task);
	struct basalt_volume *vol = rc->vol;

	rc->old_size = atomic_load(&vol->size);
	if (rc->new_size == rc->old_size) {
		resize_finish(rc, 0, NULL);
		return;
	}
	rc->state = rc->new_size < rc->old_size ? RESIZE_TRIM : RESIZE_MON;
	resize_continue(rc);
}

BASALT_EXPORT int basalt_resize(struct basalt_volume *vol, uint64_t size)
{
	struct resize_ctx rc;
	struct waiter w;
	ssize_t res;
	int ret;

	ret = volume_check(vol);
	if (ret)
		return ret;
	if (cluster_on_io_thread(vol->cluster))
		return lib_set_error(-EDEADLK,
				     "basalt_resize() cannot be called from a completion callback");
	if (size == 0 || size % 512)
		return lib_set_error(-EINVAL,
				     "cannot resize volume '%s' to %" PRIu64
				     " bytes: the size must be a positive multiple of 512",
				     vol->spec, size);
	memset(&rc, 0, sizeof(rc));
	rc.vol = vol;
	rc.new_size = size;
	rc.task.fn = resize_task_fn;
	atomic_fetch_add(&vol->n_reqs, 1);
	if (atomic_load(&vol->closing)) {
		atomic_fetch_sub(&vol->n_reqs, 1);
		return lib_set_error(-EBADF, "volume '%s' is closed",
				     vol->spec);
	}
	waiter_init(&w);
	rc.waiter = &w;
	bs_loop_post(vol->cluster->loop, &rc.task);
	res = waiter_wait(&w);
	ret = res < 0 ? lib_set_bs_error(&w.err) : 0;
	waiter_release(&w);
	return ret;
}
