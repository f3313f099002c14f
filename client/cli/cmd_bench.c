// SPDX-License-Identifier: Apache-2.0
/*
 * basalt bench POOL/NAME: drive a volume through libbasalt's asynchronous
 * calls with a fixed queue depth for a fixed time, like 'rbd bench', and
 * report IOPS, bandwidth and latency (mean, p50, p99, p99.9).  Each
 * completion submits the next request from libbasalt's thread, so the
 * queue stays full without a hand-off per I/O.  Bounded: no request
 * starts after --seconds, and requests still in flight a while later are
 * cancelled (the command then fails).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basalt.h"
#include "bs/log.h"
#include "bs/parse.h"

#include "cli.h"
#include "latency.h"

#define BS_MIN_IO	512u
#define BS_MAX_IO	(16u << 20)
#define DEPTH_MAX	1024
#define SECONDS_MAX	3600
#define DRAIN_MS	30000	/* in flight after the end: give up then */

enum pattern {
	PAT_RANDWRITE,
	PAT_RANDREAD,
	PAT_WRITE,
	PAT_READ,
};

static const char *const pattern_names[] = {
	[PAT_RANDWRITE] = "randwrite",
	[PAT_RANDREAD] = "randread",
	[PAT_WRITE] = "write",
	[PAT_READ] = "read",
};

struct bench;

/* One request slot of the queue. */
struct bench_io {
	struct bench *b;
	uint8_t *buf;
	uint64_t off;
	uint64_t start_ns;
};

