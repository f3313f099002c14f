// SPDX-License-Identifier: Apache-2.0
/*
 * basalt volume import FILE POOL/NAME: create a volume of the file's size
 * (rounded up to 512 bytes) and copy the file into it, as 'rbd import'
 * does: the file is read in 4 MiB chunks and only the 4 KiB blocks that
 * are not all zero are written (the volume is thin: the rest reads back
 * as zeros), with several chunks' writes in flight through libbasalt's
 * asynchronous calls.  On failure the new volume is removed again.
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

#define VOLUME_SPEC_MAX	300
#define SECTOR		512u
#define CHUNK		(4u << 20)	/* read from the file at a time */
#define BLOCK		4096u		/* zero detection granularity */
#define DEPTH_DEFAULT	8		/* chunks in flight */
#define DEPTH_MAX	64

struct import {
	struct cli *cli;
	const char *file, *spec;
	int fd;
	bool is_stdin;
	uint64_t file_size;		/* bytes to read: all of a file */
	uint64_t size;			/* of the volume */
	uint64_t written, read;
	struct basalt_cluster *cluster;
	struct basalt_volume *vol;
	struct cli_aio aio;
	struct cli_aio_slot *slots;
	unsigned depth;
	struct progress prog;
};

/* Open FILE (or "-") and find its size; nothing is created yet. */
static int open_source(struct import *im, struct bs_error *err)
{
	struct stat st;
	off_t end;

	if (!strcmp(im->file, "-")) {
		im->fd = STDIN_FILENO;
		im->is_stdin = true;
		return 0;
	}
	im->fd = open(im->file, O_RDONLY | O_CLOEXEC);
	if (im->fd == -1)
		return bs_error_errno(err, -errno, "cannot open '%s'",
				      im->file);
	if (fstat(im->fd, &st) == -1)
		return bs_error_errno(err, -errno, "cannot stat '%s'",
				      im->file);
	if (S_ISDIR(st.st_mode))
		return bs_error_set(err, -EISDIR,
				    "'%s' is a directory: give a file or a block device",
				    im->file);
	if (S_ISREG(st.st_mode)) {
		im->file_size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		end = lseek(im->fd, 0, SEEK_END);
		if (end == -1 || lseek(im->fd, 0, SEEK_SET) == -1)
			return bs_error_errno(err, -errno,
					      "cannot find the size of '%s'",
					      im->file);
		im->file_size = (uint64_t)end;
	} else {
		/* A pipe or the like: read it as a stream, like stdin. */
		im->is_stdin = true;
	}
	return 0;
}

/* The volume size: the file's rounded up to 512, or --size. */
static int choose_size(struct import *im, const struct cli_args *a,
		       struct bs_error *err)
{
	const char *v = cli_opt(a, "--size");
	char fsz[32];
	int ret;

	if (v) {
		ret = bs_parse_size("--size", v, &im->size, err);
		if (ret)
			return ret;
		if (im->size == 0 || im->size % SECTOR)
			return bs_error_set(err, -EINVAL,
					    "'--size': '%s' must be a positive multiple of 512 bytes",
					    v);
		if (!im->is_stdin && im->size < im->file_size)
			return bs_error_set(err, -EINVAL,
					    "'--size': '%s' is smaller than '%s' (%s, %" PRIu64 " bytes)",
					    v, im->file,
					    format_bytes(im->file_size, fsz,
							 sizeof(fsz)),
					    im->file_size);
		return 0;
	}
	if (im->is_stdin)
		return cli_usage(im->cli, err,
				 "'volume import': reading from a stream ('%s') needs --size SIZE",
				 im->file);
	if (im->file_size == 0)
		return bs_error_set(err, -EINVAL,
				    "'%s' is empty: a volume needs a size (use --size SIZE)",
				    im->file);
	im->size = BS_ALIGN_UP(im->file_size, SECTOR);
	return 0;
}

