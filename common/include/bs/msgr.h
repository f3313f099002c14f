/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The messenger: framed messages (bs/frame.h) over TCP, driven by a
 * struct bs_loop.  Requests carry ids, many are in flight per connection and
 * replies may come in any order.  Outgoing connections reconnect by
 * themselves with back-off.  Either end of a connection may send requests,
 * so a mon can push map epochs down a connection its client opened.
 *
 * Every function here runs on the loop thread of its messenger.
 */
#ifndef BS_MSGR_H
#define BS_MSGR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <protobuf-c/protobuf-c.h>

#include "bs/error.h"
#include "bs/frame.h"
#include "bs/loop.h"

struct bs_msgr;
struct bs_conn;

/* struct bs_msg and bs_msg_free() are in bs/frame.h. */

struct bs_msgr_ops {
	/*
	 * A request (or a one-way message: hdr.req_id == 0) arrived on
	 * @conn.  The handler owns @msg.  Replies go through bs_conn_reply*()
	 * at any later time, in any order.
	 */
	void (*on_request)(void *opaque, struct bs_conn *conn,
			   struct bs_msg *msg);
	/* Optional: @conn was accepted, or an outgoing one (re)connected. */
	void (*on_connect)(void *opaque, struct bs_conn *conn);
	/* Optional: @conn lost its socket (@reason is -errno). */
	void (*on_close)(void *opaque, struct bs_conn *conn, int reason);
};

/*
 * Create a messenger on @loop.  @ops is borrowed for the messenger's life.
 * Returns 0 or -errno.
 */
int bs_msgr_new(struct bs_msgr **out, struct bs_loop *loop,
		const struct bs_msgr_ops *ops, void *opaque);

/*
 * Close every connection; pending calls complete with -ECANCELED before
 * this returns.
 */
void bs_msgr_free(struct bs_msgr **msgr);

/*
 * Listen on "HOST:PORT" (PORT may be 0).  Returns 0 or -errno with the
 * reason in @err ("cannot bind 127.0.0.1:6789: Address in use").
 */
int bs_msgr_listen(struct bs_msgr *msgr, const char *addr,
		   struct bs_error *err);

/* The address actually bound ("127.0.0.1:40211"), after listen. */
const char *bs_msgr_listen_addr(const struct bs_msgr *msgr);

/*
 * Open an outgoing connection to "HOST:PORT".  It connects in the
 * background and reconnects after any loss with back-off (100 ms doubling
 * to 5 s).  The caller holds one reference.  Returns 0 or -EINVAL for an
 * address that does not parse.
 */
int bs_msgr_connect(struct bs_msgr *msgr, const char *addr,
		    struct bs_conn **out, struct bs_error *err);

void bs_conn_get(struct bs_conn *conn);
void bs_conn_put(struct bs_conn *conn);

/*
 * Close @conn for good: no more reconnects; its pending calls complete with
 * -ECANCELED.  The caller's reference stays valid until bs_conn_put().
 */
void bs_conn_close(struct bs_conn *conn);

bool bs_conn_is_connected(const struct bs_conn *conn);
const char *bs_conn_peer(const struct bs_conn *conn);	/* "HOST:PORT" */
void bs_conn_set_opaque(struct bs_conn *conn, void *opaque);
void *bs_conn_opaque(const struct bs_conn *conn);

/*
 * Completion of a call.  @res is 0 with @reply set (the callback owns it),
 * or -errno with @reply NULL:
 *   -ETIMEDOUT    no reply within the timeout
 *   -ECONNRESET   the connection broke after the request was sent; the
 *                 peer may or may not have acted on it
 *   -ECANCELED    the connection or messenger was closed
 *   other         the peer answered with BS_MSG_ERROR; @reply holds the
 *                 ErrorReply (status and message) for the caller to read
 */
typedef void bs_reply_fn(void *opaque, int res, struct bs_msg *reply);

/*
 * Send a request of @type with @body (packed now; the caller keeps it) and
 * a data segment gathered from @data (borrowed until @fn runs).  While the
 * connection is down the request waits for a reconnect, within its
 * timeout.  @fn runs exactly once, never before this function returns.
 * Returns 0 or -errno (unknown type, data too large) without calling @fn.
 */
int bs_conn_call(struct bs_conn *conn, uint16_t type,
		 const ProtobufCMessage *body, const struct iovec *data,
		 unsigned ndata, uint64_t timeout_ms, bs_reply_fn *fn,
		 void *opaque);

/* A one-way message (req_id 0, no reply).  Data is copied. */
int bs_conn_send(struct bs_conn *conn, uint16_t type,
		 const ProtobufCMessage *body, const struct iovec *data,
		 unsigned ndata);

typedef void bs_release_fn(void *opaque);

/*
 * Reply to @req.  When @release is NULL the data is copied now; otherwise
 * it is borrowed and @release(@opaque) runs once it has been sent or
 * dropped.  A reply on a closed connection is dropped silently (the peer
 * will resend).  Returns 0 or -errno.
 */
int bs_conn_reply(struct bs_conn *conn, const struct bs_msg *req,
		  uint16_t type, const ProtobufCMessage *body,
		  const struct iovec *data, unsigned ndata,
		  bs_release_fn *release, void *opaque);

/* Reply with BS_MSG_ERROR carrying the status for @neg_errno and a text. */
int bs_conn_reply_error(struct bs_conn *conn, const struct bs_msg *req,
			int neg_errno, const char *fmt, ...) BS_PRINTF(4, 5);

/* The text of an ErrorReply @reply (from a failed call), or "". */
const char *bs_msg_error_text(const struct bs_msg *reply);

/* Parse "HOST:PORT" into a socket address; 0 or -EINVAL. */
struct sockaddr_storage;
int bs_parse_addr(const char *addr, struct sockaddr_storage *ss,
		  socklen_t *len);

#endif /* BS_MSGR_H */
