// SPDX-License-Identifier: Apache-2.0
/*
 * fio ioengine "basalt": drives a Basalt volume through libbasalt's
 * asynchronous API, like fio's own rbd engine does with librbd.
 *
 *   fio --ioengine=external:build/lib/libfio_basalt.so \
 *       --conf=basalt.conf --pool=rbd --volume=vm1 ...
 *
 * ->queue() hands each io_u to basalt_aio_*(); the buffer is fio's,
 * borrowed by libbasalt until the completion runs.  Completions arrive on
 * libbasalt's I/O thread and are pushed into a ring per fio job, guarded
 * by a mutex and a condition variable, from which ->getevents() reaps.
 * Built against the headers of the installed fio
 * (scripts/fetch-fio-headers.sh); see docs/fio.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fio.h"
#include "optgroup.h"

#include "basalt.h"
#include "completion_ring.h"

struct bfio_options {
	void *pad;		/* fio: no option may be at offset 0 */
	char *conf;
	char *pool;
	char *volume;
};

static struct fio_option options[] = {
	{
		.name		= "conf",
		.lname		= "basalt configuration file",
		.type		= FIO_OPT_STR_STORE,
		.off1		= offsetof(struct bfio_options, conf),
		.help		= "Basalt configuration file (default: $BASALT_CONF, else /etc/basalt/basalt.conf)",
		.category	= FIO_OPT_C_ENGINE,
		.group		= FIO_OPT_G_INVALID,
	},
	{
		.name		= "pool",
		.lname		= "basalt pool",
		.type		= FIO_OPT_STR_STORE,
		.off1		= offsetof(struct bfio_options, pool),
		.help		= "Pool of the volume (or give volume=POOL/NAME)",
		.category	= FIO_OPT_C_ENGINE,
		.group		= FIO_OPT_G_INVALID,
	},
	{
		.name		= "volume",
		.lname		= "basalt volume",
		.type		= FIO_OPT_STR_STORE,
		.off1		= offsetof(struct bfio_options, volume),
		.help		= "Volume to drive: NAME with pool=, or POOL/NAME",
		.category	= FIO_OPT_C_ENGINE,
		.group		= FIO_OPT_G_INVALID,
	},
	{
		.name		= NULL,
	},
};

/*
 * Per fio job.  Invariant: at most iodepth io_us are queued and not yet
 * reaped (@inflight), so the ring of completed ones (room for iodepth)
 * never overflows.  @inflight and @events belong to the job's thread.
 */
struct bfio_data {
	struct basalt_cluster *cluster;
	struct basalt_volume *vol;
	char name[512];			/* "POOL/NAME" */
	struct completion_ring done;	/* filled on libbasalt's thread */
	void **events;			/* io_us the last getevents() reaped */
	unsigned int depth, inflight;
};

