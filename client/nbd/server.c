// SPDX-License-Identifier: Apache-2.0
/*
 * The server's event loop side: listening sockets (TCP and Unix), one
 * struct conn per client with its input state machine and its output
 * queue, signals, and the clean shutdown.  One recv and one sendmsg per
 * connection are in flight at a time; requests in flight are bounded per
 * connection (max_inflight, max_inflight_bytes): past that we stop
 * reading, which is the back-pressure a client sees.
 *
 * Connection states (nbd.h): CLIENT_FLAGS -> OPTIONS <-> OPTION_BUSY ->
 * TRANSMISSION -> DRAINING -> CLOSING (freed when the last reference,
 * held by each busy op, request and job, goes).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nbd.h"

#define IBUF_INITIAL	(16u * 1024)
/* Refused options longer than this end the connection (DoS). */
#define MAX_SKIP_OPTION	(16u * 1024 * 1024)
#define ACCEPT_RETRY_MS	100

static void conn_process(struct conn *conn);
static void conn_close(struct conn *conn);
static void start_send(struct conn *conn);
static void conn_check_idle(struct conn *conn);

/* ---- references --------------------------------------------------------- */

static void conn_free(struct conn *conn)
{
	struct nbd_server *srv = conn->srv;

	assert(!bs_op_busy(&conn->recv_op) && !bs_op_busy(&conn->send_op) &&
	       !bs_op_busy(&conn->timer_op) && !conn->out_head &&
	       !conn->inflight && !conn->in_req);
	bs_info("%s: disconnected", conn->peer);
	if (conn->fd >= 0)
		close(conn->fd);
	if (conn->exp)
		export_put(conn->exp);
	handshake_release(conn);
	free(conn->ibuf);
	bs_list_del(&conn->link);
	srv->nconns--;
	free(conn);
	nbd_server_check_done(srv);
}

void conn_get(struct conn *conn)
{
	conn->refs++;
}

void conn_put(struct conn *conn)
{
	assert(conn->refs > 0);
	if (--conn->refs == 0)
		conn_free(conn);
}

bool conn_is_dead(const struct conn *conn)
{
	return conn->state == CONN_CLOSING;
}

/* ---- output ------------------------------------------------------------- */

static size_t msg_len(const struct out_msg *m)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < m->niov; i++)
		n += m->iov[i].iov_len;
	return n;
}

/* Give back every queued message unsent (the send op must be idle). */
static void drop_out_queue(struct conn *conn)
{
	struct out_msg *m;

	assert(!bs_op_busy(&conn->send_op));
	while ((m = conn->out_head)) {
		conn->out_head = m->next;
		if (!conn->out_head)
			conn->out_tail = &conn->out_head;
		m->done(m);
	}
	conn->out_sent = 0;
}

static void send_done(struct bs_op *op, int res)
{
	struct conn *conn = container_of(op, struct conn, send_op);
	struct out_msg *m;
	size_t len;

	if (conn_is_dead(conn)) {
		drop_out_queue(conn);
		conn_put(conn);
		return;
	}
	if (res <= 0) {
		bs_info("%s: send failed: %s: closing", conn->peer,
			strerror(res ? -res : EPIPE));
		conn_close(conn);
		drop_out_queue(conn);
		conn_put(conn);
		return;
	}
	conn->out_sent += (size_t)res;
	while ((m = conn->out_head)) {
		len = msg_len(m);
		if (conn->out_sent < len)
			break;
		conn->out_sent -= len;
		conn->out_head = m->next;
		if (!conn->out_head)
			conn->out_tail = &conn->out_head;
		m->done(m);	/* may queue more, or close */
	}
	if (!conn_is_dead(conn)) {
		if (conn->out_head && !bs_op_busy(&conn->send_op))
			start_send(conn);
		conn_check_idle(conn);
	}
	conn_put(conn);
}

