// SPDX-License-Identifier: Apache-2.0
/*
 * Log lines with timestamp, daemon name, level and source position, written
 * with one write(2) each so lines from several threads do not interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bs/log.h"

int bs_log_level = BS_LOG_NOTICE;
unsigned bs_log_debug_mask;

static char log_name[64] = "basalt";
static int log_fd = STDERR_FILENO;
static bs_log_fn *log_cb;
static void *log_cb_opaque;

static const char *const level_names[] = {
	[BS_LOG_ERR] = "ERR",
	[BS_LOG_WARNING] = "WARNING",
	[BS_LOG_NOTICE] = "NOTICE",
	[BS_LOG_INFO] = "INFO",
	[BS_LOG_DEBUG] = "DEBUG",
};

static const struct {
	const char *name;
	unsigned bit;
} subsystems[] = {
	{ "loop", BS_SUB_LOOP },	{ "msgr", BS_SUB_MSGR },
	{ "mon", BS_SUB_MON },		{ "raft", BS_SUB_RAFT },
	{ "osd", BS_SUB_OSD },		{ "store", BS_SUB_STORE },
	{ "peering", BS_SUB_PEERING },	{ "client", BS_SUB_CLIENT },
	{ "nbd", BS_SUB_NBD },		{ "all", BS_SUB_ALL },
};

void bs_log_init(const char *name, int level)
{
	snprintf(log_name, sizeof(log_name), "%s", name);
	bs_log_level = level;
}

int bs_log_open(const char *path)
{
	int fd;

	if (!path) {
		if (log_fd != STDERR_FILENO)
			close(log_fd);
		log_fd = STDERR_FILENO;
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1)
		return -errno;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	return 0;
}

int bs_log_parse_debug(const char *list, unsigned *mask)
{
	char buf[256], *save = NULL, *tok;
	unsigned m = 0;
	size_t i;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		for (i = 0; i < ARRAY_SIZE(subsystems); i++)
			if (!strcmp(tok, subsystems[i].name))
				break;
		if (i == ARRAY_SIZE(subsystems))
			return -EINVAL;
		m |= subsystems[i].bit;
	}
	*mask = m;
	return 0;
}

int bs_log_parse_level(const char *s, int *level)
{
	for (int l = BS_LOG_ERR; l <= BS_LOG_DEBUG; l++) {
		if (!strcasecmp(s, level_names[l])) {
			*level = l;
			return 0;
		}
	}
	if (!strcasecmp(s, "warn")) {
		*level = BS_LOG_WARNING;
		return 0;
	}
	return -EINVAL;
}

void bs_log_set_callback(bs_log_fn *fn, void *opaque)
{
	log_cb = fn;
	log_cb_opaque = opaque;
}

void bs_log_at(int level, const char *file, int line, const char *fmt, ...)
{
	char buf[2048];
	struct timespec ts;
	struct tm tm;
	const char *base = strrchr(file, '/');
	va_list ap;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (level < BS_LOG_ERR)
		level = BS_LOG_ERR;
	if (level > BS_LOG_DEBUG)
		level = BS_LOG_DEBUG;
	n = snprintf(buf, sizeof(buf),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s:%d ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_name,
		     level_names[level], base ? base + 1 : file, line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	if (log_cb) {
		buf[n] = '\0';
		log_cb(log_cb_opaque, level, buf);
		return;
	}
	buf[n++] = '\n';
	if (write(log_fd, buf, n) < 0) {
		/* nowhere left to report it */
	}
}

uint64_t bs_now_ms(void)
{
	return bs_now_us() / 1000;
}

uint64_t bs_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool bs_ratelimit_ok(struct bs_ratelimit *rl)
{
	uint64_t now = bs_now_ms();

	if (now - rl->window_start_ms >= rl->interval_ms) {
		if (rl->suppressed)
			bs_warn("%u similar messages suppressed",
				rl->suppressed);
		rl->window_start_ms = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
