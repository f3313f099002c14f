/* SPDX-License-Identifier: Apache-2.0 */
/*
 * basalt-nbd: the userspace NBD server on libbasalt.  One event loop
 * thread (bs_loop) serves every connection; I/O goes to libbasalt's
 * asynchronous calls, whose completions come back to the loop through
 * bs_loop_post(); the few blocking libbasalt calls (open, stat, close,
 * block status, listing) run on a small worker pool.  This header holds
 * the server's structs and the prototypes shared between its files.
 *
 * Threads: everything here is touched by the loop thread only, except
 * struct nbd_job's work function (a worker) and the libbasalt completion
 * callbacks (library thread), which only record a result and post a task.
 */
#ifndef BS_NBD_H
#define BS_NBD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "basalt.h"
#include "bs/compiler.h"
#include "bs/conf.h"
#include "bs/error.h"
#include "bs/list.h"
#include "bs/log.h"
#include "bs/loop.h"
#include "nbd_proto.h"

struct conn;
struct export;
struct nbd_server;
struct req;

/* ---- configuration (main.c) --------------------------------------------- */

struct nbd_config {
	/* [nbd] section and --KEY VALUE */
	char *listen;			/* HOST:PORT, or NULL */
	char *socket;			/* Unix socket path, or NULL */
	char *exports;			/* "POOL/NAME,..." or NULL: all */
	bool read_only;
	uint64_t max_connections;
	uint64_t max_inflight;		/* requests per connection */
	uint64_t max_inflight_bytes;	/* request buffers per connection */
	uint64_t handshake_timeout;	/* ms until a client must be in
					 * transmission */
	uint64_t shutdown_timeout;	/* ms to drain on SIGTERM */
	uint64_t workers;		/* threads for blocking calls */
	/* command line only */
	char *conf_path;		/* -c, NULL: libbasalt's default */
	char *pidfile;
	char *run;			/* --run CMD */
	char **export_list;		/* parsed from exports, NULL-ended */
	size_t n_exports;
};

extern const struct bs_conf_key nbd_conf_keys[];
extern const size_t nbd_conf_nkeys;

/* ---- the worker pool (worker.c) ----------------------------------------- */

struct nbd_job;
typedef void nbd_job_fn(struct nbd_job *job);

/*
 * A blocking call: @work runs on a worker thread, then @done on the loop
 * thread.  Embedded in its owner (container_of); must stay alive until
 * @done has run.
 */
struct nbd_job {
	nbd_job_fn *work;
	nbd_job_fn *done;
	struct nbd_job *next;		/* private to the pool */
	struct bs_task task;		/* private to the pool */
	struct nbd_workers *pool;	/* private to the pool */
};

struct nbd_workers;

int nbd_workers_new(struct nbd_workers **out, struct bs_loop *loop,
		    unsigned n);
/* Queue @job; never fails.  Loop thread only. */
void nbd_workers_submit(struct nbd_workers *w, struct nbd_job *job);
/* Jobs queued or running, whose @done has not run yet. */
unsigned nbd_workers_pending(const struct nbd_workers *w);
/* Stop the threads (queued jobs run first); clears *w. */
void nbd_workers_free(struct nbd_workers **w);

/* ---- exports (export.c) ------------------------------------------------- */

enum export_state {
	EXPORT_CLOSED,		/* no volume handle */
	EXPORT_OPENING,		/* basalt_open on a worker */
	EXPORT_OPEN,
	EXPORT_CLOSING,		/* basalt_close on a worker */
};

/*
 * One volume, shared by every connection that selected it, so that a
 * flush on any connection covers writes completed on all of them (see
 * export_flush()).  Freed when closed and unused.
 */