static void start_send(struct conn *conn)
{
	size_t skip = conn->out_sent;
	struct out_msg *m;
	unsigned n = 0, i;

	for (m = conn->out_head; m && n < CONN_SEND_IOV; m = m->next) {
		for (i = 0; i < m->niov && n < CONN_SEND_IOV; i++) {
			const struct iovec *v = &m->iov[i];

			if (skip >= v->iov_len) {
				skip -= v->iov_len;
				continue;
			}
			conn->siov[n].iov_base = (uint8_t *)v->iov_base + skip;
			conn->siov[n].iov_len = v->iov_len - skip;
			skip = 0;
			n++;
		}
	}
	memset(&conn->msg, 0, sizeof(conn->msg));
	conn->msg.msg_iov = conn->siov;
	conn->msg.msg_iovlen = n;
	conn_get(conn);
	bs_loop_sendmsg(conn->srv->loop, &conn->send_op, conn->fd,
			&conn->msg);
}

void conn_send(struct conn *conn, struct out_msg *m)
{
	BS_ASSERT_LOOP_THREAD(conn->srv->loop);
	if (conn_is_dead(conn)) {
		m->done(m);
		return;
	}
	m->next = NULL;
	*conn->out_tail = m;
	conn->out_tail = &m->next;
	if (!bs_op_busy(&conn->send_op))
		start_send(conn);
}

/* ---- closing ------------------------------------------------------------ */

static void conn_close(struct conn *conn)
{
	struct req *req;

	if (conn_is_dead(conn))
		return;
	conn->state = CONN_CLOSING;
	shutdown(conn->fd, SHUT_RDWR);	/* ends a pending recv/send */
	if (bs_op_busy(&conn->timer_op))
		bs_loop_cancel(conn->srv->loop, &conn->timer_op);
	if (bs_op_busy(&conn->recv_op))
		bs_loop_cancel(conn->srv->loop, &conn->recv_op);
	if (bs_op_busy(&conn->send_op))
		bs_loop_cancel(conn->srv->loop, &conn->send_op);
	else
		drop_out_queue(conn);
	if (conn->in_req && !bs_op_busy(&conn->recv_op)) {
		req = conn->in_req;
		conn->in_req = NULL;
		req_free(req);
	}
	if (conn->waiter.exp) {
		export_cancel_wait(&conn->waiter);
		conn_put(conn);		/* the waiter's reference */
	}
	conn_put(conn);			/* the connection's own reference */
}

void conn_fail(struct conn *conn, const char *why, ...)
{
	char msg[256];
	va_list ap;

	if (conn_is_dead(conn))
		return;
	/* per client, and server-wide against floods of new clients */
	if (why && bs_ratelimit_ok(&conn->rl) &&
	    bs_ratelimit_ok(&conn->srv->rl)) {
		va_start(ap, why);
		vsnprintf(msg, sizeof(msg), why, ap);
		va_end(ap);
		bs_warn("%s: %s", conn->peer, msg);
	}
	conn_close(conn);
}

void conn_drain(struct conn *conn)
{
	if (conn->state == CONN_DRAINING || conn_is_dead(conn))
		return;
	conn->state = CONN_DRAINING;
	shutdown(conn->fd, SHUT_RD);	/* a pending recv returns 0 */
	if (bs_op_busy(&conn->timer_op))
		bs_loop_cancel(conn->srv->loop, &conn->timer_op);
	conn_check_idle(conn);
}

/*
 * A connection winds down after NBD_CMD_DISC or end of input (DRAINING:
 * nothing more is read) or when the server stops (still reading, so that
 * new requests get NBD_ESHUTDOWN as proto.md asks); either way it closes
 * once its last reply is out.
 */
static void conn_check_idle(struct conn *conn)
{
	bool winding_down = conn->state == CONN_DRAINING ||
			    (conn->state == CONN_TRANSMISSION &&
			     conn->srv->stopping);

	if (!winding_down || conn->inflight || conn->out_head ||
	    bs_op_busy(&conn->send_op) || conn->in_req)
		return;
	conn_close(conn);
}

/* ---- input -------------------------------------------------------------- */

static bool can_take_request(const struct conn *conn)
{
	const struct nbd_config *cfg = conn->srv->cfg;

	return conn->inflight < cfg->max_inflight &&
	       conn->inflight_bytes < cfg->max_inflight_bytes;
}

