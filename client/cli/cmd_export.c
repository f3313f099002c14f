// SPDX-License-Identifier: Apache-2.0
/*
 * basalt volume export POOL/NAME FILE: copy a volume into a file, reading
 * only what is allocated (libbasalt's block status) with several 4 MiB
 * chunks in flight.  A regular file comes out sparse: holes, and blocks
 * of zeros, are not written.  FILE "-" (or any pipe or device) gets every
 * byte, in order, zeros included.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basalt.h"
#include "bs/log.h"
#include "bs/parse.h"

#include "cli.h"

#define CHUNK		(4u << 20)
#define BLOCK		4096u
#define DEPTH_DEFAULT	8
#define DEPTH_MAX	64

struct extent {
	uint64_t off, len;
};

struct export {
	struct cli *cli;
	const char *spec, *file;
	int fd;
	bool sparse;		/* a regular file: seek over zeros */
	bool created;		/* we made @file: remove it on failure */
	uint64_t size, used, written;
	struct extent *ext;	/* allocated extents, in order, merged */
	size_t n_ext, cap_ext, cur_ext;
	struct basalt_cluster *cluster;
	struct basalt_volume *vol;
	struct cli_aio aio;
	struct cli_aio_slot *slots;
	unsigned depth;
	struct progress prog;
};

static int collect_extent(void *opaque, uint64_t off, uint64_t len,
			  int allocated)
{
	struct export *ex = opaque;
	struct extent *last;

	if (!allocated || !len)
		return 0;
	ex->used += len;
	last = ex->n_ext ? &ex->ext[ex->n_ext - 1] : NULL;
	if (last && last->off + last->len == off) {
		last->len += len;
		return 0;
	}
	if (ex->n_ext == ex->cap_ext) {
		ex->cap_ext = ex->cap_ext ? ex->cap_ext * 2 : 64;
		ex->ext = bs_xrealloc(ex->ext, ex->cap_ext * sizeof(*ex->ext));
	}
	ex->ext[ex->n_ext].off = off;
	ex->ext[ex->n_ext].len = len;
	ex->n_ext++;
	return 0;
}

static int open_target(struct export *ex, const struct cli_args *a,
		       struct bs_error *err)
{
	bool force = cli_opt(a, "--force") != NULL;
	struct stat st;
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC;

