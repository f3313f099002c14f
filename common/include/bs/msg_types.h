/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every message type on the wire, with its protobuf-c descriptor and the
 * largest data segment it may carry.  The frame decoder rejects any type not
 * in bs_msg_types[] (common/msg_types.c).
 *
 * Ranges: 1-99 generic, 100-199 mon, 200-299 osd and client I/O,
 * 300-399 osd-to-osd, 400-499 mirror.  Numbers are a wire format: never
 * reuse one.
 */
#ifndef BS_MSG_TYPES_H
#define BS_MSG_TYPES_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

enum bs_msg_type {
	BS_MSG_PING = 1,		/* Ping -> Ping (echo) */
	BS_MSG_ERROR = 2,		/* ErrorReply, any request may get it */

	/* 100-199: mon, filled in by mon/ (see common/proto/mon.proto) */
	BS_MSG_MON_COMMAND = 100,	/* MonCommand -> MON_COMMAND_REPLY */
	BS_MSG_MON_COMMAND_REPLY = 101,	/* MonCommandReply */
	BS_MSG_MON_GET_MAP = 102,	/* GetMap -> MON_MAP */
	BS_MSG_MON_MAP = 103,		/* ClusterMap; also pushed one-way */
	BS_MSG_MON_SUBSCRIBE = 104,	/* Subscribe -> MON_SUBSCRIBE_REPLY */
	BS_MSG_MON_SUBSCRIBE_REPLY = 105, /* SubscribeReply */
	BS_MSG_MON_VOLUME_QUERY = 106,	/* VolumeQuery -> MON_VOLUME_LIST */
	BS_MSG_MON_VOLUME_LIST = 107,	/* VolumeList */
	BS_MSG_MON_STATUS = 108,	/* MonStatusRequest -> MON_STATUS_REPLY */
	BS_MSG_MON_STATUS_REPLY = 109,	/* MonStatus */
	BS_MSG_MON_OSD_BEACON = 110,	/* OsdBeacon, one-way */
	BS_MSG_MON_OSD_FAILURE = 111,	/* OsdFailure, one-way */
	BS_MSG_MON_CLUSTER_STATUS = 112, /* ClusterStatusRequest -> 113 */
	BS_MSG_MON_CLUSTER_STATUS_REPLY = 113, /* ClusterStatus */
	BS_MSG_MON_PG_QUERY = 114,	/* PgStatQuery -> MON_PG_LIST */
	BS_MSG_MON_PG_LIST = 115,	/* PgStatList */

	/* 200-299: client I/O to OSDs (see common/proto/osd.proto) */
	BS_MSG_OSD_OP = 200,		/* OsdOp -> OSD_OP_REPLY */
	BS_MSG_OSD_PG_LIST = 201,	/* PgList -> OSD_PG_LIST_REPLY */
	BS_MSG_OSD_STATFS = 202,	/* OsdStatfs -> OSD_STATFS_REPLY */
	BS_MSG_OSD_SCRUB = 203,		/* OsdScrub -> OSD_SCRUB_REPLY */
	BS_MSG_OSD_PG_STATE = 204,	/* OsdPgStateQuery -> 254 */
	BS_MSG_OSD_LOCATE = 205,	/* OsdLocate -> OSD_LOCATE_REPLY */
	BS_MSG_OSD_SHARD_READ = 206,	/* EcRead -> 256 (+ data) */
	BS_MSG_OSD_OP_REPLY = 250,	/* OsdOpReply (+ read data) */
	BS_MSG_OSD_PG_LIST_REPLY = 251,	/* PgListReply */
	BS_MSG_OSD_STATFS_REPLY = 252,	/* OsdStatfsReply */
	BS_MSG_OSD_SCRUB_REPLY = 253,	/* OsdScrubReply */
	BS_MSG_OSD_PG_STATE_REPLY = 254, /* OsdPgStateReply */
	BS_MSG_OSD_LOCATE_REPLY = 255,	/* OsdLocateReply */
	BS_MSG_OSD_SHARD_READ_REPLY = 256, /* EcReadReply (+ data) */

	/* 300-399: OSD to OSD */
	BS_MSG_REP_OP = 300,		/* RepOp (+ write data) -> REP_OP_REPLY */
	BS_MSG_PG_QUERY = 301,		/* PgQuery -> PG_QUERY_REPLY */
	BS_MSG_PG_ACTIVATE = 302,	/* PgActivate -> PG_ACTIVATE_REPLY */
	BS_MSG_PG_PUSH = 303,		/* PgPush (+ data) -> PG_PUSH_REPLY */
	BS_MSG_PG_PULL = 304,		/* PgPull -> PG_PULL_REPLY (+ data) */
	BS_MSG_PG_NOTIFY = 305,		/* PgNotify -> PG_NOTIFY_REPLY */
	BS_MSG_PG_SCRUB_MAP = 306,	/* PgScrubMap -> PG_SCRUB_MAP_REPLY */
	BS_MSG_PG_STRAY = 307,		/* PgStray -> PG_STRAY_REPLY */
	BS_MSG_EC_READ = 308,		/* EcRead -> EC_READ_REPLY (+ data) */
	BS_MSG_PG_ROLLBACK = 309,	/* PgRollback -> PG_ROLLBACK_REPLY */
	BS_MSG_REP_OP_REPLY = 350,	/* RepOpReply */
	BS_MSG_PG_QUERY_REPLY = 351,	/* PgQueryReply */
	BS_MSG_PG_ACTIVATE_REPLY = 352,	/* PgActivateReply */
	BS_MSG_PG_PUSH_REPLY = 353,	/* PgPushReply */
	BS_MSG_PG_PULL_REPLY = 354,	/* PgPullReply (+ data) */
	BS_MSG_PG_NOTIFY_REPLY = 355,	/* PgNotifyReply */
	BS_MSG_PG_SCRUB_MAP_REPLY = 356, /* PgScrubMapReply */
	BS_MSG_PG_STRAY_REPLY = 357,	/* PgStrayReply */
	BS_MSG_EC_READ_REPLY = 358,	/* EcReadReply (+ data) */
	BS_MSG_PG_ROLLBACK_REPLY = 359,	/* PgRollbackReply */
};

struct bs_msg_type_info {
	uint16_t type;
	const char *name;
	const ProtobufCMessageDescriptor *desc;	/* body schema */
	uint32_t max_data;			/* 0: no data segment */
};

/* Look up @type; NULL when it is not a known type. */
const struct bs_msg_type_info *bs_msg_type_find(uint16_t type);

#endif /* BS_MSG_TYPES_H */