static void recv_done(struct bs_op *op, int res)
{
	struct conn *conn = container_of(op, struct conn, recv_op);
	struct req *req;

	if (conn_is_dead(conn)) {
		if (conn->in_req) {
			req = conn->in_req;
			conn->in_req = NULL;
			req_free(req);
		}
		conn_put(conn);
		return;
	}
	if (res > 0) {
		if (conn->recv_direct)
			conn->in_done += (uint32_t)res;
		else
			conn->iend += (size_t)res;
	} else if (res == 0) {
		conn->eof = true;
	} else if (res != -EINTR && res != -EAGAIN) {
		bs_info("%s: receive failed: %s: closing", conn->peer,
			strerror(-res));
		conn_close(conn);
		conn_put(conn);
		return;
	}
	conn_process(conn);
	conn_put(conn);
}

/* Post a recv for more input; compacts or grows ibuf as needed. */
static void arm_recv(struct conn *conn)
{
	struct req *req = conn->in_req;
	size_t want, cap;
	void *target;
	size_t len;
	uint8_t *p;

	if (bs_op_busy(&conn->recv_op) || conn->eof)
		return;
	if (conn->in == IN_PAYLOAD && conn->istart == conn->iend) {
		/* big payloads go straight into the request's buffer */
		conn->istart = conn->iend = 0;
		target = req->buf + conn->in_done;
		len = req->r.length - conn->in_done;
		conn->recv_direct = true;
	} else {
		want = conn->in == IN_OPTION_DATA ? conn->opt.length : 0;
		if (conn->istart && (conn->iend == conn->ibuf_cap ||
				     conn->ibuf_cap - conn->istart < want)) {
			memmove(conn->ibuf, conn->ibuf + conn->istart,
				conn->iend - conn->istart);
			conn->iend -= conn->istart;
			conn->istart = 0;
		}
		if (want > conn->ibuf_cap) {
			cap = BS_ALIGN_UP(want, 4096);
			p = realloc(conn->ibuf, cap);
			if (!p) {
				conn_fail(conn, "out of memory for option data: closing");
				return;
			}
			conn->ibuf = p;
			conn->ibuf_cap = cap;
		}
		target = conn->ibuf + conn->iend;
		len = conn->ibuf_cap - conn->iend;
		conn->recv_direct = false;
	}
	assert(len > 0);
	conn_get(conn);
	bs_loop_recv(conn->srv->loop, &conn->recv_op, conn->fd, target, len);
}

/* After skipping a refused option or a refused WRITE's payload. */
static void skip_finished(struct conn *conn)
{
	struct req *req = conn->in_req;

	conn->in = IN_HEADER;
	if (req) {
		conn->in_req = NULL;
		request_complete(req);
	} else {
		handshake_option_skipped(conn);
	}
}

void conn_read_payload(struct conn *conn, struct req *req)
{
	conn->in = IN_PAYLOAD;
	conn->in_req = req;
	conn->in_done = 0;
}

void conn_skip_payload(struct conn *conn, struct req *req)
{
	conn->in = IN_SKIP;
	conn->in_req = req;
	conn->skip_left = req->r.length;
}

/* The client closed its side; decide how to end. */
static void handle_eof(struct conn *conn)
{
	bool mid = conn->in != IN_HEADER || conn->iend > conn->istart;

	if (conn->state == CONN_TRANSMISSION && !mid) {
		/* no DISC, but nothing half-sent: finish what we have */
		bs_dbg(BS_SUB_NBD, "%s: end of input", conn->peer);
		conn_drain(conn);
	} else if (conn->state == CONN_TRANSMISSION) {
		conn_fail(conn, "client vanished in the middle of a request");
	} else if (mid) {
		conn_fail(conn, "client vanished in the middle of the handshake");
	} else {
		bs_info("%s: client left during the handshake", conn->peer);
		conn_close(conn);
	}
}

/*
 * Consume what ibuf holds, as far as the state allows, then ask for more
 * input if that is what we wait for.  Never re-entered: a callback that
 * wants input to go on (conn_resume) while we run is seen by the loop.
 */
