// SPDX-License-Identifier: Apache-2.0
/*
 * --run 'CMD' (as nbdkit's captive mode): once the server listens, run CMD
 * with /bin/sh and $uri set, and when it exits, shut down and exit with
 * its status.  Environment given to CMD:
 *   uri         nbd://HOST:PORT[/POOL/NAME], or nbd+unix:///[POOL/NAME]
 *               ?socket=PATH when there is no TCP listener
 *   unix_uri    the nbd+unix:// form, when --socket is given
 *   port        the TCP port, unixsocket the socket path
 *   exportname  the export when exactly one is given with --export
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nbd.h"

static void set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) == -1)
		bs_warn("cannot set $%s: %s", name, strerror(errno));
}

int captive_start(struct nbd_server *srv, struct bs_error *err)
{
	const struct nbd_config *cfg = srv->cfg;
	const char *exp = cfg->n_exports == 1 ? cfg->export_list[0] : "";
	char buf[4096 + 256];
	sigset_t none;
	pid_t pid;

	if (cfg->socket) {
		snprintf(buf, sizeof(buf), "nbd+unix:///%s?socket=%s", exp,
			 cfg->socket);
		set_env("unix_uri", buf);
		set_env("unixsocket", cfg->socket);
		if (!srv->tcp_port)
			set_env("uri", buf);
	}
	if (srv->tcp_port) {
		snprintf(buf, sizeof(buf), "nbd://%s%s%s", srv->tcp_addr,
			 *exp ? "/" : "", exp);
		set_env("uri", buf);
		snprintf(buf, sizeof(buf), "%u", srv->tcp_port);
		set_env("port", buf);
	}
	set_env("exportname", exp);

	fflush(NULL);
	pid = fork();
	if (pid == -1)
		return bs_error_errno(err, -errno, "cannot fork for --run");
	if (pid == 0) {
		/* the child: default signals, then the shell */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cfg->run, (char *)NULL);
		fprintf(stderr, "basalt-nbd: cannot run /bin/sh: %s\n",
			strerror(errno));
		_exit(127);
	}
	srv->child = pid;
	bs_info("--run: started pid %d", (int)pid);
	return 0;
}

void captive_exited(struct nbd_server *srv, int status)
{
	int code;

	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		code = 128 + WTERMSIG(status);
		bs_notice("--run: the command was killed by signal %d",
			  WTERMSIG(status));
	} else {
		code = 1;
	}
	bs_info("--run: the command exited with status %d", code);
	nbd_server_stop(srv, code);
}
