// SPDX-License-Identifier: Apache-2.0
/*
 * Crash consistency of the object store: a child process writes objects
 * (whole-object and unaligned partial writes, several in flight per
 * object) and reports every
 * acknowledged op on a pipe; the parent SIGKILLs it mid-load, reopens the
 * store (replaying the journal) and checks that every acknowledged write
 * survived, no object is
 * torn (its bytes are exactly those of the version it reports) and the
 * free-space map matches the objects.  A few rounds, bounded in time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_store_util.h"

#define NOBJ		16
#define OSIZE		(16u << 10)
#define QD		16
#define ROUNDS		16
#define STORE_SIZE	(16ull << 20)	/* 15 MiB of data blocks */
#define BALLAST		57
#define BALLAST_OBJ	(256u << 10)

/*
 * Version v of object o: bytes [0, OSIZE) are ts_pattern(o, v) except
 * when v is odd: then [OFF(v), OFF(v) + LEN(v)) was written last and
 * holds ts_pattern(o, v), the rest ts_pattern(o, v - 1).  Even versions
 * are whole-object writes; odd ones unaligned partial writes on top.
 */
#define POFF(v)		((uint64_t)((v) * 1237 % (OSIZE - 9000)))
#define PLEN(v)		((uint64_t)(1 + (v) * 577 % 8999))

static void expected(uint8_t *buf, uint64_t o, uint64_t v)
{
	if (v % 2 == 0) {
		ts_pattern(buf, OSIZE, o, v, 0);
		return;
	}
	if (v == 1)
		memset(buf, 0, OSIZE);
	else
		ts_pattern(buf, OSIZE, o, v - 1, 0);
	ts_pattern(buf + POFF(v), PLEN(v), o, v, POFF(v));
}

struct child_op {
	struct tso t;
	uint64_t o, v;
	uint8_t *buf;
};

/* The child: write until killed; "o v\n" on @fd after each ack. */
static void child(struct ts *t, int fd)
{
	struct child_op ops[QD];
	uint64_t ver[NOBJ] = { 0 };
	unsigned i, seed = (unsigned)getpid();
	struct store_obj_stat st;

	if (ts_open(t))
		_exit(2);
	/*
	 * Ballast: a nearly full disk makes the allocator come round fast,
	 * so blocks freed too early would be overwritten while the
	 * metadata still pointing at them is not committed.
	 */
	ops[0].buf = calloc(1, BALLAST_OBJ);
	for (i = 0; i < BALLAST; i++) {
		struct store_oid oid = ts_oid(2, i);

		if (store_stat(t->s, &oid, &st) == 0)
			continue;
		if (ts_write(t, &oid, 0, ops[0].buf, BALLAST_OBJ, 1))
			_exit(2);
	}
	free(ops[0].buf);
	/* go on from the versions the last life left */
	for (i = 0; i < NOBJ; i++) {
		struct store_oid oid = ts_oid(1, i);

		if (store_stat(t->s, &oid, &st) == 0)
			ver[i] = st.version;
	}
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < QD; i++)
		ops[i].buf = malloc(OSIZE);
	for (;;) {
		unsigned fresh = 0;

		for (i = 0; i < QD; i++) {
			struct child_op *c = &ops[i];
			struct store_oid oid;
			char line[64];
			int n;

			if (c->t.done) {
				if (c->t.res)
					_exit(3);
				n = snprintf(line, sizeof(line), "%llu %llu\n",
					     (unsigned long long)c->o,
					     (unsigned long long)c->v);
				if (write(fd, line, (size_t)n) != n)
					_exit(4);
				c->t.done = false;
			}
			if (c->t.op.state != STORE_OP_IDLE &&
			    c->t.op.state != STORE_OP_DONE)
				continue;
			/*
			 * Trickle new ops in (as a network would) rather than
			 * all at once when a batch completes.
			 */
			if (fresh++ == 2)
				continue;
			/* several ops per object may be in flight */
			c->o = (uint64_t)rand_r(&seed) % NOBJ;
			c->v = ++ver[c->o];
			oid = ts_oid(1, c->o);
			tso_prep(&c->t);
			if (c->v % 2 == 0) {
				ts_pattern(c->buf, OSIZE, c->o, c->v, 0);
				store_write(t->s, &c->t.op, &oid, 0, OSIZE,
					    c->buf, c->v);
			} else {
				ts_pattern(c->buf, PLEN(c->v), c->o, c->v,
					   POFF(c->v));
				store_write(t->s, &c->t.op, &oid, POFF(c->v),
					    PLEN(c->v), c->buf, c->v);
			}
		}
		if (bs_loop_run_once(t->loop, 1) < 0)
			_exit(5);
	}
}

