// SPDX-License-Identifier: MIT
/*
 * The VMM's sandbox (docs/SECURITY.md has the why of every allowed call).
 *
 * Order matters: no_new_privs first (Landlock and an unprivileged seccomp
 * filter need it), then the capability bounding and ambient sets (dropping
 * them needs CAP_SETPCAP, so before capset), Landlock, capset to nothing,
 * and the seccomp filter last, synchronised to every thread (TSYNC), so the
 * earlier steps may still use calls the filter forbids.
 *
 * A forbidden call traps (SECCOMP_RET_TRAP): the SIGSYS handler writes the
 * call's name from a table made before the filter went on (no malloc in a
 * signal handler) and ends the process with _exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/ppdev.h>

#include "core/sandbox.h"

/* Landlock rights newer than Debian 12's header (kernel ABI 3 and 5). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#define SANDBOX_FS_ABI1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif

/*
 * The allow-list. Every entry is something the running VM does; the
 * comment says who. Calls libseccomp does not know on this architecture
 * are skipped.
 */
static const char *const sandbox_syscalls[] = {
	/* Guest I/O on open files: disks (raw, .hdd, host devices), the
	 * serial and debug logs, the terminal, the control socket. */
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"pwrite64",
	"preadv",
	"pwritev",
	"preadv2",
	"pwritev2",
	"lseek",
	"close",
	/* FLUSH CACHE, TRIM (hole punching), .hdd growth. */
	"fsync",
	"fdatasync",
	"fallocate",
	"ftruncate",
	/* Image sizes; glibc's stat family; CD insert checks the file. */
	"fstat",
	"newfstatat",
	"statx",
	"fcntl",
	/* CD insert through the control socket opens the new image, the
	 * screen dump writes a temporary file and renames it (Landlock
	 * limits where). */
	"openat",
	"rename",
	"renameat",
	"renameat2",
	"unlink",
	"unlinkat",
	"getdents64",
	/* libvncserver's WebSocket upgrade (the web console) probes a
	 * file with access(); Landlock still decides what is reachable. */
	"access",
	"faccessat",
	"faccessat2",
	/* malloc, thread stacks, the guest RAM is already mapped. */
	"mmap",
	"munmap",
	"mremap",
	"mprotect",
	"madvise",
	"brk",
	/* The event loop and the aio completions (eventfd). */
	"epoll_wait",
	"epoll_pwait",
	"epoll_pwait2",
	"epoll_ctl",
	"epoll_create1",
	"eventfd2",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	/* Guest time (vDSO fallbacks) and sleeping. */
	"clock_gettime",
	"clock_getres",
	"gettimeofday",
	"nanosleep",
	"clock_nanosleep",
	"timerfd_create",
	"timerfd_settime",
	"timerfd_gettime",
	/* aio worker threads: pthread_create/join, mutexes, conditions. */
	"clone",
	"clone3",
	"futex",
	"set_robust_list",
	"get_robust_list",
	"rseq",
	"set_tid_address",
	"sched_yield",
	"sched_getaffinity",
	"exit",
	"exit_group",
	"getpid",
	"gettid",
	"getuid",
	"geteuid",
	"getrandom",
	/* SIGINT/SIGTERM through a signalfd, the terminal's restore handler,
	 * raise() of the stopping signal at exit, abort(). */
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"sigaltstack",
	"signalfd4",
	"tgkill",
	"restart_syscall",
	/* Control socket (accept) and the network back ends (libslirp opens
	 * sockets for the guest's connections, VNC accepts viewers). */
	"accept",
	"accept4",
	"connect",
	"bind",
	"listen",
	"shutdown",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"sendmmsg",
	"recvmmsg",
	"getsockopt",
	"setsockopt",
	"getsockname",
	"getpeername",
	"socketpair",
	"pipe2",
	"dup",
	"dup3",
	"prlimit64",
	"getrusage",
	"uname",
	"sysinfo",
};

/*
 * The sanitizer runtime (ASan, UBSan, LSan at exit) needs a few more: it
 * reads /proc/self/maps, and LeakSanitizer's exit-time tracer (a
 * CLONE_UNTRACED child, which strace cannot follow) lists the threads with
 * the old getdents and stops them with ptrace. Without getdents the exit
 * hangs (found with SECCOMP_RET_LOG: syscall 78 in the audit log).
 */
#ifdef SANDBOX_SANITIZER
static const char *const sandbox_sanitizer_syscalls[] = {
	"getdents", "readlink", "ptrace",
	"prctl",    "wait4",	"sched_setaffinity",
	"mincore",  "getppid",	"process_vm_readv",
	"kill",	    "open",
};
#endif

