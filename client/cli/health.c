// SPDX-License-Identifier: Apache-2.0
/*
 * Health for 'basalt status': the checks the CLI finds itself (it asks
 * every mon) merged with those of the mons' ClusterStatus, worst first,
 * and PG state names for 'basalt pg ls --state'.  Pure code, unit-tested
 * alone (tests/unit/test_cli_status.c).
 */
#include <stdbool.h>
#include <string.h>

#include "cli.h"

static const char *const health_names[] = {
	[CLI_HEALTH_OK] = "HEALTH_OK",
	[CLI_HEALTH_WARN] = "HEALTH_WARN",
	[CLI_HEALTH_ERR] = "HEALTH_ERR",
};

const char *cli_health_name(enum cli_health h)
{
	if ((unsigned)h >= ARRAY_SIZE(health_names))
		return "HEALTH_ERR";
	return health_names[h];
}

enum cli_health cli_health_parse(const char *s)
{
	if (s && !strcmp(s, "HEALTH_OK"))
		return CLI_HEALTH_OK;
	if (s && !strcmp(s, "HEALTH_ERR"))
		return CLI_HEALTH_ERR;
	return CLI_HEALTH_WARN;
}

void cli_checks_add(struct cli_checks *cs, const struct cli_check *c)
{
	unsigned pos;

	if (c->severity > cs->worst)
		cs->worst = c->severity;
	if (cs->n == CLI_MAX_CHECKS)
		return;
	/* after every check at least as bad: stable, worst first */
	for (pos = cs->n; pos > 0; pos--) {
		if (cs->v[pos - 1].severity >= c->severity)
			break;
	}
	memmove(&cs->v[pos + 1], &cs->v[pos],
		(cs->n - pos) * sizeof(cs->v[0]));
	cs->v[pos] = *c;
	cs->n++;
}

bool cli_checks_has(const struct cli_checks *cs, const char *code)
{
	unsigned i;

	for (i = 0; i < cs->n; i++) {
		if (cs->v[i].code && !strcmp(cs->v[i].code, code))
			return true;
	}
	return false;
}

void cli_checks_add_status(struct cli_checks *cs,
			   const Bs__ClusterStatus *st, bool local)
{
	enum cli_health h = cli_health_parse(st->health);
	bool had_quorum = cli_checks_has(cs, "MON_QUORUM");
	bool had_down = cli_checks_has(cs, "MON_DOWN");
	const Bs__HealthCheck *hc;
	struct cli_check c;
	size_t i;

	for (i = 0; i < st->n_checks; i++) {
		hc = st->checks[i];
		if (!hc->code || !hc->message)
			continue;
		if ((had_quorum && !strcmp(hc->code, "MON_QUORUM")) ||
		    (had_down && !strcmp(hc->code, "MON_DOWN")) ||
		    (local && !strcmp(hc->code, "MON_LEADER")))
			continue;
		c.code = hc->code;
		c.severity = cli_health_parse(hc->severity);
		c.message = hc->message;
		c.detail = (const char *const *)hc->detail;
		c.n_detail = hc->n_detail;
		cli_checks_add(cs, &c);
	}
	/* A verdict without any reason given still counts. */
	if (!st->n_checks && h > cs->worst)
		cs->worst = h;
}

/* In Ceph's order, as the mons join them (docs/mon.md). */
const char *const cli_pg_state_names[] = {
	"active", "clean", "peering", "recovering", "backfilling",
	"undersized", "degraded", "inactive", "down", "unknown", NULL,
};

/* Is the word @w[0..@len) one of the words of @state? */
static bool has_word(const char *state, const char *w, size_t len)
{
	const char *p = state, *end;

	while (*p) {
		end = strchr(p, '+');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) == len && !strncmp(p, w, len))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

bool cli_pg_state_has(const char *state, const char *want)
{
	const char *p = want, *end;

	if (!state || !want || !*want)
		return false;
	while (*p) {
		end = strchr(p, '+');
		if (!end)
			end = p + strlen(p);
		if (end == p || !has_word(state, p, (size_t)(end - p)))
			return false;
		p = *end ? end + 1 : end;
	}
	return true;
}

bool cli_pg_state_valid(const char *want)
{
	const char *p = want, *end;
	size_t k;

	if (!want || !*want)
		return false;
	while (*p) {
		end = strchr(p, '+');
		if (!end)
			end = p + strlen(p);
		for (k = 0; cli_pg_state_names[k]; k++) {
			if (strlen(cli_pg_state_names[k]) == (size_t)(end - p) &&
			    !strncmp(cli_pg_state_names[k], p,
				     (size_t)(end - p)))
				break;
		}
		if (!cli_pg_state_names[k])
			return false;
		if (!*end)
			return true;
		p = end + 1;
		if (!*p)
			return false;	/* trailing '+' */
	}
	return true;
}
