// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the object store's metadata logic (osd/store/extmap.c):
 * building versions redirect-on-write against a per-block model, the
 * blocks a write frees, and the chunk record codec round trip and its
 * rejection of damaged records.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_int.h"

#define NBLK	200u

/* Per block: disk block (0: hole) and crc. */
struct model {
	uint64_t pblk[NBLK];
	uint32_t crc[NBLK];
};

static void check_ver(const struct obj_ver *v, const struct model *m)
{
	uint64_t seen[NBLK] = { 0 };
	uint32_t crcs[NBLK] = { 0 }, i, k;

	for (i = 0; i < v->n_ext; i++) {
		const struct extent *e = &v->ext[i];

		if (i) {
			const struct extent *p = &v->ext[i - 1];

			assert_true(p->lblk + p->nblk <= e->lblk);
			/* merged when mergeable */
			assert_false(p->lblk + p->nblk == e->lblk &&
				     p->pblk + p->nblk == e->pblk);
		}
		for (k = 0; k < e->nblk; k++) {
			seen[e->lblk + k] = e->pblk + k;
			crcs[e->lblk + k] = v->crc[e->crc_idx + k];
		}
	}
	for (i = 0; i < NBLK; i++) {
		assert_int_equal(seen[i], m->pblk[i]);
		if (m->pblk[i])
			assert_int_equal(crcs[i], m->crc[i]);
	}
}

/* Encode every chunk of @v and rebuild it. */
static struct obj_ver *roundtrip(const struct obj_ver *v)
{
	uint8_t *buf = malloc(OBJ_CHUNK_MAX_LEN), hdr[OBJ_HDR_LEN];
	struct ver_builder b;
	struct obj_ver *out;
	uint64_t version, size;
	uint32_t c;

	rec_encode_hdr(v, hdr);
	assert_int_equal(rec_decode_hdr(hdr, sizeof(hdr), &version, &size), 0);
	assert_int_equal(version, v->version);
	builder_init(&b, version, size);
	for (c = 0; c <= NBLK / CHUNK_BLOCKS; c++) {
		size_t len = rec_encode_chunk(v, c, buf);

		if (len)
			assert_int_equal(builder_add_chunk(&b, c, buf, len,
							   NULL), 0);
	}
	out = builder_finish(&b);
	builder_release(&b);
	free(buf);
	return out;
}

static void test_extmap_apply_matches_model(void **state)
{
	struct model m = { 0 };
	struct obj_ver *v = NULL;
	uint64_t next_pblk = 1000;
	unsigned seed = 3, step;

	(void)state;
	for (step = 0; step < 3000; step++) {
		uint32_t lb0 = (uint32_t)rand_r(&seed) % NBLK;
		uint32_t lb1 = lb0 + 1 + (uint32_t)rand_r(&seed) % 20, l, k;
		struct store_run runs[4];
		uint32_t crc[NBLK];
		unsigned nruns = 0, ci = 0, freed_blocks = 0, want_freed = 0;
		struct ext_free *fr;
		struct obj_ver *nv;

		if (lb1 > NBLK)
			lb1 = NBLK;
		for (l = lb0; l < lb1; l++)
			want_freed += m.pblk[l] != 0;
		/* cover the range with up to 3 runs, or leave holes */
		for (l = lb0; l < lb1;) {
			uint32_t n = 1 + (uint32_t)rand_r(&seed) % (lb1 - l);
			bool hole = rand_r(&seed) % 4 == 0 || nruns == 3;

			if (!hole) {
				runs[nruns].lblk = l;
				runs[nruns].nblk = n;
				/* sometimes contiguous with the block before */
				runs[nruns].pblk = l && m.pblk[l - 1] &&
					rand_r(&seed) % 2 ? m.pblk[l - 1] + 1 :
					next_pblk;
				next_pblk += 100;
				for (k = 0; k < n; k++) {
					crc[ci + k] = (uint32_t)rand_r(&seed);
				}
				nruns++;
			}
			for (k = 0; k < n; k++) {
				m.pblk[l + k] = hole ? 0 :
					runs[nruns - 1].pblk + k;
				m.crc[l + k] = hole ? 0 : crc[ci + k];
			}
			if (!hole)
				ci += n;
			l += n;
		}
		nv = ver_apply(v, lb0, lb1, runs, nruns, crc, step, 0, &fr);
		if (fr) {
			for (k = 0; k < fr->n; k++)
				freed_blocks += (unsigned)fr->runs[k].nblk;
			free(fr);
		}
		assert_int_equal(freed_blocks, want_freed);
		ver_put(&v);
		v = nv;
		check_ver(v, &m);
		if (step % 100 == 0) {
			struct obj_ver *r = roundtrip(v);

			check_ver(r, &m);
			assert_int_equal(r->version, step);
			ver_put(&r);
		}
	}
	ver_put(&v);
}

static void test_extmap_damaged_chunk_rejected(void **state)
{
	struct store_run run = { .lblk = 3, .nblk = 5, .pblk = 300 };
	uint32_t crc[5] = { 1, 2, 3, 4, 5 };
	uint8_t *buf = malloc(OBJ_CHUNK_MAX_LEN);
	struct bs_error err = { 0 };
	struct ver_builder b;
	struct ext_free *fr;
	struct obj_ver *v;
	size_t len;

	(void)state;
	v = ver_apply(NULL, 3, 8, &run, 1, crc, 1, 0, &fr);
	assert_null(fr);
	len = rec_encode_chunk(v, 0, buf);
	assert_int_equal(len, 8 + 16 + 20 + 4);
	assert_int_equal(rec_encode_chunk(v, 1, buf + 100), 0);

	builder_init(&b, 1, 0);
	buf[20] ^= 1;		/* pblk changed: record crc fails */
	assert_int_equal(builder_add_chunk(&b, 0, buf, len, &err), -EINVAL);
	buf[20] ^= 1;
	assert_int_equal(builder_add_chunk(&b, 0, buf, len - 1, &err),
			 -EINVAL);
	assert_int_equal(builder_add_chunk(&b, 1, buf, len, &err), -EINVAL);
	assert_int_equal(builder_add_chunk(&b, 0, buf, len, &err), 0);
	/* chunks must come in order */
	assert_int_equal(builder_add_chunk(&b, 0, buf, len, &err), -EINVAL);
	builder_release(&b);
	ver_put(&v);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extmap_apply_matches_model),
		cmocka_unit_test(test_extmap_damaged_chunk_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
