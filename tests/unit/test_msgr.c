// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for the messenger (common/msgr.c) over real sockets on
 * 127.0.0.1 with port 0: echo, many concurrent out-of-order calls, big data
 * segments, timeouts, a lost server and reconnect, hostile bytes, one-way
 * messages, error replies and shutdown with calls pending.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "bs/log.h"
#include "bs/loop.h"
#include "bs/msg_types.h"
#include "bs/msgr.h"
#include "bs/status.h"
#include "proto/msg.pb-c.h"

enum mode {
	MODE_ECHO,	/* reply with the same body and data */
	MODE_HOLD,	/* keep requests for the test to answer */
	MODE_DROP,	/* never answer */
	MODE_ERROR,	/* answer with BS_MSG_ERROR */
};

#define MAX_HELD 1100

struct held {
	struct bs_conn *conn;
	struct bs_msg *msg;
};

/* One end: a messenger and what its handler saw. */
struct peer {
	struct bs_msgr *m;
	enum mode mode;
	struct held held[MAX_HELD];
	int nheld;
	int requests;
	int oneway;
	uint64_t oneway_nonce;
	int connects, closes;
	struct bs_conn *last_conn;	/* referenced */
};

static struct bs_loop *loop;

static void release_msg(void *opaque)
{
	bs_msg_free(opaque);
}

static void echo(struct bs_conn *conn, struct bs_msg *msg)
{
	struct iovec iov = { msg->data, msg->hdr.data_len };

	assert_int_equal(bs_conn_reply(conn, msg, BS_MSG_PING, msg->body,
				       msg->hdr.data_len ? &iov : NULL,
				       msg->hdr.data_len ? 1 : 0,
				       release_msg, msg), 0);
}

static void on_request(void *opaque, struct bs_conn *conn,
		       struct bs_msg *msg)
{
	struct peer *p = opaque;

	assert_int_equal(msg->hdr.type, BS_MSG_PING);
	if (msg->hdr.req_id == 0) {
		p->oneway++;
		p->oneway_nonce = ((Bs__Ping *)msg->body)->nonce;
		bs_msg_free(msg);
		return;
	}
	p->requests++;
	switch (p->mode) {
	case MODE_ECHO:
		echo(conn, msg);
		break;
	case MODE_HOLD:
		assert_true(p->nheld < MAX_HELD);
		bs_conn_get(conn);
		p->held[p->nheld].conn = conn;
		p->held[p->nheld++].msg = msg;
		break;
	case MODE_DROP:
		bs_msg_free(msg);
		break;
	case MODE_ERROR:
		assert_int_equal(bs_conn_reply_error(conn, msg, -ENOENT,
						     "volume '%s' not found",
						     "rbd/x"), 0);
		bs_msg_free(msg);
		break;
	}
}

static void on_connect(void *opaque, struct bs_conn *conn)
{
	struct peer *p = opaque;

	p->connects++;
	if (p->last_conn)
		bs_conn_put(p->last_conn);
	bs_conn_get(conn);
	p->last_conn = conn;
}

static void on_close(void *opaque, struct bs_conn *conn, int reason)
{
	struct peer *p = opaque;

	assert_true(reason < 0);
	p->closes++;
}

static const struct bs_msgr_ops ops = {
	.on_request = on_request,
	.on_connect = on_connect,
	.on_close = on_close,
};

static void peer_release_held(struct peer *p)
{
	for (int i = 0; i < p->nheld; i++) {
		bs_msg_free(p->held[i].msg);
		bs_conn_put(p->held[i].conn);
	}
	p->nheld = 0;
}

static void peer_free(struct peer *p)
{
	peer_release_held(p);
	if (p->last_conn)
		bs_conn_put(p->last_conn);
	p->last_conn = NULL;
	bs_msgr_free(&p->m);
}

static struct peer *server_start(const char *addr)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct bs_error err = { 0 };

	assert_non_null(p);
	assert_int_equal(bs_msgr_new(&p->m, loop, &ops, p), 0);
	if (bs_msgr_listen(p->m, addr, &err))
		fail_msg("listen: %s", err.msg);
	return p;
}

static struct peer *client_new(void)
{
	struct peer *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(bs_msgr_new(&p->m, loop, &ops, p), 0);
	return p;
}

static struct bs_conn *client_connect(struct peer *c, const char *addr)
{
	struct bs_conn *conn = NULL;
	struct bs_error err = { 0 };