struct export {
	struct nbd_server *srv;
	struct bs_list link;		/* srv->exports */
	char *name;			/* "POOL/NAME" */
	enum export_state state;
	struct basalt_volume *vol;
	uint64_t size;			/* bytes, from basalt_stat at open */
	int open_error;			/* last open/close result (-errno) */
	char open_msg[256];		/* basalt_get_error() of an open */
	unsigned users;			/* connections attached */
	struct bs_list waiters;		/* struct export_waiter */
	struct nbd_job job;		/* open/close */
	struct bs_task deliver;		/* to waiters of an open export */
	/* flush ordering: writes in flight in submission order */
	uint64_t write_seq;		/* last sequence number given */
	struct bs_list writes;		/* struct req, by seq */
	struct bs_list flushes;		/* struct req, waiting for writes */
};

/* Somebody waiting for an export to open (a connection's option). */
struct export_waiter;
typedef void export_ready_fn(struct export_waiter *w, struct export *exp,
			     int res);
struct export_waiter {
	struct bs_list link;
	export_ready_fn *fn;
	struct export *exp;		/* private: what we wait for */
};

/*
 * The canonical export name for @name (@len bytes from the wire), or NULL
 * if this server does not offer it: with --export only those (an empty
 * name means the only one); otherwise any well-formed "POOL/NAME", whose
 * existence is known only once opened.  The caller frees the result.
 */
char *export_name_resolve(struct nbd_server *srv, const uint8_t *name,
			  uint32_t len);

/*
 * Attach to export @name, opening its volume if needed: @w->fn runs
 * later (never from inside this call) with res 0 and the export
 * (attached: the caller must export_put() it), or res -errno and NULL.
 */
void export_get(struct nbd_server *srv, const char *name,
		struct export_waiter *w);
/* Forget a waiter that has not been called yet (its connection died). */
void export_cancel_wait(struct export_waiter *w);
/* Detach; the last user closes the volume. */
void export_put(struct export *exp);

/* Record a write (WRITE, TRIM, WRITE_ZEROES) starting; see flush. */
void export_write_start(struct export *exp, struct req *req);
/* The write finished (any result): may release waiting flushes. */
void export_write_done(struct export *exp, struct req *req);
/*
 * Flush for @req: once every write submitted before it on this export
 * (on any connection) has completed, call basalt_aio_flush; completes
 * @req through request_complete().
 */
void export_flush(struct export *exp, struct req *req);

/* ---- volumes (volumes.c) ------------------------------------------------ */

/*
 * Every volume of the cluster as "POOL/NAME", sorted: blocking, for a
 * worker.  On success *names is a NULL-terminated array (free each and
 * the array) and *n its length.  Returns 0 or -errno with @err set.
 */
int nbd_list_volumes(struct nbd_server *srv, char ***names, size_t *n,
		     struct bs_error *err);

/* ---- replies (reply.c) -------------------------------------------------- */

/*
 * One message (or part) queued for sending on a connection: up to
 * OUT_IOV pieces; @done runs on the loop thread once it is all sent, or
 * when the connection dies with it unsent.
 */
#define OUT_IOV 3
struct out_msg;
typedef void out_done_fn(struct out_msg *m);
struct out_msg {
	struct out_msg *next;
	struct iovec iov[OUT_IOV];
	unsigned niov;
	out_done_fn *done;
};

/* ---- requests (request.c) ----------------------------------------------- */

#define REQ_HDR_MAX	(NBD_CHUNK_HDR_LEN + 8 + 2 + 160)

/* One transmission request, from its header to its last reply byte. */
struct req {
	struct bs_list link;		/* export writes/flushes, free list */
	struct conn *conn;
	struct nbd_request r;
	uint8_t *buf;			/* READ/WRITE data, descriptors */
	size_t buf_cap;
	uint32_t data_len;		/* bytes of buf to send */
	ssize_t res;			/* libbasalt's result */
	uint32_t error;			/* NBD_E* to reply, 0 for success */
	const char *errmsg;		/* static text for structured errors */
	uint64_t write_seq;		/* export_write_start() */
	uint64_t flush_after;		/* flush: wait for writes <= this */
	uint64_t charged;		/* counted in conn->inflight_bytes */
	bool is_write;
	bool in_export;			/* on exp->writes or exp->flushes */
	struct nbd_extent_builder eb;	/* BLOCK_STATUS */
	struct bs_task task;		/* libbasalt completion -> loop */
	struct nbd_job job;		/* block status on a worker */
	struct out_msg out;
	uint8_t hdr[REQ_HDR_MAX];
};