/* ioctl commands, by number (arg 1): the terminal and host drives. */
static const unsigned long sandbox_ioctls[] = {
	TCGETS,	   TCSETS,   TCSETSW,	   TCSETSF,   TIOCGWINSZ,
	FIONBIO,   FIONREAD, BLKGETSIZE64, BLKSSZGET, BLKDISCARD,
	BLKFLSBUF, 0x5326, /* CDROM_DRIVE_STATUS: is there a disc in the host
			      reader */
	0x5329,		   /* CDROM_LOCKDOOR */
	0x5309,		   /* CDROMEJECT */
	/* Serial pass-through (chardev/tty.c): break and modem lines. */
	TIOCSBRK, TIOCCBRK, TIOCMBIS, TIOCMBIC, TIOCMGET, TIOCMSET,
	/* Parallel pass-through (chardev/ppdev.c, linux/ppdev.h). */
	PPCLAIM, PPRELEASE, PPWDATA, PPRDATA, PPRSTATUS, PPWCONTROL,
	PPRCONTROL, PPDATADIR,
};

/* Socket families (arg 0): libslirp's host sockets, Unix sockets. */
static const int sandbox_socket_families[] = {AF_UNIX, AF_INET, AF_INET6};

/* Names of system calls by number, for the SIGSYS message. */
#define SANDBOX_NAMES 512
#define SANDBOX_NAME_LEN 24
static char sandbox_names[SANDBOX_NAMES][SANDBOX_NAME_LEN];

static size_t sandbox_fmt_uint(char *buf, unsigned long v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* Async-signal-safe: only write() and _exit(). */
static void sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char head[] = "twoostwo: sandbox: forbidden system call ";
	char buf[160];
	size_t n = 0;
	int nr = si->si_syscall;
	const char *name =
		nr >= 0 && nr < SANDBOX_NAMES && sandbox_names[nr][0] ?
			sandbox_names[nr] :
			"unknown";

	memcpy(buf, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	memcpy(buf + n, name, strnlen(name, SANDBOX_NAME_LEN));
	n += strnlen(name, SANDBOX_NAME_LEN);
	memcpy(buf + n, " (nr ", 5);
	n += 5;
	n += sandbox_fmt_uint(buf + n, (unsigned long)(unsigned)nr);
	memcpy(buf + n, ")\n", 2);
	n += 2;
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* Nothing more to do: we are about to exit. */
	}
	_exit(SANDBOX_EXIT_STATUS);
}

static void sandbox_fill_names(void)
{
	int nr;

	for (nr = 0; nr < SANDBOX_NAMES; nr++) {
		char *name =
			seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name) {
			snprintf(sandbox_names[nr], SANDBOX_NAME_LEN, "%s",
				 name);
			free(name);
		}
	}
}

static int sandbox_install_sigsys(void)
{
	struct sigaction sa = {0};

	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) ? -errno : 0;
}

/* Bounding and ambient sets, then effective/permitted/inheritable. */
static int sandbox_drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {{0}};
	int cap;

	for (cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
			break; /* past the kernel's last capability */
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data)) {
		snprintf(err, errlen, "sandbox: cannot drop capabilities: %s",
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static unsigned long long sandbox_fs_rights(int abi)
{
	unsigned long long all = SANDBOX_FS_ABI1;

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return all;
}

static unsigned long long sandbox_path_rights(unsigned access, bool dir,
					      int abi)
{
	unsigned long long r = 0;

	if (access & SANDBOX_READ)
		r |= LANDLOCK_ACCESS_FS_READ_FILE |
		     (dir ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
	if (access & SANDBOX_WRITE)
		r |= LANDLOCK_ACCESS_FS_WRITE_FILE |
		     (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0);
	if ((access & SANDBOX_CREATE) && dir)
		r |= LANDLOCK_ACCESS_FS_MAKE_REG |
		     LANDLOCK_ACCESS_FS_REMOVE_FILE;
	if ((access & SANDBOX_REMOVE) && dir)
		r |= LANDLOCK_ACCESS_FS_REMOVE_FILE;
	return r & sandbox_fs_rights(abi);
}

static int sandbox_add_path(int ruleset, const struct sandbox_path *p, int abi,
			    char *err, size_t errlen)
{
	struct landlock_path_beneath_attr attr = {0};
	struct stat st;
	int fd = open(p->path, O_PATH | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return 0; /* gone, or never there: nothing to allow */
	if (fstat(fd, &st)) {
		close(fd);
		return 0;
	}
	attr.parent_fd = fd;
	attr.allowed_access =
		sandbox_path_rights(p->access, S_ISDIR(st.st_mode), abi);
	if (attr.allowed_access &&
	    syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
		    &attr, 0)) {
		ret = -errno;
		snprintf(err, errlen, "sandbox: landlock rule for %s: %s",
			 p->path, strerror(errno));
	}
	close(fd);
	return ret;
}

/* Returns the ABI used (0: no Landlock in this kernel) or -errno. */
static int sandbox_landlock(const struct sandbox_path *paths, unsigned nr,
			    char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr = {0};
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			       LANDLOCK_CREATE_RULESET_VERSION);
	int ruleset, ret = 0;
	unsigned i;

	if (abi <= 0)
		return 0;
	attr.handled_access_fs = sandbox_fs_rights(abi);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr),
			       0);
	if (ruleset < 0) {
		snprintf(err, errlen, "sandbox: landlock: %s", strerror(errno));
		return -errno;
	}
	for (i = 0; i < nr && !ret; i++)
		ret = sandbox_add_path(ruleset, &paths[i], abi, err, errlen);
#ifdef SANDBOX_SANITIZER
	/* LeakSanitizer lists /proc/self/task and reads /proc/self/maps. */
	if (!ret)
		ret = sandbox_add_path(
			ruleset, &(struct sandbox_path){"/proc", SANDBOX_READ},
			abi, err, errlen);
#endif
	if (!ret && syscall(SYS_landlock_restrict_self, ruleset, 0)) {
		ret = -errno;
		snprintf(err, errlen, "sandbox: landlock: %s", strerror(errno));
	}
	close(ruleset);
	return ret ? ret : abi;
}