/* Fields below @lock are shared with libbasalt's thread. */
struct bench {
	struct basalt_volume *vol;
	enum pattern pattern;
	uint64_t bs, range, depth;
	uint64_t end_ns;		/* no request starts after this */
	struct bench_io *ios;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned inflight;
	bool stop;
	int error;			/* first failure, -errno */
	uint64_t error_off;
	uint64_t ops, bytes;
	uint64_t next_seq;		/* write/read: next offset */
	uint64_t rng;			/* xorshift64* state */
	struct lat_hist hist;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool is_write(const struct bench *b)
{
	return b->pattern == PAT_RANDWRITE || b->pattern == PAT_WRITE;
}

/* The next offset; under b->lock. */
static uint64_t next_offset(struct bench *b)
{
	uint64_t blocks = b->range / b->bs, off, x;

	if (b->pattern == PAT_WRITE || b->pattern == PAT_READ) {
		off = b->next_seq;
		b->next_seq += b->bs;
		if (b->next_seq + b->bs > b->range)
			b->next_seq = 0;
		return off;
	}
	x = b->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->rng = x;
	return (x * 0x2545f4914f6cdd1dull) % blocks * b->bs;
}

static void io_done(void *opaque, ssize_t res);

/* Start @io at its next offset; under b->lock.  false: it did not start. */
static bool io_start(struct bench *b, struct bench_io *io)
{
	int ret;

	io->off = next_offset(b);
	io->start_ns = now_ns();
	b->inflight++;
	/* libbasalt calls io_done on its thread, never from inside this. */
	if (is_write(b))
		ret = basalt_aio_write(b->vol, io->buf, b->bs, io->off,
				       io_done, io);
	else
		ret = basalt_aio_read(b->vol, io->buf, b->bs, io->off, io_done,
				      io);
	if (ret < 0) {
		b->inflight--;
		if (!b->error) {
			b->error = ret;
			b->error_off = io->off;
		}
		b->stop = true;
		return false;
	}
	return true;
}

static void io_done(void *opaque, ssize_t res)
{
	struct bench_io *io = opaque;
	struct bench *b = io->b;
	uint64_t now = now_ns();

	pthread_mutex_lock(&b->lock);
	b->inflight--;
	if (res < 0) {
		if (!b->error) {
			b->error = (int)res;
			b->error_off = io->off;
		}
		b->stop = true;
	} else {
		b->ops++;
		b->bytes += b->bs;
		lat_add(&b->hist, now - io->start_ns);
	}
	if (!b->stop && now < b->end_ns)
		io_start(b, io);
	if (!b->inflight)
		pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static int parse_opts(struct cli *cli, const struct cli_args *a,
		      struct bench *b, uint32_t *seconds,
		      uint64_t *range_opt, struct bs_error *err)
{
	const char *v;
	uint32_t u;
	size_t i;
	int ret;

	v = cli_opt(a, "--pattern");
	if (!v)
		return cli_usage(cli, err,
				 "'bench' needs --pattern randwrite|randread|write|read");
	for (i = 0; i < ARRAY_SIZE(pattern_names); i++) {
		if (!strcmp(v, pattern_names[i]))
			break;
	}
	if (i == ARRAY_SIZE(pattern_names))
		return bs_error_set(err, -EINVAL,
				    "'--pattern': '%s' is not a pattern (use randwrite, randread, write or read)",
				    v);
	b->pattern = (enum pattern)i;

	b->bs = 4096;
	v = cli_opt(a, "--bs");
	if (v) {
		ret = bs_parse_size("--bs", v, &b->bs, err);
		if (ret)
			return ret;
		if (b->bs < BS_MIN_IO || b->bs > BS_MAX_IO || b->bs % 512)
			return bs_error_set(err, -EINVAL,
					    "'--bs': '%s' must be a multiple of 512 from 512 to 16M",
					    v);
	}
	b->depth = 32;
	v = cli_opt(a, "--iodepth");
	if (v) {
		ret = cli_parse_u32(cli, "--iodepth", v, 1, DEPTH_MAX, &u, err);
		if (ret)
			return ret;
		b->depth = u;
	}
	*seconds = 10;
	v = cli_opt(a, "--seconds");
	if (v) {
		ret = cli_parse_u32(cli, "--seconds", v, 1, SECONDS_MAX,
				    seconds, err);
		if (ret)
			return ret;
	}
	*range_opt = 0;
	v = cli_opt(a, "--size");
	if (v) {
		ret = bs_parse_size("--size", v, range_opt, err);
		if (ret)
			return ret;
		if (*range_opt < b->bs)
			return bs_error_set(err, -EINVAL,
					    "'--size': '%s' is smaller than one block (--bs %" PRIu64 ")",
					    v, b->bs);
	}
	return 0;
}

/* Per-second lines for people, while the main thread waits. */
static void print_second(struct cli *cli, unsigned sec, uint64_t ops,
			 uint64_t last_ops, uint64_t bytes,
			 uint64_t last_bytes)
{
	char bw[32];

	fprintf(cli->out, "%5u %12" PRIu64 " %10" PRIu64 " %12s/s\n", sec, ops,
		ops - last_ops,
		format_bytes(bytes - last_bytes, bw, sizeof(bw)));
	fflush(cli->out);
}

/* Run the queue until the end, then wait for it to drain (bounded). */
static int run(struct cli *cli, struct bench *b, uint32_t seconds,
	       uint64_t *elapsed_ns, struct bs_error *err)
{
	uint64_t start = now_ns(), last_ops = 0, last_bytes = 0, drain_end;
	unsigned sec = 0, i;
	struct timespec ts;
	int ret = 0;

	b->end_ns = start + (uint64_t)seconds * 1000000000ull;
	drain_end = b->end_ns + DRAIN_MS * 1000000ull;
	pthread_mutex_lock(&b->lock);
	for (i = 0; i < b->depth && !b->stop; i++)
		io_start(b, &b->ios[i]);
	while (b->inflight) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->cond, &b->lock, &ts);
		if (cli->format == CLI_FORMAT_PLAIN &&
		    now_ns() >= start + (sec + 1) * 1000000000ull &&
		    sec < seconds) {
			sec++;
			print_second(cli, sec, b->ops, last_ops, b->bytes,
				     last_bytes);
			last_ops = b->ops;
			last_bytes = b->bytes;
		}
		if (b->inflight && now_ns() > drain_end) {
			ret = bs_error_set(err, -ETIMEDOUT,
					   "%u requests still in flight %d s after the end: is every PG served? (see 'basalt status')",
					   b->inflight, DRAIN_MS / 1000);
			b->stop = true;
			break;
		}
	}
	*elapsed_ns = now_ns() - start;
	if (!ret && b->error)
		ret = bs_error_set(err, b->error,
				   "%s at offset %" PRIu64 " failed: %s",
				   is_write(b) ? "a write" : "a read",
				   b->error_off, strerror(-b->error));
	pthread_mutex_unlock(&b->lock);
	return ret;
}

