// SPDX-License-Identifier: Apache-2.0
/*
 * The table of keys allowed in [global], shared by every program, and the
 * helpers that load it beside a program's own table.
 */
#include <errno.h>
#include <string.h>

#include "bs/conf_global.h"
#include "bs/log.h"

#define K(nm, ty, df, lo, hi, hl)					\
	{ .name = #nm, .type = ty, .def = df, .min = lo, .max = hi,	\
	  .offset = offsetof(struct bs_global_conf, nm), .help = hl }

/* clang-format off */
const struct bs_conf_key bs_global_conf_keys[] = {
	K(log_level, BS_CONF_STR, "notice", 0, 0,
	  "err, warning, notice, info or debug"),
	K(debug, BS_CONF_STR, NULL, 0, 0,
	  "debug subsystems, e.g. \"mon,raft,msgr\" or \"all\""),
	K(log_file, BS_CONF_STR, NULL, 0, 0,
	  "log to this file instead of stderr"),
	K(mon_host, BS_CONF_STR, NULL, 0, 0,
	  "mon addresses for clients (HOST:PORT,...); default: every [mon.N] addr"),
	K(mon_command_timeout, BS_CONF_MS, "5s", 100, 3600000,
	  "how long a change may wait for a quorum before \"no quorum\""),
	K(mon_election_timeout, BS_CONF_MS, "1000ms", 50, 60000,
	  "raft election timeout; the heartbeat is a tenth of it"),
	K(osd_heartbeat_interval, BS_CONF_MS, "1s", 10, 600000,
	  "how often an OSD sends a beacon to the mons and pings its peers"),
	K(osd_heartbeat_grace, BS_CONF_MS, "20s", 100, 3600000,
	  "an OSD silent this long (no beacon, or peers report it) is marked down"),
	K(mon_osd_min_down_reporters, BS_CONF_U64, "2", 1, 1000,
	  "OSDs on other hosts that must report a peer failed (at most the number there are)"),
	K(mon_osd_down_out_interval, BS_CONF_MS, "600s", 0, 0,
	  "an OSD down this long is marked out and its data rebuilt elsewhere (0: never)"),
	K(mon_osd_nearfull_percent, BS_CONF_U64, "85", 1, 100,
	  "an OSD this full (used % of capacity) makes the cluster HEALTH_WARN"),
	K(mon_osd_full_percent, BS_CONF_U64, "95", 1, 100,
	  "an OSD this full makes the cluster HEALTH_ERR"),
	K(osd_recovery_max_active, BS_CONF_U64, "4", 1, 1024,
	  "objects one OSD recovers or backfills at once (client-driven recovery may exceed it)"),
	K(osd_recovery_bytes_per_sec, BS_CONF_SIZE, "0", 0, 0,
	  "bytes per second one OSD copies for recovery and backfill (0: no limit)"),
	K(osd_scrub_interval, BS_CONF_MS, "24h", 0, 0,
	  "scrub (compare object versions of every member) each PG this often (0: never)"),
	K(osd_deep_scrub_interval, BS_CONF_MS, "168h", 0, 0,
	  "deep-scrub (also read and compare all data) each PG this often (0: never)"),
	K(osd_scrub_auto_repair, BS_CONF_BOOL, "true", 0, 0,
	  "scheduled scrubs repair the bad copies they find from a good one"),
};
/* clang-format on */
const size_t bs_global_conf_nkeys = ARRAY_SIZE(bs_global_conf_keys);

int bs_global_conf_load(const struct bs_conf *conf, const char *section,
			struct bs_global_conf *g, const struct bs_conf_key *own,
			size_t n_own, void *own_obj, struct bs_error *err)
{
	const struct bs_conf_schema schemas[] = {
		{ bs_global_conf_keys, bs_global_conf_nkeys, g, true },
		{ own, own ? n_own : 0, own_obj, false },
	};
	const char *sections[] = { "global", section, NULL };

	return bs_conf_apply_schemas(conf, schemas, own ? 2 : 1, sections,
				     err);
}

int bs_global_conf_set(struct bs_global_conf *g, const struct bs_conf_key *own,
		       size_t n_own, void *own_obj, const char *key,
		       const char *value, struct bs_error *err)
{
	struct bs_error ignored;
	int ret;

	ret = bs_conf_set(bs_global_conf_keys, bs_global_conf_nkeys, g, key,
			  value, &ignored);
	if (ret != -ENOENT) {
		if (ret && err)
			*err = ignored;
		return ret;
	}
	if (!own)
		return bs_error_set(err, -ENOENT, "%s", ignored.msg);
	return bs_conf_set(own, n_own, own_obj, key, value, err);
}

int bs_global_conf_setup_log(const struct bs_global_conf *g,
			     struct bs_error *err)
{
	unsigned mask = 0;
	int level = bs_log_level, ret;

	if (g->log_level && bs_log_parse_level(g->log_level, &level))
		return bs_error_set(err, -EINVAL,
				    "'log_level': '%s' is not one of err, warning, notice, info, debug",
				    g->log_level);
	if (g->debug && bs_log_parse_debug(g->debug, &mask))
		return bs_error_set(err, -EINVAL,
				    "'debug': '%s' names an unknown subsystem (loop, msgr, mon, raft, osd, store, peering, client, nbd, all)",
				    g->debug);
	if (g->log_level)
		bs_log_level = level;
	bs_log_debug_mask = mask;
	if (g->log_file) {
		ret = bs_log_open(g->log_file);
		if (ret)
			return bs_error_errno(err, ret, "cannot open log file '%s'",
					      g->log_file);
	}
	return 0;
}

void bs_global_conf_release(struct bs_global_conf *g)
{
	bs_conf_release(bs_global_conf_keys, bs_global_conf_nkeys, g);
}
