// SPDX-License-Identifier: Apache-2.0
/*
 * basalt: the command-line tool for admins and scripts.  This file parses
 * the global options (-c, -m, --format, --timeout) wherever they appear,
 * finds the command in the tables of cmd_*.c, checks its arguments, runs
 * it and turns its error into one line on stderr and an exit code.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include "bs/conf.h"
#include "bs/log.h"
#include "bs/msg_types.h"
#include "bs/parse.h"

#include "cli.h"

static const struct cli_cmd *const groups[] = {
	cli_status_cmds,
	cli_watch_cmds,
	cli_mon_cmds,
	cli_pool_cmds,
	cli_volume_cmds,
	cli_osd_cmds,
	cli_pg_cmds,
	cli_object_cmds,
	cli_bench_cmds,
};

static const char global_usage[] =
	"Usage: basalt [-c FILE] [-m ADDR[,ADDR...]] [--format plain|json]\n"
	"              [--timeout SECONDS] [--local] COMMAND [ARGS...]\n";

static const char global_opts_help[] =
	"Global options (anywhere on the line):\n"
	"  -c, --conf FILE        config file (default: $BASALT_CONF, else\n"
	"                         /etc/basalt/basalt.conf)\n"
	"  -m, --mon-host ADDR[,ADDR...]\n"
	"                         talk to these monitors only, not the\n"
	"                         config's (e.g. to see one monitor's view)\n"
	"  --format plain|json    tables for people (default) or JSON for\n"
	"                         scripts\n"
	"  --timeout SECONDS      give up on a request after this long\n"
	"                         (default 15)\n"
	"  --local                reads come from the monitor asked, from\n"
	"                         its own applied state, not the leader's\n"
	"                         (with -m ADDR: that monitor's view)\n"
	"  -h, --help             this help; 'basalt help COMMAND' for one\n"
	"  -V, --version          print the version\n"
	"\n"
	"Exit status: 0 success, 1 the command failed, 2 the command line is\n"
	"wrong.  Errors are one line on stderr.\n";

/* ---- helpers for the commands ---------------------------------------- */

const char *cli_cmd_title(const struct cli_cmd *cmd, char *buf, size_t len)
{
	if (cmd->name)
		snprintf(buf, len, "%s %s", cmd->group, cmd->name);
	else
		snprintf(buf, len, "%s", cmd->group);
	return buf;
}

const char *cli_opt(const struct cli_args *a, const char *name)
{
	unsigned i;

	for (i = 0; a->cmd->opts && a->cmd->opts[i].name; i++) {
		if (!strcmp(a->cmd->opts[i].name, name))
			return a->val[i];
	}
	return NULL;
}

int cli_usage(struct cli *cli, struct bs_error *err, const char *fmt, ...)
{
	va_list ap;

	cli->usage_error = true;
	err->code = -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int cli_parse_u32(struct cli *cli, const char *what, const char *s,
		  uint32_t min, uint32_t max, uint32_t *out,
		  struct bs_error *err)
{
	uint64_t v;
	int ret;

	ret = bs_parse_u64(what, s, &v, err);
	if (ret)
		return ret;
	if (v < min || v > max)
		return bs_error_set(err, -ERANGE,
				    "'%s': %s is out of range (use %u to %u)",
				    what, s, min, max);
	*out = (uint32_t)v;
	return 0;
}

int cli_split_volume(struct cli *cli, const char *spec, char *buf,
		     size_t len, const char **pool, const char **name,
		     struct bs_error *err)
{
	char *slash;

	if (strlen(spec) >= len)
		return cli_usage(cli, err, "'%.64s...' is too long for POOL/NAME",
				 spec);
	strcpy(buf, spec);
	slash = strchr(buf, '/');
	if (!slash || slash == buf || !slash[1] || strchr(slash + 1, '/'))
		return cli_usage(cli, err,
				 "'%s' is not POOL/NAME (e.g. 'rbd/vm1')",
				 spec);
	*slash = '\0';
	*pool = buf;
	*name = slash + 1;
	return 0;
}

void cli_hint_noent(struct bs_error *err)
{
	size_t len = strlen(err->msg);

	if (strstr(err->msg, "(see "))
		return;
	if (!strncmp(err->msg, "pool ", 5))
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 " (see 'basalt pool ls')");
	else if (!strncmp(err->msg, "volume ", 7))
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 " (see 'basalt volume ls')");
	else if (!strncmp(err->msg, "osd.", 4))
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 " (see 'basalt osd ls')");
}

