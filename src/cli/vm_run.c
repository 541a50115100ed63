// SPDX-License-Identifier: MIT
/*
 * `twoostwo vm start|console|stop|reset|pause|unpause|suspend|resume`.
 *
 * start runs `twoostwo run` (this same executable) in the background:
 * fork, setsid, fork again (the VM is no child of any terminal), chdir
 * into the folder so vm.ini's relative paths work, stdin from /dev/null,
 * stdout and stderr appended to vm.log. The folder's lock is taken before
 * the first fork and inherited through exec, so it is held exactly as
 * long as the VM process lives; the lock file holds its pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/vm_cli.h"

#define VM_ARGS_MAX 96
#define VM_START_WAIT_S 60.0
#define VM_STOP_WAIT_S 120.0
#define VM_FORCE_WAIT_S 10.0
#define VM_ESCAPE 0x1d /* Ctrl-] */

static double vm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void vm_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

bool vm_wait_stopped(const char *dir, double seconds)
{
	double end = vm_now() + seconds;
	pid_t pid;

	while (vm_run_state(dir, &pid) == VM_RUNNING) {
		if (vm_now() > end)
			return false;
		vm_sleep_ms(50);
	}
	return true;
}

/* The `twoostwo run` command line of a VM (paths relative to its folder). */
struct vm_argv {
	char *argv[VM_ARGS_MAX];
	char *owned[VM_ARGS_MAX];
	int argc, nowned;
};

static void vm_arg(struct vm_argv *a, const char *s)
{
	if (a->argc < VM_ARGS_MAX - 1)
		a->argv[a->argc++] = (char *)s;
}

static void vm_arg2(struct vm_argv *a, const char *opt, const char *v)
{
	if (!v)
		return;
	vm_arg(a, opt);
	vm_arg(a, v);
}

static void vm_build_argv(struct vm_argv *a, const struct vm_config *c,
			  bool resume)
{
	static const char *const drive_opts[VM_DRIVES] = {
		"--cdrom", "--hda", "--hdb", "--hdc", "--hdd"};
	static const char *const com_opts[VM_COMS] = {"--serial", "--com2",
						      "--com3", "--com4"};
	static const char *const lpt_opts[VM_LPTS] = {"--lpt1", "--lpt2"};
	char *mem;
	unsigned i;

	*a = (struct vm_argv){0};
	vm_arg(a, "twoostwo");
	vm_arg(a, "run");
	if (asprintf(&mem, "%lluK", (unsigned long long)(c->memory >> 10)) >=
	    0) {
		a->owned[a->nowned++] = mem;
		vm_arg2(a, "--memory", mem);
	}
	vm_arg2(a, "--control", VM_CONTROL_SOCK);
	vm_arg2(a, "--state-file", VM_STATE_FILE);
	/* A background VM has no terminal to draw on. */
	vm_arg2(a, "--display",
		c->display && strcmp(c->display, "terminal") ? c->display :
							       "none");
	vm_arg2(a, "--vnc", c->vnc);
	vm_arg2(a, "--vnc-password", c->vnc_password);
	vm_arg2(a, "--engine", c->engine);
	vm_arg2(a, "--boot", c->boot);
	vm_arg2(a, "--bios", c->bios);
	for (i = 0; i < VM_DRIVES; i++)
		vm_arg2(a, drive_opts[i], c->drive[i]);
	vm_arg2(a, com_opts[0], c->com[0] ? c->com[0] : "none");
	for (i = 1; i < VM_COMS; i++)
		vm_arg2(a, com_opts[i], c->com[i]);
	for (i = 0; i < VM_LPTS; i++)
		vm_arg2(a, lpt_opts[i], c->lpt[i]);
	for (i = 0; i < c->nr_net; i++)
		vm_arg2(a, "--net", c->net[i]);
	if (resume)
		vm_arg2(a, "--resume", VM_STATE_FILE);
	a->argv[a->argc] = NULL;
}

static void vm_free_argv(struct vm_argv *a)
{
	int i;

	for (i = 0; i < a->nowned; i++)
		free(a->owned[i]);
}

/*
 * Fork once more: the child goes on to exec the VM (it keeps the lock);
 * this process only waits for it and logs its exit status in vm.log,
 * which is how `stop` can be checked afterwards.
 */
static void vm_monitor(int lock_fd)
{
	char pid[32];
	pid_t child = fork();
	int status;

	if (child < 0)
		return; /* no monitor: run the VM here */
	if (child == 0) {
		snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (ftruncate(lock_fd, 0) < 0 ||
		    pwrite(lock_fd, pid, strlen(pid), 0) < 0)
			_exit(127);
		return;
	}
	close(lock_fd);
	if (waitpid(child, &status, 0) < 0)
		_exit(1);
	if (WIFEXITED(status))
		fprintf(stderr, "twoostwo vm: pid %d exited with status %d\n",
			(int)child, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "twoostwo vm: pid %d killed by signal %d\n",
			(int)child, WTERMSIG(status));
	_exit(0);
}

