/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: UTC timestamp, daemon name, level and file:line on every line,
 * to stderr (default) or a file.  bs_debug() is one predicted branch when
 * off and does not evaluate its arguments.
 *
 *   2026-11-22T01:25:03.512Z osd.3 ERR peering.c:214 pg 1.2f: ...
 */
#ifndef BS_LOG_H
#define BS_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "bs/compiler.h"

enum bs_log_level {
	BS_LOG_ERR = 3,
	BS_LOG_WARNING = 4,
	BS_LOG_NOTICE = 5,
	BS_LOG_INFO = 6,
	BS_LOG_DEBUG = 7,
};

/* Debug subsystems, switched on one by one with "debug = msgr,mon". */
enum bs_log_sub {
	BS_SUB_LOOP = 1u << 0,
	BS_SUB_MSGR = 1u << 1,
	BS_SUB_MON = 1u << 2,
	BS_SUB_RAFT = 1u << 3,
	BS_SUB_OSD = 1u << 4,
	BS_SUB_STORE = 1u << 5,
	BS_SUB_PEERING = 1u << 6,
	BS_SUB_CLIENT = 1u << 7,
	BS_SUB_NBD = 1u << 8,
	BS_SUB_ALL = ~0u,
};

extern int bs_log_level;		/* messages above it are dropped */
extern unsigned bs_log_debug_mask;	/* enum bs_log_sub bits */

/*
 * Set the name printed on every line ("mon.0", "basalt") and the level.
 * Not thread-safe: call once at start-up.
 */
void bs_log_init(const char *name, int level);

/* Log to @path (appended) instead of stderr; NULL returns to stderr. */
int bs_log_open(const char *path);

/* Parse "msgr,mon" or "all" into bs_log_debug_mask; -EINVAL on unknown. */
int bs_log_parse_debug(const char *list, unsigned *mask);

/* Parse "err|warning|notice|info|debug" into a level; -EINVAL if unknown. */
int bs_log_parse_level(const char *s, int *level);

/* Instead of writing, hand each formatted line to @fn (libbasalt users). */
typedef void bs_log_fn(void *opaque, int level, const char *line);
void bs_log_set_callback(bs_log_fn *fn, void *opaque);

void bs_log_at(int level, const char *file, int line, const char *fmt, ...)
	BS_PRINTF(4, 5);

#define bs_log(level, ...)						\
	do {								\
		if (unlikely((level) <= bs_log_level))			\
			bs_log_at(level, __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define bs_err(...)	bs_log(BS_LOG_ERR, __VA_ARGS__)
#define bs_warn(...)	bs_log(BS_LOG_WARNING, __VA_ARGS__)
#define bs_notice(...)	bs_log(BS_LOG_NOTICE, __VA_ARGS__)
#define bs_info(...)	bs_log(BS_LOG_INFO, __VA_ARGS__)
#define bs_debug(...)	bs_log(BS_LOG_DEBUG, __VA_ARGS__)

/* Debug line for one subsystem: printed only when its bit is set. */
#define bs_dbg(sub, ...)						\
	do {								\
		if (unlikely(bs_log_debug_mask & (sub)))		\
			bs_log_at(BS_LOG_DEBUG, __FILE__, __LINE__,	\
				  __VA_ARGS__);				\
	} while (0)

/*
 * Rate limit for peer-caused messages: at most @burst lines per @interval_ms
 * per struct.  Use one per peer (connection) so no client floods the log.
 */
struct bs_ratelimit {
	uint64_t window_start_ms;
	unsigned interval_ms;
	unsigned burst;
	unsigned printed;
	unsigned suppressed;
};
#define BS_RATELIMIT_INIT { 0, 5000, 10, 0, 0 }
bool bs_ratelimit_ok(struct bs_ratelimit *rl);

#define bs_warn_rl(rl, ...)						\
	do {								\
		if (bs_ratelimit_ok(rl))				\
			bs_warn(__VA_ARGS__);				\
	} while (0)

/* Monotonic and wall clocks in milliseconds / microseconds. */
uint64_t bs_now_ms(void);
uint64_t bs_now_us(void);

#endif /* BS_LOG_H */