static int sandbox_allow(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

/* Allow nr when its argument arg equals value. */
static int sandbox_allow_arg(scmp_filter_ctx ctx, int nr, unsigned arg,
			     scmp_datum_t value)
{
	struct scmp_arg_cmp cmp = {
		.arg = arg,
		.op = SCMP_CMP_EQ,
		.datum_a = value,
		.datum_b = 0,
	};

	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
}

static const unsigned long *sandbox_extra_ioctls;
static unsigned sandbox_nr_extra_ioctls;
static const char *const *sandbox_extra_syscalls;
static unsigned sandbox_nr_extra_syscalls;

void sandbox_permit_extra(const unsigned long *ioctls, unsigned nr_ioctls,
			  const char *const *syscalls, unsigned nr_syscalls)
{
	sandbox_extra_ioctls = ioctls;
	sandbox_nr_extra_ioctls = nr_ioctls;
	sandbox_extra_syscalls = syscalls;
	sandbox_nr_extra_syscalls = nr_syscalls;
}

static int sandbox_add_extra(scmp_filter_ctx ctx, unsigned *count)
{
	unsigned i;
	int ret = 0;

	for (i = 0; i < sandbox_nr_extra_syscalls; i++)
		ret = ret ?: sandbox_allow(ctx, sandbox_extra_syscalls[i]);
	*count += sandbox_nr_extra_syscalls;
	for (i = 0; i < sandbox_nr_extra_ioctls; i++)
		ret = ret ?: sandbox_allow_arg(ctx, SCMP_SYS(ioctl), 1,
					       sandbox_extra_ioctls[i]);
	return ret;
}

static int sandbox_add_rules(scmp_filter_ctx ctx, unsigned *count)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < sizeof(sandbox_syscalls) / sizeof(*sandbox_syscalls);
	     i++)
		ret = ret ?: sandbox_allow(ctx, sandbox_syscalls[i]);
	*count = (unsigned)i + 2;
#ifdef SANDBOX_SANITIZER
	for (i = 0; i < sizeof(sandbox_sanitizer_syscalls) /
				sizeof(*sandbox_sanitizer_syscalls);
	     i++)
		ret = ret ?: sandbox_allow(ctx, sandbox_sanitizer_syscalls[i]);
	*count += (unsigned)i;
#endif
	for (i = 0; i < sizeof(sandbox_ioctls) / sizeof(*sandbox_ioctls); i++)
		ret = ret   ?:
			      sandbox_allow_arg(ctx, SCMP_SYS(ioctl), 1,
						sandbox_ioctls[i]);
	for (i = 0; i < sizeof(sandbox_socket_families) /
				sizeof(*sandbox_socket_families);
	     i++)
		ret = ret   ?:
			      sandbox_allow_arg(
				      ctx, SCMP_SYS(socket), 0,
				      (scmp_datum_t)sandbox_socket_families[i]);
	return ret ?: sandbox_add_extra(ctx, count);
}

static int sandbox_seccomp(unsigned *count, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int ret;

	if (!ctx) {
		snprintf(err, errlen, "sandbox: seccomp_init failed");
		return -ENOMEM;
	}
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	ret = ret ?: seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	ret = ret ?: sandbox_add_rules(ctx, count);
	ret = ret ?: seccomp_load(ctx);
	if (ret)
		snprintf(err, errlen, "sandbox: seccomp filter: %s",
			 strerror(-ret));
	seccomp_release(ctx);
	return ret;
}

int sandbox_enter(const struct sandbox_path *paths, unsigned nr_paths,
		  struct sandbox_report *report, char *err, size_t errlen)
{
	int ret;

	*report = (struct sandbox_report){0};
	sandbox_fill_names();
	ret = sandbox_install_sigsys();
	if (ret) {
		snprintf(err, errlen, "sandbox: SIGSYS handler: %s",
			 strerror(-ret));
		return ret;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "sandbox: no_new_privs: %s",
			 strerror(errno));
		return -errno;
	}
	ret = sandbox_landlock(paths, nr_paths, err, errlen);
	if (ret < 0)
		return ret;
	report->landlock_abi = ret;
	ret = sandbox_drop_caps(err, errlen);
	return ret ?: sandbox_seccomp(&report->nr_syscalls, err, errlen);
}

void sandbox_debug_hook(void)
{
	const char *want = getenv("TWOOSTWO_SANDBOX_TEST");

	/* chroot(NULL): never allowed, and harmless (EFAULT) without the
	 * sandbox. */
	if (want && !strcmp(want, "forbidden"))
		syscall(SYS_chroot, NULL);
}