/* Parse acks from the pipe into @acked (highest version per object). */
static unsigned read_acks(int fd, char *pending, size_t *plen,
			  uint64_t *acked)
{
	unsigned n = 0;
	ssize_t r;
	char *nl;

	r = read(fd, pending + *plen, 4095 - *plen);
	if (r <= 0)
		return 0;
	*plen += (size_t)r;
	pending[*plen] = '\0';
	while ((nl = strchr(pending, '\n'))) {
		unsigned long long o, v;

		*nl = '\0';
		if (sscanf(pending, "%llu %llu", &o, &v) == 2 && o < NOBJ &&
		    v > acked[o])
			acked[o] = v;
		n++;
		*plen -= (size_t)(nl + 1 - pending);
		memmove(pending, nl + 1, *plen + 1);
	}
	return n;
}

/* Journal records replayed over all rounds. */
static uint64_t total_replayed;

/* One life of the child on @t's store, killed after @kill_after acks. */
static void crash_round(struct ts *t, uint64_t *acked, unsigned kill_after)
{
	uint64_t allocated = 0, end;
	uint8_t *want = malloc(OSIZE), *got = malloc(OSIZE);
	char pending[4096];
	size_t plen = 0;
	unsigned acks = 0, o;
	int pfd[2], status;
	struct store_usage u;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		bs_loop_free(&t->loop);	/* the child makes its own */
		child(t, pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	end = bs_now_ms() + 20000;
	while (acks < kill_after && bs_now_ms() < end) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };

		if (poll(&p, 1, 100) == 1) {
			unsigned n = read_acks(pfd[0], pending, &plen, acked);

			if (!n && !(p.revents & POLLIN))
				break;	/* child died */
			acks += n;
		}
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		fprintf(stderr, "child exited with %d\n", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));	/* it did not fail first */
	/* acks it sent before dying */
	while (read_acks(pfd[0], pending, &plen, acked))
		;
	close(pfd[0]);
	assert_true(acks >= kill_after);

	assert_int_equal(ts_open(t), 0);
	store_usage(t->s, &u);
	total_replayed += u.replayed;
	for (o = 0; o < NOBJ; o++) {
		struct store_oid oid = ts_oid(1, o);
		struct store_obj_stat st;
		uint64_t v;

		if (store_stat(t->s, &oid, &st) == -ENOENT) {
			assert_int_equal(acked[o], 0);
			continue;
		}
		/* never older than acknowledged, never torn */
		assert_true(st.version >= acked[o]);
		assert_int_equal(ts_read(t, &oid, 0, got, OSIZE, &v), 0);
		assert_int_equal(v, st.version);
		expected(want, o, v);
		assert_memory_equal(got, want, OSIZE);
		allocated += st.allocated;
	}
	for (o = 0; o < BALLAST; o++) {
		struct store_oid oid = ts_oid(2, o);
		struct store_obj_stat st;

		assert_int_equal(store_stat(t->s, &oid, &st), 0);
		allocated += st.allocated;
	}
	store_usage(t->s, &u);
	assert_int_equal(u.used, allocated);	/* nothing leaked */
	ts_close(t);
	free(want);
	free(got);
}

static void test_store_crash_keeps_acked_writes_untorn(void **state)
{
	uint64_t acked[NOBJ] = { 0 };
	struct ts t = { 0 };
	unsigned i, seed = 5;

	(void)state;
	ts_mkfs(&t, STORE_SIZE);
	for (i = 0; i < ROUNDS; i++)
		crash_round(&t, acked, 20 + (unsigned)rand_r(&seed) % 300);
	/* the kills did land while journaled writes awaited their commit */
	assert_true(total_replayed > 0);
	ts_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_crash_keeps_acked_writes_untorn),
	};

	bs_log_init("test_store_crash", BS_LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
