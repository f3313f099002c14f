// SPDX-License-Identifier: Apache-2.0
/*
 * The fixed newstyle handshake: greeting, client flags, then one option
 * at a time (the client waits for our final reply before the next one).
 * Options that need a volume (INFO, GO, EXPORT_NAME) or the mon (LIST)
 * put the connection in CONN_OPTION_BUSY until the export or worker
 * answers; GO and EXPORT_NAME end in the transmission phase.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbd.h"

void handshake_start(struct conn *conn)
{
	uint8_t g[NBD_GREETING_LEN];

	nbd_encode_greeting(g);
	reply_raw(conn, g, sizeof(g));
	conn->state = CONN_CLIENT_FLAGS;
}

int handshake_client_flags(struct conn *conn, const uint8_t *buf)
{
	uint32_t flags = nbd_get32(buf);

	if (flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
		conn_fail(conn, "unknown client flags 0x%08x: closing", flags);
		return -EINVAL;
	}
	/* proto.md lets us honour fixed newstyle without the bit: we do */
	conn->no_zeroes = flags & NBD_FLAG_C_NO_ZEROES;
	conn->state = CONN_OPTIONS;
	return 0;
}

/* The transmission flags for @conn's export. */
static uint16_t conn_eflags(const struct conn *conn)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
		     NBD_FLAG_CAN_MULTI_CONN;

	if (conn->srv->cfg->read_only)
		f |= NBD_FLAG_READ_ONLY;
	else
		f |= NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM |
		     NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_FAST_ZERO;
	if (conn->structured)
		f |= NBD_FLAG_SEND_DF;
	return f;
}

static void ack(struct conn *conn, uint32_t option)
{
	reply_option(conn, option, NBD_REP_ACK, NULL, 0);
}

/* ---- INFO, GO, EXPORT_NAME ---------------------------------------------- */

static void enter_transmission(struct conn *conn, struct export *exp)
{
	conn->exp = exp;
	conn->caps.size = exp->size;
	conn->caps.eflags = conn_eflags(conn);
	conn->caps.structured = conn->structured;
	conn->caps.base_allocation = conn->meta_base_allocation &&
				     conn->meta_export &&
				     !strcmp(conn->meta_export, exp->name);
	conn->state = CONN_TRANSMISSION;
	bs_info("%s: export '%s' (%llu bytes)%s%s", conn->peer, exp->name,
		(unsigned long long)exp->size,
		conn->structured ? ", structured replies" : "",
		conn->caps.base_allocation ? ", base:allocation" : "");
	conn_transmission_started(conn);
}

static void send_info(struct conn *conn, struct export *exp)
{
	uint8_t b[16];
	size_t n;

	n = nbd_encode_info_export(b, exp->size, conn_eflags(conn));
	reply_option(conn, conn->go_option, NBD_REP_INFO, b, n);
	if (conn->go.want_name) {
		size_t len = strlen(exp->name);
		uint8_t *p = bs_xmalloc(2 + len);

		nbd_put16(p, NBD_INFO_NAME);
		memcpy(p + 2, exp->name, len);
		reply_option(conn, conn->go_option, NBD_REP_INFO, p, 2 + len);
		free(p);
	}
	if (conn->go.want_description) {
		static const char desc[] = "basalt volume";
		uint8_t p[2 + sizeof(desc) - 1];

		nbd_put16(p, NBD_INFO_DESCRIPTION);
		memcpy(p + 2, desc, sizeof(desc) - 1);
		reply_option(conn, conn->go_option, NBD_REP_INFO, p,
			     sizeof(p));
	}
	/* our constraints are the defaults: harmless to send unasked */
	n = nbd_encode_info_block_size(b, NBD_BLOCK_MIN, NBD_BLOCK_PREFERRED,
				       NBD_BLOCK_MAX);
	reply_option(conn, conn->go_option, NBD_REP_INFO, b, n);
}

