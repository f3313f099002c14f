// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-osd: command line, configuration, pid file; then either formats
 * the OSD's store (--mkfs) or runs the daemon (osd.c) until SIGTERM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs/parse.h"
#include "osd.h"

static struct osd osd;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: basalt-osd [-c FILE] --id N [--mkfs] [--pidfile FILE] [--addr-file FILE]\n"
		"                  [--log-file FILE] [--KEY VALUE ...] [--help] [--help-config]\n"
		"Runs OSD osd.N of the cluster described by FILE (default $BASALT_CONF,\n"
		"else /etc/basalt/basalt.conf) in the foreground; --mkfs formats its\n"
		"data_path and exits.  See docs/osd.md.\n");
}

static int write_file(const char *path, const char *text,
		      struct bs_error *err)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return bs_error_errno(err, -errno, "cannot write '%s'", tmp);
	fprintf(f, "%s\n", text);
	if (fclose(f) || rename(tmp, path))
		return bs_error_errno(err, -errno, "cannot write '%s'", path);
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL, *pidfile = NULL, *id_str = NULL;
	const char *over_k[64], *over_v[64];
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;
	unsigned n_over = 0;
	bool mkfs = false;
	char pid[32];
	uint64_t id;
	int i, ret, code = 1;

	bs_log_init("osd", BS_LOG_NOTICE);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--help-config")) {
			bs_conf_print_help(bs_global_conf_keys,
					   bs_global_conf_nkeys, stdout);
			bs_conf_print_help(osd_conf_keys, osd_conf_nkeys, stdout);
			return 0;
		} else if (!strcmp(a, "--mkfs")) {
			mkfs = true;
			continue;
		}
		if (a[0] != '-' || i + 1 >= argc) {
			fprintf(stderr, "basalt-osd: '%s': %s\n", a,
				a[0] != '-' ? "unexpected argument" :
					      "needs a value");
			usage(stderr);
			return 1;
		}
		if (!strcmp(a, "-c") || !strcmp(a, "--conf"))
			conf_path = argv[++i];
		else if (!strcmp(a, "--id") || !strcmp(a, "-i"))
			id_str = argv[++i];
		else if (!strcmp(a, "--pidfile"))
			pidfile = argv[++i];
		else if (!strcmp(a, "--addr-file"))
			osd.addr_file = argv[++i];
		else if (!strncmp(a, "--", 2) && n_over < ARRAY_SIZE(over_k)) {
			over_k[n_over] = a + 2;
			over_v[n_over++] = argv[++i];
		} else {
			fprintf(stderr, "basalt-osd: '%s': %s\n", a,
				strncmp(a, "--", 2) ? "unknown option" :
						      "too many --KEY VALUE options");
			return 1;
		}
	}
	if (!id_str) {
		fprintf(stderr, "basalt-osd: --id N is required\n");
		usage(stderr);
		return 1;
	}
	ret = bs_parse_u64("'--id'", id_str, &id, &err);
	if (ret || id > OSD_MAX_ID) {
		fprintf(stderr, "basalt-osd: %s\n",
			ret ? err.msg : "'--id' must be at most 1000000");
		return 1;
	}
	osd.id = (int32_t)id;
	snprintf(osd.name, sizeof(osd.name), "osd.%d", osd.id);
	bs_log_init(osd.name, BS_LOG_NOTICE);

	ret = bs_conf_load(&conf, bs_conf_default_path(conf_path), &err);
	if (!ret)
		ret = bs_global_conf_load(conf, osd.name, &osd.global,
					  osd_conf_keys, osd_conf_nkeys,
					  &osd.conf, &err);
	for (i = 0; !ret && i < (int)n_over; i++)
		ret = bs_global_conf_set(&osd.global, osd_conf_keys,
					 osd_conf_nkeys, &osd.conf, over_k[i],
					 over_v[i], &err);
	if (!ret)
		ret = osd_conf_finish(&osd, &err);
	if (!ret)
		ret = bs_global_conf_setup_log(&osd.global, &err);
	if (ret)
		goto out;
	if (mkfs) {
		ret = osd_mkfs(&osd, &err);
		code = ret ? 1 : 0;
		goto out;
	}
	ret = osd_start(&osd, conf, &err);
	if (!ret && osd.addr_file)
		ret = write_file(osd.addr_file, bs_msgr_listen_addr(osd.msgr),
				 &err);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (!ret && pidfile)
		ret = write_file(pidfile, pid, &err);
	bs_conf_free(&conf);
	if (!ret)
		code = osd_run(&osd);
	osd_release(&osd);
	if (pidfile && !ret)
		unlink(pidfile);
out:
	if (ret)
		bs_err("%s", err.msg[0] ? err.msg : strerror(-ret));
	bs_conf_free(&conf);
	bs_conf_release(osd_conf_keys, osd_conf_nkeys, &osd.conf);
	bs_global_conf_release(&osd.global);
	return code;
}