	if (bs_msgr_connect(c->m, addr, &conn, &err))
		fail_msg("connect: %s", err.msg);
	return conn;
}

/* Run the loop until *count >= want, bounded in time. */
static void run_until(const int *count, int want, unsigned ms)
{
	uint64_t end = bs_now_ms() + ms;

	while (*count < want && bs_now_ms() < end)
		assert_true(bs_loop_run_once(loop, 10) >= 0);
	if (*count < want)
		fail_msg("timed out: %d of %d", *count, want);
}

static void run_for(unsigned ms)
{
	uint64_t end = bs_now_ms() + ms;

	while (bs_now_ms() < end)
		assert_true(bs_loop_run_once(loop, 5) >= 0);
}

/* One call's outcome. */
struct result {
	int *done;
	int res;
	bool finished;
	uint64_t nonce;
	size_t dlen;
	bool body_ok, data_ok;
	char text[128];
	struct bs_conn *put_conn;	/* closed and put by the callback */
	uint8_t *buf;			/* request data, borrowed until done */
};

static uint8_t pattern(uint64_t nonce, size_t i)
{
	return (uint8_t)(i * 131 + nonce * 7 + (i >> 12));
}

static void reply_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct result *r = opaque;

	assert_false(r->finished);
	r->finished = true;
	r->res = res;
	if (reply && reply->hdr.type == BS_MSG_PING) {
		Bs__Ping *ping = (Bs__Ping *)reply->body;

		r->body_ok = ping->nonce == r->nonce &&
			     ping->sent_us == r->nonce + 1;
		r->data_ok = reply->hdr.data_len == r->dlen;
		for (size_t i = 0; r->data_ok && i < r->dlen; i++)
			if (reply->data[i] != pattern(r->nonce, i))
				r->data_ok = false;
	} else if (reply) {
		snprintf(r->text, sizeof(r->text), "%s",
			 bs_msg_error_text(reply));
	}
	if (r->put_conn) {
		bs_conn_close(r->put_conn);
		bs_conn_put(r->put_conn);
	}
	bs_msg_free(reply);
	free(r->buf);
	r->buf = NULL;
	(*r->done)++;
}

/* Send a PING with @nonce and @dlen bytes of data (freed when done). */
static int ping(struct bs_conn *conn, struct result *r, uint64_t nonce,
		size_t dlen, uint64_t timeout_ms)
{
	uint8_t **buf = &r->buf;
	int ret;

	Bs__Ping p = BS__PING__INIT;
	struct iovec iov[2];
	unsigned n = 0;

	r->nonce = nonce;
	r->dlen = dlen;
	p.nonce = nonce;
	p.sent_us = nonce + 1;
	if (dlen) {
		*buf = malloc(dlen);
		assert_non_null(*buf);
		for (size_t i = 0; i < dlen; i++)
			(*buf)[i] = pattern(nonce, i);
		/* two pieces, to exercise gathering */
		iov[0].iov_base = *buf;
		iov[0].iov_len = dlen / 3;
		iov[1].iov_base = *buf + dlen / 3;
		iov[1].iov_len = dlen - dlen / 3;
		n = 2;
	}
	ret = bs_conn_call(conn, BS_MSG_PING, &p.base, n ? iov : NULL, n,
			   timeout_ms, reply_cb, r);
	if (ret)
		bs_free(buf);
	return ret;
}

static int setup(void **state)
{
	return bs_loop_new(&loop, 64);
}

static int teardown(void **state)
{
	/* let deferred frees run */
	for (int i = 0; i < 5; i++)
		bs_loop_run_once(loop, 0);
	bs_loop_free(&loop);
	return 0;
}

