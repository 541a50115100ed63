/* SPDX-License-Identifier: MIT */
/*
 * A VM folder: where VMs live by default (XDG), the files in a folder,
 * its lock (held by the running VM process), and a client for its
 * control socket.
 *
 *   vm.ini         configuration (vm/vm_config.h)
 *   lock           flock()ed by the running VM; holds its pid
 *   control.sock   the control socket (machine/control.h)
 *   console.sock   COM1 by default: `twoostwo vm console` attaches here
 *   state.twss     saved state while suspended (vm/statefile.h)
 *   vm.log         the VM process's messages
 */
#ifndef TWOOSTWO_VM_VM_FOLDER_H
#define TWOOSTWO_VM_VM_FOLDER_H

#include <stddef.h>
#include <sys/types.h>

#include "core/types.h"

#define VM_LOCK_FILE "lock"
#define VM_CONTROL_SOCK "control.sock"
#define VM_CONSOLE_SOCK "console.sock"
#define VM_STATE_FILE "state.twss"
#define VM_LOG_FILE "vm.log"

enum vm_run_state { VM_STOPPED, VM_RUNNING, VM_SUSPENDED };

/* $XDG_DATA_HOME/twoostwo/vms, or ~/.local/share/twoostwo/vms. */
int vm_home(char *out, size_t len);
/*
 * A NAME (no '/') is a folder in vm_home; anything with a '/' (or ".")
 * is a path. Returns 0 or -ENAMETOOLONG.
 */
int vm_resolve(const char *name_or_path, char *out, size_t len);
/* dir/file into out. */
int vm_path(char *out, size_t len, const char *dir, const char *file);

/*
 * Take the folder's lock without waiting: 0 and the fd (keep it open as
 * long as the VM runs), -EBUSY with the holder's pid in *pid, or -errno.
 */
int vm_lock(const char *dir, int *fd, pid_t *pid);
/* Running (and its pid), suspended or stopped. */
enum vm_run_state vm_run_state(const char *dir, pid_t *pid);
const char *vm_run_state_name(enum vm_run_state s);

/*
 * Send one control line (no newline) to the VM in dir and read the one-line
 * answer into reply (without newline). Returns 0 for "ok ...", -EIO for
 * "error: ...", -errno when it could not be asked.
 */
int vm_control(const char *dir, const char *line, char *reply, size_t len,
	       int timeout_ms);

#endif
