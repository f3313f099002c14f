// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-nbd: command line, configuration ([nbd] section and --KEY VALUE),
 * logging, signals (a signalfd the loop polls) and the pid file; then
 * connects to the cluster and hands over to server.c.  SIGTERM and SIGINT
 * shut down cleanly (exit 0); with --run the exit status is CMD's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bs/parse.h"
#include "nbd.h"

#ifndef BASALT_VERSION
#define BASALT_VERSION "unknown"
#endif

#define K(nm, ty, df, lo, hi, hl)					\
	{ .name = #nm, .type = ty, .def = df, .min = lo, .max = hi,	\
	  .offset = offsetof(struct nbd_config, nm), .help = hl }

/* clang-format off */
const struct bs_conf_key nbd_conf_keys[] = {
	K(listen, BS_CONF_ADDR, NULL, 0, 65535,
	  "TCP address HOST:PORT (port 0: any; default 127.0.0.1:10809 unless socket is set)"),
	K(socket, BS_CONF_STR, NULL, 0, 0,
	  "Unix socket path to listen on"),
	K(exports, BS_CONF_STR, NULL, 0, 0,
	  "volumes to export, \"POOL/NAME,...\" (default: every volume)"),
	K(read_only, BS_CONF_BOOL, "false", 0, 0,
	  "export read-only: writes fail with EPERM"),
	K(max_connections, BS_CONF_U64, "1024", 1, 1000000,
	  "clients served at once; more are refused"),
	K(max_inflight, BS_CONF_U64, "256", 1, 65536,
	  "requests in flight per connection before reading stops"),
	K(max_inflight_bytes, BS_CONF_SIZE, "128M", 33554432, 0,
	  "request buffers per connection before reading stops"),
	K(handshake_timeout, BS_CONF_MS, "30s", 100, 3600000,
	  "time a client has to select an export"),
	K(shutdown_timeout, BS_CONF_MS, "10s", 0, 3600000,
	  "time to finish requests in flight on SIGTERM"),
	K(workers, BS_CONF_U64, "2", 1, 16,
	  "threads for blocking volume calls (open, block status, list)"),
};
/* clang-format on */
const size_t nbd_conf_nkeys = ARRAY_SIZE(nbd_conf_keys);

static void usage(FILE *out)
{
	fprintf(out,
		"usage: basalt-nbd [-c FILE] [--listen HOST:PORT] [--socket PATH]\n"
		"                  [--export POOL/NAME ...] [POOL/NAME ...] [--read-only]\n"
		"                  [--pidfile FILE] [--run CMD] [--log-file FILE]\n"
		"                  [--log-level LEVEL] [--debug LIST] [--KEY VALUE ...]\n"
		"                  [--help] [--help-config] [--version]\n"
		"Serves the volumes of the cluster described by FILE (default\n"
		"$BASALT_CONF, else /etc/basalt/basalt.conf) over NBD, each as the\n"
		"export POOL/NAME; by default every volume, on 127.0.0.1:10809.\n"
		"--run CMD runs CMD with $uri set and exits with its status.\n");
}

static bool part_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 128)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* Split cfg->exports ("a/b, c/d") into cfg->export_list. */
static int parse_exports(struct nbd_config *cfg, struct bs_error *err)
{
	char *copy, *tok, *save = NULL;
	const char *slash;

	if (!cfg->exports)
		return 0;
	copy = bs_xstrdup(cfg->exports);
	for (tok = strtok_r(copy, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		slash = strchr(tok, '/');
		if (!slash || !part_ok(tok, (size_t)(slash - tok)) ||
		    !part_ok(slash + 1, strlen(slash + 1))) {
			bs_error_set(err, -EINVAL, "'--export': '%s' is not POOL/NAME",
				     tok);
			free(copy);
			return -EINVAL;
		}
		cfg->export_list = bs_xrealloc(cfg->export_list,
			(cfg->n_exports + 2) * sizeof(*cfg->export_list));
		cfg->export_list[cfg->n_exports++] = bs_xstrdup(tok);
		cfg->export_list[cfg->n_exports] = NULL;
	}
	free(copy);
	return 0;
}

/* Append @name to the "exports" list (for --export and positionals). */
static void add_export(char **list, const char *name)
{
	char *s;

	if (asprintf(&s, "%s%s%s", *list ? *list : "", *list ? "," : "",
		     name) < 0) {
		fprintf(stderr, "basalt-nbd: out of memory\n");
		exit(1);
	}
	free(*list);
	*list = s;
}

static int setup_log(const struct bs_conf *conf, const char *level_s,
		     const char *debug, const char *file,
		     struct bs_error *err)
{
	int level = BS_LOG_NOTICE, ret, line;

	if (!level_s && conf)
		level_s = bs_conf_get(conf, "global", "log_level", &line);
	if (!debug && conf)
		debug = bs_conf_get(conf, "global", "debug", &line);
	if (!file && conf)
		file = bs_conf_get(conf, "global", "log_file", &line);
	if (level_s && bs_log_parse_level(level_s, &level))
		return bs_error_set(err, -EINVAL, "log level '%s' is not known (use err, warning, notice, info or debug)",
				    level_s);
	bs_log_init("nbd", level);
	if (debug) {
		if (bs_log_parse_debug(debug, &bs_log_debug_mask))
			return bs_error_set(err, -EINVAL, "debug '%s' names an unknown subsystem",
					    debug);
		if (bs_log_debug_mask)
			bs_log_init("nbd", BS_LOG_DEBUG);
	}
	if (file) {
		ret = bs_log_open(file);
		if (ret)
			return bs_error_errno(err, ret, "cannot open log file '%s'",
					      file);
	}
	return 0;
}

static int write_pidfile(const char *path, struct bs_error *err)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return bs_error_errno(err, -errno, "cannot write pid file '%s'",
				      path);
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f))
		return bs_error_errno(err, -errno, "cannot write pid file '%s'",
				      path);
	return 0;
}