/* Run a read of @type and take its reply's body. */
static int read_call(struct cli *cli, uint16_t type,
		     const ProtobufCMessage *req, ProtobufCMessage **out,
		     struct bs_error *err)
{
	struct bs_monc *monc;
	struct bs_msg *msg;
	int ret;

	ret = cli_monc(cli, &monc, err);
	if (ret)
		return ret;
	ret = bs_monc_call_sync(monc, type, req, &msg, err);
	if (ret)
		return ret;
	*out = msg->body;
	msg->body = NULL;
	bs_msg_free(msg);
	return 0;
}

int cli_get_map(struct cli *cli, Bs__ClusterMap **map, struct bs_error *err)
{
	Bs__GetMap req = BS__GET_MAP__INIT;

	*map = NULL;
	req.local = cli->local;
	return read_call(cli, BS_MSG_MON_GET_MAP, &req.base,
			 (ProtobufCMessage **)map, err);
}

int cli_volumes(struct cli *cli, const char *pool, const char *name,
		Bs__VolumeList **list, struct bs_error *err)
{
	Bs__VolumeQuery req = BS__VOLUME_QUERY__INIT;
	int ret;

	*list = NULL;
	if (pool)
		req.pool = (char *)pool;
	if (name)
		req.name = (char *)name;
	req.local = cli->local;
	ret = read_call(cli, BS_MSG_MON_VOLUME_QUERY, &req.base,
			(ProtobufCMessage **)list, err);
	if (ret == -ENOENT)
		cli_hint_noent(err);
	return ret;
}

int cli_cluster_status(struct cli *cli, Bs__ClusterStatus **st,
		       struct bs_error *err)
{
	Bs__ClusterStatusRequest req = BS__CLUSTER_STATUS_REQUEST__INIT;

	*st = NULL;
	req.local = cli->local;
	return read_call(cli, BS_MSG_MON_CLUSTER_STATUS, &req.base,
			 (ProtobufCMessage **)st, err);
}

int cli_pg_list(struct cli *cli, const char *pool, int64_t osd,
		Bs__PgStatList **list, struct bs_error *err)
{
	Bs__PgStatQuery req = BS__PG_STAT_QUERY__INIT;
	int ret;

	*list = NULL;
	if (pool)
		req.pool = (char *)pool;
	if (osd >= 0) {
		req.has_osd = true;
		req.osd = (uint32_t)osd;
	}
	req.local = cli->local;
	ret = read_call(cli, BS_MSG_MON_PG_QUERY, &req.base,
			(ProtobufCMessage **)list, err);
	if (ret == -ENOENT)
		cli_hint_noent(err);
	return ret;
}

int cli_command(struct cli *cli, const Bs__MonCommand *cmd,
		Bs__MonCommandReply **reply, struct bs_error *err)
{
	struct bs_monc *monc;
	int ret;

	ret = cli_monc(cli, &monc, err);
	if (ret)
		return ret;
	ret = bs_monc_command_sync(monc, cmd, reply, err);
	if (ret == -ENOENT)
		cli_hint_noent(err);
	return ret;
}

const char *cli_mon_name(const struct bs_monc_mon_state *states, unsigned n,
			 const char *addr, char *buf, size_t len)
{
	const Bs__MonStatus *st;
	unsigned i;
	size_t m;

	for (i = 0; i < n; i++) {
		st = states[i].status;
		if (states[i].res || !st)
			continue;
		if (st->addr && !strcmp(st->addr, addr)) {
			snprintf(buf, len, "mon.%u", st->id);
			return buf;
		}
		for (m = 0; m < st->n_members; m++) {
			if (st->members[m]->addr &&
			    !strcmp(st->members[m]->addr, addr)) {
				snprintf(buf, len, "mon.%u",
					 st->members[m]->id);
				return buf;
			}
		}
	}
	snprintf(buf, len, "%s", addr);
	return buf;
}