static void report(struct cli *cli, const struct bench *b,
		   const char *spec, uint32_t seconds, uint64_t elapsed_ns)
{
	double secs = (double)elapsed_ns / 1e9;
	double iops = secs > 0 ? (double)b->ops / secs : 0;
	double bps = secs > 0 ? (double)b->bytes / secs : 0;
	const struct lat_hist *h = &b->hist;
	struct json j;

	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_str(&j, "volume", spec);
		json_kv_str(&j, "pattern", pattern_names[b->pattern]);
		json_kv_u64(&j, "bs", b->bs);
		json_kv_u64(&j, "iodepth", b->depth);
		json_kv_u64(&j, "seconds", seconds);
		json_kv_u64(&j, "range", b->range);
		json_key(&j, "elapsed_s");
		json_double(&j, secs, 3);
		json_kv_u64(&j, "ops", b->ops);
		json_kv_u64(&j, "bytes", b->bytes);
		json_key(&j, "iops");
		json_double(&j, iops, 1);
		json_key(&j, "bytes_per_sec");
		json_double(&j, bps, 0);
		json_key(&j, "mib_per_sec");
		json_double(&j, bps / (1 << 20), 2);
		json_key(&j, "latency_us");
		json_obj_begin(&j);
		json_key(&j, "mean");
		json_double(&j, (double)lat_mean(h) / 1e3, 1);
		json_key(&j, "min");
		json_double(&j, h->count ? (double)h->min / 1e3 : 0, 1);
		json_key(&j, "p50");
		json_double(&j, (double)lat_percentile(h, 50) / 1e3, 1);
		json_key(&j, "p99");
		json_double(&j, (double)lat_percentile(h, 99) / 1e3, 1);
		json_key(&j, "p99_9");
		json_double(&j, (double)lat_percentile(h, 99.9) / 1e3, 1);
		json_key(&j, "max");
		json_double(&j, (double)h->max / 1e3, 1);
		json_obj_end(&j);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	fprintf(cli->out,
		"elapsed: %.2f s  ops: %" PRIu64 "  IOPS: %.0f  bandwidth: %.2f MiB/s (%.2f MB/s)\n"
		"latency (us): mean %.1f  min %.1f  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
		secs, b->ops, iops, bps / (1 << 20), bps / 1e6,
		(double)lat_mean(h) / 1e3,
		h->count ? (double)h->min / 1e3 : 0.0,
		(double)lat_percentile(h, 50) / 1e3,
		(double)lat_percentile(h, 99) / 1e3,
		(double)lat_percentile(h, 99.9) / 1e3, (double)h->max / 1e3);
}

static int bench_cmd(struct cli *cli, const struct cli_args *a,
		     struct bs_error *err)
{
	struct basalt_cluster *cluster = NULL;
	struct bench *b;
	struct basalt_stat st;
	uint64_t range_opt, elapsed_ns = 0, i, k;
	char vsize[32], bsz[32], rsz[32], spec[300];
	const char *pool, *name;
	uint32_t seconds;
	int ret;

