// SPDX-License-Identifier: Apache-2.0
/*
 * The pure parts of 'basalt status' and 'basalt pg ls' (client/cli/
 * health.c): health names, checks kept worst first, the CLI's own mon
 * checks replacing the mons' duplicates, and PG state filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

static void test_health_names_round_trip(void **state)
{
	assert_string_equal(cli_health_name(CLI_HEALTH_OK), "HEALTH_OK");
	assert_string_equal(cli_health_name(CLI_HEALTH_WARN), "HEALTH_WARN");
	assert_string_equal(cli_health_name(CLI_HEALTH_ERR), "HEALTH_ERR");
	assert_int_equal(cli_health_parse("HEALTH_OK"), CLI_HEALTH_OK);
	assert_int_equal(cli_health_parse("HEALTH_ERR"), CLI_HEALTH_ERR);
	assert_int_equal(cli_health_parse("HEALTH_WARN"), CLI_HEALTH_WARN);
	/* unknown words are not good news */
	assert_int_equal(cli_health_parse("HEALTH_SOSO"), CLI_HEALTH_WARN);
	assert_int_equal(cli_health_parse(NULL), CLI_HEALTH_WARN);
	assert_int_equal(cli_health_parse(""), CLI_HEALTH_WARN);
}

static void add(struct cli_checks *cs, const char *code, enum cli_health h)
{
	struct cli_check c = { .code = code, .severity = h, .message = code };

	cli_checks_add(cs, &c);
}

static void test_checks_keep_worst_first_in_order_added(void **state)
{
	struct cli_checks cs = { 0 };

	assert_int_equal(cs.worst, CLI_HEALTH_OK);
	add(&cs, "W1", CLI_HEALTH_WARN);
	add(&cs, "W2", CLI_HEALTH_WARN);
	add(&cs, "E1", CLI_HEALTH_ERR);
	add(&cs, "W3", CLI_HEALTH_WARN);
	add(&cs, "E2", CLI_HEALTH_ERR);
	assert_int_equal(cs.n, 5);
	assert_int_equal(cs.worst, CLI_HEALTH_ERR);
	assert_string_equal(cs.v[0].code, "E1");
	assert_string_equal(cs.v[1].code, "E2");
	assert_string_equal(cs.v[2].code, "W1");
	assert_string_equal(cs.v[3].code, "W2");
	assert_string_equal(cs.v[4].code, "W3");
	assert_true(cli_checks_has(&cs, "W3"));
	assert_false(cli_checks_has(&cs, "W4"));
}

static void test_checks_full_list_still_counts_the_worst(void **state)
{
	struct cli_checks cs = { 0 };
	unsigned i;

	for (i = 0; i < CLI_MAX_CHECKS; i++)
		add(&cs, "W", CLI_HEALTH_WARN);
	add(&cs, "E", CLI_HEALTH_ERR);
	assert_int_equal(cs.n, CLI_MAX_CHECKS);
	assert_int_equal(cs.worst, CLI_HEALTH_ERR);
}

/* A ClusterStatus with the checks (code, severity) given. */
struct fake_status {
	Bs__ClusterStatus st;
	Bs__HealthCheck hc[8];
	Bs__HealthCheck *hp[8];
	char *detail[2];
};

static void status_init(struct fake_status *f, const char *health,
			const char *const *codes, const char *const *sevs,
			size_t n)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	bs__cluster_status__init(&f->st);
	f->st.health = (char *)health;
	f->detail[0] = "pg 1.4 is active+undersized+degraded, acting [0]";
	f->detail[1] = "pg 1.7 is active+undersized+degraded, acting [2]";
	for (i = 0; i < n; i++) {
		bs__health_check__init(&f->hc[i]);
		f->hc[i].code = (char *)codes[i];
		f->hc[i].severity = (char *)sevs[i];
		f->hc[i].message = (char *)codes[i];
		f->hc[i].detail = f->detail;
		f->hc[i].n_detail = 2;
		f->hp[i] = &f->hc[i];
	}
	f->st.checks = f->hp;
	f->st.n_checks = n;
}