/* Split "A,B,C" into a NULL-terminated array; caller frees each and it. */
static int split_hosts(const char *list, char ***out, unsigned *n,
		       struct bs_error *err)
{
	char *copy = bs_xstrdup(list), *save = NULL, *tok;
	char **v = bs_xcalloc(BS_MONC_MAX_MONS + 1, sizeof(*v));
	unsigned i = 0;

	for (tok = strtok_r(copy, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (i == BS_MONC_MAX_MONS) {
			free(copy);
			for (i = 0; v[i]; i++)
				free(v[i]);
			free(v);
			return bs_error_set(err, -E2BIG,
					    "'--mon-host': more than %d monitors",
					    BS_MONC_MAX_MONS);
		}
		v[i++] = bs_xstrdup(tok);
	}
	free(copy);
	if (i == 0) {
		free(v);
		return bs_error_set(err, -EINVAL,
				    "'--mon-host': no address given (use HOST:PORT[,HOST:PORT...])");
	}
	*out = v;
	*n = i;
	return 0;
}

int cli_monc(struct cli *cli, struct bs_monc **out, struct bs_error *err)
{
	struct bs_conf *conf = NULL;
	const char *path;
	char **addrs = NULL;
	unsigned n = 0, i;
	int ret;

	if (cli->monc) {
		*out = cli->monc;
		return 0;
	}
	if (cli->mon_host) {
		ret = split_hosts(cli->mon_host, &addrs, &n, err);
		if (ret)
			return ret;
	} else {
		path = bs_conf_default_path(cli->conf_path);
		ret = bs_conf_load(&conf, path, err);
		if (ret) {
			if (ret == -ENOENT) {
				size_t len = strlen(err->msg);

				snprintf(err->msg + len, sizeof(err->msg) - len,
					 " (use -c FILE, $BASALT_CONF or -m HOST:PORT)");
			}
			return ret;
		}
		ret = bs_monc_conf_addrs(conf, &addrs, &n, err);
		bs_conf_free(&conf);
		if (ret)
			return ret;
	}
	ret = bs_monc_new(&cli->monc, NULL, (const char *const *)addrs, n,
			  err);
	for (i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
	if (ret)
		return ret;
	if (cli->timeout_ms)
		bs_monc_set_timeout(cli->monc, cli->timeout_ms);
	*out = cli->monc;
	return 0;
}

/* ---- help ------------------------------------------------------------ */

static void print_opts(const struct cli_cmd *cmd, FILE *out)
{
	char buf[64];
	unsigned i;

	if (!cmd->opts || !cmd->opts[0].name)
		return;
	fprintf(out, "\nOptions:\n");
	for (i = 0; cmd->opts[i].name; i++) {
		snprintf(buf, sizeof(buf), "%s%s%s", cmd->opts[i].name,
			 cmd->opts[i].arg ? " " : "",
			 cmd->opts[i].arg ? cmd->opts[i].arg : "");
		if (strlen(buf) < 24)
			fprintf(out, "  %-24s %s\n", buf, cmd->opts[i].help);
		else
			fprintf(out, "  %s\n  %-24s %s\n", buf, "",
				cmd->opts[i].help);
	}
}

static void print_cmd_help(const struct cli_cmd *cmd, FILE *out)
{
	char title[64];

	cli_cmd_title(cmd, title, sizeof(title));
	fprintf(out, "Usage: basalt %s%s%s\n\n%s\n", title,
		cmd->usage[0] ? " " : "", cmd->usage, cmd->help);
	if (cmd->details)
		fprintf(out, "\n%s", cmd->details);
	print_opts(cmd, out);
	fprintf(out, "\nSee 'basalt --help' for the global options (-c, -m, --format, --timeout).\n");
}

static void print_global_help(FILE *out)
{
	const struct cli_cmd *cmd;
	char title[64], line[160];
	size_t g;

	fputs(global_usage, out);
	fputs("\nCommands:\n", out);
	for (g = 0; g < ARRAY_SIZE(groups); g++) {
		for (cmd = groups[g]; cmd->group; cmd++) {
			cli_cmd_title(cmd, title, sizeof(title));
			snprintf(line, sizeof(line), "%s%s%s", title,
				 cmd->usage[0] ? " " : "", cmd->usage);
			fprintf(out, "  %s\n      %s\n", line, cmd->help);
		}
	}
	fputs("  help [COMMAND]\n      help on one command\n\n", out);
	fputs(global_opts_help, out);
}

/* The table of @group, or NULL. */
static const struct cli_cmd *find_group(const char *group)
{
	size_t g;

	for (g = 0; g < ARRAY_SIZE(groups); g++) {
		if (!strcmp(groups[g]->group, group))
			return groups[g];
	}
	return NULL;
}

/* "create, ls, rm" */
static const char *sub_names(const struct cli_cmd *table, char *buf,
			     size_t len)
{
	const struct cli_cmd *cmd;
	size_t off = 0;

	buf[0] = '\0';
	for (cmd = table; cmd->group && off < len; cmd++)
		off += snprintf(buf + off, len - off, "%s%s",
				off ? ", " : "", cmd->name);
	return buf;
}

static void print_group_help(const struct cli_cmd *table, FILE *out)
{
	const struct cli_cmd *cmd;

	fprintf(out, "Usage: basalt %s COMMAND [ARGS...]\n\nCommands:\n",
		table->group);
	for (cmd = table; cmd->group; cmd++) {
		fprintf(out, "  %s %s%s%s\n      %s\n", cmd->group, cmd->name,
			cmd->usage[0] ? " " : "", cmd->usage, cmd->help);
	}
	fprintf(out, "\nSee 'basalt help %s COMMAND' for one command.\n",
		table->group);
}

/* ---- the command line ------------------------------------------------ */

struct parse {
	const struct cli_cmd *table;	/* the group's table, once known */
	const struct cli_cmd *cmd;	/* the command, once known */
	struct cli_args args;
	bool help;
	bool version;
	bool help_cmd;			/* "basalt help ..." */
	const char *help_words[2];
	unsigned nhelp;
};

static int set_format(struct cli *cli, const char *v, struct bs_error *err)
{
	if (!strcmp(v, "plain"))
		cli->format = CLI_FORMAT_PLAIN;
	else if (!strcmp(v, "json"))
		cli->format = CLI_FORMAT_JSON;
	else
		return cli_usage(cli, err,
				 "'--format': '%s' is not a format (use plain or json)",
				 v);
	return 0;
}

static int set_timeout(struct cli *cli, const char *v, struct bs_error *err)
{
	uint64_t ms;
	int ret;

	/* Bare numbers are seconds here (bs_parse_duration_ms: ms). */
	ret = bs_parse_u64("--timeout", v, &ms, NULL);
	if (ret == 0) {
		ms *= 1000;
	} else {
		ret = bs_parse_duration_ms("--timeout", v, &ms, err);
		if (ret) {
			cli->usage_error = true;
			return ret;
		}
	}
	if (ms == 0 || ms > 24 * 3600 * 1000ull)
		return cli_usage(cli, err,
				 "'--timeout': '%s' must be between 1ms and 24h",
				 v);
	cli->timeout_ms = ms;
	return 0;
}

/*
 * If argv[*i] is a global option, apply it (consuming its value) and
 * return 1; 0 if it is not one; -errno on a bad value.
 */
static int global_opt(struct cli *cli, struct parse *p, int argc,
		      char **argv, int *i, struct bs_error *err)
{
	static const struct {
		const char *s, *l;
		bool arg;
	} opts[] = {
		{ "-c", "--conf", true },	{ "-m", "--mon-host", true },
		{ NULL, "--format", true },	{ NULL, "--timeout", true },
		{ "-h", "--help", false },	{ "-V", "--version", false },
		{ NULL, "--local", false },
	};
	const char *a = argv[*i], *v = NULL, *eq;
	size_t k, llen;

	for (k = 0; k < ARRAY_SIZE(opts); k++) {
		llen = strlen(opts[k].l);
		eq = NULL;
		if (opts[k].s && !strcmp(a, opts[k].s))
			break;
		if (!strncmp(a, opts[k].l, llen) &&
		    (a[llen] == '\0' || (a[llen] == '=' && opts[k].arg))) {
			if (a[llen] == '=')
				eq = a + llen + 1;
			v = eq;
			break;
		}
	}
	if (k == ARRAY_SIZE(opts))
		return 0;
	if (opts[k].arg && !v) {
		if (*i + 1 >= argc)
			return cli_usage(cli, err, "'%s' needs a value", a);
		v = argv[++*i];
	}
	switch (k) {
	case 0:
		cli->conf_path = v;
		return 1;
	case 1:
		cli->mon_host = v;
		return 1;
	case 2:
		return set_format(cli, v, err) ?: 1;
	case 3:
		return set_timeout(cli, v, err) ?: 1;
	case 4:
		p->help = true;
		return 1;
	case 5:
		p->version = true;
		return 1;
	default:
		cli->local = true;
		return 1;
	}
}

/* A word that is not an option: the command's name or a positional. */
static int word(struct cli *cli, struct parse *p, const char *w,
		struct bs_error *err)
{
	const struct cli_cmd *cmd;
	char names[256], title[64];

	if (p->help_cmd) {
		if (p->nhelp == ARRAY_SIZE(p->help_words))
			return cli_usage(cli, err,
					 "'help': too many words (use 'basalt help [GROUP [COMMAND]]')");
		p->help_words[p->nhelp++] = w;
		return 0;
	}
	if (!p->table) {
		if (!strcmp(w, "help")) {
			p->help_cmd = true;
			return 0;
		}
		p->table = find_group(w);
		if (!p->table)
			return cli_usage(cli, err,
					 "unknown command '%s' (see 'basalt --help')",
					 w);
		if (!p->table->name)
			p->cmd = p->table;
		p->args.cmd = p->cmd;
		return 0;
	}
	if (!p->cmd) {
		for (cmd = p->table; cmd->group; cmd++) {
			if (!strcmp(cmd->name, w))
				break;
		}
		if (!cmd->group)
			return cli_usage(cli, err,
					 "unknown %s command '%s': use one of %s (see 'basalt help %s')",
					 p->table->group, w,
					 sub_names(p->table, names,
						   sizeof(names)),
					 p->table->group);
		p->cmd = cmd;
		p->args.cmd = cmd;
		return 0;
	}
	if (p->args.npos >= p->cmd->max_pos || p->args.npos >= CLI_MAX_POS)
		return cli_usage(cli, err,
				 "'%s': unexpected argument '%s' (usage: basalt %s %s)",
				 cli_cmd_title(p->cmd, title, sizeof(title)), w,
				 title, p->cmd->usage);
	p->args.pos[p->args.npos++] = w;
	return 0;
}

/* argv[*i] starts with '-' and is not a global option. */
static int cmd_opt(struct cli *cli, struct parse *p, int argc, char **argv,
		   int *i, struct bs_error *err)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	const struct cli_opt *o;
	char title[64];
	size_t len = eq ? (size_t)(eq - a) : strlen(a);
	unsigned k;

	if (!p->cmd)
		return cli_usage(cli, err,
				 "unknown option '%s' (see 'basalt --help')",
				 a);
	cli_cmd_title(p->cmd, title, sizeof(title));
	for (k = 0; p->cmd->opts && p->cmd->opts[k].name; k++) {
		o = &p->cmd->opts[k];
		if (strlen(o->name) == len && !strncmp(o->name, a, len))
			break;
	}
	if (!p->cmd->opts || !p->cmd->opts[k].name)
		return cli_usage(cli, err,
				 "'%s': unknown option '%.*s' (see 'basalt help %s')",
				 title, (int)len, a, title);
	o = &p->cmd->opts[k];
	if (!o->arg) {
		if (eq)
			return cli_usage(cli, err,
					 "'%s': option '%s' takes no value",
					 title, o->name);
		p->args.val[k] = "";
		return 0;
	}
	if (eq) {
		p->args.val[k] = eq + 1;
	} else {
		if (*i + 1 >= argc)
			return cli_usage(cli, err,
					 "'%s': option '%s' needs a value (%s %s)",
					 title, o->name, o->name, o->arg);
		p->args.val[k] = argv[++*i];
	}
	return 0;
}

static int parse_args(struct cli *cli, struct parse *p, int argc,
		      char **argv, struct bs_error *err)
{
	bool only_words = false;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (only_words || argv[i][0] != '-' || !argv[i][1]) {
			ret = word(cli, p, argv[i], err);
		} else if (!strcmp(argv[i], "--")) {
			only_words = true;
			continue;
		} else {
			ret = global_opt(cli, p, argc, argv, &i, err);
			if (ret == 0)
				ret = cmd_opt(cli, p, argc, argv, &i, err);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Print help as asked for by "help WORDS" or "--help"; exit status. */
static int help(struct cli *cli, struct parse *p, struct bs_error *err)
{
	const struct cli_cmd *table = p->table, *cmd = p->cmd;
	char names[256];

	if (p->help_cmd && p->nhelp >= 1) {
		table = find_group(p->help_words[0]);
		if (!table)
			return cli_usage(cli, err,
					 "'help': unknown command '%s' (see 'basalt --help')",
					 p->help_words[0]);
		cmd = table->name ? NULL : table;
		if (p->nhelp == 2 && table->name) {
			for (cmd = table; cmd->group; cmd++) {
				if (!strcmp(cmd->name, p->help_words[1]))
					break;
			}
			if (!cmd->group)
				return cli_usage(cli, err,
						 "'help': unknown %s command '%s': use one of %s",
						 table->group, p->help_words[1],
						 sub_names(table, names,
							   sizeof(names)));
		}
	}
	if (cmd)
		print_cmd_help(cmd, stdout);
	else if (table)
		print_group_help(table, stdout);
	else
		print_global_help(stdout);
	return 0;
}

/* Is every required argument there?  Usage error if not. */
static int check_args(struct cli *cli, struct parse *p, struct bs_error *err)
{
	char title[64], names[256];

	if (!p->table)
		return cli_usage(cli, err,
				 "no command given (see 'basalt --help')");
	if (!p->cmd)
		return cli_usage(cli, err,
				 "'%s' needs a command: use one of %s (see 'basalt help %s')",
				 p->table->group,
				 sub_names(p->table, names, sizeof(names)),
				 p->table->group);
	cli_cmd_title(p->cmd, title, sizeof(title));
	if (p->args.npos < p->cmd->min_pos)
		return cli_usage(cli, err,
				 "'%s': missing arguments (usage: basalt %s %s)",
				 title, title, p->cmd->usage);
	return 0;
}

static int finish_output(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	if (errno == EPIPE)
		return CLI_EXIT_FAIL;
	fprintf(stderr, "basalt: cannot write the output: %s\n",
		strerror(errno));
	return CLI_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct cli cli = { .out = stdout };
	struct bs_error err = { 0 };
	struct parse p = { 0 };
	int ret, rc;

	/* The output may be a pipe closed early: report, do not die. */
	signal(SIGPIPE, SIG_IGN);
	bs_log_init("basalt", BS_LOG_WARNING);

	ret = parse_args(&cli, &p, argc, argv, &err);
	if (p.version && ret == 0) {
		printf("basalt %s\n", BASALT_VERSION);
		return finish_output();
	}
	if ((p.help || p.help_cmd) && (ret == 0 || !p.help_cmd)) {
		bs_error_clear(&err);
		ret = help(&cli, &p, &err);
		if (ret == 0)
			return finish_output();
	}
	if (ret == 0)
		ret = check_args(&cli, &p, &err);
	if (ret == 0)
		ret = p.cmd->fn(&cli, &p.args, &err);

	rc = finish_output();
	if (ret < 0) {
		if (!err.msg[0])
			snprintf(err.msg, sizeof(err.msg), "%s",
				 strerror(-ret));
		fprintf(stderr, "basalt: %s\n", err.msg);
		rc = cli.usage_error ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	cli_osdc_release(&cli);
	bs_monc_free(&cli.monc);
	return rc;
}
