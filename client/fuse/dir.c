// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-fuse: the directory of pools and volumes, listed through the mon
 * client (bs_monc) and kept for BFS_DIR_TTL_MS, so that "ls -l" of a pool
 * asks the mons once, not once per file.
 */
#include <errno.h>
#include <string.h>

#include "bs/conf.h"
#include "bs/log.h"
#include "bs/monc.h"

#include "bfuse.h"

#define DIR_MONC_TIMEOUT_MS	5000

int bfs_dir_init(struct bfs_dir *dir, const char *conf_path,
		 struct bs_error *err)
{
	struct bs_conf *conf = NULL;
	char **addrs = NULL;
	unsigned int n = 0;
	int ret;

	memset(dir, 0, sizeof(*dir));
	ret = bs_conf_load(&conf, bs_conf_default_path(conf_path), err);
	if (ret)
		return ret;
	ret = bs_monc_conf_addrs(conf, &addrs, &n, err);
	bs_conf_free(&conf);
	if (ret)
		return ret;
	ret = bs_monc_new(&dir->monc, NULL, (const char *const *)addrs, n,
			  err);
	bs_monc_addrs_free(&addrs);
	if (ret)
		return ret;
	bs_monc_set_timeout(dir->monc, DIR_MONC_TIMEOUT_MS);
	ret = pthread_mutex_init(&dir->lock, NULL);
	if (ret) {
		bs_monc_free(&dir->monc);
		return bs_error_errno(err, -ret, "cannot create a mutex");
	}
	return 0;
}

void bfs_dir_release(struct bfs_dir *dir)
{
	if (!dir->monc)
		return;
	if (dir->vols)
		bs__volume_list__free_unpacked(dir->vols, NULL);
	if (dir->map)
		bs__cluster_map__free_unpacked(dir->map, NULL);
	bs_monc_free(&dir->monc);
	pthread_mutex_destroy(&dir->lock);
	memset(dir, 0, sizeof(*dir));
}

static int refresh_locked(struct bfs_dir *dir, bool force,
			  struct bs_error *err)
{
	Bs__VolumeList *vols = NULL;
	Bs__ClusterMap *map = NULL;
	uint64_t now = bs_now_ms();
	int ret;

	if (!force && dir->fetched_ms &&
	    now - dir->fetched_ms < BFS_DIR_TTL_MS)
		return 0;
	ret = bs_monc_get_map_sync(dir->monc, &map, err);
	if (ret)
		return ret;
	ret = bs_monc_volumes_sync(dir->monc, NULL, NULL, &vols, err);
	if (ret) {
		bs__cluster_map__free_unpacked(map, NULL);
		return ret;
	}
	if (dir->vols)
		bs__volume_list__free_unpacked(dir->vols, NULL);
	if (dir->map)
		bs__cluster_map__free_unpacked(dir->map, NULL);
	dir->vols = vols;
	dir->map = map;
	dir->fetched_ms = bs_now_ms();
	return 0;
}

/* Refresh if due; a failure is logged and the last good list kept. */
static void refresh_quietly(struct bfs_dir *dir)
{
	struct bs_error err = { 0 };
	int ret;

	ret = refresh_locked(dir, false, &err);
	if (ret) {
		bs_warn("cannot list volumes: %s", err.msg);
		/* Do not ask again on every call while the mons are away. */
		dir->fetched_ms = bs_now_ms();
	}
}

int bfs_dir_refresh(struct bfs_dir *dir, bool force, struct bs_error *err)
{
	int ret;

	pthread_mutex_lock(&dir->lock);
	ret = refresh_locked(dir, force, err);
	pthread_mutex_unlock(&dir->lock);
	return ret;
}

void bfs_dir_mark_stale(struct bfs_dir *dir)
{
	pthread_mutex_lock(&dir->lock);
	dir->fetched_ms = 0;
	pthread_mutex_unlock(&dir->lock);
}

static bool has_pool_locked(struct bfs_dir *dir, const char *pool)
{
	size_t i;

	if (!dir->map)
		return false;
	for (i = 0; i < dir->map->n_pools; i++)
		if (!strcmp(dir->map->pools[i]->name, pool))
			return true;
	return false;
}

bool bfs_dir_has_pool(struct bfs_dir *dir, const char *pool)
{
	bool found;

	pthread_mutex_lock(&dir->lock);
	refresh_quietly(dir);
	found = has_pool_locked(dir, pool);
	pthread_mutex_unlock(&dir->lock);
	return found;
}

static const Bs__Volume *find_locked(struct bfs_dir *dir, const char *pool,
				     const char *name)
{
	size_t i;

	if (!dir->vols)
		return NULL;
	for (i = 0; i < dir->vols->n_volumes; i++) {
		const Bs__Volume *v = dir->vols->volumes[i];

		if (!strcmp(v->pool, pool) && !strcmp(v->name, name))
			return v;
	}
	return NULL;
}

int bfs_dir_volume(struct bfs_dir *dir, const char *pool, const char *name,
		   struct bfs_vol_info *info)
{
	const Bs__Volume *v;

	pthread_mutex_lock(&dir->lock);
	refresh_quietly(dir);
	v = find_locked(dir, pool, name);
	if (v) {
		info->size = v->size;
		info->created_us = v->created_us;
	}
	pthread_mutex_unlock(&dir->lock);
	return v ? 0 : -ENOENT;
}

int bfs_dir_list(struct bfs_dir *dir, const char *pool, bfs_dir_fn *fn,
		 void *opaque)
{
	struct bfs_vol_info info;
	int ret = 0;
	size_t i;

	pthread_mutex_lock(&dir->lock);
	refresh_quietly(dir);
	if (!pool) {
		for (i = 0; !ret && dir->map && i < dir->map->n_pools; i++)
			ret = fn(opaque, dir->map->pools[i]->name, NULL);
		goto out_unlock;
	}
	if (!has_pool_locked(dir, pool)) {
		ret = -ENOENT;
		goto out_unlock;
	}
	for (i = 0; !ret && dir->vols && i < dir->vols->n_volumes; i++) {
		const Bs__Volume *v = dir->vols->volumes[i];

		if (strcmp(v->pool, pool))
			continue;
		info.size = v->size;
		info.created_us = v->created_us;
		ret = fn(opaque, v->name, &info);
	}
out_unlock:
	pthread_mutex_unlock(&dir->lock);
	return ret;
}
