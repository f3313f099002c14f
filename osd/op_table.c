// SPDX-License-Identifier: Apache-2.0
/*
 * Dispatch tables: incoming message type -> handler, and client op kind
 * (OSD_OP_*) -> what validation and handling it needs.
 */
#include <errno.h>

#include "bs/msg_types.h"
#include "osd.h"
#include "proto/msg.pb-c.h"

/* clang-format off */
static const struct osd_kind_info kinds[] = {
	[BS__OSD_OP_KIND__OSD_OP_READ] =
		{ .name = "read", .range = true },
	[BS__OSD_OP_KIND__OSD_OP_WRITE] =
		{ .name = "write", .mutation = true, .range = true,
		  .data_in = true },
	[BS__OSD_OP_KIND__OSD_OP_DISCARD] =
		{ .name = "discard", .mutation = true, .range = true },
	[BS__OSD_OP_KIND__OSD_OP_WRITE_ZEROES] =
		{ .name = "write_zeroes", .mutation = true, .range = true },
	[BS__OSD_OP_KIND__OSD_OP_STAT] =
		{ .name = "stat" },
	[BS__OSD_OP_KIND__OSD_OP_DELETE] =
		{ .name = "delete", .mutation = true },
	[BS__OSD_OP_KIND__OSD_OP_EXTENTS] =
		{ .name = "extents", .range = true },
};
/* clang-format on */

const struct osd_kind_info *osd_kind(unsigned kind)
{
	if (kind >= ARRAY_SIZE(kinds) || !kinds[kind].name)
		return NULL;
	return &kinds[kind];
}

static void handle_ping(struct osd *osd, struct bs_conn *conn,
			struct bs_msg *msg)
{
	bs_conn_reply(conn, msg, BS_MSG_PING, msg->body, NULL, 0, NULL, NULL);
	bs_msg_free(msg);
}

typedef void osd_msg_fn(struct osd *osd, struct bs_conn *conn,
			struct bs_msg *msg);

struct osd_msg_handler {
	uint16_t type;
	bool needs_store;	/* refused while shutting down */
	osd_msg_fn *fn;
};

/* clang-format off */
static const struct osd_msg_handler handlers[] = {
	{ BS_MSG_OSD_OP,	true,	primary_handle },
	{ BS_MSG_REP_OP,	true,	rep_handle },
	{ BS_MSG_OSD_PG_LIST,	false,	query_pg_list },
	{ BS_MSG_OSD_STATFS,	false,	query_statfs },
	{ BS_MSG_OSD_SCRUB,	true,	scrub_handle },
	{ BS_MSG_OSD_PG_STATE,	false,	query_pg_state },
	{ BS_MSG_OSD_LOCATE,	false,	query_locate },
	{ BS_MSG_OSD_SHARD_READ, true,	ec_shard_read_handle },
	{ BS_MSG_PG_QUERY,	true,	peer_handle },
	{ BS_MSG_PG_ACTIVATE,	true,	peer_handle },
	{ BS_MSG_PG_PUSH,	true,	peer_handle },
	{ BS_MSG_PG_PULL,	true,	peer_handle },
	{ BS_MSG_PG_NOTIFY,	true,	peer_handle },
	{ BS_MSG_PG_SCRUB_MAP,	true,	peer_handle },
	{ BS_MSG_PG_STRAY,	true,	peer_handle },
	{ BS_MSG_EC_READ,	true,	peer_handle },
	{ BS_MSG_PG_ROLLBACK,	true,	peer_handle },
	{ BS_MSG_PING,		false,	handle_ping },
};
/* clang-format on */

void osd_dispatch(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg)
{
	const struct osd_msg_handler *h = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(handlers); i++)
		if (handlers[i].type == msg->hdr.type)
			h = &handlers[i];
	if (!msg->hdr.req_id) {
		/* one-way messages: none is expected by an OSD */
		bs_warn_rl(&osd->rl, "%s: unexpected one-way message type %u",
			   bs_conn_peer(conn), msg->hdr.type);
		bs_msg_free(msg);
		return;
	}
	if (!h || !msg->body) {
		bs_warn_rl(&osd->rl, "%s: unexpected message type %u",
			   bs_conn_peer(conn), msg->hdr.type);
		bs_conn_reply_error(conn, msg, -EOPNOTSUPP,
				    "%s does not handle message type %u",
				    osd->name, msg->hdr.type);
		bs_msg_free(msg);
		return;
	}
	if (h->needs_store && osd->stopping) {
		bs_conn_reply_error(conn, msg, -EAGAIN, "%s is shutting down",
				    osd->name);
		bs_msg_free(msg);
		return;
	}
	h->fn(osd, conn, msg);
}