static void conn_process(struct conn *conn)
{
	bool need_input = false;
	size_t avail, n;
	uint8_t *p;
	struct req *req;

	if (conn->processing)
		return;
	conn->processing = true;
	conn_get(conn);
	while (!conn_is_dead(conn)) {
		avail = conn->iend - conn->istart;
		p = conn->ibuf + conn->istart;

		if (conn->in == IN_SKIP) {
			n = BS_MIN(avail, conn->skip_left);
			conn->istart += n;
			conn->skip_left -= n;
			if (conn->skip_left) {
				need_input = true;
				break;
			}
			skip_finished(conn);
			continue;
		}
		if (conn->in == IN_PAYLOAD) {
			req = conn->in_req;
			n = BS_MIN(avail, (size_t)(req->r.length -
						   conn->in_done));
			memcpy(req->buf + conn->in_done, p, n);
			conn->istart += n;
			conn->in_done += (uint32_t)n;
			if (conn->in_done < req->r.length) {
				need_input = true;
				break;
			}
			conn->in = IN_HEADER;
			conn->in_req = NULL;
			request_payload_done(req);
			continue;
		}
		if (conn->in == IN_OPTION_DATA) {
			if (avail < conn->opt.length) {
				need_input = true;
				break;
			}
			conn->istart += conn->opt.length;
			conn->in = IN_HEADER;
			handshake_option(conn, p);
			continue;
		}

		/* IN_HEADER */
		if (conn->state == CONN_CLIENT_FLAGS) {
			if (avail < NBD_CLIENT_FLAGS_LEN) {
				need_input = true;
				break;
			}
			conn->istart += NBD_CLIENT_FLAGS_LEN;
			handshake_client_flags(conn, p);
		} else if (conn->state == CONN_OPTIONS) {
			if (avail < NBD_OPT_HDR_LEN) {
				need_input = true;
				break;
			}
			conn->istart += NBD_OPT_HDR_LEN;
			if (nbd_opt_header_decode(p, &conn->opt)) {
				conn_fail(conn, "bad option magic during the handshake: closing");
				break;
			}
			if (conn->opt.length <= NBD_MAX_OPT_LEN) {
				conn->in = IN_OPTION_DATA;
			} else if (conn->opt.length <= MAX_SKIP_OPTION &&
				   conn->opt.option != NBD_OPT_EXPORT_NAME) {
				conn->in = IN_SKIP;
				conn->skip_left = conn->opt.length;
			} else {
				conn_fail(conn, "%s with %u bytes of data: closing",
					  nbd_opt_name(conn->opt.option),
					  conn->opt.length);
			}
		} else if (conn->state == CONN_TRANSMISSION) {
			if (!can_take_request(conn))
				break;	/* resumed when a request ends */
			if (avail < NBD_REQUEST_LEN) {
				need_input = true;
				break;
			}
			conn->istart += NBD_REQUEST_LEN;
			request_received(conn, p);
		} else {
			break;	/* OPTION_BUSY, DRAINING */
		}
	}
	if (!conn_is_dead(conn) && need_input) {
		if (conn->eof)
			handle_eof(conn);
		else
			arm_recv(conn);
	}
	conn->processing = false;
	if (!conn_is_dead(conn))
		conn_check_idle(conn);
	conn_put(conn);
}

void conn_resume(struct conn *conn)
{
	if (conn_is_dead(conn))
		return;
	if (conn->state == CONN_DRAINING) {
		conn_check_idle(conn);
		return;
	}
	conn_process(conn);	/* checks idleness when done */
}

/* ---- connections -------------------------------------------------------- */

static void timer_done(struct bs_op *op, int res)
{
	struct conn *conn = container_of(op, struct conn, timer_op);
	unsigned long long ms = conn->srv->cfg->handshake_timeout;

	if (res == 0 && !conn_is_dead(conn) &&
	    conn->state != CONN_TRANSMISSION &&
	    conn->state != CONN_DRAINING)
		conn_fail(conn, "no export selected within %llu ms: closing",
			  ms);
	conn_put(conn);
}

