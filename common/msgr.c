// SPDX-License-Identifier: Apache-2.0
/*
 * The messenger: framed request/reply over TCP on the io_uring loop.  Each
 * connection has one recv outstanding (into a 64 KiB buffer, or straight
 * into a big data segment), one sendmsg that batches every queued frame,
 * a table of calls by request id, and (outgoing) a reconnect state machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bs/list.h"
#include "bs/log.h"
#include "bs/msg_types.h"
#include "bs/msgr.h"
#include "bs/status.h"
#include "proto/msg.pb-c.h"

#define RBUF_SIZE	(64u << 10)	/* per-connection receive buffer */
#define DIRECT_MIN	(16u << 10)	/* recv data straight into the msg */
#define IOV_BATCH	256		/* iovecs per sendmsg */
#define MAX_DATA_IOV	64		/* data iovecs per frame */
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define ACCEPT_RETRY_MS	100
#define SMALL_FRAME	512		/* frames this small are cached */
#define CACHE_MAX	1024		/* cached frames / calls per msgr */
#define DRAIN_MAX_MS	2000		/* bs_msgr_free() waits this long */
#define NO_HEAP		UINT32_MAX

/*
 * An outgoing frame: header and packed body at @buf, then the data
 * segment in @data (borrowed from the caller, or copied behind @buf).
 * One allocation: [struct out_frame][iovec x ndata][buf][copied data].
 * Invariant: once any byte went to the socket (sent > 0 or in_flight) the
 * frame stays queued until fully sent or the socket is gone.
 */
struct out_frame {
	struct bs_list link;		/* conn->sendq */
	struct call *call;		/* the call waiting on it, or NULL */
	size_t hlen;			/* header + body bytes at buf */
	size_t total;			/* hlen + data bytes */
	size_t sent;			/* bytes already taken by the socket */
	bool in_flight;			/* in the sendmsg in progress */
	bool small;			/* SMALL_FRAME block from the cache */
	unsigned ndata;
	struct iovec *data;
	bs_release_fn *release;		/* for borrowed reply data */
	void *release_opaque;
	uint8_t *buf;
};

/* A request waiting for its reply. */
struct call {
	struct call *hnext;		/* conn->calls chain; cache link */
	struct bs_conn *conn;
	uint64_t req_id;
	uint64_t deadline_ms;		/* 0: no timeout */
	uint32_t heap_idx;		/* in msgr->heap, or NO_HEAP */
	bool started;			/* part of its frame went out */
	bool timed_out;			/* expired mid-frame: fails with conn */
	struct out_frame *frame;	/* until fully sent or dropped */
	struct bs_msg *early_reply;	/* came before the frame was all out */
	int early_res;
	bs_reply_fn *fn;
	void *opaque;
};

/*
 * Connection states:
 *   BACKOFF     outgoing, no socket, backoff_op pending   -> CONNECTING
 *   CONNECTING  outgoing, connect_op pending   -> UP | DRAINING
 *   UP          recv_op pending, send_op when frames are queued
 *                                              -> DRAINING
 *   DRAINING    socket shut down, waiting for every op to come back
 *                                              -> BACKOFF | CLOSED
 *   CLOSED      for good (closed, or incoming and lost); freed once
 *               unreferenced and idle
 */
enum conn_state {
	CONN_BACKOFF,
	CONN_CONNECTING,
	CONN_UP,
	CONN_DRAINING,
	CONN_CLOSED,
};

struct bs_conn {
	struct bs_msgr *msgr;
	struct bs_list link;		/* msgr->conns */
	int refs;			/* users, + 1 while incoming and live */
	enum conn_state state;
	bool outgoing;
	bool closing;			/* no reconnect: bs_conn_close & co */
	bool was_up;			/* on_close is owed */
	bool free_queued;
	int fd;
	int reason;			/* why it went down (-errno) */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char peer[64];
	void *opaque;
	unsigned backoff_ms;

	struct bs_op connect_op, backoff_op, recv_op, send_op;
	struct bs_task flush_task, free_task;

	uint8_t *rbuf;
	bool recv_direct;
	struct bs_frame_parser parser;

	struct bs_list sendq;		/* struct out_frame */
	struct msghdr mh;
	struct iovec iov[IOV_BATCH];

	uint64_t next_req_id;
	struct call **calls;		/* hash by req_id */
	unsigned ncalls, nbuckets;
};

struct bs_msgr {
	struct bs_loop *loop;
	const struct bs_msgr_ops *ops;
	void *opaque;
	int refs;			/* owner + one per conn */
	bool freeing;
	bool *freed;			/* set when the struct goes away */
	int listen_fd;
	char listen_addr[64];
	struct bs_op accept_op, accept_retry_op;
	struct bs_list conns;
	struct bs_ratelimit rl;		/* peer-caused warnings */

	/* call timeouts: a min-heap on deadline, one timer for the top */
	struct call **heap;
	uint32_t nheap, heap_cap;
	struct bs_op timer_op;
	uint64_t timer_deadline;
	bool timer_cancelling;

	/* caches so that small messages do not each cost a malloc */
	struct call *free_calls;
	unsigned nfree_calls;
	struct out_frame *free_frames;	/* linked through call */
	unsigned nfree_frames;
};

