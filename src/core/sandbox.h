/* SPDX-License-Identifier: MIT */
/*
 * The process sandbox a running VM enters once everything privileged is
 * open (docs/SECURITY.md): no_new_privs, every capability dropped, a
 * Landlock file-system allow-list and a seccomp-bpf system-call allow-list.
 * A forbidden system call ends the process with
 * "twoostwo: sandbox: forbidden system call NAME (nr N)".
 */
#ifndef TWOOSTWO_CORE_SANDBOX_H
#define TWOOSTWO_CORE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* What the VM may still do with a path once the sandbox is on. */
enum sandbox_access {
	SANDBOX_READ = 1u << 0,	 /* read the file, or files below the dir */
	SANDBOX_WRITE = 1u << 1, /* write (and truncate) them */
	/* Make, remove and rename regular files in the directory. */
	SANDBOX_CREATE = 1u << 2,
	/* Remove files in the directory (a socket at exit). */
	SANDBOX_REMOVE = 1u << 3,
};

struct sandbox_path {
	const char *path;
	unsigned access;
};

/* Exit status of a process stopped by the sandbox: 128 + SIGSYS. */
#define SANDBOX_EXIT_STATUS 159

/* What sandbox_enter managed (Landlock may be absent on old kernels). */
struct sandbox_report {
	int landlock_abi; /* 0: the kernel has no Landlock */
	unsigned nr_syscalls;
};

/*
 * Enter the sandbox on the calling thread: no_new_privs, drop every
 * capability (bounding, ambient, effective, permitted, inheritable),
 * restrict the file system to paths[] with Landlock where the kernel has
 * it, and install the system-call filter on every thread of the process
 * (TSYNC). Landlock and capabilities are per thread: threads started
 * before this keep theirs (seccomp still covers them), so start worker
 * threads again afterwards. Returns 0 or -errno with a one-line reason.
 */
int sandbox_enter(const struct sandbox_path *paths, unsigned nr_paths,
		  struct sandbox_report *report, char *err, size_t errlen);

/*
 * Before sandbox_enter: also allow these ioctl command numbers and system
 * calls (the kvm engine's KVM_RUN and friends, its deadline timer). The
 * arrays must outlive sandbox_enter.
 */
void sandbox_permit_extra(const unsigned long *ioctls, unsigned nr_ioctls,
			  const char *const *syscalls, unsigned nr_syscalls);

/*
 * Debug hook for the sandbox test: with TWOOSTWO_SANDBOX_TEST=forbidden in
 * the environment, make a system call the filter forbids (it never
 * returns while the sandbox is on). Anything else: nothing.
 */
void sandbox_debug_hook(void);

#endif