static void export_ready(struct export_waiter *w, struct export *exp,
			 int res)
{
	struct conn *conn = container_of(w, struct conn, waiter);
	uint32_t opt = conn->go_option;
	uint8_t b[NBD_EXPORT_NAME_REPLY_LEN + NBD_ZERO_PAD_LEN];

	if (conn_is_dead(conn)) {
		if (exp)
			export_put(exp);
		conn_put(conn);
		return;
	}
	conn->state = CONN_OPTIONS;
	if (res < 0) {
		if (opt == NBD_OPT_EXPORT_NAME)
			conn_fail(conn, "NBD_OPT_EXPORT_NAME '%s': %s: closing",
				  conn->want_name, strerror(-res));
		else if (res == -ENOENT || res == -EINVAL)
			reply_option_error(conn, opt, NBD_REP_ERR_UNKNOWN,
					   "volume '%s' does not exist",
					   conn->want_name);
		else
			reply_option_error(conn, opt, NBD_REP_ERR_UNKNOWN,
					   "cannot open volume '%s': %s",
					   conn->want_name, strerror(-res));
		goto out;
	}
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		nbd_put64(b, exp->size);
		nbd_put16(b + 8, conn_eflags(conn));
		memset(b + NBD_EXPORT_NAME_REPLY_LEN, 0, NBD_ZERO_PAD_LEN);
		reply_raw(conn, b, NBD_EXPORT_NAME_REPLY_LEN +
			  (conn->no_zeroes ? 0 : NBD_ZERO_PAD_LEN));
		enter_transmission(conn, exp);
		break;
	case NBD_OPT_GO:
		send_info(conn, exp);
		ack(conn, opt);
		enter_transmission(conn, exp);
		break;
	default:	/* NBD_OPT_INFO */
		send_info(conn, exp);
		ack(conn, opt);
		export_put(exp);
		break;
	}
out:
	bs_free(&conn->want_name);
	conn_resume(conn);
	conn_put(conn);
}

