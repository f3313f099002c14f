/* SPDX-License-Identifier: Apache-2.0 */
/*
 * basalt-fuse: every volume of a Basalt cluster as a regular file
 * MOUNTPOINT/POOL/NAME, served by libbasalt.  Shared state and the
 * prototypes of the files of client/fuse/.
 */
#ifndef BS_CLIENT_FUSE_BFUSE_H
#define BS_CLIENT_FUSE_BFUSE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bs/error.h"

struct bs_monc;
struct Bs__VolumeList;
struct Bs__ClusterMap;
struct basalt_cluster;

#define BFS_NAME_MAX	255	/* longest pool or volume name we accept */
#define BFS_DIR_TTL_MS	1000	/* list volumes again after this long */

/*
 * The directory of pools and volumes, as the mons last listed it.
 * Refreshed at most every BFS_DIR_TTL_MS (sooner when marked stale); on a
 * failed refresh the last good list stays.  Every field under @lock,
 * which also serialises the use of @monc (its *_sync() calls run its own
 * loop on the calling thread).
 */
struct bfs_dir {
	pthread_mutex_t lock;
	struct bs_monc *monc;
	struct Bs__ClusterMap *map;	/* pools, including empty ones */
	struct Bs__VolumeList *vols;
	uint64_t fetched_ms;		/* 0: never, or marked stale */
};

/* What getattr needs to know about one volume. */
struct bfs_vol_info {
	uint64_t size;
	uint64_t created_us;
};

/* The mounted file system: fuse's private_data. */
struct bfs {
	const char *conf_path;		/* -c FILE, or NULL for the default */
	struct basalt_cluster *cluster;
	struct bfs_dir dir;
	uid_t uid;
	gid_t gid;
	time_t mount_time;
};

/* dir.c */
int bfs_dir_init(struct bfs_dir *dir, const char *conf_path,
		 struct bs_error *err);
void bfs_dir_release(struct bfs_dir *dir);
/* Fetch now unless the list is younger than BFS_DIR_TTL_MS. */
int bfs_dir_refresh(struct bfs_dir *dir, bool force, struct bs_error *err);
/* Make the next lookup ask the mons (after a resize). */
void bfs_dir_mark_stale(struct bfs_dir *dir);
bool bfs_dir_has_pool(struct bfs_dir *dir, const char *pool);
/* 0 and *info, or -ENOENT. */
int bfs_dir_volume(struct bfs_dir *dir, const char *pool, const char *name,
		   struct bfs_vol_info *info);
/*
 * Call @fn for every pool (@pool NULL) or every volume of @pool, under
 * the lock: @fn must not call back into the directory.  Stops at @fn's
 * first non-zero return, which it returns.
 */
typedef int bfs_dir_fn(void *opaque, const char *name,
		       const struct bfs_vol_info *info);
int bfs_dir_list(struct bfs_dir *dir, const char *pool, bfs_dir_fn *fn,
		 void *opaque);

/* path.c */
/*
 * Split "/POOL/NAME" into @pool and @name (each BFS_NAME_MAX + 1 bytes):
 * returns 0 for "/", 1 for "/POOL", 2 for "/POOL/NAME", or -ENOENT for
 * anything deeper, an empty or too long component, or no leading '/'.
 */
int bfs_split_path(const char *path, char *pool, char *name);

/* fs.c */
extern const struct fuse_operations bfs_ops;
/* Connect libbasalt and the directory; 0 or -errno with @err set. */
int bfs_connect(struct bfs *fs, struct bs_error *err);
void bfs_disconnect(struct bfs *fs);

#endif /* BS_CLIENT_FUSE_BFUSE_H */