static int create_volume(struct import *im, const char *pool,
			 const char *name, const struct cli_args *a,
			 struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeCreate vc = BS__VOLUME_CREATE__INIT;
	Bs__MonCommandReply *reply = NULL;
	const char *v = cli_opt(a, "--object-size");
	uint64_t osize;
	int ret;

	if (v) {
		ret = bs_parse_size("--object-size", v, &osize, err);
		if (ret)
			return ret;
		if (osize < 4096 || osize > (64u << 20) ||
		    (osize & (osize - 1)))
			return bs_error_set(err, -EINVAL,
					    "'--object-size': '%s' must be a power of two from 4K to 64M",
					    v);
		vc.object_size = (uint32_t)osize;
	}
	vc.pool = (char *)pool;
	vc.name = (char *)name;
	vc.size = im->size;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_CREATE;
	cmd.volume_create = &vc;
	ret = cli_command(im->cli, &cmd, &reply, err);
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return ret;
}

/* Remove the volume a failed import created; adds the outcome to @err. */
static void remove_volume(struct import *im, const char *pool,
			  const char *name, struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeRm rm = BS__VOLUME_RM__INIT;
	Bs__MonCommandReply *reply = NULL;
	struct bs_error e = { 0 };
	size_t len = strlen(err->msg);

	rm.pool = (char *)pool;
	rm.name = (char *)name;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_RM;
	cmd.volume_rm = &rm;
	if (cli_command(im->cli, &cmd, &reply, &e) == 0)
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 " (volume '%s' removed)", im->spec);
	else
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 " (volume '%s' is left partly written: remove it with 'basalt volume rm %s')",
			 im->spec, im->spec);
	bs__mon_command_reply__free_unpacked(reply, NULL);
}

