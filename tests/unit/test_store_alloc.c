// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the object store's block allocator (osd/store/alloc.c):
 * a random property test against a shadow map (never hands out a block
 * twice, frees what it is given, free count exact), contiguity, -ENOSPC
 * without side effects, and loading used ranges at open.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"

struct held {
	uint64_t pblk, nblk;
};

static void test_alloc_never_double_allocates(void **state)
{
	enum { NB = 5000, MAXHELD = 4000 };
	uint8_t *shadow = calloc(NB, 1);
	struct held *held = calloc(MAXHELD, sizeof(*held));
	struct alloc_run runs[8];
	struct alloc a;
	unsigned seed = 42, nheld = 0, step, i;
	uint64_t nfree = NB, k;

	(void)state;
	assert_int_equal(alloc_init(&a, NB), 0);
	for (step = 0; step < 200000; step++) {
		bool get = nheld == 0 || (rand_r(&seed) % 100 < 55 &&
					  nheld + 8 < MAXHELD);

		if (get) {
			uint64_t n = 1 + (uint64_t)rand_r(&seed) % 40;
			int r = alloc_get(&a, n, runs, 1 + rand_r(&seed) % 8);
			uint64_t got = 0;

			if (r == -ENOSPC) {
				assert_int_equal(a.nfree, nfree);
				continue;
			}
			assert_true(r > 0);
			for (i = 0; i < (unsigned)r; i++) {
				assert_true(runs[i].nblk > 0);
				assert_true(runs[i].pblk + runs[i].nblk <= NB);
				for (k = 0; k < runs[i].nblk; k++) {
					/* the property: never handed out twice */
					assert_int_equal(
						shadow[runs[i].pblk + k], 0);
					shadow[runs[i].pblk + k] = 1;
				}
				held[nheld].pblk = runs[i].pblk;
				held[nheld].nblk = runs[i].nblk;
				nheld++;
				got += runs[i].nblk;
			}
			assert_int_equal(got, n);
			nfree -= n;
		} else {
			unsigned j = (unsigned)rand_r(&seed) % nheld;

			alloc_put(&a, held[j].pblk, held[j].nblk);
			for (k = 0; k < held[j].nblk; k++)
				shadow[held[j].pblk + k] = 0;
			nfree += held[j].nblk;
			held[j] = held[--nheld];
		}
		assert_int_equal(a.nfree, nfree);
		if (step % 20000 == 0)
			for (k = 0; k < NB; k++)
				assert_int_equal(alloc_is_used(&a, k),
						 shadow[k] != 0);
	}
	alloc_release(&a);
	free(shadow);
	free(held);
}

static void test_alloc_prefers_contiguous_and_enospc_is_clean(void **state)
{
	struct alloc_run runs[4];
	struct alloc a;

	(void)state;
	assert_int_equal(alloc_init(&a, 1000), 0);
	assert_int_equal(alloc_get(&a, 300, runs, 4), 1);
	assert_int_equal(runs[0].nblk, 300);
	/* punch holes: 10 free blocks every 100 */
	alloc_put(&a, 50, 10);
	alloc_put(&a, 150, 10);
	alloc_put(&a, 250, 10);
	assert_int_equal(alloc_get(&a, 100, runs, 1), 1);	/* from 300 */
	assert_true(runs[0].pblk >= 300);
	/* fill the tail, leaving only the three holes */
	assert_int_equal(alloc_get(&a, 600, runs, 4), 1);
	assert_int_equal(a.nfree, 30);
	assert_int_equal(alloc_get(&a, 30, runs, 2), -ENOSPC);
	assert_int_equal(a.nfree, 30);
	assert_int_equal(alloc_get(&a, 31, runs, 4), -ENOSPC);
	assert_int_equal(alloc_get(&a, 30, runs, 3), 3);
	assert_int_equal(a.nfree, 0);
	alloc_release(&a);
}

static void test_alloc_mark_used_rejects_overlap(void **state)
{
	struct alloc_run run;
	struct alloc a;

	(void)state;
	assert_int_equal(alloc_init(&a, 200), 0);
	assert_int_equal(alloc_mark_used(&a, 0, 10), 0);
	assert_int_equal(alloc_mark_used(&a, 100, 50), 0);
	assert_int_equal(alloc_mark_used(&a, 149, 2), -EEXIST);
	assert_int_equal(alloc_mark_used(&a, 190, 11), -ERANGE);
	assert_int_equal(a.nfree, 140);
	assert_int_equal(alloc_get(&a, 91, &run, 1), -ENOSPC);
	assert_int_equal(alloc_get(&a, 90, &run, 1), 1);
	assert_int_equal(run.pblk, 10);
	alloc_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_never_double_allocates),
		cmocka_unit_test(
			test_alloc_prefers_contiguous_and_enospc_is_clean),
		cmocka_unit_test(test_alloc_mark_used_rejects_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
