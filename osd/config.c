// SPDX-License-Identifier: Apache-2.0
/*
 * The OSD's own configuration keys (in [osd.N], or --KEY VALUE; the keys
 * every program shares are bs/conf_global.h's) and their defaults that
 * depend on the OSD id.  docs/osd.md documents every key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osd.h"

#define K(nm, ty, df, lo, hi, hl)					\
	{ .name = #nm, .type = ty, .def = df, .min = lo, .max = hi,	\
	  .offset = offsetof(struct osd_conf, nm), .help = hl }

/* clang-format off */
const struct bs_conf_key osd_conf_keys[] = {
	K(data_path, BS_CONF_STR, NULL, 0, 0,
	  "[osd.N] data file or block device (required)"),
	K(meta_dir, BS_CONF_STR, NULL, 0, 0,
	  "[osd.N] RocksDB directory (default: data_path + \".meta\")"),
	K(osd_size, BS_CONF_SIZE, "1G", 1ull << 24, 0,
	  "[osd.N] size of a data file made by --mkfs (devices: all of it)"),
	K(journal_size, BS_CONF_SIZE, "0", 0, 1ull << 30,
	  "[osd.N] journal ring made by --mkfs (0: size/64, at most 32M)"),
	K(mkfs_zero, BS_CONF_BOOL, "false", 0, 0,
	  "[osd.N] --mkfs zeroes all of a data file, not just its journal"),
	K(addr, BS_CONF_ADDR, "127.0.0.1:0", 0, 65535,
	  "[osd.N] messenger address HOST:PORT (port 0: any, see --addr-file)"),
	K(host, BS_CONF_STR, NULL, 0, 0,
	  "[osd.N] host failure domain (default \"host-N\", N the OSD id)"),
	K(rack, BS_CONF_STR, NULL, 0, 0,
	  "[osd.N] rack failure domain (default: none)"),
	K(site, BS_CONF_STR, NULL, 0, 0,
	  "[osd.N] site failure domain (default: none)"),
	K(weight, BS_CONF_SIZE, "0", 0, 0,
	  "[osd.N] placement weight in bytes (0: the data capacity)"),
	K(dsync, BS_CONF_BOOL, "false", 0, 0,
	  "write data with O_DSYNC instead of one fdatasync per batch"),
	K(rep_timeout, BS_CONF_MS, "30s", 100, 3600000,
	  "how long one send of a write to a replica may take"),
	K(map_wait_timeout, BS_CONF_MS, "10s", 100, 3600000,
	  "how long a request from a newer map epoch waits for that map"),
};
/* clang-format on */
const size_t osd_conf_nkeys = ARRAY_SIZE(osd_conf_keys);

/* A failure-domain name must fit placement's bucket names. */
static int check_name(const char *what, const char *s, struct bs_error *err)
{
	if (s && strlen(s) >= BS_PLACE_NAME_MAX)
		return bs_error_set(err, -EINVAL,
				    "%s '%s' is longer than %d bytes", what, s,
				    BS_PLACE_NAME_MAX - 1);
	return 0;
}

int osd_conf_finish(struct osd *osd, struct bs_error *err)
{
	struct osd_conf *c = &osd->conf;
	int ret;

	if (!c->data_path || !*c->data_path)
		return bs_error_set(err, -EINVAL,
				    "no data_path for %s: set it in [%s] or with --data-path",
				    osd->name, osd->name);
	if (!c->host || !*c->host) {
		free(c->host);
		if (asprintf(&c->host, "host-%d", osd->id) < 0)
			return -ENOMEM;
	}
	ret = check_name("host", c->host, err);
	if (!ret)
		ret = check_name("rack", c->rack, err);
	if (!ret)
		ret = check_name("site", c->site, err);
	return ret;
}
