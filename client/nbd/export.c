// SPDX-License-Identifier: Apache-2.0
/*
 * Exports: one per volume "POOL/NAME", holding one libbasalt volume handle
 * shared by every connection that selected it.  Opening and closing run on
 * a worker; connections wait for the open as struct export_waiter.
 *
 * Flush and multi-conn.  libbasalt acknowledges a write only once it is
 * durable on every up member of its placement group, so a write we have
 * replied to is already on stable storage.  A flush must cover the writes
 * replied to before it arrived, on this connection and (since we
 * advertise NBD_FLAG_CAN_MULTI_CONN) on every other connection to the
 * same export.  All connections share this struct export, which keeps the
 * writes in flight (WRITE, TRIM, WRITE_ZEROES) in submission order; a
 * flush waits until every write submitted before it, on any connection,
 * has completed, then calls basalt_aio_flush() on the shared handle and
 * replies.  That covers every reply sent before the flush (those writes
 * were submitted earlier) and, more strictly, writes still in flight when
 * it arrived.
 *
 * States: CLOSED -> OPENING -> OPEN -> CLOSING -> CLOSED (freed when no
 * one uses or waits for it); a failed open goes back to CLOSED.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbd.h"

static void export_start_open(struct export *exp);
static void export_maybe_close(struct export *exp);

static struct export *export_find(struct nbd_server *srv, const char *name)
{
	struct bs_list *p;
	struct export *exp;

	for (p = srv->exports.next; p != &srv->exports; p = p->next) {
		exp = bs_list_entry(p, struct export, link);
		if (!strcmp(exp->name, name))
			return exp;
	}
	return NULL;
}

/* Pool and volume names: [A-Za-z0-9_.-]{1,128} each (see mon.proto). */
static bool name_part_ok(const uint8_t *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 128)
		return false;
	for (i = 0; i < len; i++) {
		uint8_t c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

char *export_name_resolve(struct nbd_server *srv, const uint8_t *name,
			  uint32_t len)
{
	const struct nbd_config *cfg = srv->cfg;
	const uint8_t *slash;
	size_t i;

	if (cfg->n_exports) {
		if (len == 0)
			return cfg->n_exports == 1 ?
			       bs_xstrdup(cfg->export_list[0]) : NULL;
		for (i = 0; i < cfg->n_exports; i++) {
			if (strlen(cfg->export_list[i]) == len &&
			    !memcmp(cfg->export_list[i], name, len))
				return bs_xstrdup(cfg->export_list[i]);
		}
		return NULL;
	}
	if (len == 0)
		return NULL;
	slash = memchr(name, '/', len);
	if (!slash || !name_part_ok(name, (size_t)(slash - name)) ||
	    !name_part_ok(slash + 1, len - (size_t)(slash - name) - 1))
		return NULL;
	return strndup((const char *)name, len);
}

/* ---- open and close ----------------------------------------------------- */

static void open_work(struct nbd_job *job)
{
	struct export *exp = container_of(job, struct export, job);
	struct basalt_stat st;
	int ret;

	exp->vol = NULL;
	ret = basalt_open(exp->srv->cluster, exp->name, &exp->vol);
	if (ret == 0) {
		ret = basalt_stat(exp->vol, &st);
		if (ret == 0) {
			exp->size = st.size;
		} else {
			basalt_close(exp->vol);
			exp->vol = NULL;
		}
	}
	exp->open_error = ret;
	if (ret)
		snprintf(exp->open_msg, sizeof(exp->open_msg), "%s",
			 basalt_get_error());
}

static void notify_waiters(struct export *exp, int res)
{
	struct export_waiter *w;

	while (!bs_list_empty(&exp->waiters)) {
		w = bs_list_entry(exp->waiters.next, struct export_waiter,
				   link);
		bs_list_del(&w->link);
		w->exp = NULL;
		if (res == 0)
			exp->users++;
		w->fn(w, res == 0 ? exp : NULL, res);
	}
}

static void export_free(struct export *exp)
{
	assert(exp->state == EXPORT_CLOSED && !exp->users &&
	       bs_list_empty(&exp->waiters) && bs_list_empty(&exp->writes));
	bs_list_del(&exp->link);
	free(exp->name);
	free(exp);
}

static void open_done(struct nbd_job *job)
{
	struct export *exp = container_of(job, struct export, job);
	struct nbd_server *srv = exp->srv;

	if (exp->open_error) {
		bs_warn_rl(&srv->rl, "export '%s': cannot open volume: %s",
			   exp->name, exp->open_msg[0] ? exp->open_msg :
			   strerror(-exp->open_error));
		exp->state = EXPORT_CLOSED;
		notify_waiters(exp, exp->open_error);
		if (!exp->users)
			export_free(exp);
		nbd_server_check_done(srv);
		return;
	}
	bs_info("export '%s': volume open, %llu bytes", exp->name,
		(unsigned long long)exp->size);
	exp->state = EXPORT_OPEN;
	notify_waiters(exp, 0);
	export_maybe_close(exp);
}

static void close_work(struct nbd_job *job)
{
	struct export *exp = container_of(job, struct export, job);

	exp->open_error = basalt_close(exp->vol);
	exp->vol = NULL;
}

static void close_done(struct nbd_job *job)
{
	struct export *exp = container_of(job, struct export, job);
	struct nbd_server *srv = exp->srv;

	if (exp->open_error)
		bs_warn("export '%s': closing the volume: %s", exp->name,
			strerror(-exp->open_error));
	else
		bs_info("export '%s': volume closed", exp->name);
	exp->state = EXPORT_CLOSED;
	if (!bs_list_empty(&exp->waiters))
		export_start_open(exp);	/* someone came while closing */
	else
		export_free(exp);
	nbd_server_check_done(srv);
}

static void export_start_open(struct export *exp)
{
	exp->state = EXPORT_OPENING;
	exp->open_error = 0;
	exp->open_msg[0] = 0;
	exp->job.work = open_work;
	exp->job.done = open_done;
	nbd_workers_submit(exp->srv->workers, &exp->job);
}

/* Close the volume once nobody uses or waits for it. */
static void export_maybe_close(struct export *exp)
{
	if (exp->state != EXPORT_OPEN || exp->users ||
	    !bs_list_empty(&exp->waiters))
		return;
	assert(bs_list_empty(&exp->writes) && bs_list_empty(&exp->flushes));
	exp->state = EXPORT_CLOSING;
	exp->job.work = close_work;
	exp->job.done = close_done;
	nbd_workers_submit(exp->srv->workers, &exp->job);
}

/* Deliver to the waiters of an open export on the next turn. */
static void deliver_task(struct bs_task *task)
{
	struct export *exp = container_of(task, struct export, deliver);

	if (exp->state == EXPORT_OPEN) {
		notify_waiters(exp, 0);
		export_maybe_close(exp);
	}
}

void export_get(struct nbd_server *srv, const char *name,
		struct export_waiter *w)
{
	struct export *exp = export_find(srv, name);

	if (!exp) {
		exp = bs_xcalloc(1, sizeof(*exp));
		exp->srv = srv;
		exp->name = bs_xstrdup(name);
		exp->state = EXPORT_CLOSED;
		bs_list_init(&exp->waiters);
		bs_list_init(&exp->writes);
		bs_list_init(&exp->flushes);
		bs_list_add_tail(&srv->exports, &exp->link);
	}
	bs_list_add_tail(&exp->waiters, &w->link);
	w->exp = exp;
	switch (exp->state) {
	case EXPORT_CLOSED:
		export_start_open(exp);
		break;
	case EXPORT_OPEN:
		exp->deliver.fn = deliver_task;
		bs_loop_defer(srv->loop, &exp->deliver);
		break;
	case EXPORT_OPENING:
	case EXPORT_CLOSING:
		break;	/* open_done / close_done will see us */
	}
}

void export_cancel_wait(struct export_waiter *w)
{
	struct export *exp = w->exp;

	bs_list_del(&w->link);
	w->exp = NULL;
	if (exp)
		export_maybe_close(exp);
}

void export_put(struct export *exp)
{
	assert(exp->users > 0);
	exp->users--;
	export_maybe_close(exp);
}

/* ---- flush ordering ----------------------------------------------------- */

void export_write_start(struct export *exp, struct req *req)
{
	req->is_write = true;
	req->in_export = true;
	req->write_seq = ++exp->write_seq;
	bs_list_add_tail(&exp->writes, &req->link);
}

/* The oldest write still in flight, or UINT64_MAX if none. */
static uint64_t oldest_write(const struct export *exp)
{
	if (bs_list_empty(&exp->writes))
		return UINT64_MAX;
	return bs_list_entry(exp->writes.next, struct req, link)->write_seq;
}

static void start_flush(struct export *exp, struct req *req)
{
	int ret;

	ret = basalt_aio_flush(exp->vol, request_aio_done, req);
	if (ret < 0) {
		req->res = ret;
		request_complete(req);
	}
}

void export_write_done(struct export *exp, struct req *req)
{
	struct req *f;
	uint64_t oldest;

	if (!req->in_export)
		return;
	bs_list_del(&req->link);
	req->in_export = false;
	req->is_write = false;
	oldest = oldest_write(exp);
	/* flushes queue in seq order: release from the front */
	while (!bs_list_empty(&exp->flushes)) {
		f = bs_list_entry(exp->flushes.next, struct req, link);
		if (f->flush_after >= oldest)
			break;
		bs_list_del(&f->link);
		f->in_export = false;
		start_flush(exp, f);
	}
}

void export_flush(struct export *exp, struct req *req)
{
	req->flush_after = exp->write_seq;
	if (oldest_write(exp) > req->flush_after) {
		start_flush(exp, req);
		return;
	}
	req->in_export = true;
	bs_list_add_tail(&exp->flushes, &req->link);
}