static void test_status_mon_checks_of_the_cli_replace_the_mons(void **state)
{
	static const char *const codes[] = {
		"MON_QUORUM", "MON_DOWN", "OSD_NONE", "PG_DEGRADED",
	};
	static const char *const sevs[] = {
		"HEALTH_ERR", "HEALTH_WARN", "HEALTH_WARN", "HEALTH_WARN",
	};
	struct fake_status f;
	struct cli_checks cs = { 0 };
	struct cli_check quorum = {
		.code = "MON_QUORUM", .severity = CLI_HEALTH_ERR,
		.message = "no quorum: only 1 of 3 monitors reachable",
	};

	status_init(&f, "HEALTH_ERR", codes, sevs, 4);
	cli_checks_add(&cs, &quorum);
	cli_checks_add_status(&cs, &f.st, false);
	/* the mons' MON_QUORUM is dropped; their MON_DOWN stays */
	assert_int_equal(cs.n, 4);
	assert_int_equal(cs.worst, CLI_HEALTH_ERR);
	assert_string_equal(cs.v[0].message,
			    "no quorum: only 1 of 3 monitors reachable");
	assert_string_equal(cs.v[1].code, "MON_DOWN");
	assert_string_equal(cs.v[2].code, "OSD_NONE");
	assert_string_equal(cs.v[3].code, "PG_DEGRADED");
	assert_int_equal(cs.v[3].n_detail, 2);
	assert_string_equal(cs.v[3].detail[1],
			    "pg 1.7 is active+undersized+degraded, acting [2]");
}

static void test_status_local_view_drops_mon_leader(void **state)
{
	static const char *const codes[] = { "MON_LEADER", "PG_UNKNOWN" };
	static const char *const sevs[] = { "HEALTH_WARN", "HEALTH_WARN" };
	struct fake_status f;
	struct cli_checks cs = { 0 };

	status_init(&f, "HEALTH_WARN", codes, sevs, 2);
	cli_checks_add_status(&cs, &f.st, true);
	assert_int_equal(cs.n, 1);
	assert_string_equal(cs.v[0].code, "PG_UNKNOWN");
	memset(&cs, 0, sizeof(cs));
	cli_checks_add_status(&cs, &f.st, false);
	assert_int_equal(cs.n, 2);
	assert_int_equal(cs.worst, CLI_HEALTH_WARN);
}

static void test_status_verdict_without_checks_counts(void **state)
{
	struct fake_status f;
	struct cli_checks cs = { 0 };

	status_init(&f, "HEALTH_OK", NULL, NULL, 0);
	cli_checks_add_status(&cs, &f.st, false);
	assert_int_equal(cs.worst, CLI_HEALTH_OK);
	status_init(&f, "HEALTH_ERR", NULL, NULL, 0);
	cli_checks_add_status(&cs, &f.st, false);
	assert_int_equal(cs.n, 0);
	assert_int_equal(cs.worst, CLI_HEALTH_ERR);
}

static void test_pg_state_filter_matches_whole_words(void **state)
{
	const char *s = "active+undersized+degraded";

	assert_true(cli_pg_state_has(s, "degraded"));
	assert_true(cli_pg_state_has(s, "active"));
	assert_true(cli_pg_state_has(s, "degraded+active"));
	assert_true(cli_pg_state_has(s, s));
	assert_false(cli_pg_state_has(s, "clean"));
	assert_false(cli_pg_state_has(s, "active+clean"));
	assert_false(cli_pg_state_has(s, "grade"));
	assert_false(cli_pg_state_has(s, "activ"));
	assert_true(cli_pg_state_has("active+clean", "active+clean"));
	assert_true(cli_pg_state_has("unknown", "unknown"));
	assert_false(cli_pg_state_has("inactive", "active"));
	assert_false(cli_pg_state_has(s, ""));
	assert_false(cli_pg_state_has(NULL, "active"));
}

static void test_pg_state_names_are_checked(void **state)
{
	assert_true(cli_pg_state_valid("active"));
	assert_true(cli_pg_state_valid("active+clean"));
	assert_true(cli_pg_state_valid("backfilling+degraded+unknown"));
	assert_false(cli_pg_state_valid(""));
	assert_false(cli_pg_state_valid(NULL));
	assert_false(cli_pg_state_valid("clean+"));
	assert_false(cli_pg_state_valid("+clean"));
	assert_false(cli_pg_state_valid("active++clean"));
	assert_false(cli_pg_state_valid("happy"));
	assert_false(cli_pg_state_valid("active+cleanish"));
	assert_false(cli_pg_state_valid("Active"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_names_round_trip),
		cmocka_unit_test(test_checks_keep_worst_first_in_order_added),
		cmocka_unit_test(test_checks_full_list_still_counts_the_worst),
		cmocka_unit_test(test_status_mon_checks_of_the_cli_replace_the_mons),
		cmocka_unit_test(test_status_local_view_drops_mon_leader),
		cmocka_unit_test(test_status_verdict_without_checks_counts),
		cmocka_unit_test(test_pg_state_filter_matches_whole_words),
		cmocka_unit_test(test_pg_state_names_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