/* In the grandchild: become the VM process. Never returns. */
static void vm_exec(int lock_fd, const struct vm_argv *a)
{
	int fd, i;

	/* The lock must survive exec: drop close-on-exec from this fd. */
	fcntl(lock_fd, F_SETFD, 0);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, STDIN_FILENO);
	fd = open(VM_LOG_FILE, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	signal(SIGHUP, SIG_IGN);
	vm_monitor(lock_fd);
	if (fd >= 0) {
		fprintf(stderr, "twoostwo vm: pid %d:", (int)getpid());
		for (i = 0; i < a->argc; i++)
			fprintf(stderr, " %s", a->argv[i]);
		fputc('\n', stderr);
	}
	execv("/proc/self/exe", a->argv);
	fprintf(stderr, "twoostwo vm: cannot run /proc/self/exe: %s\n",
		strerror(errno));
	_exit(127);
}

/* Fork twice; the parent returns once the first child has exited. */
static int vm_spawn(const char *dir, int lock_fd, const struct vm_argv *a)
{
	pid_t child = fork();
	int status;

	if (child < 0)
		return -errno;
	if (child == 0) {
		if (setsid() < 0 || chdir(dir) < 0)
			_exit(127);
		child = fork();
		if (child < 0)
			_exit(127);
		if (child == 0)
			vm_exec(lock_fd, a);
		_exit(0);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -ECHILD;
	return 0;
}

/* The last line of vm.log: why a VM that died at once died. */
static void vm_log_tail(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	int fd;
	char *end, *start;

	snprintf(out, len, "see %.900s/%s", dir, VM_LOG_FILE);
	if (vm_path(path, sizeof(path), dir, VM_LOG_FILE))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1,
		  MAX(0, lseek(fd, 0, SEEK_END) - (off_t)(sizeof(buf) - 1)));
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	end = buf + n;
	/* The last line the VM wrote, not the monitor's "exited" line. */
	for (;;) {
		while (end > buf && end[-1] == '\n')
			*--end = '\0';
		start = strrchr(buf, '\n');
		if (!start || strncmp(start + 1, "twoostwo vm: ", 13))
			break;
		end = start;
		*end = '\0';
	}
	snprintf(out, len, "%.900s", start ? start + 1 : buf);
}

/* Wait for the control socket to answer, or the VM to die. */
static int vm_wait_started(const char *dir)
{
	double end = vm_now() + VM_START_WAIT_S;
	char reply[256];
	pid_t pid;

	while (vm_now() < end) {
		if (vm_run_state(dir, &pid) != VM_RUNNING)
			return -ECHILD;
		if (!vm_control(dir, "state", reply, sizeof(reply), 1000))
			return 0;
		vm_sleep_ms(50);
	}
	return -ETIMEDOUT;
}