static void conn_fail(struct bs_conn *c, int reason);
static void conn_down(struct bs_conn *c);
static void conn_maybe_free(struct bs_conn *c);
static void conn_recv(struct bs_conn *c);
static void msgr_maybe_free(struct bs_msgr *m);

/* Addresses */

int bs_parse_addr(const char *addr, struct sockaddr_storage *ss,
		  socklen_t *len)
{
	char host[64];
	const char *colon, *h = addr;
	size_t hlen;
	char *end;
	unsigned long port;

	if (!addr)
		return -EINVAL;
	colon = strrchr(addr, ':');
	if (!colon || colon == addr || !colon[1])
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port > 65535 || colon[1] == '-' ||
	    colon[1] == '+' || colon[1] == ' ')
		return -EINVAL;
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hlen < 3 || addr[hlen - 1] != ']')
			return -EINVAL;
		h = addr + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	memset(ss, 0, sizeof(*ss));
	if (addr[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	}
	return 0;
}

static void fmt_addr(const struct sockaddr_storage *ss, char *buf,
		     size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Frames */

static void frame_free(struct bs_msgr *m, struct out_frame *f)
{
	if (f->call)
		f->call->frame = NULL;
	if (f->release)
		f->release(f->release_opaque);
	if (f->small && m->nfree_frames < CACHE_MAX) {
		f->call = (struct call *)m->free_frames;
		m->free_frames = f;
		m->nfree_frames++;
		return;
	}
	free(f);
}

/*
 * Build a frame.  @copy: the data is copied into the frame; else the
 * iovecs are kept and the caller's buffers are borrowed.
 */
static int frame_new(struct bs_msgr *m, uint16_t type, uint16_t flags,
		     uint64_t req_id, const ProtobufCMessage *body,
		     const struct iovec *data, unsigned ndata, bool copy,
		     struct out_frame **out)
{
	const struct bs_msg_type_info *info = bs_msg_type_find(type);
	struct out_frame *f;
	size_t hlen, dlen = 0, sz, niov;
	int n;

	if (!info || (body && body->descriptor != info->desc) ||
	    ndata > MAX_DATA_IOV || (ndata && !data))
		return -EINVAL;
	for (unsigned i = 0; i < ndata; i++) {
		dlen += data[i].iov_len;
		if (dlen > BS_FRAME_MAX_DATA)
			return -EMSGSIZE;
	}
	if (dlen > info->max_data)
		return -EMSGSIZE;
	hlen = bs_frame_encoded_size(body);
	if (hlen > BS_FRAME_HEADER_SIZE + BS_FRAME_MAX_MSG)
		return -EMSGSIZE;
	niov = copy ? (dlen ? 1 : 0) : ndata;
	sz = sizeof(*f) + niov * sizeof(struct iovec) + hlen +
	     (copy ? dlen : 0);
	if (sz <= SMALL_FRAME && m->free_frames) {
		f = m->free_frames;
		m->free_frames = (struct out_frame *)f->call;
		m->nfree_frames--;
	} else {
		f = malloc(sz <= SMALL_FRAME ? SMALL_FRAME : sz);
		if (!f)
			return -ENOMEM;
	}
	memset(f, 0, sizeof(*f));
	f->small = sz <= SMALL_FRAME;
	bs_list_init(&f->link);
	f->data = (struct iovec *)(f + 1);
	f->buf = (uint8_t *)(f->data + niov);
	n = bs_frame_encode(f->buf, type, flags, req_id, body, data, ndata);
	if (n < 0) {
		frame_free(m, f);
		return n;
	}
	f->hlen = (size_t)n;
	f->total = f->hlen + dlen;
	if (copy) {
		uint8_t *p = f->buf + f->hlen;

		for (unsigned i = 0; i < ndata; i++) {
			if (data[i].iov_len)
				memcpy(p, data[i].iov_base, data[i].iov_len);
			p += data[i].iov_len;
		}
		if (dlen) {
			f->data[0].iov_base = f->buf + f->hlen;
			f->data[0].iov_len = dlen;
		}
	} else if (ndata) {
		memcpy(f->data, data, ndata * sizeof(*data));
	}
	f->ndata = (unsigned)niov;
	*out = f;
	return 0;
}

static inline bool frame_started(const struct out_frame *f)
{
	return f->in_flight || f->sent > 0;
}

/* Call timeouts: a binary min-heap on deadline_ms */

static void heap_set(struct bs_msgr *m, uint32_t i, struct call *c)
{
	m->heap[i] = c;
	c->heap_idx = i;
}

static void heap_up(struct bs_msgr *m, uint32_t i)
{
	struct call *c = m->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (m->heap[parent]->deadline_ms <= c->deadline_ms)
			break;
		heap_set(m, i, m->heap[parent]);
		i = parent;
	}
	heap_set(m, i, c);
}

static void heap_down(struct bs_msgr *m, uint32_t i)
{
	struct call *c = m->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, min = l;

		if (l >= m->nheap)
			break;
		if (r < m->nheap &&
		    m->heap[r]->deadline_ms < m->heap[l]->deadline_ms)
			min = r;
		if (m->heap[min]->deadline_ms >= c->deadline_ms)
			break;
		heap_set(m, i, m->heap[min]);
		i = min;
	}
	heap_set(m, i, c);
}

