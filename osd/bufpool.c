// SPDX-License-Identifier: Apache-2.0
/*
 * Read buffers: 4 KiB-aligned (the store reads straight into them with
 * O_DIRECT) and kept on small per-size free lists, so that reads up to
 * 2 MiB do not allocate once the OSD is warm.  Loop thread only.
 */
#include <stdlib.h>

#include "osd.h"

#define BUF_MIN_SHIFT	12	/* class 0: 4 KiB */
#define BUF_CLASSES	ARRAY_SIZE(((struct osd_bufpool *)0)->n)
#define BUF_PER_CLASS	ARRAY_SIZE(((struct osd_bufpool *)0)->free[0])

/* The class of @len bytes, or BUF_CLASSES if too big to keep. */
static unsigned buf_class(size_t len, size_t *cap)
{
	unsigned c = 0;
	size_t sz = (size_t)1 << BUF_MIN_SHIFT;

	while (sz < len && c < BUF_CLASSES) {
		sz <<= 1;
		c++;
	}
	*cap = c < BUF_CLASSES ? sz : BS_ALIGN_UP(len, STORE_BLOCK_SIZE);
	return c;
}

void *osd_buf_get(struct osd *osd, size_t len, size_t *cap)
{
	struct osd_bufpool *bp = &osd->bufs;
	unsigned c = buf_class(len, cap);
	void *p;

	if (c < BUF_CLASSES && bp->n[c])
		return bp->free[c][--bp->n[c]];
	if (posix_memalign(&p, STORE_BLOCK_SIZE, *cap)) {
		bs_err("out of memory for a read buffer of %zu bytes", *cap);
		abort();
	}
	return p;
}

void osd_buf_put(struct osd *osd, void *buf, size_t cap)
{
	struct osd_bufpool *bp = &osd->bufs;
	size_t ccap;
	unsigned c = buf_class(cap, &ccap);

	if (c < BUF_CLASSES && ccap == cap && bp->n[c] < BUF_PER_CLASS) {
		bp->free[c][bp->n[c]++] = buf;
		return;
	}
	free(buf);
}

void osd_buf_release(struct osd *osd)
{
	struct osd_bufpool *bp = &osd->bufs;

	for (unsigned c = 0; c < BUF_CLASSES; c++)
		while (bp->n[c])
			free(bp->free[c][--bp->n[c]]);
}