static int vm_start_ref(struct vm_ref *ref, const char *name, bool discard)
{
	char state[PATH_MAX], why[1024];
	struct vm_argv a;
	bool resume;
	int lock_fd, ret;
	pid_t pid;

	ret = vm_lock(ref->dir, &lock_fd, &pid);
	if (ret == -EBUSY) {
		vm_err("start", "%s is already running (pid %d)", name,
		       (int)pid);
		return CLI_EXIT_ERROR;
	}
	if (ret) {
		vm_err("start", "%s: cannot lock: %s", ref->dir,
		       strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	vm_path(state, sizeof(state), ref->dir, VM_STATE_FILE);
	resume = !access(state, F_OK);
	if (resume && discard) {
		char old[PATH_MAX + 16];

		snprintf(old, sizeof(old), "%s.discarded", state);
		rename(state, old);
		resume = false;
	}
	vm_build_argv(&a, &ref->cfg, resume);
	ret = vm_spawn(ref->dir, lock_fd, &a);
	vm_free_argv(&a);
	close(lock_fd);
	if (ret) {
		vm_err("start", "cannot start %s: %s", name, strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	ret = vm_wait_started(ref->dir);
	if (ret) {
		vm_log_tail(ref->dir, why, sizeof(why));
		if (resume)
			vm_err("start",
			       "%s did not resume: %s (start it from its "
			       "disks with 'twoostwo vm start "
			       "--discard-state %s')",
			       name, why, name);
		else
			vm_err("start", "%s did not start: %s", name, why);
		return CLI_EXIT_ERROR;
	}
	vm_run_state(ref->dir, &pid);
	printf("%s %s (pid %d)\n", name, resume ? "resumed" : "started",
	       (int)pid);
	return 0;
}

static int vm_console_attach(const char *dir, const char *name);

int vm_cmd_start(int argc, char **argv)
{
	static const struct option opts[] = {
		{"console", no_argument, NULL, 'c'},
		{"discard-state", no_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	bool console = false, discard = false;
	struct vm_ref ref;
	int opt, ret;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'c')
			console = true;
		else if (opt == 'd')
			discard = true;
		else {
			vm_err("start", "bad option '%s'", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		vm_err("start", "usage: twoostwo vm start [--console] "
				"[--discard-state] NAME");
		return CLI_EXIT_USAGE;
	}
	ret = vm_open(argv[optind], &ref);
	if (ret)
		return ret;
	ret = vm_start_ref(&ref, argv[optind], discard);
	if (!ret && console)
		ret = vm_console_attach(ref.dir, argv[optind]);
	vm_close(&ref);
	return ret;
}

/* One NAME argument and a running VM. */
static int vm_open_running(const char *verb, int argc, char **argv,
			   struct vm_ref *ref)
{
	pid_t pid;
	int ret;

	if (argc != 2) {
		vm_err(verb, "usage: twoostwo vm %s NAME", verb);
		return CLI_EXIT_USAGE;
	}
	ret = vm_open(argv[1], ref);
	if (ret)
		return ret;
	if (vm_run_state(ref->dir, &pid) != VM_RUNNING) {
		vm_err(verb, "%s is not running", argv[1]);
		vm_close(ref);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

static int vm_send(const char *verb, const char *dir, const char *line)
{
	char reply[4400];
	int ret = vm_control(dir, line, reply, sizeof(reply), 30000);

	if (ret == -EIO) {
		vm_err(verb, "%s", reply);
		return CLI_EXIT_ERROR;
	}
	if (ret) {
		vm_err(verb, "no answer from %s/%s: %s", dir, VM_CONTROL_SOCK,
		       strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	printf("%s\n", reply[2] == ' ' ? reply + 3 : reply);
	return 0;
}

int vm_cmd_simple(int argc, char **argv)
{
	struct vm_ref ref;
	int ret = vm_open_running(argv[0], argc, argv, &ref);

	if (ret)
		return ret;
	ret = vm_send(argv[0], ref.dir, argv[0]);
	vm_close(&ref);
	return ret;
}

int vm_cmd_suspend(int argc, char **argv)
{
	struct vm_ref ref;
	int ret = vm_open_running("suspend", argc, argv, &ref);

	if (ret)
		return ret;
	ret = vm_send("suspend", ref.dir, "suspend");
	if (!ret && !vm_wait_stopped(ref.dir, VM_STOP_WAIT_S)) {
		vm_err("suspend", "%s saved its state but still runs", argv[1]);
		ret = CLI_EXIT_ERROR;
	}
	vm_close(&ref);
	return ret;
}

int vm_cmd_resume(int argc, char **argv)
{
	struct vm_ref ref;
	char reply[256];
	pid_t pid;
	int ret;

	if (argc != 2) {
		vm_err("resume", "usage: twoostwo vm resume NAME");
		return CLI_EXIT_USAGE;
	}
	ret = vm_open(argv[1], &ref);
	if (ret)
		return ret;
	switch (vm_run_state(ref.dir, &pid)) {
	case VM_SUSPENDED:
		ret = vm_start_ref(&ref, argv[1], false);
		break;
	case VM_RUNNING:
		if (!vm_control(ref.dir, "state", reply, sizeof(reply), 2000) &&
		    !strncmp(reply, "ok paused", 9)) {
			ret = vm_send("resume", ref.dir, "unpause");
			break;
		}
		vm_err("resume", "%s is running", argv[1]);
		ret = CLI_EXIT_ERROR;
		break;
	default:
		vm_err("resume", "%s is not suspended (start it)", argv[1]);
		ret = CLI_EXIT_ERROR;
	}
	vm_close(&ref);
	return ret;
}

/* stop */

static int vm_force_off(const char *dir, const char *name)
{
	char reply[256];
	pid_t pid;

	vm_control(dir, "quit", reply, sizeof(reply), 2000);
	if (vm_wait_stopped(dir, VM_FORCE_WAIT_S))
		return 0;
	if (vm_run_state(dir, &pid) == VM_RUNNING && pid > 0)
		kill(pid, SIGKILL);
	if (vm_wait_stopped(dir, VM_FORCE_WAIT_S))
		return 0;
	vm_err("stop", "%s (pid %d) does not stop", name, (int)pid);
	return CLI_EXIT_ERROR;
}

int vm_cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	double timeout = VM_STOP_WAIT_S;
	bool force = false, timeout_set = false;
	struct vm_ref ref;
	int opt, ret;
	char *end;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f') {
			force = true;
		} else if (opt == 't') {
			timeout = strtod(optarg, &end);
			timeout_set = true;
			if (*end || timeout < 0 || timeout > 1e6) {
				vm_err("stop", "bad --timeout '%s'", optarg);
				return CLI_EXIT_USAGE;
			}
		} else {
			vm_err("stop", "bad option '%s'", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		vm_err("stop",
		       "usage: twoostwo vm stop [--force] [--timeout S] "
		       "NAME");
		return CLI_EXIT_USAGE;
	}
	argv[optind - 1] = "stop";
	ret = vm_open_running("stop", 2, argv + optind - 1, &ref);
	if (ret)
		return ret;
	if (force && !timeout_set) {
		ret = vm_force_off(ref.dir, argv[optind]);
	} else {
		ret = vm_send("stop", ref.dir, "stop");
		if (!ret && !vm_wait_stopped(ref.dir, timeout)) {
			if (force) {
				ret = vm_force_off(ref.dir, argv[optind]);
			} else {
				vm_err("stop",
				       "%s still runs after %.0f s (the guest "
				       "ignores the power button?); use "
				       "--force",
				       argv[optind], timeout);
				ret = CLI_EXIT_ERROR;
			}
		}
	}
	if (!ret)
		printf("%s stopped\n", argv[optind]);
	vm_close(&ref);
	return ret;
}

/* console */

static int vm_console_connect(const char *dir)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", dir,
		     VM_CONSOLE_SOCK) >= (int)sizeof(a.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* Copy between the terminal and the socket until Ctrl-] or a hangup. */
static void vm_console_relay(int sock, bool tty)
{
	struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
			      {.fd = sock, .events = POLLIN}};
	char buf[4096];

	for (;;) {
		ssize_t n;

		if (poll(p, 2, -1) < 0)
			return;
		if (p[1].revents) {
			n = read(sock, buf, sizeof(buf));
			if (n <= 0 || write(STDOUT_FILENO, buf, (size_t)n) < 0)
				return;
		}
		if (p[0].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				return;
			esc = tty ? memchr(buf, VM_ESCAPE, (size_t)n) : NULL;
			if (esc)
				n = esc - buf;
			if (n && send(sock, buf, (size_t)n, MSG_NOSIGNAL) < 0)
				return;
			if (esc)
				return;
		}
	}
}

static int vm_console_attach(const char *dir, const char *name)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	int sock = vm_console_connect(dir);

	if (sock < 0) {
		vm_err("console",
		       "%s: no console (%s/%s: %s; is com1 "
		       "unix:%s,server?)",
		       name, dir, VM_CONSOLE_SOCK, strerror(-sock),
		       VM_CONSOLE_SOCK);
		return CLI_EXIT_ERROR;
	}
	if (tty) {
		fprintf(stderr, "[attached to %s's COM1; Ctrl-] detaches]\r\n",
			name);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	vm_console_relay(sock, tty);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fprintf(stderr, "\n[detached from %s]\n", name);
	}
	close(sock);
	return 0;
}

/*
 * A VM with a display (vm.ini vnc=): print where viewers reach it, from
 * the running VM's own answer. True if it has one.
 */
static bool vm_console_display(const char *dir, const char *name)
{
	char reply[1024] = "", *vnc, *web;

	if (vm_control(dir, "state", reply, sizeof(reply), 2000))
		return false;
	vnc = strstr(reply, " vnc=");
	web = strstr(reply, " web=");
	if (vnc)
		vnc[strcspn(vnc + 1, " ") + 1] = '\0';
	if (web)
		web[strcspn(web + 1, " ") + 1] = '\0';
	if (!vnc)
		return false;
	printf("%s: VNC display at %s\n", name, vnc + 5);
	if (web)
		printf("%s: web console at %s\n", name, web + 5);
	fflush(stdout);
	return true;
}

int vm_cmd_console(int argc, char **argv)
{
	struct vm_ref ref;
	bool display_only = false, has_display;
	char *args[3] = {argv[0], NULL, NULL};
	int i, n = 1, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--display"))
			display_only = true;
		else if (n++ < 2)
			args[n - 1] = argv[i];
	}
	ret = vm_open_running("console", n, args, &ref);
	if (ret)
		return ret;
	has_display = vm_console_display(ref.dir, args[1]);
	if (display_only && !has_display) {
		vm_err("console", "%s has no display (set vnc= in its vm.ini)",
		       args[1]);
		ret = CLI_EXIT_ERROR;
	} else if (!display_only &&
		   (!has_display ||
		    (ref.cfg.com[0] &&
		     strstr(ref.cfg.com[0], VM_CONSOLE_SOCK)))) {
		/* COM1 too when it is the console socket. */
		ret = vm_console_attach(ref.dir, args[1]);
	}
	vm_close(&ref);
	return ret;
}