/* ---- connections (server.c) --------------------------------------------- */

enum conn_state {
	CONN_CLIENT_FLAGS,	/* greeting sent, want 4 bytes */
	CONN_OPTIONS,		/* option haggling */
	CONN_OPTION_BUSY,	/* an option waits for a worker/export */
	CONN_TRANSMISSION,
	CONN_DRAINING,		/* DISC, EOF or OPT_ABORT: no more input,
				 * finish what is in flight, then close
				 * (a server shutdown keeps TRANSMISSION
				 * and answers new requests ESHUTDOWN) */
	CONN_CLOSING,		/* hard close: waiting for ops to return */
};

enum conn_input {
	IN_HEADER,		/* option header or request header */
	IN_OPTION_DATA,		/* hdr.length bytes into ibuf */
	IN_SKIP,		/* skip @skip_left bytes (refused option or
				 * WRITE payload) */
	IN_PAYLOAD,		/* WRITE data straight into @in_req->buf */
};

#define CONN_SEND_IOV	64

struct conn {
	struct nbd_server *srv;
	struct bs_list link;		/* srv->conns */
	int fd;
	unsigned refs;			/* the conn itself, each busy op,
					 * each request, each pending job */
	enum conn_state state;
	char peer[64];			/* "conn 7 127.0.0.1:5555" */
	uint64_t id;
	struct bs_ratelimit rl;

	/* input */
	enum conn_input in;
	struct bs_op recv_op;
	uint8_t *ibuf;
	size_t ibuf_cap;		/* grows for long options only */
	size_t istart, iend;		/* unread bytes: ibuf[istart, iend) */
	bool eof;			/* the client closed its side */
	bool processing;		/* inside conn_process() */
	bool recv_direct;		/* the recv fills in_req->buf */
	struct nbd_opt_header opt;	/* IN_OPTION_DATA/IN_SKIP of options */
	uint64_t skip_left;
	struct req *in_req;		/* IN_PAYLOAD, or a WRITE skipped */
	uint32_t in_done;		/* payload bytes received */

	/* output */
	struct bs_op send_op;
	struct msghdr msg;
	struct iovec siov[CONN_SEND_IOV];
	struct out_msg *out_head, **out_tail;
	size_t out_sent;		/* bytes of out_head already sent */

	/* handshake timeout */
	struct bs_op timer_op;

	/* negotiated */
	bool no_zeroes;
	bool structured;
	bool meta_base_allocation;
	char *meta_export;		/* name given with SET_META_CONTEXT */
	struct export_waiter waiter;	/* INFO/GO/EXPORT_NAME in progress */
	struct nbd_opt_go go;		/* ... its parsed data */
	uint32_t go_option;
	char *want_name;		/* ... the canonical export name */
	struct nbd_job list_job;	/* NBD_OPT_LIST on a worker */
	char **list_names;
	size_t list_n;
	int list_res;
	struct bs_error list_err;
	struct export *exp;		/* attached after GO/EXPORT_NAME */
	struct nbd_conn_caps caps;

	/* requests */
	unsigned inflight;
	uint64_t inflight_bytes;
};

/* ---- the server (server.c) ---------------------------------------------- */

struct listener {
	int fd;
	bool unix_socket;
	struct bs_op op;		/* accept */
	struct bs_op retry_op;		/* timer after a failed accept */
	struct nbd_server *srv;
};

struct nbd_server {
	struct nbd_config *cfg;
	struct bs_loop *loop;
	struct basalt_cluster *cluster;
	struct nbd_workers *workers;
	struct listener listeners[2];
	unsigned nlisteners;
	char tcp_addr[80];		/* bound "HOST:PORT" */
	uint16_t tcp_port;
	bool unix_bound;		/* cfg->socket is ours to unlink */
	struct bs_list conns;
	unsigned nconns;
	uint64_t next_conn_id;
	struct bs_list exports;
	struct bs_list free_reqs;	/* recycled struct req */
	unsigned nfree_reqs;
	struct bs_ratelimit rl;		/* server-wide peer-caused messages */