void conn_transmission_started(struct conn *conn)
{
	if (bs_op_busy(&conn->timer_op))
		bs_loop_cancel(conn->srv->loop, &conn->timer_op);
}

static void peer_name(struct conn *conn, bool unix_socket)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	uint16_t port;

	snprintf(conn->peer, sizeof(conn->peer), "conn %llu",
		 (unsigned long long)conn->id);
	if (unix_socket ||
	    getpeername(conn->fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	} else {
		return;
	}
	snprintf(conn->peer, sizeof(conn->peer), "conn %llu %s:%u",
		 (unsigned long long)conn->id, host, port);
}

void nbd_server_adopt(struct nbd_server *srv, int fd, bool unix_socket)
{
	struct conn *conn = bs_xcalloc(1, sizeof(*conn));
	struct bs_ratelimit rl = BS_RATELIMIT_INIT;
	int one = 1;

	conn->srv = srv;
	conn->fd = fd;
	conn->refs = 1;
	conn->id = ++srv->next_conn_id;
	conn->rl = rl;
	conn->ibuf_cap = IBUF_INITIAL;
	conn->ibuf = bs_xmalloc(conn->ibuf_cap);
	conn->out_tail = &conn->out_head;
	conn->recv_op.fn = recv_done;
	conn->send_op.fn = send_done;
	conn->timer_op.fn = timer_done;
	bs_list_add_tail(&srv->conns, &conn->link);
	srv->nconns++;
	if (!unix_socket)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	peer_name(conn, unix_socket);
	bs_info("%s: connected", conn->peer);

	conn_get(conn);
	bs_loop_timer(srv->loop, &conn->timer_op,
		      srv->cfg->handshake_timeout);
	handshake_start(conn);
	conn_process(conn);
}

/* ---- listening ---------------------------------------------------------- */

static void arm_accept(struct listener *l);

static void accept_retry(struct bs_op *op, int res)
{
	struct listener *l = container_of(op, struct listener, retry_op);

	if (l->srv->stopping) {
		nbd_server_check_done(l->srv);
		return;
	}
	arm_accept(l);
}

static void accept_done(struct bs_op *op, int res)
{
	struct listener *l = container_of(op, struct listener, op);
	struct nbd_server *srv = l->srv;

	if (srv->stopping) {
		if (res >= 0)
			close(res);
		nbd_server_check_done(srv);
		return;
	}
	if (res < 0) {
		if (res == -EINTR || res == -ECONNABORTED || res == -EAGAIN) {
			arm_accept(l);
			return;
		}
		bs_warn_rl(&srv->rl, "accept failed: %s: retrying",
			   strerror(-res));
		bs_loop_timer(srv->loop, &l->retry_op, ACCEPT_RETRY_MS);
		return;
	}
	if (srv->nconns >= srv->cfg->max_connections) {
		bs_warn_rl(&srv->rl, "refusing a connection: already %u (max_connections)",
			   srv->nconns);
		close(res);
	} else {
		nbd_server_adopt(srv, res, l->unix_socket);
	}
	arm_accept(l);
}

static void arm_accept(struct listener *l)
{
	bs_loop_accept(l->srv->loop, &l->op, l->fd);
}

