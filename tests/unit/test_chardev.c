// SPDX-License-Identifier: MIT
/*
 * Character backends: specification parsing and its error messages, file
 * output, and the stdio backend on pipes (flow control through
 * can_receive / chardev_accept_input) and on a pseudo-terminal (raw mode
 * set and restored).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "unit.h"

struct sink {
	u8 buf[64];
	size_t len;
	size_t room;
};

static size_t sink_can_receive(void *opaque)
{
	struct sink *s = opaque;

	return s->room;
}

static void sink_receive(void *opaque, const u8 *buf, size_t len)
{
	struct sink *s = opaque;

	CHECK(len <= s->room);
	if (len > sizeof(s->buf) - s->len)
		len = sizeof(s->buf) - s->len;
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->room -= MIN(s->room, len);
}

static void test_none(void)
{
	struct chardev *cd;
	char err[128] = "";

	CHECK_EQ(chardev_open("none", NULL, &cd, err, sizeof(err)), 0);
	CHECK_EQ(chardev_write(cd, (const u8 *)"abc", 3), 3);
	chardev_accept_input(cd);
	chardev_close(cd);
}

static void test_unknown_spec(void)
{
	struct chardev *cd = (struct chardev *)1;
	char err[256] = "";

	CHECK_EQ(chardev_open("foo", NULL, &cd, err, sizeof(err)), -EINVAL);
	CHECK(cd == NULL);
	CHECK_STR(err,
		  "serial backend 'foo' unknown (use stdio, file:PATH, "
		  "unix:PATH[,server], tcp:HOST:PORT[,server], tty:DEVICE, "
		  "pty or none)");
	CHECK_EQ(chardev_open("file:", NULL, &cd, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "file: needs a path (file:PATH)");
}

static void test_file_missing_dir(void)
{
	struct chardev *cd;
	char err[128] = "";

	CHECK_EQ(chardev_open("file:/nonexistent/x", NULL, &cd, err,
			      sizeof(err)),
		 -ENOENT);
	CHECK_STR(err, "file:/nonexistent/x: No such file or directory");
}

static void test_file_output(void)
{
	char path[] = "/tmp/test_chardev_XXXXXX";
	char spec[64], err[128] = "", back[32] = "";
	struct chardev *cd;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	/* Old contents must go: the backend truncates. */
	CHECK_EQ(write(fd, "old contents here", 17), 17);
	snprintf(spec, sizeof(spec), "file:%s", path);
	CHECK_EQ(chardev_open(spec, NULL, &cd, err, sizeof(err)), 0);
	CHECK_EQ(cd->in_fd, -1);
	CHECK_EQ(chardev_write(cd, (const u8 *)"hello\n", 6), 6);
	CHECK_EQ(chardev_write(cd, (const u8 *)"x", 1), 1);
	chardev_close(cd);
	CHECK_EQ(pread(fd, back, sizeof(back), 0), 7);
	CHECK_STR(back, "hello\nx");
	close(fd);
	unlink(path);
}

struct saved_stdio {
	int in, out;
};

static void stdio_redirect(struct saved_stdio *saved, int in, int out)
{
	fflush(stdout);
	saved->in = dup(STDIN_FILENO);
	saved->out = dup(STDOUT_FILENO);
	CHECK(dup2(in, STDIN_FILENO) == STDIN_FILENO);
	if (out >= 0)
		CHECK(dup2(out, STDOUT_FILENO) == STDOUT_FILENO);
}

static void stdio_restore(struct saved_stdio *saved)
{
	dup2(saved->in, STDIN_FILENO);
	dup2(saved->out, STDOUT_FILENO);
	close(saved->in);
	close(saved->out);
}

static void stdio_pipes_run(struct evloop *loop, int in_w, int out_r)
{
	struct sink sink = {.room = 3};
	struct chardev_receiver rx = {sink_can_receive, sink_receive, &sink};
	struct chardev *cd, *second;
	char err[128], out[16] = "";
	unsigned i;

	CHECK_EQ(chardev_open("stdio", loop, &cd, err, sizeof(err)), 0);
	CHECK_EQ(chardev_open("stdio", loop, &second, err, sizeof(err)),
		 -EBUSY);
	CHECK_EQ(chardev_write(cd, (const u8 *)"guest", 5), 5);
	CHECK_EQ(read(out_r, out, sizeof(out) - 1), 5);
	CHECK_STR(out, "guest");

	CHECK_EQ(write(in_w, "0123456789", 10), 10);
	chardev_set_receiver(cd, &rx);
	for (i = 0; i < 4; i++)
		evloop_run_once(loop, 0);
	/* Only what the device had room for; the rest waits in the pipe. */
	CHECK_EQ(sink.len, 3);
	CHECK(!memcmp(sink.buf, "012", 3));

	sink.room = 4;
	chardev_accept_input(cd);
	for (i = 0; i < 4; i++)
		evloop_run_once(loop, 0);
	CHECK_EQ(sink.len, 7);

	sink.room = 50;
	chardev_accept_input(cd);
	close(in_w);
	for (i = 0; i < 4; i++)
		evloop_run_once(loop, 0);
	CHECK_EQ(sink.len, 10);
	CHECK(!memcmp(sink.buf, "0123456789", 10));
	/* After end of input the backend stays quiet. */
	chardev_accept_input(cd);
	evloop_run_once(loop, 0);
	CHECK_EQ(sink.len, 10);
	chardev_set_receiver(cd, NULL);
	chardev_close(cd);
}

static void test_stdio_pipes(void)
{
	struct saved_stdio saved;
	struct evloop loop;
	int in[2], out[2];

	CHECK(pipe(in) == 0 && pipe(out) == 0);
	CHECK_EQ(evloop_init(&loop), 0);
	stdio_redirect(&saved, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	stdio_pipes_run(&loop, in[1], out[0]);
	stdio_restore(&saved);
	close(out[0]);
	evloop_destroy(&loop);
}

static bool stdin_canonical(void)
{
	struct termios t;

	CHECK(tcgetattr(STDIN_FILENO, &t) == 0);
	return t.c_lflag & ICANON;
}

static void test_stdio_tty_raw_mode(void)
{
	struct saved_stdio saved;
	struct chardev *cd;
	char err[128];
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave;

	CHECK(master >= 0);
	CHECK(grantpt(master) == 0 && unlockpt(master) == 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	CHECK(slave >= 0);
	stdio_redirect(&saved, slave, -1);
	CHECK(stdin_canonical());
	CHECK_EQ(chardev_open("stdio", NULL, &cd, err, sizeof(err)), 0);
	CHECK(!stdin_canonical());
	chardev_close(cd);
	CHECK(stdin_canonical());
	stdio_restore(&saved);
	close(slave);
	close(master);
}

int main(void)
{
	RUN_TEST(test_none);
	RUN_TEST(test_unknown_spec);
	RUN_TEST(test_file_missing_dir);
	RUN_TEST(test_file_output);
	RUN_TEST(test_stdio_pipes);
	RUN_TEST(test_stdio_tty_raw_mode);
	return unit_summary();
}