	if (!strcmp(ex->file, "-")) {
		if (isatty(STDOUT_FILENO))
			return bs_error_set(err, -EINVAL,
					    "not writing a volume's data to a terminal: redirect stdout or give a FILE");
		ex->fd = STDOUT_FILENO;
		ex->sparse = false;
		return 0;
	}
	if (stat(ex->file, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return bs_error_set(err, -EISDIR,
					    "'%s' is a directory: give a file name",
					    ex->file);
		if (S_ISREG(st.st_mode) && !force)
			return bs_error_set(err, -EEXIST,
					    "'%s' already exists (remove it or use --force to overwrite it)",
					    ex->file);
		if (S_ISREG(st.st_mode))
			flags |= O_TRUNC;
	} else if (errno == ENOENT) {
		flags |= O_EXCL;
		ex->created = true;
	} else {
		return bs_error_errno(err, -errno, "cannot stat '%s'",
				      ex->file);
	}
	ex->fd = open(ex->file, flags, 0644);
	if (ex->fd == -1) {
		ex->created = false;
		return bs_error_errno(err, -errno, "cannot create '%s'",
				      ex->file);
	}
	if (fstat(ex->fd, &st) == -1)
		return bs_error_errno(err, -errno, "cannot stat '%s'",
				      ex->file);
	ex->sparse = S_ISREG(st.st_mode);
	if (ex->sparse && ftruncate(ex->fd, (off_t)ex->size) == -1)
		return bs_error_errno(err, -errno, "cannot size '%s' to %" PRIu64
				      " bytes", ex->file, ex->size);
	return 0;
}

/* Read what is allocated of [s->off, s->off + s->len) into the slot. */
static void submit_slot(struct export *ex, struct cli_aio_slot *s)
{
	uint64_t end = s->off + s->len, a, b;
	struct extent *e;
	int ret;

	memset(s->buf, 0, s->len);
	cli_aio_hold(s);
	while (ex->cur_ext < ex->n_ext) {
		e = &ex->ext[ex->cur_ext];
		if (e->off >= end)
			break;
		a = BS_MAX(e->off, s->off);
		b = BS_MIN(e->off + e->len, end);
		if (a < b) {
			cli_aio_hold(s);
			ret = basalt_aio_read(ex->vol, s->buf + (a - s->off),
					      b - a, a, cli_aio_done, s);
			if (ret < 0) {
				cli_aio_done(s, ret);
				break;
			}
		}
		if (e->off + e->len > end)
			break;	/* the extent goes on in the next chunk */
		ex->cur_ext++;
	}
	cli_aio_done(s, 0);
}

static int write_all(struct export *ex, const uint8_t *buf, size_t len,
		     uint64_t off, struct bs_error *err)
{
	ssize_t n;

	while (len) {
		if (ex->sparse)
			n = pwrite(ex->fd, buf, len, (off_t)off);
		else
			n = write(ex->fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return bs_error_errno(err, -errno, "cannot write '%s'",
					      ex->file);
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
		ex->written += (uint64_t)n;
	}
	return 0;
}

/* Write a finished slot out: its data runs (sparse), or all of it. */
static int output_slot(struct export *ex, struct cli_aio_slot *s,
		       struct bs_error *err)
{
	size_t pos = 0, run;
	int ret;

	if (!ex->sparse)
		return write_all(ex, s->buf, s->len, s->off, err);
	while (cli_find_data(s->buf, s->len, BLOCK, &pos, &run)) {
		ret = write_all(ex, s->buf + pos, run, s->off + pos, err);
		if (ret)
			return ret;
		pos += run;
	}
	return 0;
}

static int copy(struct export *ex, struct bs_error *err)
{
	uint64_t nchunks = (ex->size + CHUNK - 1) / CHUNK, issued = 0, k;
	struct cli_aio_slot *s;
	uint64_t fail_off;
	unsigned i;
	int ret = 0;

	ex->slots = bs_xcalloc(ex->depth, sizeof(*ex->slots));
	for (i = 0; i < ex->depth; i++) {
		ex->slots[i].aio = &ex->aio;
		ex->slots[i].buf = bs_xmalloc(CHUNK);
	}
	progress_init(&ex->prog, "Exporting", ex->size);
	for (k = 0; k < nchunks && !ret; k++) {
		while (issued < nchunks && issued < k + ex->depth) {
			s = &ex->slots[issued % ex->depth];
			s->off = issued * CHUNK;
			s->len = BS_MIN((uint64_t)CHUNK, ex->size - s->off);
			submit_slot(ex, s);
			issued++;
		}
		s = &ex->slots[k % ex->depth];
		ret = cli_aio_wait(s);
		if (ret) {
			cli_aio_error(&ex->aio, &fail_off);
			bs_error_set(err, ret,
				     "cannot read volume '%s' near offset %" PRIu64 ": %s",
				     ex->spec, fail_off, strerror(-ret));
			break;
		}
		ret = output_slot(ex, s, err);
		progress_update(&ex->prog, s->off + s->len);
	}
	for (i = 0; i < ex->depth; i++)
		cli_aio_wait(&ex->slots[i]);
	progress_end(&ex->prog, ret == 0);
	for (i = 0; i < ex->depth; i++)
		free(ex->slots[i].buf);
	bs_free(&ex->slots);
	return ret;
}

int volume_export(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err)
{
	struct export ex = { .cli = cli, .fd = -1, .depth = DEPTH_DEFAULT };
	char size[32], used[32], spec[300];
	const char *pool, *name, *v;
	struct basalt_stat st;
	uint64_t start = bs_now_ms();
	uint32_t depth;
	struct json j;
	int ret;

	ex.spec = a->pos[0];
	ex.file = a->pos[1];
	ret = cli_split_volume(cli, ex.spec, spec, sizeof(spec), &pool, &name,
			       err);
	if (ret)
		return ret;
	v = cli_opt(a, "--iodepth");
	if (v) {
		ret = cli_parse_u32(cli, "--iodepth", v, 1, DEPTH_MAX, &depth,
				    err);
		if (ret)
			return ret;
		ex.depth = depth;
	}
	if (!strcmp(ex.file, "-") && cli->format == CLI_FORMAT_JSON)
		return cli_usage(cli, err,
				 "'volume export' to stdout ('-') cannot also print JSON there");
	cli_aio_init(&ex.aio);
	ret = cli_data_open(cli, ex.spec, &ex.cluster, &ex.vol, err);
	if (ret)
		goto out;
	ret = basalt_stat(ex.vol, &st);
	if (ret) {
		bs_error_set(err, ret, "cannot stat volume '%s': %s", ex.spec,
			     basalt_get_error());
		goto out;
	}
	ex.size = st.size;
	ret = basalt_block_status(ex.vol, 0, ex.size, collect_extent, &ex);
	if (ret < 0) {
		bs_error_set(err, ret,
			     "cannot read the allocation map of volume '%s': %s",
			     ex.spec, basalt_get_error());
		goto out;
	}
	ret = open_target(&ex, a, err);
	if (!ret)
		ret = copy(&ex, err);
	if (!ret && ex.fd != STDOUT_FILENO && close(ex.fd) == -1)
		ret = bs_error_errno(err, -errno, "cannot write '%s'", ex.file);
	if (ex.fd != STDOUT_FILENO)
		ex.fd = -1;
out:
	cli_data_close(&ex.cluster, &ex.vol);
	cli_aio_release(&ex.aio);
	if (ex.fd > STDOUT_FILENO)
		close(ex.fd);
	if (ret && ex.created)
		unlink(ex.file);
	free(ex.ext);
	if (ret)
		return ret;
	if (!strcmp(ex.file, "-"))
		return 0;
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_str(&j, "volume", ex.spec);
		json_kv_str(&j, "file", ex.file);
		json_kv_u64(&j, "size", ex.size);
		json_kv_u64(&j, "used", ex.used);
		json_kv_u64(&j, "bytes_written", ex.written);
		json_kv_u64(&j, "elapsed_ms", bs_now_ms() - start);
		json_obj_end(&j);
		json_end(&j);
	} else {
		fprintf(cli->out,
			"exported volume '%s' to '%s': %s (%s allocated)\n",
			ex.spec, ex.file,
			bs_format_size(ex.size, size, sizeof(size)),
			format_bytes(ex.used, used, sizeof(used)));
	}
	return 0;
}
