// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-mon: command line, configuration, pid file and log set-up; then
 * hands over to raft_io.c (mon_start/mon_run).  SIGTERM and SIGINT shut
 * down cleanly (exit 0).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs/conf.h"
#include "bs/log.h"
#include "bs/parse.h"
#include "mon.h"

#define K(nm, ty, df, lo, hi, hl)					\
	{ .name = #nm, .type = ty, .def = df, .min = lo, .max = hi,	\
	  .offset = offsetof(struct mon_conf, nm), .help = hl }

/* clang-format off */
const struct bs_conf_key mon_conf_keys[] = {
	K(addr, BS_CONF_ADDR, NULL, 0, 0,
	  "[mon.N] messenger address HOST:PORT (clients, OSDs, mons)"),
	K(raft_addr, BS_CONF_ADDR, NULL, 0, 0,
	  "[mon.N] raft address HOST:PORT (default: port of addr + 1)"),
	K(data_dir, BS_CONF_STR, NULL, 0, 0,
	  "[mon.N] raft log and snapshots (default /var/lib/basalt/mon.N)"),
};
/* clang-format on */
const size_t mon_conf_nkeys = ARRAY_SIZE(mon_conf_keys);

static struct mon mon;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: basalt-mon [-c FILE] --id N [--pidfile FILE] [--log-file FILE]\n"
		"                  [--KEY VALUE ...] [--help] [--help-config]\n"
		"Runs monitor mon.N of the cluster described by FILE (default\n"
		"$BASALT_CONF, else /etc/basalt/basalt.conf) in the foreground.\n");
}

/* "HOST:PORT" -> "HOST:PORT+1", the default raft address. */
static char *next_port(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char *out;
	long port;

	if (!colon)
		return NULL;
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port >= 65535)
		return NULL;
	if (asprintf(&out, "%.*s:%ld", (int)(colon - addr), addr,
		     port + 1) < 0)
		return NULL;
	return out;
}

struct members_ctx {
	const struct bs_conf *conf;
	struct bs_error *err;
};

static int add_member(void *opaque, unsigned id, const char *section)
{
	struct members_ctx *ctx = opaque;
	struct mon_member *m;
	const char *addr, *raft;
	int line;

	if (mon.n_members == MON_MAX_MEMBERS)
		return bs_error_set(ctx->err, -EINVAL,
				    "%s: more than %u [mon.N] sections",
				    bs_conf_path(ctx->conf), MON_MAX_MEMBERS);
	addr = bs_conf_get(ctx->conf, section, "addr", &line);
	if (!addr)
		return bs_error_set(ctx->err, -EINVAL,
				    "%s: [%s] has no addr",
				    bs_conf_path(ctx->conf), section);
	raft = bs_conf_get(ctx->conf, section, "raft_addr", &line);
	m = &mon.members[mon.n_members++];
	m->id = id;
	m->addr = bs_xstrdup(addr);
	m->raft_addr = raft ? bs_xstrdup(raft) : next_port(addr);
	if (!m->raft_addr)
		return bs_error_set(ctx->err, -EINVAL,
				    "%s: [%s]: cannot derive raft_addr from '%s'",
				    bs_conf_path(ctx->conf), section, addr);
	return 0;
}

static int setup_self(struct bs_error *err)
{
	struct mon_member *self = NULL;
	unsigned i;

	for (i = 0; i < mon.n_members; i++)
		if (mon.members[i].id == mon.id)
			self = &mon.members[i];
	if (!self)
		return bs_error_set(err, -EINVAL,
				    "no [%s] section in the configuration",
				    mon.name);
	/* command-line overrides win over the file */
	if (mon.conf.addr && strcmp(mon.conf.addr, self->addr)) {
		free(self->addr);
		self->addr = bs_xstrdup(mon.conf.addr);
	}
	if (mon.conf.raft_addr && strcmp(mon.conf.raft_addr,
					  self->raft_addr)) {
		free(self->raft_addr);
		self->raft_addr = bs_xstrdup(mon.conf.raft_addr);
	}
	if (!mon.conf.data_dir &&
	    asprintf(&mon.conf.data_dir, "/var/lib/basalt/%s", mon.name) < 0)
		return -ENOMEM;
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

int main(int argc, char **argv)
{
	static const char *const over_max = "too many --KEY VALUE options";
	const char *conf_path = NULL, *pidfile = NULL, *id_str = NULL;
	const char *over_k[64], *over_v[64];
	struct members_ctx ctx;
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;
	unsigned n_over = 0;
	uint64_t id;
	int i, ret, code = 1;

	bs_log_init("mon", BS_LOG_NOTICE);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--help-config")) {
			bs_conf_print_help(bs_global_conf_keys,
					   bs_global_conf_nkeys, stdout);
			bs_conf_print_help(mon_conf_keys, mon_conf_nkeys,
					   stdout);
			return 0;
		}
		if (strncmp(a, "-", 1) || i + 1 >= argc) {
			fprintf(stderr, "basalt-mon: '%s': %s\n", a,
				strncmp(a, "-", 1) ? "unexpected argument" :
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
		else if (!strncmp(a, "--", 2) && n_over < ARRAY_SIZE(over_k)) {
			over_k[n_over] = a + 2;
			over_v[n_over++] = argv[++i];
		} else {
			fprintf(stderr, "basalt-mon: '%s': %s\n", a,
				strncmp(a, "--", 2) ? "unknown option" :
						      over_max);
			return 1;
		}
	}
	if (!id_str) {
		fprintf(stderr, "basalt-mon: --id N is required\n");
		usage(stderr);
		return 1;
	}
	ret = bs_parse_u64("--id", id_str, &id, &err);
	if (ret || id >= 1000) {
		fprintf(stderr, "basalt-mon: %s\n",
			ret ? err.msg : "'--id' must be below 1000");
		return 1;
	}
	mon.id = (unsigned)id;
	snprintf(mon.name, sizeof(mon.name), "mon.%u", mon.id);
	bs_log_init(mon.name, BS_LOG_NOTICE);

	ret = bs_conf_load(&conf, bs_conf_default_path(conf_path), &err);
	if (ret)
		goto out_err;
	ret = bs_global_conf_load(conf, mon.name, &mon.global, mon_conf_keys,
				  mon_conf_nkeys, &mon.conf, &err);
	for (i = 0; !ret && i < (int)n_over; i++)
		ret = bs_global_conf_set(&mon.global, mon_conf_keys,
					 mon_conf_nkeys, &mon.conf, over_k[i],
					 over_v[i], &err);
	if (ret)
		goto out_err;
	ctx.conf = conf;
	ctx.err = &err;
	ret = bs_conf_for_each_numbered(conf, "mon", add_member, &ctx);
	if (!ret)
		ret = setup_self(&err);
	if (!ret)
		ret = bs_global_conf_setup_log(&mon.global, &err);
	if (ret)
		goto out_err;
	bs_conf_free(&conf);
	signal(SIGPIPE, SIG_IGN);

	ret = mon_start(&mon, &err);
	if (ret)
		goto out_err;
	if (pidfile) {
		ret = write_pidfile(pidfile, &err);
		if (ret)
			goto out_err;
	}
	code = mon_run(&mon);
	mon_release(&mon);
	if (pidfile)
		unlink(pidfile);
	return code;

out_err:
	bs_err("%s", err.msg[0] ? err.msg : strerror(-ret));
	bs_conf_free(&conf);
	return 1;
}
