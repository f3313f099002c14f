/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keys every program understands: the ones that may stand in [global]
 * (logging, where the mons are, cluster-wide timeouts).  A daemon passes
 * this table as a global schema beside its own table (bs/conf.h), so that
 * [global] is checked the same way by the mon, the OSD and every client.
 */
#ifndef BS_CONF_GLOBAL_H
#define BS_CONF_GLOBAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bs/conf.h"

struct bs_global_conf {
	char *log_level;		/* err|warning|notice|info|debug */
	char *debug;			/* debug subsystems, "msgr,mon" */
	char *log_file;			/* NULL: stderr */
	char *mon_host;			/* clients: "H:P,H:P"; else [mon.N] */
	uint64_t mon_command_timeout;	/* ms a change waits for quorum */
	uint64_t mon_election_timeout;	/* ms, raft election timeout */
	/* failure detection (docs/mon.md) */
	uint64_t osd_heartbeat_interval;	/* ms between OSD beacons */
	uint64_t osd_heartbeat_grace;	/* ms without beacon: down */
	uint64_t mon_osd_min_down_reporters;	/* reporters to mark down */
	uint64_t mon_osd_down_out_interval;	/* ms down, then out; 0 never */
	uint64_t mon_osd_nearfull_percent;	/* used %: HEALTH_WARN */
	uint64_t mon_osd_full_percent;	/* used %: HEALTH_ERR */
	/* recovery and scrub (docs/osd.md) */
	uint64_t osd_recovery_max_active;	/* objects at once per OSD */
	uint64_t osd_recovery_bytes_per_sec;	/* 0: unlimited */
	uint64_t osd_scrub_interval;	/* ms; 0: never */
	uint64_t osd_deep_scrub_interval;	/* ms; 0: never */
	bool osd_scrub_auto_repair;
};

extern const struct bs_conf_key bs_global_conf_keys[];
extern const size_t bs_global_conf_nkeys;

/*
 * Load @conf (may be NULL: defaults) into @g and, when @own is not NULL,
 * into @own_obj by @own: [global] may hold only global keys, @section
 * (e.g. "osd.3", "client"; may be NULL) either kind.  Returns 0 or -EINVAL
 * with @err naming file, line and key.
 */
int bs_global_conf_load(const struct bs_conf *conf, const char *section,
			struct bs_global_conf *g, const struct bs_conf_key *own,
			size_t n_own, void *own_obj, struct bs_error *err);

/*
 * Apply "--key value" from the command line to @own first, then to @g.
 * -ENOENT (with a did-you-mean from @own) when neither declares it.
 */
int bs_global_conf_set(struct bs_global_conf *g, const struct bs_conf_key *own,
		       size_t n_own, void *own_obj, const char *key,
		       const char *value, struct bs_error *err);

/* Set the log level, debug mask and log file from @g. */
int bs_global_conf_setup_log(const struct bs_global_conf *g,
			     struct bs_error *err);

void bs_global_conf_release(struct bs_global_conf *g);

#endif /* BS_CONF_GLOBAL_H */
