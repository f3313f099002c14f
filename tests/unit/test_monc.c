// SPDX-License-Identifier: Apache-2.0
/*
 * The mon client (common/monc.c): mon addresses from the config, the
 * no-quorum sentence, "cannot reach any monitor", and routing against a
 * fake mon on 127.0.0.1 (a messenger that answers like one): fail-over
 * past a dead address, relayed errors, map pushes in epoch order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "bs/log.h"
#include "bs/monc.h"
#include "bs/msg_types.h"

/* ---- config ---- */

static void test_monc_addrs_from_mon_host(void **state)
{
	struct bs_error err = { 0 };
	struct bs_conf *conf;
	char **addrs;
	unsigned n;

	assert_int_equal(bs_conf_load_string(&conf, "t.conf",
					     "[global]\nmon_host = 127.0.0.1:1, 127.0.0.1:3 ,127.0.0.1:5\n"
					     "[mon.0]\naddr = 127.0.0.1:9\n",
					     &err), 0);
	assert_int_equal(bs_monc_conf_addrs(conf, &addrs, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(addrs[0], "127.0.0.1:1");
	assert_string_equal(addrs[1], "127.0.0.1:3");
	assert_string_equal(addrs[2], "127.0.0.1:5");
	assert_null(addrs[3]);
	bs_monc_addrs_free(&addrs);
	assert_null(addrs);
	bs_conf_free(&conf);
}

static void test_monc_addrs_from_mon_sections(void **state)
{
	struct bs_error err = { 0 };
	struct bs_conf *conf;
	char **addrs;
	unsigned n;

	assert_int_equal(bs_conf_load_string(&conf, "t.conf",
					     "[mon.1]\naddr = 127.0.0.1:7\n"
					     "[osd.0]\naddr = 127.0.0.1:8\n"
					     "[mon.0]\naddr = 127.0.0.1:6\n",
					     &err), 0);
	assert_int_equal(bs_monc_conf_addrs(conf, &addrs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(addrs[0], "127.0.0.1:7");
	assert_string_equal(addrs[1], "127.0.0.1:6");
	bs_monc_addrs_free(&addrs);
	bs_conf_free(&conf);
}

static void test_monc_addrs_none_or_bad_is_an_error(void **state)
{
	struct bs_error err = { 0 };
	struct bs_conf *conf;
	char **addrs;
	unsigned n;

	assert_int_equal(bs_conf_load_string(&conf, "t.conf",
					     "[osd.0]\naddr = 127.0.0.1:8\n",
					     &err), 0);
	assert_int_equal(bs_monc_conf_addrs(conf, &addrs, &n, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "names no monitor"));
	assert_null(addrs);
	bs_conf_free(&conf);
	assert_int_equal(bs_conf_load_string(&conf, "t.conf",
					     "[global]\nmon_host = 127.0.0.1:1,nope\n",
					     &err), 0);
	assert_int_equal(bs_monc_conf_addrs(conf, &addrs, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'nope'"));
	assert_null(addrs);
	bs_conf_free(&conf);
}

/* ---- the no-quorum sentence ---- */

static void test_monc_quorum_text(void **state)
{
	Bs__MonStatus st[3];
	struct bs_monc_mon_state s[3];
	char buf[256];
	int i;

	for (i = 0; i < 3; i++) {
		bs__mon_status__init(&st[i]);
		st[i].leader_id = -1;
		st[i].n_members = 3;
		s[i].addr = "x";
		s[i].res = -EHOSTUNREACH;
		s[i].status = NULL;
	}
	s[0].res = 0;
	s[0].status = &st[0];
	assert_string_equal(bs_monc_quorum_text(s, 3, buf, sizeof(buf)),
			    "only 1 of 3 monitors reachable; a majority (2) is needed to make changes");
	/* asked one mon of three (-m): the group size comes from the mon */
	assert_string_equal(bs_monc_quorum_text(s, 1, buf, sizeof(buf)),
			    "only 1 of 3 monitors reachable; a majority (2) is needed to make changes");
	s[1].res = 0;
	s[1].status = &st[1];
	assert_string_equal(bs_monc_quorum_text(s, 3, buf, sizeof(buf)),
			    "2 of 3 monitors reachable but no leader elected yet");
}

/* ---- against the network ---- */

static struct bs_loop *loop;

/* A port on 127.0.0.1 that nobody listens on (refuses connections). */
static void dead_addr(char *buf, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(buf, len, "127.0.0.1:%u", ntohs(sin.sin_port));
	close(fd);
}

static void run_until(bool *flag, unsigned max_ms)
{
	uint64_t end = bs_now_ms() + max_ms;

	while (!*flag && bs_now_ms() < end)
		bs_loop_run_once(loop, 20);
}

static void test_monc_unreachable_is_ehostunreach(void **state)
{
	char a[64], b[64];
	const char *addrs[2] = { a, b };
	struct bs_error err = { 0 };
	struct bs_monc *monc;
	Bs__ClusterMap *map;
	uint64_t t0;

	dead_addr(a, sizeof(a));
	dead_addr(b, sizeof(b));
	assert_int_equal(bs_monc_new(&monc, NULL, addrs, 2, &err), 0);
	t0 = bs_now_ms();
	assert_int_equal(bs_monc_get_map_sync(monc, &map, &err),
			 -EHOSTUNREACH);
	assert_true(bs_now_ms() - t0 < BS_MONC_CONNECT_TIMEOUT_MS + 2000);
	assert_non_null(strstr(err.msg, "cannot reach any monitor at "));
	assert_non_null(strstr(err.msg, a));
	assert_non_null(strstr(err.msg, b));
	assert_non_null(strstr(err.msg, "is the cluster running?"));
	assert_null(map);
	bs_monc_free(&monc);
	assert_null(monc);
}

/* A fake mon: answers commands by its mode, and pushes maps on demand. */
enum fake_mode { FAKE_OK, FAKE_NOQUORUM };

struct fake {
	struct bs_msgr *m;
	enum fake_mode mode;
	int commands;
	struct bs_conn *sub;		/* the subscriber, referenced */
};

static void fake_request(void *opaque, struct bs_conn *conn,
			 struct bs_msg *msg)
{
	struct fake *f = opaque;

	if (msg->hdr.type == BS_MSG_MON_COMMAND) {
		Bs__MonCommandReply rep = BS__MON_COMMAND_REPLY__INIT;

		f->commands++;
		if (f->mode == FAKE_NOQUORUM) {
			bs_conn_reply_error(conn, msg, -ENOTCONN,
					    "no quorum: fake");
		} else {
			rep.epoch = 7;
			rep.message = "done";
			bs_conn_reply(conn, msg, BS_MSG_MON_COMMAND_REPLY,
				      &rep.base, NULL, 0, NULL, NULL);
		}
	} else if (msg->hdr.type == BS_MSG_MON_SUBSCRIBE) {
		Bs__SubscribeReply rep = BS__SUBSCRIBE_REPLY__INIT;

		if (!f->sub) {
			f->sub = conn;
			bs_conn_get(conn);
		}
		bs_conn_reply(conn, msg, BS_MSG_MON_SUBSCRIBE_REPLY,
			      &rep.base, NULL, 0, NULL, NULL);
	}
	bs_msg_free(msg);
}

static const struct bs_msgr_ops fake_ops = { .on_request = fake_request };

static struct fake *fake_start(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct bs_error err = { 0 };

	assert_int_equal(bs_msgr_new(&f->m, loop, &fake_ops, f), 0);
	assert_int_equal(bs_msgr_listen(f->m, "127.0.0.1:0", &err), 0);
	return f;
}

static void fake_stop(struct fake *f)
{
	if (f->sub)
		bs_conn_put(f->sub);
	bs_msgr_free(&f->m);
	free(f);
}

struct answer {
	bool done;
	int res;
	uint64_t epoch;
	char msg[BS_ERROR_MSG_MAX];
};

static void answer_cb(void *opaque, int res, struct bs_msg *reply,
		      const struct bs_error *err)
{
	struct answer *a = opaque;

	a->done = true;
	a->res = res;
	if (reply) {
		a->epoch = ((Bs__MonCommandReply *)reply->body)->epoch;
		bs_msg_free(reply);
	}
	snprintf(a->msg, sizeof(a->msg), "%s", err->msg);
}

static void pool_cmd(Bs__MonCommand *cmd, Bs__PoolCreate *pc)
{
	bs__mon_command__init(cmd);
	bs__pool_create__init(pc);
	pc->name = "rbd";
	cmd->cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd->pool_create = pc;
}

static void test_monc_command_skips_dead_mon_and_relays_errors(void **state)
{
	struct fake *f = fake_start();
	char dead[64];
	const char *addrs[2] = { dead, bs_msgr_listen_addr(f->m) };
	struct bs_error err = { 0 };
	struct answer a = { 0 };
	Bs__MonCommand cmd;
	Bs__PoolCreate pc;
	struct bs_monc *monc;

	dead_addr(dead, sizeof(dead));
	assert_int_equal(bs_monc_new(&monc, loop, addrs, 2, &err), 0);
	pool_cmd(&cmd, &pc);
	assert_int_equal(bs_monc_command(monc, &cmd, answer_cb, &a), 0);
	assert_false(a.done);		/* never before returning */
	run_until(&a.done, 5000);
	assert_true(a.done);
	assert_int_equal(a.res, 0);
	assert_int_equal(a.epoch, 7);
	assert_int_equal(f->commands, 1);

	f->mode = FAKE_NOQUORUM;
	memset(&a, 0, sizeof(a));
	assert_int_equal(bs_monc_command(monc, &cmd, answer_cb, &a), 0);
	run_until(&a.done, 5000);
	assert_int_equal(a.res, -ENOTCONN);
	assert_string_equal(a.msg, "no quorum: fake");
	bs_monc_free(&monc);
	fake_stop(f);
}

struct seen {
	uint64_t epochs[8];
	int n;
};

static void map_cb(void *opaque, const Bs__ClusterMap *map)
{
	struct seen *s = opaque;

	if (s->n < 8)
		s->epochs[s->n++] = map->epoch;
}

static void push(struct fake *f, uint64_t epoch)
{
	Bs__ClusterMap map = BS__CLUSTER_MAP__INIT;

	map.epoch = epoch;
	assert_int_equal(bs_conn_send(f->sub, BS_MSG_MON_MAP, &map.base,
				      NULL, 0), 0);
}

static void test_monc_subscription_delivers_newer_epochs_only(void **state)
{
	struct fake *f = fake_start();
	const char *addrs[1] = { bs_msgr_listen_addr(f->m) };
	struct bs_error err = { 0 };
	struct seen s = { 0 };
	struct bs_monc *monc;
	bool never = false;

	assert_int_equal(bs_monc_new(&monc, loop, addrs, 1, &err), 0);
	assert_int_equal(bs_monc_subscribe(monc, 2, map_cb, &s), 0);
	{
		uint64_t end = bs_now_ms() + 5000;

		while (!f->sub && bs_now_ms() < end)
			bs_loop_run_once(loop, 20);
	}
	assert_non_null(f->sub);
	push(f, 2);		/* not newer than what we had */
	push(f, 3);
	push(f, 3);
	push(f, 1);
	push(f, 5);
	run_until(&never, 300);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.epochs[0], 3);
	assert_int_equal(s.epochs[1], 5);
	assert_int_equal(bs_monc_map(monc)->epoch, 5);
	bs_monc_free(&monc);
	fake_stop(f);
}

static int setup(void **state)
{
	return bs_loop_new(&loop, 0);
}

static int teardown(void **state)
{
	bs_loop_free(&loop);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monc_addrs_from_mon_host),
		cmocka_unit_test(test_monc_addrs_from_mon_sections),
		cmocka_unit_test(test_monc_addrs_none_or_bad_is_an_error),
		cmocka_unit_test(test_monc_quorum_text),
		cmocka_unit_test(test_monc_unreachable_is_ehostunreach),
		cmocka_unit_test(test_monc_command_skips_dead_mon_and_relays_errors),
		cmocka_unit_test(test_monc_subscription_delivers_newer_epochs_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