	ret = cli_split_volume(cli, a->pos[0], spec, sizeof(spec), &pool,
			       &name, err);
	if (ret)
		return ret;
	b = bs_xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	lat_init(&b->hist);
	b->rng = now_ns() | 1;
	ret = parse_opts(cli, a, b, &seconds, &range_opt, err);
	if (ret)
		goto out;
	ret = cli_data_open(cli, a->pos[0], &cluster, &b->vol, err);
	if (ret)
		goto out;
	ret = basalt_stat(b->vol, &st);
	if (ret) {
		bs_error_set(err, ret, "cannot stat volume '%s': %s", a->pos[0],
			     basalt_get_error());
		goto out;
	}
	b->range = range_opt ? range_opt : st.size;
	if (b->range > st.size) {
		ret = bs_error_set(err, -ERANGE,
				   "'--size': %s is past the end of volume '%s' (size %s)",
				   bs_format_size(b->range, rsz, sizeof(rsz)),
				   a->pos[0],
				   bs_format_size(st.size, vsize,
						  sizeof(vsize)));
		goto out;
	}
	if (b->range < b->bs) {
		ret = bs_error_set(err, -EINVAL,
				   "volume '%s' (%s) is smaller than one block (--bs %s)",
				   a->pos[0],
				   bs_format_size(st.size, vsize,
						  sizeof(vsize)),
				   bs_format_size(b->bs, bsz, sizeof(bsz)));
		goto out;
	}
	b->ios = bs_xcalloc(b->depth, sizeof(*b->ios));
	for (i = 0; i < b->depth; i++) {
		b->ios[i].b = b;
		if (posix_memalign((void **)&b->ios[i].buf, 4096, b->bs))
			abort();
		/* Data that does not compress or look like zeros. */
		for (k = 0; k < b->bs; k += 8) {
			uint64_t x = next_offset(b) ^ (i << 48) ^ k;

			memcpy(b->ios[i].buf + k, &x, 8);
		}
	}
	b->next_seq = 0;
	if (cli->format == CLI_FORMAT_PLAIN) {
		fprintf(cli->out,
			"bench %s: %s, %s blocks, iodepth %" PRIu64 ", %u s, over %s\n"
			"  SEC          OPS    OPS/SEC      BYTES/SEC\n",
			a->pos[0], pattern_names[b->pattern],
			bs_format_size(b->bs, bsz, sizeof(bsz)), b->depth,
			seconds, format_bytes(b->range, rsz, sizeof(rsz)));
		fflush(cli->out);
	}
	ret = run(cli, b, seconds, &elapsed_ns, err);
	if (!ret)
		report(cli, b, a->pos[0], seconds, elapsed_ns);
out:
	/* Closing waits for (or, past the grace, cancels) what is left. */
	cli_data_close(&cluster, &b->vol);
	if (b->ios) {
		for (i = 0; i < b->depth; i++)
			free(b->ios[i].buf);
		free(b->ios);
	}
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
	return ret;
}

static const struct cli_opt bench_opts[] = {
	{ "--pattern", "P", "randwrite, randread, write or read (required)" },
	{ "--bs", "SIZE", "bytes per request, 512 to 16M (default 4K)" },
	{ "--iodepth", "N", "requests in flight, 1-1024 (default 32)" },
	{ "--seconds", "N", "how long to run, 1-3600 (default 10)" },
	{ "--size", "SIZE", "use the first SIZE bytes of the volume (default: all)" },
	{ NULL },
};

const struct cli_cmd cli_bench_cmds[] = {
	{
		.group = "bench",
		.usage = "POOL/NAME --pattern P [--bs SIZE] [--iodepth N] [--seconds N] [--size SIZE]",
		.help = "measure IOPS, bandwidth and latency of a volume (like rbd bench)",
		.details = "Writes overwrite the volume's data.  Reads of ranges never written\n"
			   "are answered without touching a disk: write first, then read.\n"
			   "Prints a line per second, then the totals and latency percentiles.\n",
		.opts = bench_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = bench_cmd,
	},
	{ 0 },
};