/* Block the signals we handle (before any thread starts); signalfd. */
static int setup_signals(struct bs_error *err)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return bs_error_errno(err, -errno, "sigprocmask");
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return bs_error_errno(err, -errno, "signalfd");
	return fd;
}

int main(int argc, char **argv)
{
	const char *level = NULL, *debug = NULL, *log_file = NULL;
	const char *over_k[64], *over_v[64];
	const char *sections[] = { "nbd", NULL };
	struct nbd_config cfg = { 0 };
	struct nbd_server srv;
	struct basalt_cluster *cluster = NULL;
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;
	char *cli_exports = NULL;
	unsigned n_over = 0, k;
	bool srv_init = false, pid_written = false;
	int i, ret, code = 1, sigfd = -1;

	bs_log_init("nbd", BS_LOG_NOTICE);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--help-config")) {
			bs_conf_print_help(nbd_conf_keys, nbd_conf_nkeys,
					   stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("basalt-nbd %s\n", BASALT_VERSION);
			return 0;
		} else if (!strcmp(a, "-r") || !strcmp(a, "--read-only")) {
			if (n_over < ARRAY_SIZE(over_k)) {
				over_k[n_over] = "read_only";
				over_v[n_over++] = "true";
			}
			continue;
		} else if (a[0] != '-') {
			add_export(&cli_exports, a);
			continue;
		}
		if (!v) {
			fprintf(stderr, "basalt-nbd: '%s' needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "-c") || !strcmp(a, "--conf")) {
			cfg.conf_path = bs_xstrdup(v);
		} else if (!strcmp(a, "-e") || !strcmp(a, "--export")) {
			add_export(&cli_exports, v);
		} else if (!strcmp(a, "--pidfile")) {
			cfg.pidfile = bs_xstrdup(v);
		} else if (!strcmp(a, "--run")) {
			cfg.run = bs_xstrdup(v);
		} else if (!strcmp(a, "--log-level")) {
			level = v;
		} else if (!strcmp(a, "--debug")) {
			debug = v;
		} else if (!strcmp(a, "--log-file")) {
			log_file = v;
		} else if (!strncmp(a, "--", 2) && n_over < ARRAY_SIZE(over_k)) {
			over_k[n_over] = a;
			over_v[n_over++] = v;
		} else {
			fprintf(stderr, "basalt-nbd: unknown option '%s' (see 'basalt-nbd --help')\n",
				a);
			return 2;
		}
	}

	ret = bs_conf_load(&conf, bs_conf_default_path(cfg.conf_path), &err);
	if (ret)
		goto out;
	ret = bs_conf_apply(conf, nbd_conf_keys, nbd_conf_nkeys, sections,
			    &cfg, &err);
	for (k = 0; !ret && k < n_over; k++)
		ret = bs_conf_set(nbd_conf_keys, nbd_conf_nkeys, &cfg,
				  over_k[k], over_v[k], &err);
	if (ret)
		goto out;
	if (cli_exports) {
		free(cfg.exports);
		cfg.exports = cli_exports;
		cli_exports = NULL;
	}
	if (!cfg.listen && !cfg.socket)
		cfg.listen = bs_xstrdup("127.0.0.1:10809");
	ret = parse_exports(&cfg, &err);
	if (!ret)
		ret = setup_log(conf, level, debug, log_file, &err);
	if (ret)
		goto out;

	sigfd = setup_signals(&err);
	if (sigfd < 0) {
		ret = sigfd;
		goto out;
	}
	ret = basalt_connect(cfg.conf_path, &cluster);
	if (ret) {
		bs_error_set(&err, ret, "cannot connect to the cluster: %s",
			     basalt_get_error());
		goto out;
	}
	ret = nbd_server_init(&srv, &cfg, cluster, &err);
	srv_init = true;
	if (ret)
		goto out;
	srv.signal_fd = sigfd;
	sigfd = -1;
	ret = nbd_server_listen(&srv, &err);
	if (!ret && cfg.pidfile) {
		ret = write_pidfile(cfg.pidfile, &err);
		pid_written = !ret;
	}
	if (ret)
		goto out;
	bs_notice("serving %s%s%s%s%s", srv.tcp_port ? srv.tcp_addr : "",
		  srv.tcp_port && cfg.socket ? " and " : "",
		  cfg.socket ? cfg.socket : "",
		  cfg.n_exports ? ", exports " : ", every volume",
		  cfg.exports && cfg.n_exports ? cfg.exports : "");
	if (cfg.run) {
		ret = captive_start(&srv, &err);
		if (ret)
			goto out;
	}
	code = nbd_server_run(&srv);
	ret = 0;
out:
	if (ret) {
		fprintf(stderr, "basalt-nbd: %s\n", err.msg);
		code = 1;
	}
	if (srv_init) {
		if (srv.signal_fd >= 0)
			close(srv.signal_fd);
		nbd_server_release(&srv);
	}
	if (sigfd >= 0)
		close(sigfd);
	if (pid_written)
		unlink(cfg.pidfile);
	if (cluster)
		basalt_disconnect(cluster);
	bs_conf_release(nbd_conf_keys, nbd_conf_nkeys, &cfg);
	for (k = 0; k < cfg.n_exports; k++)
		free(cfg.export_list[k]);
	free(cfg.export_list);
	free(cfg.conf_path);
	free(cfg.pidfile);
	free(cfg.run);
	free(cli_exports);
	bs_conf_free(&conf);
	return code;
}
