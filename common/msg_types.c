// SPDX-License-Identifier: Apache-2.0
/*
 * The table of every message type on the wire: number, name, protobuf-c
 * schema and largest data segment.  The frame decoder rejects any type that
 * is not here.  Add one line per new type, indexed by its number.
 */
#include <stddef.h>

#include "bs/compiler.h"
#include "bs/frame.h"
#include "bs/msg_types.h"
#include "proto/mon.pb-c.h"
#include "proto/msg.pb-c.h"
#include "proto/osd.pb-c.h"

#define T(num, nm, d, maxd) \
	[num] = { .type = num, .name = nm, .desc = d, .max_data = maxd }

/* clang-format off */
static const struct bs_msg_type_info bs_msg_types[] = {
	T(BS_MSG_PING, "ping", &bs__ping__descriptor, 16u << 20),
	T(BS_MSG_ERROR, "error", &bs__error_reply__descriptor, 0),
	T(BS_MSG_MON_COMMAND, "mon_command", &bs__mon_command__descriptor, 0),
	T(BS_MSG_MON_COMMAND_REPLY, "mon_command_reply",
	  &bs__mon_command_reply__descriptor, 0),
	T(BS_MSG_MON_GET_MAP, "mon_get_map", &bs__get_map__descriptor, 0),
	T(BS_MSG_MON_MAP, "mon_map", &bs__cluster_map__descriptor, 0),
	T(BS_MSG_MON_SUBSCRIBE, "mon_subscribe", &bs__subscribe__descriptor, 0),
	T(BS_MSG_MON_SUBSCRIBE_REPLY, "mon_subscribe_reply",
	  &bs__subscribe_reply__descriptor, 0),
	T(BS_MSG_MON_VOLUME_QUERY, "mon_volume_query",
	  &bs__volume_query__descriptor, 0),
	T(BS_MSG_MON_VOLUME_LIST, "mon_volume_list",
	  &bs__volume_list__descriptor, 0),
	T(BS_MSG_MON_STATUS, "mon_status", &bs__mon_status_request__descriptor,
	  0),
	T(BS_MSG_MON_STATUS_REPLY, "mon_status_reply",
	  &bs__mon_status__descriptor, 0),
	T(BS_MSG_MON_OSD_BEACON, "mon_osd_beacon", &bs__osd_beacon__descriptor,
	  0),
	T(BS_MSG_MON_OSD_FAILURE, "mon_osd_failure",
	  &bs__osd_failure__descriptor, 0),
	T(BS_MSG_MON_CLUSTER_STATUS, "mon_cluster_status",
	  &bs__cluster_status_request__descriptor, 0),
	T(BS_MSG_MON_CLUSTER_STATUS_REPLY, "mon_cluster_status_reply",
	  &bs__cluster_status__descriptor, 0),
	T(BS_MSG_MON_PG_QUERY, "mon_pg_query", &bs__pg_stat_query__descriptor,
	  0),
	T(BS_MSG_MON_PG_LIST, "mon_pg_list", &bs__pg_stat_list__descriptor, 0),
	T(BS_MSG_OSD_OP, "osd_op", &bs__osd_op__descriptor, 64u << 20),
	T(BS_MSG_OSD_PG_LIST, "osd_pg_list", &bs__pg_list__descriptor, 0),
	T(BS_MSG_OSD_STATFS, "osd_statfs", &bs__osd_statfs__descriptor, 0),
	T(BS_MSG_OSD_OP_REPLY, "osd_op_reply", &bs__osd_op_reply__descriptor,
	  64u << 20),
	T(BS_MSG_OSD_PG_LIST_REPLY, "osd_pg_list_reply",
	  &bs__pg_list_reply__descriptor, 0),
	T(BS_MSG_OSD_STATFS_REPLY, "osd_statfs_reply",
	  &bs__osd_statfs_reply__descriptor, 0),
	T(BS_MSG_OSD_SCRUB, "osd_scrub", &bs__osd_scrub__descriptor, 0),
	T(BS_MSG_OSD_SCRUB_REPLY, "osd_scrub_reply",
	  &bs__osd_scrub_reply__descriptor, 0),
	T(BS_MSG_OSD_PG_STATE, "osd_pg_state",
	  &bs__osd_pg_state_query__descriptor, 0),
	T(BS_MSG_OSD_PG_STATE_REPLY, "osd_pg_state_reply",
	  &bs__osd_pg_state_reply__descriptor, 0),
	T(BS_MSG_OSD_LOCATE, "osd_locate", &bs__osd_locate__descriptor, 0),
	T(BS_MSG_OSD_LOCATE_REPLY, "osd_locate_reply",
	  &bs__osd_locate_reply__descriptor, 0),
	T(BS_MSG_OSD_SHARD_READ, "osd_shard_read", &bs__ec_read__descriptor, 0),
	T(BS_MSG_OSD_SHARD_READ_REPLY, "osd_shard_read_reply",
	  &bs__ec_read_reply__descriptor, 64u << 20),
	T(BS_MSG_REP_OP, "rep_op", &bs__rep_op__descriptor, 64u << 20),
	T(BS_MSG_REP_OP_REPLY, "rep_op_reply", &bs__rep_op_reply__descriptor,
	  0),
	T(BS_MSG_PG_QUERY, "pg_query", &bs__pg_query__descriptor, 0),
	T(BS_MSG_PG_QUERY_REPLY, "pg_query_reply",
	  &bs__pg_query_reply__descriptor, 0),
	T(BS_MSG_PG_ACTIVATE, "pg_activate", &bs__pg_activate__descriptor, 0),
	T(BS_MSG_PG_ACTIVATE_REPLY, "pg_activate_reply",
	  &bs__pg_activate_reply__descriptor, 0),
	T(BS_MSG_PG_PUSH, "pg_push", &bs__pg_push__descriptor, 64u << 20),
	T(BS_MSG_PG_PUSH_REPLY, "pg_push_reply",
	  &bs__pg_push_reply__descriptor, 0),
	T(BS_MSG_PG_PULL, "pg_pull", &bs__pg_pull__descriptor, 0),
	T(BS_MSG_PG_PULL_REPLY, "pg_pull_reply",
	  &bs__pg_pull_reply__descriptor, 64u << 20),
	T(BS_MSG_PG_NOTIFY, "pg_notify", &bs__pg_notify__descriptor, 0),
	T(BS_MSG_PG_NOTIFY_REPLY, "pg_notify_reply",
	  &bs__pg_notify_reply__descriptor, 0),
	T(BS_MSG_PG_SCRUB_MAP, "pg_scrub_map", &bs__pg_scrub_map__descriptor,
	  0),
	T(BS_MSG_PG_SCRUB_MAP_REPLY, "pg_scrub_map_reply",
	  &bs__pg_scrub_map_reply__descriptor, 0),
	T(BS_MSG_PG_STRAY, "pg_stray", &bs__pg_stray__descriptor, 0),
	T(BS_MSG_PG_STRAY_REPLY, "pg_stray_reply",
	  &bs__pg_stray_reply__descriptor, 0),
	T(BS_MSG_EC_READ, "ec_read", &bs__ec_read__descriptor, 0),
	T(BS_MSG_EC_READ_REPLY, "ec_read_reply",
	  &bs__ec_read_reply__descriptor, 64u << 20),
	T(BS_MSG_PG_ROLLBACK, "pg_rollback", &bs__pg_rollback__descriptor, 0),
	T(BS_MSG_PG_ROLLBACK_REPLY, "pg_rollback_reply",
	  &bs__pg_rollback_reply__descriptor, 0),
};
/* clang-format on */

#undef T

const struct bs_msg_type_info *bs_msg_type_find(uint16_t type)
{
	if (type >= ARRAY_SIZE(bs_msg_types) || !bs_msg_types[type].name)
		return NULL;
	return &bs_msg_types[type];
}