static int listen_tcp(struct nbd_server *srv, const char *addr,
		      struct bs_error *err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[256], serv[16], shown[INET6_ADDRSTRLEN];
	const char *colon = strrchr(addr, ':');
	size_t hlen;
	int fd, one = 1, ret;

	if (!colon || colon == addr || !colon[1])
		return bs_error_set(err, -EINVAL, "'--listen': '%s' is not HOST:PORT",
				    addr);
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[' && hlen >= 2 && addr[hlen - 1] == ']') {
		addr++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host) || strlen(colon + 1) >= sizeof(serv))
		return bs_error_set(err, -EINVAL, "'--listen': '%s' is too long",
				    addr);
	memcpy(host, addr, hlen);
	host[hlen] = 0;
	snprintf(serv, sizeof(serv), "%s", colon + 1);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	ret = getaddrinfo(host, serv, &hints, &res);
	if (ret)
		return bs_error_set(err, -EINVAL, "'--listen': cannot resolve '%s': %s",
				    host, gai_strerror(ret));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		ret = bs_error_errno(err, -errno, "socket");
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		ret = bs_error_errno(err, -errno, "cannot listen on %s:%s",
				     host, serv);
		close(fd);
		goto out;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		ret = bs_error_errno(err, -errno, "listen on %s:%s", host,
				     serv);
		close(fd);
		goto out;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, shown, sizeof(shown));
		srv->tcp_port = ntohs(s6->sin6_port);
		snprintf(srv->tcp_addr, sizeof(srv->tcp_addr), "[%s]:%u",
			 shown, srv->tcp_port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, shown, sizeof(shown));
		srv->tcp_port = ntohs(s4->sin_port);
		snprintf(srv->tcp_addr, sizeof(srv->tcp_addr), "%s:%u",
			 shown, srv->tcp_port);
	}
	srv->listeners[srv->nlisteners].fd = fd;
	srv->listeners[srv->nlisteners].unix_socket = false;
	srv->nlisteners++;
	ret = 0;
out:
	freeaddrinfo(res);
	return ret;
}

static int listen_unix(struct nbd_server *srv, const char *path,
		       struct bs_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, probe;

	if (strlen(path) >= sizeof(sun.sun_path))
		return bs_error_set(err, -ENAMETOOLONG,
				    "'--socket': '%s' is too long for a Unix socket",
				    path);
	strcpy(sun.sun_path, path);
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* a stale socket of a dead server may go; a live one not */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
					  sizeof(sun)) == 0) {
			close(probe);
			return bs_error_set(err, -EADDRINUSE,
					    "'--socket': a server already listens on '%s'",
					    path);
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return bs_error_errno(err, -errno, "socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		int ret = -errno;

		close(fd);
		return bs_error_errno(err, ret, "cannot listen on '%s'", path);
	}
	srv->listeners[srv->nlisteners].fd = fd;
	srv->listeners[srv->nlisteners].unix_socket = true;
	srv->nlisteners++;
	srv->unix_bound = true;
	return 0;
}

