// SPDX-License-Identifier: Apache-2.0
/*
 * The mon client (common/monc.c) alone: mon addresses from the config,
 * the no-quorum sentence, and "cannot reach any monitor" when nothing
 * listens.  Its routing against real mons (fail-over past a dead one,
 * relayed errors, map pushes in epoch order across a leader's death) is
 * tests/cluster/test_mon_client.sh.
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

/* ---- nothing listening ---- */

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monc_addrs_from_mon_host),
		cmocka_unit_test(test_monc_addrs_from_mon_sections),
		cmocka_unit_test(test_monc_addrs_none_or_bad_is_an_error),
		cmocka_unit_test(test_monc_quorum_text),
		cmocka_unit_test(test_monc_unreachable_is_ehostunreach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