static int bfio_name(struct thread_data *td, char *buf, size_t len)
{
	struct bfio_options *o = td->eo;
	int n;

	if (!o->volume || !*o->volume) {
		log_err("fio: basalt: the 'volume' option is missing (volume=POOL/NAME, or pool=POOL volume=NAME)\n");
		return -EINVAL;
	}
	if (o->pool && *o->pool)
		n = snprintf(buf, len, "%s/%s", o->pool, o->volume);
	else if (strchr(o->volume, '/'))
		n = snprintf(buf, len, "%s", o->volume);
	else {
		log_err("fio: basalt: volume '%s' names no pool (add pool=POOL or write volume=POOL/NAME)\n",
			o->volume);
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= len) {
		log_err("fio: basalt: volume name '%s' is too long\n",
			o->volume);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* The job's data, allocated by whichever of setup/init/io_u_init is first. */
static struct bfio_data *bfio_data_get(struct thread_data *td)
{
	struct bfio_data *d = td->io_ops_data;

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->depth = td->o.iodepth ? td->o.iodepth : 1;
	d->events = calloc(d->depth, sizeof(*d->events));
	if (!d->events)
		goto out_free;
	if (bfio_name(td, d->name, sizeof(d->name)))
		goto out_free;
	if (completion_ring_init(&d->done, d->depth))
		goto out_free;
	td->io_ops_data = d;
	return d;

out_free:
	free(d->events);
	free(d);
	return NULL;
}

static int bfio_open(struct bfio_data *d, const char *conf)
{
	int ret;

	ret = basalt_connect(conf, &d->cluster);
	if (ret < 0) {
		log_err("fio: basalt: cannot connect to the cluster: %s\n",
			basalt_get_error());
		return ret;
	}
	ret = basalt_open(d->cluster, d->name, &d->vol);
	if (ret < 0) {
		log_err("fio: basalt: cannot open volume '%s': %s\n", d->name,
			basalt_get_error());
		basalt_disconnect(d->cluster);
		d->cluster = NULL;
		return ret;
	}
	return 0;
}

static void bfio_close(struct bfio_data *d)
{
	if (d->vol) {
		basalt_close(d->vol);
		d->vol = NULL;
	}
	if (d->cluster) {
		basalt_disconnect(d->cluster);
		d->cluster = NULL;
	}
}

/*
 * Runs in fio's main process (or the job's thread when
 * create_serialize=0): find the volume's size.  The connection is closed
 * again, since libbasalt's I/O thread would not survive fio forking the
 * job; ->init() opens the volume where the job runs.
 */
static int bfio_setup(struct thread_data *td)
{
	struct bfio_options *o = td->eo;
	struct bfio_data *d = bfio_data_get(td);
	struct basalt_stat st;
	struct fio_file *f;
	int ret;

	if (!d)
		return 1;
	if (strcmp(fio_version_string, BASALT_FIO_BUILT_FOR)) {
		log_err("fio: basalt: this engine was built for %s but runs in %s: rebuild it (scripts/fetch-fio-headers.sh)\n",
			BASALT_FIO_BUILT_FOR, fio_version_string);
		return 1;
	}
	if (d->vol) {
		ret = basalt_stat(d->vol, &st);
	} else {
		ret = bfio_open(d, o->conf);
		if (ret < 0)
			return 1;
		ret = basalt_stat(d->vol, &st);
		bfio_close(d);
	}
	if (ret < 0) {
		log_err("fio: basalt: cannot stat volume '%s': %s\n", d->name,
			basalt_get_error());
		return 1;
	}
	if (!st.size) {
		log_err("fio: basalt: volume '%s' has size 0\n", d->name);
		return 1;
	}

	/* A pretend file of the volume's size, as the rbd engine does. */
	if (!td->files_index) {
		add_file(td, td->o.filename ? td->o.filename : d->name, 0, 0);
		td->o.nr_files = td->o.nr_files ? td->o.nr_files : 1;
		td->o.open_files++;
	}
	f = td->files[0];
	f->real_file_size = st.size;
	return 0;
}

/* Runs where the job runs: connect and open the volume. */
static int bfio_init(struct thread_data *td)
{
	struct bfio_options *o = td->eo;
	struct bfio_data *d = bfio_data_get(td);

	if (!d)
		return 1;
	if (d->vol)
		return 0;
	return bfio_open(d, o->conf) < 0;
}

static void bfio_cleanup(struct thread_data *td)
{
	struct bfio_data *d = td->io_ops_data;

	if (!d)
		return;
	/* Waits for every request in flight: no callback runs after. */
	bfio_close(d);
	completion_ring_release(&d->done);
	free(d->events);
	free(d);
	td->io_ops_data = NULL;
}

static int bfio_io_u_init(struct thread_data *td, struct io_u *io_u)
{
	struct bfio_data *d = bfio_data_get(td);

	if (!d)
		return 1;
	io_u->engine_data = d;
	return 0;
}

/* libbasalt's thread: record the result and hand the io_u to the job. */
static void bfio_complete(void *opaque, ssize_t res)
{
	struct io_u *io_u = opaque;
	struct bfio_data *d = io_u->engine_data;

	if (res < 0) {
		io_u->error = (unsigned int)-res;
		io_u->resid = io_u->xfer_buflen;
	} else {
		io_u->error = 0;
		io_u->resid = 0;
		if ((io_u->ddir == DDIR_READ || io_u->ddir == DDIR_WRITE) &&
		    (unsigned long long)res < io_u->xfer_buflen)
			io_u->resid = io_u->xfer_buflen - (unsigned long long)res;
	}
	/* Cannot fail: see the invariant of struct bfio_data. */
	completion_ring_push(&d->done, io_u);
}

static enum fio_q_status bfio_queue(struct thread_data *td, struct io_u *io_u)
{
	struct bfio_data *d = td->io_ops_data;
	int ret;

	fio_ro_check(td, io_u);

	if (d->inflight >= d->depth) {
		/* fio never queues more than iodepth: cannot happen. */
		io_u->error = EBUSY;
		return FIO_Q_COMPLETED;
	}
	switch (io_u->ddir) {
	case DDIR_READ:
		ret = basalt_aio_read(d->vol, io_u->xfer_buf,
				      io_u->xfer_buflen, io_u->offset,
				      bfio_complete, io_u);
		break;
	case DDIR_WRITE:
		ret = basalt_aio_write(d->vol, io_u->xfer_buf,
				       io_u->xfer_buflen, io_u->offset,
				       bfio_complete, io_u);
		break;
	case DDIR_TRIM:
		ret = basalt_aio_discard(d->vol, io_u->offset,
					 io_u->xfer_buflen, bfio_complete,
					 io_u);
		break;
	case DDIR_SYNC:
	case DDIR_DATASYNC:
	case DDIR_SYNC_FILE_RANGE:
		ret = basalt_aio_flush(d->vol, bfio_complete, io_u);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret < 0) {
		io_u->error = (unsigned int)-ret;
		io_u->resid = io_u->xfer_buflen;
		td_verror(td, io_u->error, "xfer");
		return FIO_Q_COMPLETED;
	}
	d->inflight++;
	return FIO_Q_QUEUED;
}

/* Wait for at least @min completions (at most until @t), reap <= @max. */
static int bfio_getevents(struct thread_data *td, unsigned int min,
			  unsigned int max, const struct timespec *t)
{
	struct bfio_data *d = td->io_ops_data;
	unsigned int n;

	if (max > d->depth)
		max = d->depth;
	n = completion_ring_pop(&d->done, d->events, min, max, t);
	d->inflight -= n;
	return (int)n;
}

static struct io_u *bfio_event(struct thread_data *td, int event)
{
	struct bfio_data *d = td->io_ops_data;

	return d->events[event];
}

static int bfio_open_file(struct thread_data *td, struct fio_file *f)
{
	return 0;
}

static int bfio_invalidate(struct thread_data *td, struct fio_file *f)
{
	return 0;	/* libbasalt keeps no cache */
}

/* fio finds this by name after dlopen(ioengine=external:PATH). */
struct ioengine_ops ioengine = {
	.name			= "basalt",
	.version		= FIO_IOOPS_VERSION,
	.flags			= FIO_DISKLESSIO | FIO_NOEXTEND | FIO_NODISKUTIL,
	.setup			= bfio_setup,
	.init			= bfio_init,
	.cleanup		= bfio_cleanup,
	.queue			= bfio_queue,
	.getevents		= bfio_getevents,
	.event			= bfio_event,
	.open_file		= bfio_open_file,
	.invalidate		= bfio_invalidate,
	.io_u_init		= bfio_io_u_init,
	.options		= options,
	.option_struct_size	= sizeof(struct bfio_options),
};