/* A name from the wire, fit for a log line: printable ASCII, shortened. */
static void shown_name(char *dst, size_t size, const uint8_t *s, uint32_t len)
{
	size_t i, n = BS_MIN((size_t)len, size - 1);

	for (i = 0; i < n; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	dst[n] = 0;
}

/* Look @name up and wait for the export (INFO, GO, EXPORT_NAME). */
static void want_export(struct conn *conn, uint32_t opt, const uint8_t *name,
			uint32_t len)
{
	struct nbd_server *srv = conn->srv;
	char shown[80];

	conn->want_name = export_name_resolve(srv, name, len);
	if (!conn->want_name) {
		shown_name(shown, sizeof(shown), name, len);
		if (opt == NBD_OPT_EXPORT_NAME) {
			conn_fail(conn, "NBD_OPT_EXPORT_NAME: unknown export '%s': closing",
				  shown);
			return;
		}
		bs_warn_rl(&conn->rl, "%s: %s: unknown export '%s'",
			   conn->peer, nbd_opt_name(opt), shown);
		reply_option_error(conn, opt, NBD_REP_ERR_UNKNOWN,
				   "unknown export '%s'%s", shown,
				   srv->cfg->n_exports ? "" :
				   " (export names are POOL/NAME)");
		return;
	}
	conn->go_option = opt;
	conn->state = CONN_OPTION_BUSY;
	conn->waiter.fn = export_ready;
	conn_get(conn);
	export_get(srv, conn->want_name, &conn->waiter);
}

static void opt_info_go(struct conn *conn, const uint8_t *data)
{
	uint32_t opt = conn->opt.option;

	if (nbd_opt_parse_go(data, conn->opt.length, &conn->go)) {
		reply_option_error(conn, opt, NBD_REP_ERR_INVALID,
				   "malformed %s data", nbd_opt_name(opt));
		return;
	}
	want_export(conn, opt, conn->go.name, conn->go.name_len);
	/* the name lives in the input buffer: do not keep it */
	conn->go.name = NULL;
}

/* ---- LIST --------------------------------------------------------------- */

static void reply_server(struct conn *conn, const char *name)
{
	size_t len = strlen(name);
	uint8_t *p = bs_xmalloc(4 + len);

	nbd_put32(p, (uint32_t)len);
	memcpy(p + 4, name, len);
	reply_option(conn, NBD_OPT_LIST, NBD_REP_SERVER, p, 4 + len);
	free(p);
}

static void list_work(struct nbd_job *job)
{
	struct conn *conn = container_of(job, struct conn, list_job);

	conn->list_res = nbd_list_volumes(conn->srv, &conn->list_names,
					  &conn->list_n, &conn->list_err);
}

static void free_names(struct conn *conn)
{
	size_t i;

	for (i = 0; conn->list_names && i < conn->list_n; i++)
		free(conn->list_names[i]);
	bs_free(&conn->list_names);
	conn->list_n = 0;
}

static void list_done(struct nbd_job *job)
{
	struct conn *conn = container_of(job, struct conn, list_job);
	size_t i;

	if (!conn_is_dead(conn)) {
		conn->state = CONN_OPTIONS;
		if (conn->list_res) {
			bs_warn_rl(&conn->rl, "%s: NBD_OPT_LIST: %s",
				   conn->peer, conn->list_err.msg);
			reply_option_error(conn, NBD_OPT_LIST,
					   NBD_REP_ERR_PLATFORM,
					   "cannot list volumes: %s",
					   conn->list_err.msg);
		} else {
			for (i = 0; i < conn->list_n; i++)
				reply_server(conn, conn->list_names[i]);
			ack(conn, NBD_OPT_LIST);
		}
		conn_resume(conn);
	}
	free_names(conn);
	conn_put(conn);
}

static void opt_list(struct conn *conn)
{
	const struct nbd_config *cfg = conn->srv->cfg;
	size_t i;

	if (conn->opt.length) {
		reply_option_error(conn, NBD_OPT_LIST, NBD_REP_ERR_INVALID,
				   "NBD_OPT_LIST takes no data");
		return;
	}
	if (cfg->n_exports) {
		for (i = 0; i < cfg->n_exports; i++)
			reply_server(conn, cfg->export_list[i]);
		ack(conn, NBD_OPT_LIST);
		return;
	}
	conn->state = CONN_OPTION_BUSY;
	bs_error_clear(&conn->list_err);
	conn->list_job.work = list_work;
	conn->list_job.done = list_done;
	conn_get(conn);
	nbd_workers_submit(conn->srv->workers, &conn->list_job);
}

/* ---- metadata contexts -------------------------------------------------- */

static void opt_meta(struct conn *conn, const uint8_t *data)
{
	uint32_t opt = conn->opt.option;
	bool list = opt == NBD_OPT_LIST_META_CONTEXT;
	struct nbd_opt_meta m;
	const uint8_t *q;
	uint32_t qlen, i;
	bool match = false;
	char *canon;
	uint8_t b[4 + sizeof(NBD_META_BASE_ALLOCATION)];
	int ret;

	if (!list) {
		/* SET replaces the selection, even when it fails */
		conn->meta_base_allocation = false;
		bs_free(&conn->meta_export);
	}
	if (!conn->structured) {
		reply_option_error(conn, opt, NBD_REP_ERR_INVALID,
				   "%s needs NBD_OPT_STRUCTURED_REPLY first",
				   nbd_opt_name(opt));
		return;
	}
	ret = nbd_opt_parse_meta(data, conn->opt.length, &m);
	if (ret == -E2BIG) {
		reply_option_error(conn, opt, NBD_REP_ERR_TOO_BIG,
				   "more than %u queries", NBD_MAX_META_QUERIES);
		return;
	}
	if (ret) {
		reply_option_error(conn, opt, NBD_REP_ERR_INVALID,
				   "malformed %s data", nbd_opt_name(opt));
		return;
	}
	canon = export_name_resolve(conn->srv, m.name, m.name_len);
	if (!canon) {
		char shown[80];

		shown_name(shown, sizeof(shown), m.name, m.name_len);
		reply_option_error(conn, opt, NBD_REP_ERR_UNKNOWN,
				   "unknown export '%s'", shown);
		return;
	}
	if (list && m.n_queries == 0)
		match = true;
	for (i = 0; i < m.n_queries; i++) {
		nbd_opt_meta_query(&m, i, &q, &qlen);
		if (nbd_meta_query_selects_base_allocation(q, qlen, list))
			match = true;
	}
	if (match) {
		nbd_put32(b, list ? 0 : NBD_META_ID_BASE_ALLOCATION);
		memcpy(b + 4, NBD_META_BASE_ALLOCATION,
		       sizeof(NBD_META_BASE_ALLOCATION) - 1);
		reply_option(conn, opt, NBD_REP_META_CONTEXT, b,
			     sizeof(b) - 1);
	}
	if (!list && match) {
		conn->meta_base_allocation = true;
		conn->meta_export = canon;
		canon = NULL;
	}
	free(canon);
	ack(conn, opt);
}

/* ---- dispatch ----------------------------------------------------------- */

void handshake_option(struct conn *conn, const uint8_t *data)
{
	uint32_t opt = conn->opt.option;

	bs_dbg(BS_SUB_NBD, "%s: %s (%u) length %u", conn->peer,
	       nbd_opt_name(opt), opt, conn->opt.length);
	if (conn->srv->stopping && opt != NBD_OPT_ABORT) {
		reply_option_error(conn, opt, NBD_REP_ERR_SHUTDOWN,
				   "the server is shutting down");
		return;
	}
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		if (!nbd_string_ok(data, conn->opt.length)) {
			conn_fail(conn, "NBD_OPT_EXPORT_NAME: malformed name: closing");
			return;
		}
		conn->go_option = opt;
		want_export(conn, opt, data, conn->opt.length);
		break;
	case NBD_OPT_ABORT:
		/* ACK (the client may already be gone), then close */
		ack(conn, opt);
		conn_drain(conn);
		break;
	case NBD_OPT_LIST:
		opt_list(conn);
		break;
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		opt_info_go(conn, data);
		break;
	case NBD_OPT_STRUCTURED_REPLY:
		if (conn->opt.length) {
			reply_option_error(conn, opt, NBD_REP_ERR_INVALID,
					   "NBD_OPT_STRUCTURED_REPLY takes no data");
			break;
		}
		conn->structured = true;
		ack(conn, opt);
		break;
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		opt_meta(conn, data);
		break;
	default:
		/* STARTTLS, EXTENDED_HEADERS and anything unknown */
		bs_dbg(BS_SUB_NBD, "%s: %s (%u) not supported", conn->peer,
		       nbd_opt_name(opt), opt);
		reply_option_error(conn, opt, NBD_REP_ERR_UNSUP,
				   "option %u is not supported", opt);
		break;
	}
}

void handshake_option_skipped(struct conn *conn)
{
	uint32_t opt = conn->opt.option;

	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		conn_fail(conn, "NBD_OPT_EXPORT_NAME of %u bytes: closing",
			  conn->opt.length);
		break;
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
	case NBD_OPT_LIST:
	case NBD_OPT_STRUCTURED_REPLY:
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		bs_warn_rl(&conn->rl, "%s: %s with %u bytes of data refused",
			   conn->peer, nbd_opt_name(opt), conn->opt.length);
		if (opt == NBD_OPT_SET_META_CONTEXT) {
			conn->meta_base_allocation = false;
			bs_free(&conn->meta_export);
		}
		reply_option_error(conn, opt, NBD_REP_ERR_TOO_BIG,
				   "option data of %u bytes is too long",
				   conn->opt.length);
		break;
	default:
		reply_option_error(conn, opt, NBD_REP_ERR_UNSUP,
				   "option %u is not supported", opt);
		break;
	}
}

void handshake_release(struct conn *conn)
{
	bs_free(&conn->want_name);
	bs_free(&conn->meta_export);
	free_names(conn);
}
