/* SPDX-License-Identifier: MIT */
/*
 * The machine's control socket (`twoostwo run --control PATH`): a Unix
 * stream socket served on the machine thread by the event loop, so the
 * commands act on devices without locks. A line protocol, one command per
 * line, each answered by exactly one line, "ok ..." or "error: ...":
 *
 *   eject [--force]   take the disc out of the CD-ROM drive
 *   insert PATH       put an ISO image (or a host CD reader) in the drive
 *   status            what is in the drive, tray and lock state
 *   screendump PATH   write the screen (any mode) as a PNG image
 *   state             "ok running" or "ok paused", the process and uptime
 *   stop              press the ACPI power button (the guest shuts down)
 *   quit              power off at once (like pulling the plug)
 *   reset             press the reset button
 *   pause / unpause   stop and continue the virtual CPU
 *   suspend           save the machine to its state file (run
 *                     --state-file), then end the process
 *
 * Whatever a client sends is untrusted: lines are bounded, overlong ones
 * and control characters are answered with an error, a line cut off by a
 * disconnect is dropped unexecuted, and a client that does not read its
 * answers is disconnected.
 */
#ifndef TWOOSTWO_MACHINE_CONTROL_H
#define TWOOSTWO_MACHINE_CONTROL_H

#include "core/evloop.h"

/* A command line, room for a path of PATH_MAX bytes included. */
#define CONTROL_LINE_MAX 4200
#define CONTROL_REPLY_MAX 4400
#define CONTROL_MAX_CLIENTS 8

enum control_verb {
	CONTROL_EJECT,
	CONTROL_INSERT,
	CONTROL_STATUS,
	CONTROL_SCREENDUMP,
	/* Machine verbs, answered by control_ops.machine. */
	CONTROL_STATE,
	CONTROL_STOP,
	CONTROL_QUIT,
	CONTROL_RESET,
	CONTROL_PAUSE,
	CONTROL_UNPAUSE,
	CONTROL_SUSPEND,
};

struct control_request {
	enum control_verb verb;
	bool force;	  /* eject --force */
	const char *path; /* insert, screendump: points into the line */
};

/*
 * Parse one line of len bytes (no newline; modified in place). Returns 0,
 * or -EINVAL with the reason in err.
 */
int control_parse(char *line, size_t len, struct control_request *req,
		  char *err, size_t errlen);

/*
 * What the machine does for each command: 0 with the text after "ok " in
 * msg, or -errno with the reason in msg.
 */
struct control_ops {
	int (*eject)(void *opaque, bool force, char *msg, size_t len);
	int (*insert)(void *opaque, const char *path, char *msg, size_t len);
	int (*status)(void *opaque, char *msg, size_t len);
	int (*screendump)(void *opaque, const char *path, char *msg,
			  size_t len);
	/* The machine verbs (state ... suspend); NULL: not offered. */
	int (*machine)(void *opaque, enum control_verb verb, char *msg,
		       size_t len);
};

/* Run one line; the whole answer, newline included, goes to reply. */
void control_handle_line(const struct control_ops *ops, void *opaque,
			 char *line, size_t len, char *reply, size_t replylen);

struct control;

/*
 * Listen on path (a stale socket left by a dead process is replaced; a
 * live one or any other file is an error). Returns 0 or -errno with one
 * line "PATH: reason" in err.
 */
int control_open(struct evloop *loop, const char *path,
		 const struct control_ops *ops, void *opaque,
		 struct control **out, char *err, size_t errlen);
/* Disconnect every client, stop listening and remove the socket file. */
void control_close(struct control *c);

#endif
