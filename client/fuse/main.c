// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-fuse [-c FILE] MOUNTPOINT [-f] [-s] [-d] [-o OPTION,...]: mount
 * every volume of the cluster as MOUNTPOINT/POOL/NAME.  Argument handling,
 * connecting, mounting and the FUSE loop; the operations are in fs.c.
 * Unmount with "fusermount3 -u MOUNTPOINT" (or SIGTERM/SIGINT).
 */
#define FUSE_USE_VERSION 312

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fuse.h>
#include <fuse_lowlevel.h>

#include "bs/log.h"

#include "bfuse.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: basalt-fuse [-c FILE] MOUNTPOINT [-f] [-s] [-d] [-o OPTION,...]\n"
		"Mount every volume of a Basalt cluster as the regular file\n"
		"MOUNTPOINT/POOL/NAME.  Unmount with 'fusermount3 -u MOUNTPOINT'.\n"
		"\n"
		"  -c, --conf FILE   config file (default: $BASALT_CONF, else\n"
		"                    /etc/basalt/basalt.conf)\n"
		"  -f                stay in the foreground\n"
		"  -s                single-threaded\n"
		"  -d                FUSE debug output (implies -f)\n"
		"  -o OPTION         FUSE mount option (e.g. allow_other)\n"
		"  -h, --help        this text and FUSE's own options\n"
		"  -V, --version     versions of basalt-fuse and libfuse\n");
}

/*
 * Take our own options out of argv (-c FILE, --conf FILE, --conf=FILE,
 * -h, --help); what is left goes to FUSE.  Returns 0, 1 for help, or -1
 * after printing what is wrong.
 */
static int take_options(int *argc, char **argv, struct bfs *fs)
{
	int i, j = 1, ret = 0;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c") || !strcmp(a, "--conf")) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "basalt-fuse: '%s' needs a file name\n",
					a);
				return -1;
			}
			fs->conf_path = argv[++i];
		} else if (!strncmp(a, "--conf=", 7)) {
			fs->conf_path = a + 7;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			ret = 1;
		} else {
			argv[j++] = argv[i];
		}
	}
	*argc = j;
	argv[j] = NULL;
	return ret;
}

static int run(struct fuse_args *args, struct fuse_cmdline_opts *opts,
	       struct bfs *fs)
{
	struct fuse_loop_config *loop_cfg;
	struct bs_error err = { 0 };
	struct fuse_session *se;
	struct fuse *fuse;
	int ret = 1;

	/* Fail here, on the terminal, if the cluster cannot be reached. */
	if (bfs_connect(fs, &err)) {
		fprintf(stderr, "basalt-fuse: %s\n", err.msg);
		return 1;
	}
	fuse = fuse_new(args, &bfs_ops, sizeof(bfs_ops), fs);
	if (!fuse)
		goto out_disconnect;
	if (fuse_mount(fuse, opts->mountpoint))
		goto out_destroy;
	if (!opts->foreground) {
		/* libbasalt's threads do not survive the fork. */
		bfs_disconnect(fs);
		if (fuse_daemonize(0))
			goto out_unmount;
		if (bfs_connect(fs, &err)) {
			bs_err("%s", err.msg);
			goto out_unmount;
		}
	}
	se = fuse_get_session(fuse);
	if (fuse_set_signal_handlers(se))
		goto out_unmount;
	if (opts->singlethread) {
		ret = fuse_loop(fuse);
	} else {
		loop_cfg = fuse_loop_cfg_create();
		if (loop_cfg) {
			fuse_loop_cfg_set_clone_fd(loop_cfg, opts->clone_fd);
			fuse_loop_cfg_set_max_threads(loop_cfg,
						      opts->max_threads);
			ret = fuse_loop_mt(fuse, loop_cfg);
			fuse_loop_cfg_destroy(loop_cfg);
		}
	}
	/* The loop returns the signal that ended it: a clean stop. */
	if (ret == SIGTERM || ret == SIGINT || ret == SIGHUP) {
		bs_notice("unmounting %s on signal %d", opts->mountpoint, ret);
		ret = 0;
	} else if (ret) {
		bs_err("the FUSE loop failed (%d)", ret);
		ret = 1;
	}
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_unmount(fuse);
out_destroy:
	fuse_destroy(fuse);
out_disconnect:
	bfs_disconnect(fs);
	return ret;
}

int main(int argc, char **argv)
{
	struct fuse_cmdline_opts opts = { 0 };
	struct bfs fs = { 0 };
	struct fuse_args args;
	int i, ret;

	bs_log_init("basalt-fuse", BS_LOG_NOTICE);
	ret = take_options(&argc, argv, &fs);
	if (ret < 0)
		return 2;
	if (ret > 0) {
		usage(stdout);
		printf("\nFUSE options:\n");
		fuse_cmdline_help();
		args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
		fuse_lib_help(&args);
		fuse_opt_free_args(&args);
		return 0;
	}

	/* Our fsname first: an -o fsname= of the user's comes later. */
	args = (struct fuse_args)FUSE_ARGS_INIT(0, NULL);
	ret = fuse_opt_add_arg(&args, argv[0]) ||
	      fuse_opt_add_arg(&args, "-ofsname=basalt,subtype=basalt");
	for (i = 1; !ret && i < argc; i++)
		ret = fuse_opt_add_arg(&args, argv[i]);
	if (ret || fuse_parse_cmdline(&args, &opts)) {
		fuse_opt_free_args(&args);
		return 2;
	}
	if (opts.show_version) {
		printf("basalt-fuse %s\n", BASALT_VERSION);
		printf("libfuse %s\n", fuse_pkgversion());
		ret = 0;
		goto out;
	}
	if (!opts.mountpoint) {
		fprintf(stderr, "basalt-fuse: no mount point given (see 'basalt-fuse --help')\n");
		ret = 2;
		goto out;
	}
	fs.uid = getuid();
	fs.gid = getgid();
	fs.mount_time = time(NULL);
	ret = run(&args, &opts, &fs);
out:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
