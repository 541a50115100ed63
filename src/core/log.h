/* SPDX-License-Identifier: MIT */
/*
 * Logging. Messages go to stderr with a subsystem prefix. Library code
 * reports and returns errors; only the CLI decides to exit.
 */
#ifndef TWOOSTWO_CORE_LOG_H
#define TWOOSTWO_CORE_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(sub, ...) log_msg(LOG_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...) log_msg(LOG_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...) log_msg(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...)                              \
	do {                                             \
		if (log_get_level() >= LOG_DEBUG)        \
			log_msg(LOG_DEBUG, sub, __VA_ARGS__); \
	} while (0)

/*
 * Guest-caused oddities (an unknown port, a bad command) are reported once
 * per call site, so a misbehaving guest cannot flood the host's log.
 */
#define log_guest_once(sub, ...)                      \
	do {                                          \
		static bool logged_;                  \
		if (!logged_) {                       \
			logged_ = true;               \
			log_warn(sub, __VA_ARGS__);   \
		}                                     \
	} while (0)

#endif