int nbd_server_listen(struct nbd_server *srv, struct bs_error *err)
{
	int ret;

	if (srv->cfg->listen) {
		ret = listen_tcp(srv, srv->cfg->listen, err);
		if (ret)
			return ret;
	}
	if (srv->cfg->socket) {
		ret = listen_unix(srv, srv->cfg->socket, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- the server --------------------------------------------------------- */

int nbd_server_init(struct nbd_server *srv, struct nbd_config *cfg,
		    struct basalt_cluster *cluster, struct bs_error *err)
{
	struct bs_ratelimit rl = { 0, 5000, 50, 0, 0 };
	unsigned i;
	int ret;

	memset(srv, 0, sizeof(*srv));
	srv->cfg = cfg;
	srv->cluster = cluster;
	srv->rl = rl;
	srv->signal_fd = -1;
	bs_list_init(&srv->conns);
	bs_list_init(&srv->exports);
	bs_list_init(&srv->free_reqs);
	for (i = 0; i < ARRAY_SIZE(srv->listeners); i++) {
		srv->listeners[i].fd = -1;
		srv->listeners[i].srv = srv;
		srv->listeners[i].op.fn = accept_done;
		srv->listeners[i].retry_op.fn = accept_retry;
	}
	ret = bs_loop_new(&srv->loop, 0);
	if (ret)
		return bs_error_errno(err, ret, "cannot create the event loop");
	ret = nbd_workers_new(&srv->workers, srv->loop,
			      (unsigned)cfg->workers);
	if (ret)
		return bs_error_errno(err, ret, "cannot start worker threads");
	return 0;
}

static void signal_done(struct bs_op *op, int res);

static void arm_signals(struct nbd_server *srv)
{
	if (srv->signal_fd < 0)
		return;
	srv->signal_op.fn = signal_done;
	bs_loop_poll_fd(srv->loop, &srv->signal_op, srv->signal_fd, POLLIN);
}

static void signal_done(struct bs_op *op, int res)
{
	struct nbd_server *srv = container_of(op, struct nbd_server,
					      signal_op);
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(srv->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			if (srv->child <= 0)
				break;
			pid = waitpid(srv->child, &status, WNOHANG);
			if (pid == srv->child) {
				srv->child = 0;
				captive_exited(srv, status);
			}
			break;
		default:
			bs_notice("signal %d: shutting down", si.ssi_signo);
			nbd_server_stop(srv, 0);
			break;
		}
	}
	arm_signals(srv);
}

static void drain_timeout(struct bs_op *op, int res)
{
	struct nbd_server *srv = container_of(op, struct nbd_server,
					      drain_timer);
	struct bs_list *p, *next;

	if (res)
		return;
	for (p = srv->conns.next; p != &srv->conns; p = next) {
		struct conn *conn = bs_list_entry(p, struct conn, link);

		conn_get(conn);
		conn_fail(conn, "still busy %llu ms after shutdown began: closing",
			  (unsigned long long)srv->cfg->shutdown_timeout);
		next = conn->link.next;
		conn_put(conn);
	}
}

void nbd_server_stop(struct nbd_server *srv, int exit_code)
{
	struct bs_list *p;
	struct conn *conn;
	unsigned i;

	if (srv->stopping)
		return;
	srv->stopping = true;
	srv->exit_code = exit_code;
	for (i = 0; i < srv->nlisteners; i++) {
		if (bs_op_busy(&srv->listeners[i].op))
			bs_loop_cancel(srv->loop, &srv->listeners[i].op);
		if (bs_op_busy(&srv->listeners[i].retry_op))
			bs_loop_cancel(srv->loop, &srv->listeners[i].retry_op);
	}
	if (srv->unix_bound) {
		unlink(srv->cfg->socket);
		srv->unix_bound = false;
	}
	if (srv->child > 0)
		kill(srv->child, SIGTERM);
	/*
	 * Handshakes end now; transmissions finish what is in flight,
	 * answering anything newer with NBD_ESHUTDOWN, then close.
	 */
	p = srv->conns.next;
	while (p != &srv->conns) {
		conn = bs_list_entry(p, struct conn, link);
		conn_get(conn);
		if (conn->state == CONN_TRANSMISSION)
			conn_check_idle(conn);
		else if (conn->state != CONN_DRAINING)
			conn_close(conn);
		p = conn->link.next;
		conn_put(conn);
	}
	srv->drain_timer.fn = drain_timeout;
	bs_loop_timer(srv->loop, &srv->drain_timer,
		      srv->cfg->shutdown_timeout);
	nbd_server_check_done(srv);
}

void nbd_server_check_done(struct nbd_server *srv)
{
	unsigned i;

	if (!srv->stopping || srv->nconns || !bs_list_empty(&srv->exports) ||
	    nbd_workers_pending(srv->workers))
		return;
	for (i = 0; i < srv->nlisteners; i++) {
		if (bs_op_busy(&srv->listeners[i].op) ||
		    bs_op_busy(&srv->listeners[i].retry_op))
			return;
	}
	if (bs_op_busy(&srv->drain_timer))
		bs_loop_cancel(srv->loop, &srv->drain_timer);
	bs_loop_stop(srv->loop);
}

int nbd_server_run(struct nbd_server *srv)
{
	unsigned i;
	int ret;

	for (i = 0; i < srv->nlisteners; i++)
		arm_accept(&srv->listeners[i]);
	arm_signals(srv);
	ret = bs_loop_run(srv->loop);
	if (ret < 0) {
		bs_err("event loop failed: %s", strerror(-ret));
		return 1;
	}
	return srv->exit_code;
}

void nbd_server_release(struct nbd_server *srv)
{
	unsigned i;

	nbd_workers_free(&srv->workers);
	request_free_pool(srv);
	for (i = 0; i < ARRAY_SIZE(srv->listeners); i++) {
		if (srv->listeners[i].fd >= 0)
			close(srv->listeners[i].fd);
		srv->listeners[i].fd = -1;
	}
	if (srv->unix_bound) {
		unlink(srv->cfg->socket);
		srv->unix_bound = false;
	}
	bs_loop_free(&srv->loop);
}
