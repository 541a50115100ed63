// SPDX-License-Identifier: MIT
/*
 * `twoostwo control SOCKET COMMAND...`: send one command to a machine
 * started with `twoostwo run --control SOCKET`, print its one-line answer
 * and exit 0 for "ok", 1 for "error" (or no answer).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "machine/control.h"

/* The machine answers between time slices: well under a second. */
#define CONTROL_ANSWER_TIMEOUT_MS 10000

static const char control_usage[] =
	"usage: twoostwo control SOCKET eject [--force]\n"
	"       twoostwo control SOCKET insert ISO\n"
	"       twoostwo control SOCKET status\n"
	"       twoostwo control SOCKET screendump FILE.png\n"
	"\n"
	"Change the CD of a machine started with 'twoostwo run --control "
	"SOCKET',\nor take a picture of its screen.\n"
	"  eject [--force]  take the disc out (--force: even when the guest "
	"has\n"
	"                   locked the tray)\n"
	"  insert ISO       put an ISO image or a host CD reader (/dev/srN) "
	"in\n"
	"  status           what is in the drive, tray and lock state\n"
	"  screendump FILE  write the screen as a PNG image (text or "
	"graphics)\n";

/* The command line to send: the words joined by spaces, then '\n'. */
static int control_build_line(int argc, char **argv, char *line, size_t len)
{
	size_t n = 0;
	int i;

	for (i = 0; i < argc; i++) {
		int w = snprintf(line + n, len - n, "%s%s", i ? " " : "",
				 argv[i]);

		if (w < 0 || (size_t)w >= len - n || strchr(argv[i], '\n'))
			return -EINVAL;
		n += (size_t)w;
	}
	if (n + 1 >= len)
		return -EINVAL;
	line[n++] = '\n';
	line[n] = '\0';
	return 0;
}

static int control_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "twoostwo: %s: socket path too long\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "twoostwo: %s: %s%s\n", path, strerror(errno),
			errno == ECONNREFUSED || errno == ENOENT ?
				" (is a machine running with --control?)" :
				"");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read the answer's one line into buf; 0, or -1 with the reason printed. */
static int control_read_answer(int fd, const char *path, char *buf, size_t len)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r;

		if (poll(&pfd, 1, CONTROL_ANSWER_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "twoostwo: %s: no answer\n", path);
			return -1;
		}
		r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n))
			break;
	}
	buf[n] = '\0';
	if (!memchr(buf, '\n', n)) {
		fprintf(stderr,
			"twoostwo: %s: the machine closed the "
			"connection without an answer\n",
			path);
		return -1;
	}
	*strchr(buf, '\n') = '\0';
	return 0;
}

/*
 * The machine runs in its own directory: a relative ISO path is made
 * absolute here, where the user typed it.
 */
static void control_absolute_path(int argc, char **argv, char *buf, size_t len)
{
	char *abs, *cwd;

	if (argc != 4 || argv[3][0] == '/')
		return;
	if (!strcmp(argv[2], "screendump")) {
		/* The file does not exist yet: prefix the directory. */
		cwd = getcwd(NULL, 0);
		if (cwd &&
		    (size_t)snprintf(buf, len, "%s/%s", cwd, argv[3]) < len)
			argv[3] = buf;
		free(cwd);
		return;
	}
	if (strcmp(argv[2], "insert"))
		return;
	abs = realpath(argv[3], NULL);
	if (!abs)
		return; /* the machine will name the problem */
	if (strlen(abs) < len) {
		strcpy(buf, abs);
		argv[3] = buf;
	}
	free(abs);
}

int cli_cmd_control(int argc, char **argv)
{
	char line[CONTROL_LINE_MAX + 1], answer[CONTROL_REPLY_MAX];
	char path[CONTROL_LINE_MAX];
	int fd, ret;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(control_usage, stdout);
		return 0;
	}
	if (argc < 3) {
		fputs(control_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	control_absolute_path(argc, argv, path, sizeof(path));
	if (control_build_line(argc - 2, argv + 2, line, sizeof(line))) {
		fprintf(stderr, "twoostwo: control: command too long\n");
		return CLI_EXIT_USAGE;
	}
	fd = control_connect(argv[1]);
	if (fd < 0)
		return CLI_EXIT_ERROR;
	ret = send(fd, line, strlen(line), MSG_NOSIGNAL) ==
			      (ssize_t)strlen(line) ?
		      control_read_answer(fd, argv[1], answer, sizeof(answer)) :
		      -1;
	close(fd);
	if (ret)
		return CLI_EXIT_ERROR;
	puts(answer);
	return strncmp(answer, "ok", 2) ? CLI_EXIT_ERROR : 0;
}