static void test_msgr_ping_echo(void **state)
{
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct result r = { 0 };
	int done = 0;

	assert_non_null(strstr(bs_msgr_listen_addr(s->m), "127.0.0.1:"));
	assert_string_not_equal(bs_msgr_listen_addr(s->m), "127.0.0.1:0");
	assert_string_equal(bs_conn_peer(conn), bs_msgr_listen_addr(s->m));
	r.done = &done;
	assert_int_equal(ping(conn, &r, 1234, 0, 5000), 0);
	assert_false(r.finished);	/* never before the call returns */
	run_until(&done, 1, 5000);
	assert_int_equal(r.res, 0);
	assert_true(r.body_ok);
	assert_true(r.data_ok);
	assert_true(bs_conn_is_connected(conn));
	assert_int_equal(c->connects, 1);
	assert_int_equal(s->connects, 1);
	bs_conn_set_opaque(conn, &r);
	assert_ptr_equal(bs_conn_opaque(conn), &r);

	/* a callback may close and drop the last reference of its conn */
	memset(&r, 0, sizeof(r));
	r.done = &done;
	r.put_conn = conn;
	assert_int_equal(ping(conn, &r, 5, 0, 5000), 0);
	run_until(&done, 2, 5000);
	assert_int_equal(r.res, 0);
	run_for(20);

	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

static void test_msgr_1000_concurrent_calls_out_of_order(void **state)
{
	enum { N = 1000 };
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct result *r = calloc(N, sizeof(*r));
	unsigned seed = 42;
	int done = 0;

	s->mode = MODE_HOLD;
	for (int i = 0; i < N; i++) {
		r[i].done = &done;
		assert_int_equal(ping(conn, &r[i], 1000 + i, 0, 10000),
				 0);
	}
	run_until(&s->nheld, N, 10000);
	/* shuffle, then answer in that order */
	for (int i = N - 1; i > 0; i--) {
		int j = rand_r(&seed) % (i + 1);
		struct held t = s->held[i];

		s->held[i] = s->held[j];
		s->held[j] = t;
	}
	for (int i = 0; i < N; i++) {
		echo(s->held[i].conn, s->held[i].msg);
		bs_conn_put(s->held[i].conn);
		if (i == N / 2)
			run_for(1);	/* some now, some later */
	}
	s->nheld = 0;
	run_until(&done, N, 10000);
	for (int i = 0; i < N; i++) {
		assert_true(r[i].finished);
		assert_int_equal(r[i].res, 0);
		assert_true(r[i].body_ok);
	}
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
	free(r);
}

static void test_msgr_data_segments_intact(void **state)
{
	static const size_t sizes[] = {
		1, 4095, 65536 + 7, 1 << 20, (8 << 20) + 13, 3 << 20,
	};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct result r[N];
	int done = 0;

	memset(r, 0, sizeof(r));
	/* all in flight at once, so frames interleave in the stream */
	for (int i = 0; i < N; i++) {
		r[i].done = &done;
		assert_int_equal(ping(conn, &r[i], 77 + i, sizes[i], 20000), 0);
	}
	run_until(&done, N, 20000);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].res, 0);
		assert_true(r[i].body_ok);
		if (!r[i].data_ok)
			fail_msg("data of %zu bytes differs", sizes[i]);
	}
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

static void test_msgr_data_too_big_is_refused(void **state)
{
	struct peer *c = client_new();
	struct bs_conn *conn = client_connect(c, "127.0.0.1:1");
	static uint8_t byte;
	struct iovec iov = { &byte, (16u << 20) + 1 };
	Bs__Ping p = BS__PING__INIT;
	Bs__ErrorReply er = BS__ERROR_REPLY__INIT;

	assert_int_equal(bs_conn_call(conn, BS_MSG_PING, &p.base, &iov, 1,
				      100, reply_cb, NULL), -EMSGSIZE);
	assert_int_equal(bs_conn_call(conn, 999, &p.base, NULL, 0, 100,
				      reply_cb, NULL), -EINVAL);
	assert_int_equal(bs_conn_call(conn, BS_MSG_PING, &er.base, NULL, 0,
				      100, reply_cb, NULL), -EINVAL);
	/* one-way needs a live connection */
	assert_int_equal(bs_conn_send(conn, BS_MSG_PING, &p.base, NULL, 0),
			 -ENOTCONN);
	bs_conn_put(conn);
	peer_free(c);
	free(c);
}