static int heap_push(struct bs_msgr *m, struct call *c)
{
	if (m->nheap == m->heap_cap) {
		uint32_t cap = m->heap_cap ? m->heap_cap * 2 : 256;
		struct call **h = realloc(m->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		m->heap = h;
		m->heap_cap = cap;
	}
	m->heap[m->nheap] = c;
	c->heap_idx = m->nheap++;
	heap_up(m, c->heap_idx);
	return 0;
}

static void heap_remove(struct bs_msgr *m, struct call *c)
{
	uint32_t i = c->heap_idx;
	struct call *last;

	if (i == NO_HEAP)
		return;
	c->heap_idx = NO_HEAP;
	last = m->heap[--m->nheap];
	if (last == c)
		return;
	heap_set(m, i, last);
	heap_up(m, i);
	heap_down(m, last->heap_idx);
}

static void timer_arm(struct bs_msgr *m)
{
	uint64_t now, top;

	if (!m->nheap || m->freeing)
		return;
	top = m->heap[0]->deadline_ms;
	if (bs_op_busy(&m->timer_op)) {
		/* re-armed from the callback */
		if (top < m->timer_deadline && !m->timer_cancelling) {
			m->timer_cancelling = true;
			bs_loop_cancel(m->loop, &m->timer_op);
		}
		return;
	}
	now = bs_now_ms();
	m->timer_deadline = top;
	bs_loop_timer(m->loop, &m->timer_op, top > now ? top - now : 0);
}

/* Calls */

static struct call *call_alloc(struct bs_msgr *m)
{
	struct call *c = m->free_calls;

	if (c) {
		m->free_calls = c->hnext;
		m->nfree_calls--;
	} else {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->heap_idx = NO_HEAP;
	return c;
}

static void call_release(struct bs_msgr *m, struct call *c)
{
	if (m->nfree_calls < CACHE_MAX) {
		c->hnext = m->free_calls;
		m->free_calls = c;
		m->nfree_calls++;
		return;
	}
	free(c);
}

static int calls_insert(struct bs_conn *conn, struct call *c)
{
	unsigned b;

	if (conn->ncalls >= conn->nbuckets) {
		unsigned nb = conn->nbuckets ? conn->nbuckets * 2 : 64;
		struct call **t = calloc(nb, sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (unsigned i = 0; i < conn->nbuckets; i++) {
			struct call *p = conn->calls[i], *next;

			for (; p; p = next) {
				next = p->hnext;
				p->hnext = t[p->req_id & (nb - 1)];
				t[p->req_id & (nb - 1)] = p;
			}
		}
		free(conn->calls);
		conn->calls = t;
		conn->nbuckets = nb;
	}
	b = (unsigned)(c->req_id & (conn->nbuckets - 1));
	c->hnext = conn->calls[b];
	conn->calls[b] = c;
	conn->ncalls++;
	return 0;
}

/* Unlink the call with @req_id (or exactly @want, if given). */
static struct call *calls_take(struct bs_conn *conn, uint64_t req_id,
			       struct call *want)
{
	struct call **pp;

	if (!conn->nbuckets)
		return NULL;
	pp = &conn->calls[req_id & (conn->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		struct call *c = *pp;

		if (c->req_id == req_id && (!want || c == want)) {
			*pp = c->hnext;
			c->hnext = NULL;
			conn->ncalls--;
			return c;
		}
	}
	return NULL;
}

/*
 * Complete @c (already out of the hash) and recycle it.  A frame still
 * queued and untouched is dropped; one the socket has started on stays
 * queued (the stream must stay whole) but forgets the call.
 */
static void call_finish(struct call *c, int res, struct bs_msg *reply)
{
	struct bs_msgr *m = c->conn->msgr;
	bs_reply_fn *fn = c->fn;
	void *opaque = c->opaque;
	struct out_frame *f = c->frame;

	heap_remove(m, c);
	if (c->early_reply && c->early_reply != reply)
		bs_msg_free(c->early_reply);
	if (f) {
		f->call = NULL;
		if (!frame_started(f)) {
			bs_list_del(&f->link);
			frame_free(m, f);
		}
	}
	call_release(m, c);
	fn(opaque, res, reply);
}

static void call_timeout(struct call *c)
{
	struct bs_conn *conn = c->conn;

	heap_remove(conn->msgr, c);
	if (c->frame && frame_started(c->frame)) {
		/*
		 * Half of the request is on the wire and its data is the
		 * caller's: the connection cannot carry on without it.
		 */
		c->timed_out = true;
		bs_warn_rl(&conn->msgr->rl,
			   "msgr: %s: request %" PRIu64
			   " timed out while being sent; resetting the connection",
			   conn->peer, c->req_id);
		conn_fail(conn, -ETIMEDOUT);
		return;
	}
	calls_take(conn, c->req_id, c);
	call_finish(c, -ETIMEDOUT, NULL);
}

static void timer_done(struct bs_op *op, int res)
{
	struct bs_msgr *m = container_of(op, struct bs_msgr, timer_op);
	uint64_t now;

	m->timer_cancelling = false;
	if (m->freeing) {
		msgr_maybe_free(m);
		return;
	}
	now = bs_now_ms();
	while (m->nheap && m->heap[0]->deadline_ms <= now)
		call_timeout(m->heap[0]);
	timer_arm(m);
}

/* Sending */

static void conn_flush(struct bs_conn *c)
{
	struct bs_list *l;
	unsigned n = 0;

	if (c->state != CONN_UP || bs_op_busy(&c->send_op))
		return;
	for (l = c->sendq.next; l != &c->sendq; l = l->next) {
		struct out_frame *f = container_of(l, struct out_frame, link);
		size_t skip = f->sent;

		if (n + 1 + f->ndata > IOV_BATCH)
			break;
		if (skip < f->hlen) {
			c->iov[n].iov_base = f->buf + skip;
			c->iov[n++].iov_len = f->hlen - skip;
			skip = 0;
		} else {
			skip -= f->hlen;
		}
		for (unsigned i = 0; i < f->ndata; i++) {
			size_t len = f->data[i].iov_len;

			if (skip >= len) {
				skip -= len;
				continue;
			}
			c->iov[n].iov_base = (uint8_t *)f->data[i].iov_base +
					     skip;
			c->iov[n++].iov_len = len - skip;
			skip = 0;
		}
		f->in_flight = true;
		if (f->call)
			f->call->started = true;
	}
	if (!n)
		return;
	memset(&c->mh, 0, sizeof(c->mh));
	c->mh.msg_iov = c->iov;
	c->mh.msg_iovlen = n;
	bs_loop_sendmsg(c->msgr->loop, &c->send_op, c->fd, &c->mh);
}

static void flush_task_fn(struct bs_task *t)
{
	struct bs_conn *c = container_of(t, struct bs_conn, flush_task);

	conn_flush(c);
	conn_maybe_free(c);
}

/* Queue @f and flush at the end of this turn, batching what follows. */
static void conn_queue(struct bs_conn *c, struct out_frame *f)
{
	bs_list_add_tail(&c->sendq, &f->link);
	if (c->state == CONN_UP && !c->flush_task.queued)
		bs_loop_defer(c->msgr->loop, &c->flush_task);
}

static void send_done(struct bs_op *op, int res)
{
	struct bs_conn *c = container_of(op, struct bs_conn, send_op);
	struct bs_msgr *m = c->msgr;
	size_t left = res > 0 ? (size_t)res : 0;
	struct call *early = NULL, *call;
	struct bs_list *l, *next;

	for (l = c->sendq.next; l != &c->sendq; l = next) {
		struct out_frame *f = container_of(l, struct out_frame, link);

		next = l->next;
		if (!f->in_flight)
			break;
		f->in_flight = false;
		if (left >= f->total - f->sent) {
			left -= f->total - f->sent;
			call = f->call;
			if (call && call->early_reply &&
			    calls_take(c, call->req_id, call)) {
				call->hnext = early;
				early = call;
			}
			bs_list_del(&f->link);
			frame_free(m, f);
		} else {
			f->sent += left;
			left = 0;
		}
	}
	/* replies that overtook their request: the request is out now */
	while ((call = early)) {
		early = call->hnext;
		call->hnext = NULL;
		call_finish(call, call->early_res, call->early_reply);
	}
	if (c->state != CONN_UP) {
		conn_maybe_free(c);
		return;
	}
	if (res <= 0) {
		conn_fail(c, res < 0 ? res : -EPIPE);
		return;
	}
	conn_flush(c);
}

/* Receiving */

static void conn_dispatch(struct bs_conn *c, struct bs_msg *msg)
{
	struct bs_msgr *m = c->msgr;
	struct call *call;
	int res = 0;

	if (!(msg->hdr.flags & BS_FRAME_REPLY)) {
		if (m->ops && m->ops->on_request)
			m->ops->on_request(m->opaque, c, msg);
		else
			bs_msg_free(msg);
		return;
	}
	call = calls_take(c, msg->hdr.req_id, NULL);
	if (!call || call->timed_out || call->early_reply) {
		/* a late reply to a call that timed out, or a duplicate */
		bs_dbg(BS_SUB_MSGR, "msgr: %s: reply to unknown request %"
		       PRIu64, c->peer, msg->hdr.req_id);
		if (call)
			(void)calls_insert(c, call);	/* cannot grow */
		bs_msg_free(msg);
		return;
	}
	if (msg->hdr.type == BS_MSG_ERROR) {
		const Bs__ErrorReply *er = (const Bs__ErrorReply *)msg->body;

		res = bs_status_to_errno((int)er->status);
		if (!res)
			res = -EIO;
	}
	if (call->frame && frame_started(call->frame)) {
		/*
		 * The socket may still read the caller's data: complete
		 * only once the request has left (send_done), or fail with
		 * the connection.
		 */
		call->early_reply = msg;
		call->early_res = res;
		(void)calls_insert(c, call);	/* cannot grow */
		return;
	}
	call_finish(call, res, msg);
}

static void recv_done(struct bs_op *op, int res)
{
	struct bs_conn *c = container_of(op, struct bs_conn, recv_op);
	struct bs_error err = { 0 };
	struct bs_msg *msg;
	size_t pos = 0, used;
	int ret;

	if (c->state != CONN_UP) {
		conn_maybe_free(c);
		return;
	}
	if (res <= 0) {
		conn_fail(c, res < 0 ? res : -ECONNRESET);
		return;
	}
	if (c->recv_direct) {
		ret = bs_frame_parser_direct_done(&c->parser, (size_t)res,
						  &msg, &err);
		if (ret)
			goto bad;
		if (msg)
			conn_dispatch(c, msg);
	} else {
		while (pos < (size_t)res && c->state == CONN_UP) {
			ret = bs_frame_parse(&c->parser, c->rbuf + pos,
					     (size_t)res - pos, &used, &msg,
					     &err);
			if (ret)
				goto bad;
			pos += used;
			if (msg)
				conn_dispatch(c, msg);
		}
	}
	if (c->state == CONN_UP)
		conn_recv(c);
	return;
bad:
	bs_warn_rl(&c->msgr->rl, "msgr: %s: bad frame: %s; closing the connection",
		   c->peer, err.msg);
	conn_fail(c, ret);
}

static void conn_recv(struct bs_conn *c)
{
	uint8_t *dst;
	size_t want = bs_frame_parser_direct(&c->parser, &dst);

	if (want >= DIRECT_MIN) {
		c->recv_direct = true;
		bs_loop_recv(c->msgr->loop, &c->recv_op, c->fd, dst, want);
	} else {
		c->recv_direct = false;
		bs_loop_recv(c->msgr->loop, &c->recv_op, c->fd, c->rbuf,
			     RBUF_SIZE);
	}
}

/* Connection life */

static bool conn_ops_busy(const struct bs_conn *c)
{
	return bs_op_busy(&c->connect_op) || bs_op_busy(&c->backoff_op) ||
	       bs_op_busy(&c->recv_op) || bs_op_busy(&c->send_op);
}

static void conn_free_task(struct bs_task *t)
{
	struct bs_conn *c = container_of(t, struct bs_conn, free_task);
	struct bs_msgr *m = c->msgr;

	while (!bs_list_empty(&c->sendq)) {
		struct out_frame *f = container_of(c->sendq.next,
						   struct out_frame, link);

		bs_list_del(&f->link);
		frame_free(m, f);
	}
	bs_list_del(&c->link);
	bs_frame_parser_release(&c->parser);
	free(c->rbuf);
	free(c->calls);
	free(c);
	m->refs--;
	msgr_maybe_free(m);
}

/* Free @c on the next turn once nobody holds it and nothing is pending. */
static void conn_maybe_free(struct bs_conn *c)
{
	if (c->state == CONN_DRAINING && !conn_ops_busy(c)) {
		/* the last op came back: finish going down */
		conn_down(c);
		return;
	}
	if (c->refs || c->state != CONN_CLOSED || conn_ops_busy(c) ||
	    c->flush_task.queued || c->free_queued)
		return;
	c->free_queued = true;
	bs_loop_defer(c->msgr->loop, &c->free_task);
}

static void backoff_done(struct bs_op *op, int res);
static void connect_done(struct bs_op *op, int res);

static struct bs_conn *conn_new(struct bs_msgr *m, int fd, bool outgoing)
{
	struct bs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rbuf = malloc(RBUF_SIZE);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	c->msgr = m;
	c->fd = fd;
	c->outgoing = outgoing;
	c->backoff_ms = BACKOFF_MIN_MS;
	c->connect_op.fn = connect_done;
	c->backoff_op.fn = backoff_done;
	c->recv_op.fn = recv_done;
	c->send_op.fn = send_done;
	c->flush_task.fn = flush_task_fn;
	c->free_task.fn = conn_free_task;
	bs_frame_parser_init(&c->parser);
	bs_list_init(&c->sendq);
	bs_list_add_tail(&m->conns, &c->link);
	m->refs++;
	return c;
}

static void conn_start_connect(struct bs_conn *c)
{
	struct bs_msgr *m = c->msgr;
	int fd;

	fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		bs_warn_rl(&m->rl, "msgr: cannot create a socket for %s: %s",
			   c->peer, strerror(errno));
		c->state = CONN_BACKOFF;
		bs_loop_timer(m->loop, &c->backoff_op, c->backoff_ms);
		c->backoff_ms = BS_MIN(c->backoff_ms * 2, BACKOFF_MAX_MS);
		return;
	}
	set_nodelay(fd);
	c->fd = fd;
	c->state = CONN_CONNECTING;
	bs_loop_connect(m->loop, &c->connect_op, fd,
			(struct sockaddr *)&c->addr, c->addrlen);
}

static void conn_up(struct bs_conn *c)
{
	struct bs_msgr *m = c->msgr;

	c->state = CONN_UP;
	c->was_up = true;
	c->backoff_ms = BACKOFF_MIN_MS;
	conn_recv(c);
	if (!bs_list_empty(&c->sendq) && !c->flush_task.queued)
		bs_loop_defer(m->loop, &c->flush_task);
	if (m->ops && m->ops->on_connect)
		m->ops->on_connect(m->opaque, c);
}

static void connect_done(struct bs_op *op, int res)
{
	struct bs_conn *c = container_of(op, struct bs_conn, connect_op);

	if (c->state != CONN_CONNECTING) {
		conn_maybe_free(c);
		return;
	}
	if (res < 0) {
		bs_dbg(BS_SUB_MSGR, "msgr: connect to %s: %s", c->peer,
		       strerror(-res));
		conn_fail(c, res);
		return;
	}
	conn_up(c);
}

static void backoff_done(struct bs_op *op, int res)
{
	struct bs_conn *c = container_of(op, struct bs_conn, backoff_op);

	if (c->state != CONN_BACKOFF) {
		conn_maybe_free(c);
		return;
	}
	conn_start_connect(c);
}

/*
 * Start going down: shut the socket so the kernel stops touching our
 * buffers, cancel what is pending, finish in conn_down once all is back.
 */
static void conn_fail(struct bs_conn *c, int reason)
{
	struct bs_loop *loop = c->msgr->loop;

	if (c->state == CONN_DRAINING || c->state == CONN_CLOSED)
		return;
	bs_dbg(BS_SUB_MSGR, "msgr: %s: going down: %s", c->peer,
	       strerror(-reason));
	c->reason = reason;
	c->state = CONN_DRAINING;
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	bs_loop_cancel(loop, &c->recv_op);
	bs_loop_cancel(loop, &c->send_op);
	bs_loop_cancel(loop, &c->connect_op);
	bs_loop_cancel(loop, &c->backoff_op);
	conn_maybe_free(c);
}

/* Every op is back: close the socket, settle frames and calls. */
static void conn_down(struct bs_conn *c)
{
	struct bs_msgr *m = c->msgr;
	bool final = c->closing || !c->outgoing || m->freeing;
	bool was_up = c->was_up;
	struct call *failed = NULL, *call;
	struct bs_list *l, *next;
	int fres = c->closing ? -ECANCELED : -ECONNRESET;

	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	bs_frame_parser_release(&c->parser);
	for (l = c->sendq.next; l != &c->sendq; l = next) {
		struct out_frame *f = container_of(l, struct out_frame, link);

		next = l->next;
		/* requests not yet begun wait for the next connection */
		if (!final && f->call && !frame_started(f))
			continue;
		bs_list_del(&f->link);
		frame_free(m, f);
	}
	for (unsigned b = 0; b < c->nbuckets; b++) {
		struct call **pp = &c->calls[b];

		while ((call = *pp)) {
			if (final || call->started || call->timed_out) {
				*pp = call->hnext;
				c->ncalls--;
				call->hnext = failed;
				failed = call;
			} else {
				pp = &call->hnext;
			}
		}
	}
	c->was_up = false;
	if (final) {
		c->state = CONN_CLOSED;
	} else {
		c->state = CONN_BACKOFF;
		bs_loop_timer(m->loop, &c->backoff_op, c->backoff_ms);
		c->backoff_ms = BS_MIN(c->backoff_ms * 2, BACKOFF_MAX_MS);
	}
	c->refs++;	/* callbacks below may drop the last reference */
	if (was_up && m->ops && m->ops->on_close)
		m->ops->on_close(m->opaque, c, c->reason);
	while ((call = failed)) {
		failed = call->hnext;
		call->hnext = NULL;
		call_finish(call, call->timed_out ? -ETIMEDOUT : fres, NULL);
	}
	if (final && !c->outgoing)
		c->refs--;	/* the messenger's own reference */
	bs_conn_put(c);
}

/* No more reconnects; every call completes with -ECANCELED now. */
static void conn_close(struct bs_conn *c)
{
	struct call *failed = NULL, *call;

	if (c->closing)
		return;
	c->closing = true;
	if (c->state == CONN_CLOSED)
		return;
	c->refs++;
	conn_fail(c, -ECANCELED);
	for (unsigned b = 0; b < c->nbuckets; b++) {
		while ((call = c->calls[b])) {
			c->calls[b] = call->hnext;
			c->ncalls--;
			call->hnext = failed;
			failed = call;
		}
	}
	while ((call = failed)) {
		failed = call->hnext;
		call->hnext = NULL;
		call_finish(call, -ECANCELED, NULL);
	}
	bs_conn_put(c);
}

void bs_conn_get(struct bs_conn *c)
{
	c->refs++;
}

void bs_conn_put(struct bs_conn *c)
{
	if (!c)
		return;
	if (--c->refs > 0)
		return;
	if (c->state != CONN_CLOSED) {
		/* nobody can reach it any more */
		c->refs++;
		conn_close(c);
		c->refs--;
	}
	conn_maybe_free(c);
}

void bs_conn_close(struct bs_conn *c)
{
	conn_close(c);
}

bool bs_conn_is_connected(const struct bs_conn *c)
{
	return c->state == CONN_UP;
}

const char *bs_conn_peer(const struct bs_conn *c)
{
	return c->peer;
}

void bs_conn_set_opaque(struct bs_conn *c, void *opaque)
{
	c->opaque = opaque;
}

void *bs_conn_opaque(const struct bs_conn *c)
{
	return c->opaque;
}

/* Listening */

static void accept_done(struct bs_op *op, int res);

static void accept_retry_done(struct bs_op *op, int res)
{
	struct bs_msgr *m = container_of(op, struct bs_msgr, accept_retry_op);

	if (m->freeing) {
		msgr_maybe_free(m);
		return;
	}
	bs_loop_accept(m->loop, &m->accept_op, m->listen_fd);
}

static void accept_done(struct bs_op *op, int res)
{
	struct bs_msgr *m = container_of(op, struct bs_msgr, accept_op);
	struct bs_conn *c;
	socklen_t len;

	if (m->freeing) {
		if (res >= 0)
			close(res);
		msgr_maybe_free(m);
		return;
	}
	if (res < 0) {
		bs_warn_rl(&m->rl, "msgr: accept on %s failed: %s",
			   m->listen_addr, strerror(-res));
		bs_loop_timer(m->loop, &m->accept_retry_op, ACCEPT_RETRY_MS);
		return;
	}
	bs_loop_accept(m->loop, &m->accept_op, m->listen_fd);
	c = conn_new(m, res, false);
	if (!c) {
		bs_warn_rl(&m->rl, "msgr: out of memory for a new connection");
		close(res);
		return;
	}
	set_nodelay(res);
	len = sizeof(c->addr);
	if (getpeername(res, (struct sockaddr *)&c->addr, &len) == 0)
		fmt_addr(&c->addr, c->peer, sizeof(c->peer));
	else
		snprintf(c->peer, sizeof(c->peer), "fd %d", res);
	c->addrlen = len;
	c->refs = 1;	/* the messenger's, until the socket is gone */
	bs_dbg(BS_SUB_MSGR, "msgr: accepted %s", c->peer);
	conn_up(c);
}

int bs_msgr_listen(struct bs_msgr *m, const char *addr, struct bs_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, ret;

	if (m->listen_fd >= 0)
		return bs_error_set(err, -EBUSY, "already listening on %s",
				    m->listen_addr);
	if (bs_parse_addr(addr, &ss, &len))
		return bs_error_set(err, -EINVAL,
				    "cannot parse address '%s' (want HOST:PORT)",
				    addr ? addr : "");
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return bs_error_errno(err, -errno, "cannot create a socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		ret = bs_error_errno(err, -errno, "cannot bind %s", addr);
		goto out_close;
	}
	if (listen(fd, 1024) == -1) {
		ret = bs_error_errno(err, -errno, "cannot listen on %s", addr);
		goto out_close;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		ret = bs_error_errno(err, -errno,
				     "cannot get the address of %s", addr);
		goto out_close;
	}
	fmt_addr(&ss, m->listen_addr, sizeof(m->listen_addr));
	m->listen_fd = fd;
	bs_loop_accept(m->loop, &m->accept_op, fd);
	return 0;

out_close:
	close(fd);
	return ret;
}

const char *bs_msgr_listen_addr(const struct bs_msgr *m)
{
	return m->listen_addr;
}

/* Messenger */

int bs_msgr_new(struct bs_msgr **out, struct bs_loop *loop,
		const struct bs_msgr_ops *ops, void *opaque)
{
	struct bs_msgr *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->ops = ops;
	m->opaque = opaque;
	m->refs = 1;
	m->listen_fd = -1;
	m->accept_op.fn = accept_done;
	m->accept_retry_op.fn = accept_retry_done;
	m->timer_op.fn = timer_done;
	m->rl = (struct bs_ratelimit)BS_RATELIMIT_INIT;
	bs_list_init(&m->conns);
	*out = m;
	return 0;
}

static void msgr_maybe_free(struct bs_msgr *m)
{
	if (m->refs || bs_op_busy(&m->accept_op) ||
	    bs_op_busy(&m->accept_retry_op) || bs_op_busy(&m->timer_op))
		return;
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	while (m->free_calls) {
		struct call *c = m->free_calls;

		m->free_calls = c->hnext;
		free(c);
	}
	while (m->free_frames) {
		struct out_frame *f = m->free_frames;

		m->free_frames = (struct out_frame *)f->call;
		free(f);
	}
	free(m->heap);
	if (m->freed)
		*m->freed = true;
	free(m);
}

/* Nothing of ours is pending in the loop any more. */
static bool msgr_quiet(const struct bs_msgr *m)
{
	const struct bs_list *l;

	if (bs_op_busy(&m->accept_op) || bs_op_busy(&m->accept_retry_op) ||
	    bs_op_busy(&m->timer_op))
		return false;
	for (l = m->conns.next; l != &m->conns; l = l->next) {
		const struct bs_conn *c = container_of(l, struct bs_conn,
						       link);

		if (c->state != CONN_CLOSED || conn_ops_busy(c) ||
		    c->flush_task.queued || c->free_queued)
			return false;
	}
	return true;
}

void bs_msgr_free(struct bs_msgr **pm)
{
	struct bs_msgr *m = *pm;
	struct bs_loop *loop;
	struct bs_list *l, *next;
	bool freed = false;
	uint64_t end;

	if (!m)
		return;
	*pm = NULL;
	loop = m->loop;
	m->freeing = true;
	m->freed = &freed;
	bs_loop_cancel(loop, &m->accept_op);
	bs_loop_cancel(loop, &m->accept_retry_op);
	bs_loop_cancel(loop, &m->timer_op);
	for (l = m->conns.next; l != &m->conns; l = next) {
		struct bs_conn *c = container_of(l, struct bs_conn, link);

		/* frees are deferred: @next stays valid */
		next = l->next;
		conn_close(c);
	}
	m->refs--;
	msgr_maybe_free(m);
	if (freed || bs_loop_in_turn(loop))
		return;
	end = bs_now_ms() + DRAIN_MAX_MS;
	while (!freed && !msgr_quiet(m) && bs_now_ms() < end)
		if (bs_loop_run_once(loop, 10) < 0)
			break;
	if (!freed)
		m->freed = NULL;
}

int bs_msgr_connect(struct bs_msgr *m, const char *addr,
		    struct bs_conn **out, struct bs_error *err)
{
	struct sockaddr_storage ss;
	struct bs_conn *c;
	socklen_t len;

	if (m->freeing)
		return bs_error_set(err, -ESHUTDOWN,
				    "messenger is shutting down");
	if (bs_parse_addr(addr, &ss, &len))
		return bs_error_set(err, -EINVAL,
				    "cannot parse address '%s' (want HOST:PORT)",
				    addr ? addr : "");
	c = conn_new(m, -1, true);
	if (!c)
		return bs_error_set(err, -ENOMEM, "out of memory");
	c->addr = ss;
	c->addrlen = len;
	fmt_addr(&ss, c->peer, sizeof(c->peer));
	c->refs = 1;	/* the caller's */
	conn_start_connect(c);
	*out = c;
	return 0;
}

/* Messages */

int bs_conn_call(struct bs_conn *c, uint16_t type,
		 const ProtobufCMessage *body, const struct iovec *data,
		 unsigned ndata, uint64_t timeout_ms, bs_reply_fn *fn,
		 void *opaque)
{
	struct bs_msgr *m = c->msgr;
	struct out_frame *f;
	struct call *call;
	int ret;

	if (c->closing || c->state == CONN_CLOSED || m->freeing ||
	    (!c->outgoing && c->state != CONN_UP))
		return -ENOTCONN;
	call = call_alloc(m);
	if (!call)
		return -ENOMEM;
	call->conn = c;
	call->fn = fn;
	call->opaque = opaque;
	call->req_id = ++c->next_req_id;
	ret = frame_new(m, type, 0, call->req_id, body, data, ndata, false,
			&f);
	if (ret)
		goto out_call;
	ret = calls_insert(c, call);
	if (ret)
		goto out_frame;
	if (timeout_ms) {
		call->deadline_ms = bs_now_ms() + timeout_ms;
		ret = heap_push(m, call);
		if (ret) {
			calls_take(c, call->req_id, call);
			goto out_frame;
		}
		timer_arm(m);
	}
	f->call = call;
	call->frame = f;
	conn_queue(c, f);
	return 0;

out_frame:
	frame_free(m, f);
out_call:
	call_release(m, call);
	return ret;
}

int bs_conn_send(struct bs_conn *c, uint16_t type,
		 const ProtobufCMessage *body, const struct iovec *data,
		 unsigned ndata)
{
	struct out_frame *f;
	int ret;

	if (c->state != CONN_UP || c->closing)
		return -ENOTCONN;
	ret = frame_new(c->msgr, type, 0, 0, body, data, ndata, true, &f);
	if (ret)
		return ret;
	conn_queue(c, f);
	return 0;
}

int bs_conn_reply(struct bs_conn *c, const struct bs_msg *req,
		  uint16_t type, const ProtobufCMessage *body,
		  const struct iovec *data, unsigned ndata,
		  bs_release_fn *release, void *opaque)
{
	struct out_frame *f;
	int ret;

	if (c->state != CONN_UP || c->closing) {
		if (release)
			release(opaque);
		return 0;
	}
	ret = frame_new(c->msgr, type, BS_FRAME_REPLY, req->hdr.req_id, body,
			data, ndata, !release, &f);
	if (ret) {
		if (release)
			release(opaque);
		return ret;
	}
	f->release = release;
	f->release_opaque = opaque;
	conn_queue(c, f);
	return 0;
}

int bs_conn_reply_error(struct bs_conn *c, const struct bs_msg *req,
			int neg_errno, const char *fmt, ...)
{
	Bs__ErrorReply er = BS__ERROR_REPLY__INIT;
	char text[BS_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	er.status = (uint32_t)bs_status_from_errno(neg_errno);
	er.message = text;
	return bs_conn_reply(c, req, BS_MSG_ERROR, &er.base, NULL, 0, NULL,
			     NULL);
}

const char *bs_msg_error_text(const struct bs_msg *reply)
{
	const Bs__ErrorReply *er;

	if (!reply || reply->hdr.type != BS_MSG_ERROR || !reply->body)
		return "";
	er = (const Bs__ErrorReply *)reply->body;
	return er->message ? er->message : "";
}
