// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI's use of libbasalt, for the commands that move data (volume
 * import/export/info, bench): connect to the same cluster the CLI talks
 * to and open a volume, with the CLI's kind of error messages.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basalt.h"
#include "bs/conf.h"

#include "cli.h"

/*
 * libbasalt reads a config file; with -m ADDRS the CLI has none, so it
 * writes one naming those mons.  Returns the path to use (or NULL for the
 * default) and sets *tmp when the file is temporary.
 */
static int conf_for_lib(struct cli *cli, char *tmp, size_t len,
			const char **path, struct bs_error *err)
{
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd;

	tmp[0] = '\0';
	if (!cli->mon_host) {
		*path = bs_conf_default_path(cli->conf_path);
		if (access(*path, R_OK))
			return bs_error_errno(err, -errno,
					      "cannot read config '%s' (use -c FILE, $BASALT_CONF or -m HOST:PORT)",
					      *path);
		return 0;
	}
	snprintf(tmp, len, "%s/basalt-cli.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(tmp);
	if (fd == -1)
		return bs_error_errno(err, -errno, "cannot create '%s'", tmp);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return bs_error_errno(err, -ENOMEM, "cannot write '%s'", tmp);
	}
	fprintf(f, "[global]\nmon_host = %s\n", cli->mon_host);
	if (fclose(f)) {
		unlink(tmp);
		return bs_error_errno(err, -EIO, "cannot write '%s'", tmp);
	}
	*path = tmp;
	return 0;
}

int cli_data_open(struct cli *cli, const char *spec,
		  struct basalt_cluster **cluster, struct basalt_volume **vol,
		  struct bs_error *err)
{
	const char *path = NULL, *slash, *pname, *vname;
	Bs__VolumeList *list = NULL;
	char tmp[4096], name[300];
	int ret;

	*cluster = NULL;
	*vol = NULL;
	/*
	 * Ask the mons first: an unreachable cluster or a missing volume is
	 * then reported as quickly, and in the same words, as by the other
	 * commands.
	 */
	ret = cli_split_volume(cli, spec, name, sizeof(name), &pname, &vname,
			       err);
	if (!ret)
		ret = cli_volumes(cli, pname, vname, &list, err);
	if (!ret && list->n_volumes != 1)
		ret = bs_error_set(err, -ENOENT,
				   "volume '%s' does not exist (see 'basalt volume ls %s')",
				   spec, pname);
	bs__volume_list__free_unpacked(list, NULL);
	if (!ret)
		ret = cli_check_pgs(cli, pname, err);
	if (ret)
		return ret;
	ret = conf_for_lib(cli, tmp, sizeof(tmp), &path, err);
	if (ret)
		return ret;
	ret = basalt_connect(path, cluster);
	if (tmp[0])
		unlink(tmp);
	if (ret)
		return bs_error_set(err, ret, "%s", basalt_get_error());
	ret = basalt_open(*cluster, spec, vol);
	if (ret) {
		slash = strchr(spec, '/');
		if (ret == -ENOENT && slash)
			bs_error_set(err, ret,
				     "volume '%s' does not exist (see 'basalt volume ls %.*s')",
				     spec, (int)(slash - spec), spec);
		else
			bs_error_set(err, ret, "cannot open volume '%s': %s",
				     spec, basalt_get_error());
		basalt_disconnect(*cluster);
		*cluster = NULL;
		return ret;
	}
	return 0;
}

void cli_data_close(struct basalt_cluster **cluster,
		    struct basalt_volume **vol)
{
	if (*vol)
		basalt_close(*vol);
	*vol = NULL;
	if (*cluster)
		basalt_disconnect(*cluster);
	*cluster = NULL;
}

static int add_extent(void *opaque, uint64_t off, uint64_t len,
		      int allocated)
{
	uint64_t *used = opaque;

	if (allocated)
		*used += len;
	return 0;
}

int cli_data_used(struct basalt_volume *vol, uint64_t size, uint64_t *used,
		  struct bs_error *err)
{
	int ret;

	*used = 0;
	ret = basalt_block_status(vol, 0, size, add_extent, used);
	if (ret < 0)
		return bs_error_set(err, ret, "cannot read the allocation map: %s",
				    basalt_get_error());
	return 0;
}

/* ---- asynchronous I/O in slots ---- */

void cli_aio_init(struct cli_aio *aio)
{
	pthread_mutex_init(&aio->lock, NULL);
	pthread_cond_init(&aio->cond, NULL);
	aio->error = 0;
	aio->error_off = 0;
}

void cli_aio_release(struct cli_aio *aio)
{
	pthread_cond_destroy(&aio->cond);
	pthread_mutex_destroy(&aio->lock);
}

/* basalt_completion_fn: @opaque is the slot; runs on the library thread. */
void cli_aio_done(void *opaque, ssize_t res)
{
	struct cli_aio_slot *s = opaque;
	struct cli_aio *aio = s->aio;

	pthread_mutex_lock(&aio->lock);
	if (res < 0 && !aio->error) {
		aio->error = (int)res;
		aio->error_off = s->off;
	}
	s->pending--;
	if (!s->pending)
		pthread_cond_broadcast(&aio->cond);
	pthread_mutex_unlock(&aio->lock);
}

void cli_aio_hold(struct cli_aio_slot *s)
{
	pthread_mutex_lock(&s->aio->lock);
	s->pending++;
	pthread_mutex_unlock(&s->aio->lock);
}

int cli_aio_wait(struct cli_aio_slot *s)
{
	struct cli_aio *aio = s->aio;
	int ret;

	pthread_mutex_lock(&aio->lock);
	while (s->pending)
		pthread_cond_wait(&aio->cond, &aio->lock);
	ret = aio->error;
	pthread_mutex_unlock(&aio->lock);
	return ret;
}

int cli_aio_error(struct cli_aio *aio, uint64_t *off)
{
	int ret;

	pthread_mutex_lock(&aio->lock);
	ret = aio->error;
	if (off)
		*off = aio->error_off;
	pthread_mutex_unlock(&aio->lock);
	return ret;
}