/* Fill @buf with up to @len bytes of the source; returns the count. */
static ssize_t read_chunk(struct import *im, uint8_t *buf, size_t len,
			  struct bs_error *err)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (im->is_stdin)
			n = read(im->fd, buf + got, len - got);
		else
			n = pread(im->fd, buf + got, len - got,
				  (off_t)(im->read + got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return bs_error_errno(err, -errno, "cannot read '%s'",
					      im->file);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Write the non-zero runs of slot @s (already read) asynchronously. */
static void submit_slot(struct import *im, struct cli_aio_slot *s)
{
	size_t pos = 0, run;
	int ret;

	cli_aio_hold(s);	/* the slot is busy until every run is sent */
	while (cli_find_data(s->buf, s->len, BLOCK, &pos, &run)) {
		cli_aio_hold(s);
		ret = basalt_aio_write(im->vol, s->buf + pos, run, s->off + pos,
				       cli_aio_done, s);
		if (ret < 0) {
			cli_aio_done(s, ret);
			break;
		}
		im->written += run;
		pos += run;
	}
	cli_aio_done(s, 0);
}

static int copy(struct import *im, struct bs_error *err)
{
	struct cli_aio_slot *s;
	uint64_t fail_off;
	unsigned k = 0, i;
	ssize_t n;
	size_t want;
	int ret = 0;

	im->slots = bs_xcalloc(im->depth, sizeof(*im->slots));
	for (i = 0; i < im->depth; i++) {
		im->slots[i].aio = &im->aio;
		im->slots[i].buf = bs_xmalloc(CHUNK);
	}
	progress_init(&im->prog, "Importing", im->size);
	while (im->read < im->size) {
		s = &im->slots[k++ % im->depth];
		ret = cli_aio_wait(s);
		if (ret)
			break;
		want = (size_t)BS_MIN((uint64_t)CHUNK, im->size - im->read);
		n = read_chunk(im, s->buf, want, err);
		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (n == 0)
			break;	/* the file ended: the rest stays a hole */
		/* The tail of a file that is not whole sectors: zeros. */
		s->len = BS_MIN(BS_ALIGN_UP((uint64_t)n, SECTOR),
				im->size - im->read);
		memset(s->buf + n, 0, s->len - (size_t)n);
		s->off = im->read;
		im->read += (uint64_t)n;
		submit_slot(im, s);
		progress_update(&im->prog, im->read);
		if ((size_t)n < want)
			break;
	}
	for (i = 0; i < im->depth; i++) {
		int r = cli_aio_wait(&im->slots[i]);

		if (!ret)
			ret = r;
	}
	if (!ret) {
		ret = basalt_flush(im->vol);
		if (ret < 0)
			bs_error_set(err, ret, "cannot flush volume '%s': %s",
				     im->spec, basalt_get_error());
	} else if (!err->msg[0]) {
		cli_aio_error(&im->aio, &fail_off);
		bs_error_set(err, ret,
			     "cannot write volume '%s' at offset %" PRIu64 ": %s",
			     im->spec, fail_off, strerror(-ret));
	}
	progress_end(&im->prog, ret == 0);
	for (i = 0; i < im->depth; i++)
		free(im->slots[i].buf);
	bs_free(&im->slots);
	return ret;
}

/* A stream longer than the volume is an error, not a silent cut. */
static int check_stream_end(struct import *im, struct bs_error *err)
{
	uint8_t c;
	ssize_t n;

	if (!im->is_stdin || im->read < im->size)
		return 0;
	do {
		n = read(im->fd, &c, 1);
	} while (n == -1 && errno == EINTR);
	if (n == 1)
		return bs_error_set(err, -EFBIG,
				    "'%s' is longer than --size (%" PRIu64 " bytes)",
				    im->file, im->size);
	return 0;
}

int volume_import(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err)
{
	struct import im = { .cli = cli, .fd = -1, .depth = DEPTH_DEFAULT };
	const char *pool, *name, *v;
	char spec[VOLUME_SPEC_MAX], size[32], wr[32];
	uint64_t start = bs_now_ms();
	uint32_t depth;
	struct json j;
	int ret;

	im.file = a->pos[0];
	im.spec = a->pos[1];
	ret = cli_split_volume(cli, im.spec, spec, sizeof(spec), &pool, &name,
			       err);
	if (ret)
		return ret;
	v = cli_opt(a, "--iodepth");
	if (v) {
		ret = cli_parse_u32(cli, "--iodepth", v, 1, DEPTH_MAX, &depth,
				    err);
		if (ret)
			return ret;
		im.depth = depth;
	}
	ret = open_source(&im, err);
	if (!ret)
		ret = choose_size(&im, a, err);
	if (!ret)
		ret = cli_check_pgs(cli, pool, err);
	if (!ret)
		ret = create_volume(&im, pool, name, a, err);
	if (ret)
		goto out_close;
	cli_aio_init(&im.aio);
	ret = cli_data_open(cli, im.spec, &im.cluster, &im.vol, err);
	if (!ret)
		ret = copy(&im, err);
	if (!ret)
		ret = check_stream_end(&im, err);
	cli_data_close(&im.cluster, &im.vol);
	cli_aio_release(&im.aio);
	if (ret) {
		remove_volume(&im, pool, name, err);
		goto out_close;
	}
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_str(&j, "volume", im.spec);
		json_kv_str(&j, "file", im.file);
		json_kv_u64(&j, "size", im.size);
		json_kv_u64(&j, "bytes_read", im.read);
		json_kv_u64(&j, "bytes_written", im.written);
		json_kv_u64(&j, "elapsed_ms", bs_now_ms() - start);
		json_obj_end(&j);
		json_end(&j);
	} else {
		fprintf(cli->out,
			"imported '%s' into volume '%s': %s, %s written (the rest is zeros, not stored)\n",
			im.file, im.spec,
			bs_format_size(im.size, size, sizeof(size)),
			format_bytes(im.written, wr, sizeof(wr)));
	}
out_close:
	if (im.fd > STDIN_FILENO)
		close(im.fd);
	return ret;
}
