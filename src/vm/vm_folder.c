// SPDX-License-Identifier: MIT
/*
 * VM folders: location, lock, state and the control-socket client (see
 * vm_folder.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vm/vm_folder.h"

int vm_home(char *out, size_t len)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	/* XDG Base Directory spec: relative values are to be ignored. */
	if (xdg && xdg[0] == '/')
		n = snprintf(out, len, "%s/twoostwo/vms", xdg);
	else if (home && *home)
		n = snprintf(out, len, "%s/.local/share/twoostwo/vms", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int vm_resolve(const char *name, char *out, size_t len)
{
	char home[4096];
	int n, ret;

	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		n = snprintf(out, len, "%s", name);
	} else {
		ret = vm_home(home, sizeof(home));
		if (ret)
			return ret;
		n = snprintf(out, len, "%s/%s", home, name);
	}
	/* Keep sun_path room for the sockets inside. */
	return n < 0 || (size_t)n >= len || (size_t)n > 90 ? -ENAMETOOLONG : 0;
}

int vm_path(char *out, size_t len, const char *dir, const char *file)
{
	int n = snprintf(out, len, "%s/%s", dir, file);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static pid_t vm_read_pid(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	return n > 0 ? (pid_t)atoi(buf) : 0;
}

int vm_lock(const char *dir, int *fd_out, pid_t *pid)
{
	char path[4200];
	int fd;

	*pid = 0;
	if (vm_path(path, sizeof(path), dir, VM_LOCK_FILE))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int ret = errno == EWOULDBLOCK ? -EBUSY : -errno;

		*pid = vm_read_pid(fd);
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}

enum vm_run_state vm_run_state(const char *dir, pid_t *pid)
{
	char path[4200];
	struct stat st;
	int fd;

	int ret;

	*pid = 0;
	ret = vm_lock(dir, &fd, pid);
	if (ret == -EBUSY)
		return VM_RUNNING;
	if (!ret)
		close(fd);
	if (vm_path(path, sizeof(path), dir, VM_STATE_FILE) == 0 &&
	    stat(path, &st) == 0)
		return VM_SUSPENDED;
	return VM_STOPPED;
}

const char *vm_run_state_name(enum vm_run_state s)
{
	switch (s) {
	case VM_RUNNING:
		return "running";
	case VM_SUSPENDED:
		return "suspended";
	default:
		return "stopped";
	}
}

static int vm_control_connect(const char *dir)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd, n;

	n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir,
		     VM_CONTROL_SOCK);
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	return fd;
}

int vm_control(const char *dir, const char *line, char *reply, size_t len,
	       int timeout_ms)
{
	char buf[4400];
	size_t got = 0;
	int fd = vm_control_connect(dir), ret = -ETIMEDOUT;

	if (fd < 0)
		return fd;
	snprintf(buf, sizeof(buf), "%s\n", line);
	if (send(fd, buf, strlen(buf), MSG_NOSIGNAL) != (ssize_t)strlen(buf)) {
		close(fd);
		return -EIO;
	}
	while (got < sizeof(buf) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0) {
			ret = -ECONNRESET;
			break;
		}
		got += (size_t)n;
		if (memchr(buf, '\n', got)) {
			ret = 0;
			break;
		}
	}
	close(fd);
	if (ret)
		return ret;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(reply, len, "%s", buf);
	return strncmp(buf, "ok", 2) ? -EIO : 0;
}