static void test_msgr_call_timeout(void **state)
{
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct result r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	uint64_t start;
	int done = 0;

	s->mode = MODE_DROP;
	r1.done = r2.done = r3.done = &done;
	start = bs_now_ms();
	assert_int_equal(ping(conn, &r2, 2, 0, 400), 0);
	assert_int_equal(ping(conn, &r1, 1, 0, 100), 0);
	run_until(&done, 1, 5000);
	assert_true(r1.finished);
	assert_false(r2.finished);
	assert_int_equal(r1.res, -ETIMEDOUT);
	assert_true(bs_now_ms() - start >= 100);
	run_until(&done, 2, 5000);
	assert_int_equal(r2.res, -ETIMEDOUT);
	assert_true(bs_now_ms() - start >= 400);
	assert_true(bs_now_ms() - start < 3000);
	/* the connection is still good */
	s->mode = MODE_ECHO;
	assert_int_equal(ping(conn, &r3, 3, 0, 5000), 0);
	run_until(&done, 3, 5000);
	assert_int_equal(r3.res, 0);
	assert_true(r3.body_ok);
	assert_int_equal(c->connects, 1);
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

static void test_msgr_server_lost_then_reconnect(void **state)
{
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	char addr[64];
	struct bs_conn *conn;
	struct result r1 = { 0 }, r2 = { 0 };
	int done = 0;

	snprintf(addr, sizeof(addr), "%s", bs_msgr_listen_addr(s->m));
	conn = client_connect(c, addr);
	s->mode = MODE_HOLD;
	r1.done = r2.done = &done;
	assert_int_equal(ping(conn, &r1, 1, 1000, 10000), 0);
	run_until(&s->nheld, 1, 5000);
	/* the server goes away with the request unanswered */
	peer_free(s);
	free(s);
	run_until(&done, 1, 5000);
	assert_int_equal(r1.res, -ECONNRESET);
	run_until(&c->closes, 1, 5000);
	assert_false(bs_conn_is_connected(conn));

	/* a call made while down waits for the reconnect */
	assert_int_equal(ping(conn, &r2, 2, 3000, 10000), 0);
	run_for(300);
	assert_false(r2.finished);
	s = server_start(addr);
	run_until(&done, 2, 8000);
	assert_int_equal(r2.res, 0);
	assert_true(r2.body_ok);
	assert_true(r2.data_ok);
	assert_int_equal(c->connects, 2);
	assert_true(bs_conn_is_connected(conn));
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

static void test_msgr_garbage_closes_only_that_connection(void **state)
{
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct sockaddr_storage ss;
	socklen_t len;
	struct result r[20];
	char junk[200], buf[16];
	int raw, done = 0, closed = 0;
	uint64_t end;

	memset(r, 0, sizeof(r));
	r[0].done = &done;
	assert_int_equal(ping(conn, &r[0], 0, 0, 5000), 0);
	run_until(&done, 1, 5000);

	assert_int_equal(bs_parse_addr(bs_msgr_listen_addr(s->m), &ss, &len),
			 0);
	raw = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(raw >= 0);
	if (connect(raw, (struct sockaddr *)&ss, len) == -1)
		assert_int_equal(errno, EINPROGRESS);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 37 + 11);
	memcpy(junk, "GET / HTTP/1.0\r\n", 16);
	end = bs_now_ms() + 5000;
	/* keep the good client busy while the raw one misbehaves */
	for (int i = 1; i < 20; i++) {
		r[i].done = &done;
		assert_int_equal(ping(conn, &r[i], i, 100 * i, 5000), 0);
	}
	while (!closed && bs_now_ms() < end) {
		ssize_t n;

		bs_loop_run_once(loop, 5);
		if (send(raw, junk, sizeof(junk), MSG_NOSIGNAL) == -1 &&
		    errno != EAGAIN && errno != ENOTCONN)
			closed = 1;
		n = recv(raw, buf, sizeof(buf), 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			closed = 1;
	}
	assert_true(closed);
	close(raw);
	run_until(&done, 20, 5000);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(r[i].res, 0);
		assert_true(r[i].data_ok);
	}
	assert_true(bs_conn_is_connected(conn));
	assert_int_equal(c->connects, 1);
	assert_int_equal(s->connects, 2);
	run_until(&s->closes, 1, 5000);
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

static void test_msgr_one_way_send(void **state)
{
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	Bs__Ping p = BS__PING__INIT;
	char data[100] = "payload";
	struct iovec iov = { data, sizeof(data) };

	run_until(&c->connects, 1, 5000);
	p.nonce = 77;
	assert_int_equal(bs_conn_send(conn, BS_MSG_PING, &p.base, &iov, 1), 0);
	memset(data, 0, sizeof(data));	/* the data was copied */
	run_until(&s->oneway, 1, 5000);
	assert_int_equal(s->oneway_nonce, 77);
	assert_int_equal(s->requests, 0);
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

static void test_msgr_reply_error_round_trip(void **state)
{
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct result r = { 0 };
	int done = 0;

	s->mode = MODE_ERROR;
	r.done = &done;
	assert_int_equal(ping(conn, &r, 1, 0, 5000), 0);
	run_until(&done, 1, 5000);
	assert_int_equal(r.res, -ENOENT);
	assert_string_equal(r.text, "volume 'rbd/x' not found");
	assert_string_equal(bs_msg_error_text(NULL), "");
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

static void test_msgr_free_cancels_pending_calls(void **state)
{
	enum { N = 10 };
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct bs_conn *nowhere = client_connect(c, "127.0.0.1:1");
	struct result r[N + 1];
	int done = 0;

	memset(r, 0, sizeof(r));
	s->mode = MODE_HOLD;
	for (int i = 0; i < N; i++) {
		r[i].done = &done;
		assert_int_equal(ping(conn, &r[i], i, 10, 10000), 0);
	}
	r[N].done = &done;
	assert_int_equal(ping(nowhere, &r[N], 99, 0, 0), 0);
	run_until(&s->nheld, N, 5000);
	bs_conn_put(conn);
	bs_conn_put(nowhere);
	peer_free(c);
	/* every callback ran before bs_msgr_free() returned */
	assert_int_equal(done, N + 1);
	for (int i = 0; i <= N; i++)
		assert_int_equal(r[i].res, -ECANCELED);
	peer_free(s);
	free(c);
	free(s);
}

/* Either end may call: the server pushes a request down the client's conn */
static void test_msgr_server_calls_client(void **state)
{
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct result r = { 0 };
	int done = 0;

	run_until(&s->connects, 1, 5000);
	r.done = &done;
	assert_int_equal(ping(s->last_conn, &r, 5, 100000, 5000), 0);
	run_until(&done, 1, 5000);
	assert_int_equal(r.res, 0);
	assert_true(r.body_ok);
	assert_true(r.data_ok);
	assert_int_equal(c->requests, 1);
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

static void test_msgr_parse_addr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len;

	assert_int_equal(bs_parse_addr("127.0.0.1:6789", &ss, &len), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 6789);
	assert_int_equal(len, sizeof(*sin));
	assert_int_equal(bs_parse_addr("localhost:0", &ss, &len), 0);
	assert_int_equal(bs_parse_addr("[::1]:80", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(bs_parse_addr("127.0.0.1", &ss, &len), -EINVAL);
	assert_int_equal(bs_parse_addr("127.0.0.1:", &ss, &len), -EINVAL);
	assert_int_equal(bs_parse_addr(":80", &ss, &len), -EINVAL);
	assert_int_equal(bs_parse_addr("127.0.0.1:65536", &ss, &len),
			 -EINVAL);
	assert_int_equal(bs_parse_addr("127.0.0.1:-1", &ss, &len), -EINVAL);
	assert_int_equal(bs_parse_addr("127.0.0.1:8x", &ss, &len), -EINVAL);
	assert_int_equal(bs_parse_addr("300.0.0.1:80", &ss, &len), -EINVAL);
	assert_int_equal(bs_parse_addr("[::1:80", &ss, &len), -EINVAL);
	assert_int_equal(bs_parse_addr(NULL, &ss, &len), -EINVAL);
}

static void test_msgr_listen_errors(void **state)
{
	struct peer *s = server_start("127.0.0.1:0");
	struct bs_msgr *m;
	struct bs_error err = { 0 };

	assert_int_equal(bs_msgr_new(&m, loop, &ops, NULL), 0);
	assert_int_equal(bs_msgr_listen(m, "nonsense", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nonsense"));
	assert_int_equal(bs_msgr_listen(m, bs_msgr_listen_addr(s->m), &err),
			 -EADDRINUSE);
	assert_non_null(strstr(err.msg, "cannot bind"));
	bs_msgr_free(&m);
	assert_null(m);
	peer_free(s);
	free(s);
}

/* Read exactly @len bytes from nonblocking @fd while turning the loop. */
static void raw_read(int fd, void *buf, size_t len)
{
	uint64_t end = bs_now_ms() + 5000;
	size_t got = 0;

	while (got < len && bs_now_ms() < end) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);

		if (n > 0)
			got += (size_t)n;
		else if (n == 0 || errno != EAGAIN)
			fail_msg("raw recv: %zd %s", n, strerror(errno));
		else
			bs_loop_run_once(loop, 1);
	}
	assert_int_equal(got, len);
}

/*
 * A hostile server answers before it has read the request's data: the
 * call must not complete while the socket may still read the caller's
 * buffer, and must complete once the request is out.
 */
static void test_msgr_reply_before_request_fully_sent(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct peer *c = client_new();
	struct bs_frame_header h;
	struct result r = { 0 };
	Bs__Ping pong = BS__PING__INIT;
	uint8_t hdr[BS_FRAME_HEADER_SIZE], reply[64], *body, *sink;
	char addr[64];
	size_t left;
	int lfd, fd = -1, small = 4096, done = 0, n;
	struct bs_conn *conn;
	uint64_t end;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, len), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	conn = client_connect(c, addr);
	r.done = &done;
	assert_int_equal(ping(conn, &r, 9, 12u << 20, 20000), 0);
	end = bs_now_ms() + 5000;
	while (fd < 0 && bs_now_ms() < end) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		bs_loop_run_once(loop, 1);
	}
	assert_true(fd >= 0);

	raw_read(fd, hdr, sizeof(hdr));
	assert_int_equal(bs_frame_header_decode(hdr, &h, NULL), 0);
	body = malloc(h.msg_len);
	raw_read(fd, body, h.msg_len);
	free(body);
	pong.nonce = 9;
	pong.sent_us = 10;
	n = bs_frame_encode(reply, BS_MSG_PING, BS_FRAME_REPLY, h.req_id,
			    &pong.base, NULL, 0);
	assert_true(n > 0);
	assert_int_equal(send(fd, reply, (size_t)n, MSG_NOSIGNAL), n);
	run_for(200);
	assert_int_equal(done, 0);	/* 12 MiB cannot all be out yet */

	sink = malloc(1 << 20);
	for (left = h.data_len; left; ) {
		size_t chunk = left < (1u << 20) ? left : (1u << 20);

		raw_read(fd, sink, chunk);
		left -= chunk;
	}
	free(sink);
	run_until(&done, 1, 5000);
	assert_int_equal(r.res, 0);
	assert_true(r.body_ok);
	close(fd);
	close(lfd);
	bs_conn_put(conn);
	peer_free(c);
	free(c);
}

/* The mon's way: only poll(2) on the loop's eventfd and bs_loop_poll() */
static void test_msgr_driven_by_eventfd(void **state)
{
	struct peer *s = server_start("127.0.0.1:0"), *c = client_new();
	struct bs_conn *conn = client_connect(c, bs_msgr_listen_addr(s->m));
	struct pollfd pfd = { .events = POLLIN };
	struct result r[3];
	uint64_t end = bs_now_ms() + 5000;
	int done = 0;

	pfd.fd = bs_loop_eventfd(loop);
	assert_true(pfd.fd >= 0);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++) {
		r[i].done = &done;
		assert_int_equal(ping(conn, &r[i], 10 + i, i * 50000, 5000),
				 0);
	}
	while (done < 3 && bs_now_ms() < end) {
		int ret = poll(&pfd, 1, 100);

		assert_true(ret >= 0);
		if (ret == 1)
			assert_true(bs_loop_poll(loop) >= 0);
	}
	assert_int_equal(done, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].res, 0);
		assert_true(r[i].body_ok);
		assert_true(r[i].data_ok);
	}
	bs_conn_put(conn);
	peer_free(c);
	peer_free(s);
	free(c);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msgr_ping_echo),
		cmocka_unit_test(test_msgr_1000_concurrent_calls_out_of_order),
		cmocka_unit_test(test_msgr_data_segments_intact),
		cmocka_unit_test(test_msgr_data_too_big_is_refused),
		cmocka_unit_test(test_msgr_call_timeout),
		cmocka_unit_test(test_msgr_server_lost_then_reconnect),
		cmocka_unit_test(test_msgr_garbage_closes_only_that_connection),
		cmocka_unit_test(test_msgr_one_way_send),
		cmocka_unit_test(test_msgr_reply_error_round_trip),
		cmocka_unit_test(test_msgr_free_cancels_pending_calls),
		cmocka_unit_test(test_msgr_server_calls_client),
		cmocka_unit_test(test_msgr_parse_addr),
		cmocka_unit_test(test_msgr_listen_errors),
		cmocka_unit_test(test_msgr_reply_before_request_fully_sent),
		cmocka_unit_test(test_msgr_driven_by_eventfd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
