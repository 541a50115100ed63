// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"

/*
 * Rate limit: many messages can be caused by the guest (a device warning
 * about what it was asked), so at most LOG_BURST messages per
 * LOG_WINDOW_NS; the rest are counted and the count is reported when the
 * next window opens (docs/SECURITY.md, resource limits).
 */
#define LOG_BURST 100
#define LOG_WINDOW_NS (10 * NSEC_PER_SEC)

static u64 log_window_start;
static unsigned log_in_window, log_suppressed;

static bool log_rate_ok(void)
{
	u64 now = clock_now_ns();

	if (now - log_window_start >= LOG_WINDOW_NS) {
		if (log_suppressed)
			fprintf(stderr,
				"twoostwo: log: %u messages suppressed\n",
				log_suppressed);
		log_window_start = now;
		log_in_window = 0;
		log_suppressed = 0;
	}
	if (log_in_window >= LOG_BURST) {
		log_suppressed++;
		return false;
	}
	log_in_window++;
	return true;
}

static enum log_level current_level = LOG_WARN;

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > current_level || !log_rate_ok())
		return;
	fprintf(stderr, "twoostwo: %s: %s: ", subsys, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