	/* lifetime */
	bool stopping;			/* SIGTERM or --run ended */
	int exit_code;
	struct bs_op signal_op;
	int signal_fd;
	struct bs_op drain_timer;
	pid_t child;			/* --run, 0 if none */
};

/* server.c */
int nbd_server_init(struct nbd_server *srv, struct nbd_config *cfg,
		    struct basalt_cluster *cluster, struct bs_error *err);
int nbd_server_listen(struct nbd_server *srv, struct bs_error *err);
/* Run until stopped; returns the exit code. */
int nbd_server_run(struct nbd_server *srv);
void nbd_server_release(struct nbd_server *srv);
/* Stop the loop if stopping and nothing is left (exports, jobs). */
void nbd_server_check_done(struct nbd_server *srv);
/* Begin a clean shutdown (signal, --run ended). */
void nbd_server_stop(struct nbd_server *srv, int exit_code);
/* Serve an already connected socket (tests). */
void nbd_server_adopt(struct nbd_server *srv, int fd, bool unix_socket);

void conn_get(struct conn *conn);
void conn_put(struct conn *conn);
/* Queue @m for sending (loop thread); takes no reference. */
void conn_send(struct conn *conn, struct out_msg *m);
/* Hard disconnect, logging @why (rate-limited) unless NULL. */
void conn_fail(struct conn *conn, const char *why, ...) BS_PRINTF(2, 3);
/* GO/EXPORT_NAME succeeded: stop the handshake timer. */
void conn_transmission_started(struct conn *conn);
/* Input may go on (an option or a request slot finished). */
void conn_resume(struct conn *conn);
bool conn_is_dead(const struct conn *conn);
/* No more input: finish the requests in flight, then close. */
void conn_drain(struct conn *conn);
/* Read @req's WRITE payload into req->buf, then request_payload_done. */
void conn_read_payload(struct conn *conn, struct req *req);
/* Read and drop @req's WRITE payload, then request_complete (error). */
void conn_skip_payload(struct conn *conn, struct req *req);

/* handshake.c */
void handshake_start(struct conn *conn);
/* A whole option (header in conn->opt, data at @data) arrived. */
void handshake_option(struct conn *conn, const uint8_t *data);
/* An option too long to read was skipped: refuse it. */
void handshake_option_skipped(struct conn *conn);
/* The 4 bytes of client flags arrived. */
int handshake_client_flags(struct conn *conn, const uint8_t *buf);
void handshake_release(struct conn *conn);

/* request.c */
struct req *req_new(struct conn *conn, const struct nbd_request *r);
void req_free(struct req *req);
/* Make room for @len bytes in req->buf; -ENOMEM. */
int req_buf(struct req *req, size_t len);
/* A decoded request header: validate and start it (or its payload). */
void request_received(struct conn *conn, const uint8_t *hdr);
/* A WRITE's payload is complete in req->buf. */
void request_payload_done(struct req *req);
/* The request's result is in: reply and free it (loop thread). */
void request_complete(struct req *req);
/* basalt_completion_fn for every aio call: posts to the loop. */
void request_aio_done(void *opaque, ssize_t res);
void request_free_pool(struct nbd_server *srv);

/* reply.c */
void reply_request(struct req *req);
/* Option replies (handshake): payload copied. */
void reply_option(struct conn *conn, uint32_t option, uint32_t type,
		  const void *data, size_t len);
void reply_option_error(struct conn *conn, uint32_t option, uint32_t type,
			const char *fmt, ...) BS_PRINTF(4, 5);
/* Raw bytes (greeting, EXPORT_NAME reply): copied. */
void reply_raw(struct conn *conn, const void *data, size_t len);

/* captive.c */
int captive_start(struct nbd_server *srv, struct bs_error *err);
/* The child exited with wait status @status. */
void captive_exited(struct nbd_server *srv, int status);

#endif /* BS_NBD_H */
