// SPDX-License-Identifier: Apache-2.0
/*
 * A progress bar for long CLI work (volume import, export), drawn on
 * stderr only when stderr is a terminal, so that scripts and logs see
 * nothing but the command's result and its one-line errors.
 */
#include <stdio.h>
#include <unistd.h>

#include "bs/log.h"

#include "cli.h"

#define PROGRESS_REDRAW_MS	100
#define PROGRESS_WIDTH		30

void progress_init(struct progress *p, const char *what, uint64_t total)
{
	p->what = what;
	p->total = total;
	p->done = 0;
	p->start_ms = bs_now_ms();
	p->last_ms = 0;
	p->on = isatty(STDERR_FILENO);
	p->shown = false;
}

static void draw(struct progress *p, uint64_t now)
{
	unsigned pct = p->total ? (unsigned)(p->done * 100 / p->total) : 100;
	unsigned fill = pct * PROGRESS_WIDTH / 100, i;
	double secs = (double)(now - p->start_ms) / 1000.0;
	char bar[PROGRESS_WIDTH + 1], done[32], total[32];

	for (i = 0; i < PROGRESS_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[PROGRESS_WIDTH] = '\0';
	fprintf(stderr, "\r%s: [%s] %3u%% %s of %s, %.1f MiB/s ", p->what,
		bar, pct, format_bytes(p->done, done, sizeof(done)),
		format_bytes(p->total, total, sizeof(total)),
		secs > 0 ? (double)p->done / secs / (1 << 20) : 0.0);
	fflush(stderr);
	p->shown = true;
	p->last_ms = now;
}

void progress_update(struct progress *p, uint64_t done)
{
	uint64_t now;

	p->done = done;
	if (!p->on)
		return;
	now = bs_now_ms();
	if (now - p->last_ms >= PROGRESS_REDRAW_MS)
		draw(p, now);
}

void progress_end(struct progress *p, bool ok)
{
	if (!p->on)
		return;
	if (ok) {
		p->done = p->total;
		draw(p, bs_now_ms());
		fputc('\n', stderr);
	} else if (p->shown) {
		fputs("\r\033[K", stderr);	/* clear: the error comes next */
	}
	fflush(stderr);
	p->shown = false;
}
