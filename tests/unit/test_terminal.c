// SPDX-License-Identifier: MIT
/*
 * The text-screen consumers: code page 437 to UTF-8, the screen dump, the
 * key decoder, and the terminal display driven through a pseudo-terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/evloop.h"
#include "ui/screen_dump.h"
#include "ui/terminal.h"
#include "unit.h"

struct key_log {
	unsigned n;
	u16 code[64];
	bool down[64];
};

static void log_key(void *opaque, u16 keycode, bool down)
{
	struct key_log *k = opaque;

	if (k->n < ARRAY_SIZE(k->code)) {
		k->code[k->n] = keycode;
		k->down[k->n] = down;
	}
	k->n++;
}

/* Expected events as (code, down) pairs. */
static void check_keys(const struct key_log *k, const u16 *want, unsigned n)
{
	unsigned i;

	CHECK_EQ(k->n, n);
	for (i = 0; i < n && i < k->n; i++) {
		CHECK_EQ(k->code[i], want[2 * i]);
		CHECK_EQ(k->down[i], want[2 * i + 1]);
	}
}

/* Decode all of s; returns bytes left undecoded. */
static size_t decode_all(const char *s, size_t len, struct key_log *k)
{
	const u8 *p = (const u8 *)s;
	size_t n;

	memset(k, 0, sizeof(*k));
	while (len && (n = terminal_decode_keys(p, len, log_key, k))) {
		CHECK(n <= len);
		p += n;
		len -= n;
	}
	return len;
}

static void test_cp437(void)
{
	CHECK_STR(cp437_to_utf8(0x00), " ");
	CHECK_STR(cp437_to_utf8(0x01), "☺");
	CHECK_STR(cp437_to_utf8(0x1f), "▼");
	CHECK_STR(cp437_to_utf8('A'), "A");
	CHECK_STR(cp437_to_utf8('"'), "\"");
	CHECK_STR(cp437_to_utf8(0x7f), "⌂");
	CHECK_STR(cp437_to_utf8(0x80), "Ç");
	CHECK_STR(cp437_to_utf8(0xb3), "│");
	CHECK_STR(cp437_to_utf8(0xc9), "╔");
	CHECK_STR(cp437_to_utf8(0xdb), "█");
	CHECK_STR(cp437_to_utf8(0xe1), "ß");
	CHECK_STR(cp437_to_utf8(0xfe), "■");
	CHECK_STR(cp437_to_utf8(0xff), "\xc2\xa0");
}

static void put(struct text_screen *s, unsigned row, unsigned col,
		const char *text)
{
	for (; *text; text++)
		s->cell[row][col++] = (struct text_cell){(u8)*text, 0x07};
}

static void blank(struct text_screen *s, unsigned rows, unsigned cols)
{
	unsigned r, c;

	memset(s, 0, sizeof(*s));
	s->rows = rows;
	s->cols = cols;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++)
			s->cell[r][c] = (struct text_cell){' ', 0x07};
}

static void test_to_utf8(void)
{
	static struct text_screen s;
	char *text;

	blank(&s, 4, 10);
	put(&s, 0, 0, "Hi");
	put(&s, 2, 0, "a b");
	s.cell[2][9].ch = 0; /* NUL draws blank: trimmed too */
	s.cell[3][1].ch = 0xc4;
	text = text_screen_to_utf8(&s);
	CHECK_STR(text, "Hi\n\na b\n ─");
	free(text);

	blank(&s, 3, 5);
	text = text_screen_to_utf8(&s);
	CHECK_STR(text, "\n\n");
	free(text);

	s.graphics = true;
	s.gfx_width = 640;
	s.gfx_height = 480;
	text = text_screen_to_utf8(&s);
	CHECK_STR(text, "[graphics mode 640x480]");
	free(text);

	/* Sizes beyond the cell array are bounded. */
	blank(&s, TEXT_SCREEN_MAX_ROWS, TEXT_SCREEN_MAX_COLS);
	s.rows = 1000;
	s.cols = 1000;
	text = text_screen_to_utf8(&s);
	CHECK(text != NULL);
	CHECK_EQ(strlen(text), TEXT_SCREEN_MAX_ROWS - 1);
	free(text);
}

static void test_screen_dump(void)
{
	static struct text_screen s;
	char dir[] = "/tmp/twoostwo-dump-XXXXXX", path[64], tmp[80], buf[64];
	ssize_t n;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/screen", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	blank(&s, 2, 8);
	put(&s, 0, 0, "ok");
	put(&s, 1, 1, "\x01");
	CHECK_EQ(screen_dump_write(path, &s), 0);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "ok\n ☺\n");
	CHECK(access(tmp, F_OK) != 0);
	CHECK(screen_dump_write("/nonexistent-dir/screen", &s) < 0);
	unlink(path);
	rmdir(dir);
}

static void test_decode_text(void)
{
	static const u16 want[] = {
		0x1e, 1, 0x1e, 0,		    /* a */
		0x2a, 1, 0x30, 1, 0x30, 0, 0x2a, 0, /* B */
		0x1c, 1, 0x1c, 0,		    /* Enter */
	};
	static const u16 ctrl_c[] = {0x1d, 1, 0x2e, 1, 0x2e, 0, 0x1d, 0};
	static const u16 bang[] = {0x2a, 1, 0x02, 1, 0x02, 0, 0x2a, 0};
	static const u16 misc[] = {0x0e, 1, 0x0e, 0, 0x0f, 1, 0x0f, 0,
				   0x39, 1, 0x39, 0, 0x0c, 1, 0x0c, 0};
	struct key_log k;

	CHECK_EQ(decode_all("aB\r", 3, &k), 0);
	check_keys(&k, want, 8);
	CHECK_EQ(decode_all("\x03", 1, &k), 0);
	check_keys(&k, ctrl_c, 4);
	CHECK_EQ(decode_all("!", 1, &k), 0);
	check_keys(&k, bang, 4);
	CHECK_EQ(decode_all("\x7f\t -", 4, &k), 0);
	check_keys(&k, misc, 8);
	/* UTF-8 has no key: consumed, nothing pressed. */
	CHECK_EQ(decode_all("\xc3\xa9", 2, &k), 0);
	CHECK_EQ(k.n, 0);
}

static void test_decode_escapes(void)
{
	static const u16 arrows[] = {0xe048, 1, 0xe048, 0, 0xe050, 1,
				     0xe050, 0, 0xe04d, 1, 0xe04d, 0,
				     0xe04b, 1, 0xe04b, 0};
	static const u16 f1[] = {0x3b, 1, 0x3b, 0};
	static const u16 f12_del[] = {0x58, 1, 0x58, 0, 0xe053, 1, 0xe053, 0};
	static const u16 ctrl_up[] = {0x1d, 1, 0xe048, 1, 0xe048, 0, 0x1d, 0};
	static const u16 esc_x[] = {0x01, 1, 0x01, 0, 0x38, 1,
				    0x2d, 1, 0x2d, 0, 0x38, 0};
	struct key_log k;

	CHECK_EQ(decode_all("\033[A\033[B\033[C\033[D", 12, &k), 0);
	check_keys(&k, arrows, 8);
	CHECK_EQ(decode_all("\033OP", 3, &k), 0);
	check_keys(&k, f1, 2);
	CHECK_EQ(decode_all("\033[11~", 5, &k), 0);
	check_keys(&k, f1, 2);
	CHECK_EQ(decode_all("\033[[A", 4, &k), 0);
	check_keys(&k, f1, 2);
	CHECK_EQ(decode_all("\033[24~\033[3~", 9, &k), 0);
	check_keys(&k, f12_del, 4);
	CHECK_EQ(decode_all("\033[1;5A", 6, &k), 0);
	check_keys(&k, ctrl_up, 4);
	/* ESC ESC x: the Esc key, then Alt-x. */
	CHECK_EQ(decode_all("\033\033x", 3, &k), 0);
	check_keys(&k, esc_x, 6);

	/* Incomplete sequences wait for more. */
	CHECK_EQ(decode_all("\033", 1, &k), 1);
	CHECK_EQ(decode_all("\033[", 2, &k), 2);
	CHECK_EQ(decode_all("\033[1;5", 5, &k), 5);
	CHECK_EQ(k.n, 0);
	/* Unknown and overlong sequences are dropped. */
	CHECK_EQ(decode_all("\033[99~", 5, &k), 0);
	CHECK_EQ(k.n, 0);
	CHECK_EQ(decode_all("\033[11111111111111111111111", 25, &k), 0);
}

static void test_decode_hostile(void)
{
	struct key_log k;
	u32 x = 0x9e3779b9;
	char buf[256];
	unsigned i, round;

	for (round = 0; round < 2000; round++) {
		for (i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* Plenty of ESC, '[' and digits. */
			if ((x & 3) == 0)
				buf[i] = 0x1b;
			else if ((x & 3) == 1)
				buf[i] = "[O0123456789;~A"[(x >> 8) % 15];
			else
				buf[i] = (char)(x >> 8);
		}
		CHECK(decode_all(buf, sizeof(buf), &k) < 16);
	}
}

/* The display: a fake machine screen shown through a pseudo-terminal. */
struct fake_host {
	struct text_screen screen;
	struct key_log keys;
	int quits;
	bool busy; /* the keyboard takes no key */
};

static void fake_get_screen(void *opaque, struct text_screen *out)
{
	struct fake_host *h = opaque;

	*out = h->screen;
}

static void fake_key(void *opaque, u16 keycode, bool down)
{
	struct fake_host *h = opaque;

	log_key(&h->keys, keycode, down);
}

static void fake_quit(void *opaque)
{
	struct fake_host *h = opaque;

	h->quits++;
}

static bool fake_key_ready(void *opaque)
{
	struct fake_host *h = opaque;

	return !h->busy;
}

static const struct terminal_ui_host fake_ops = {
	.get_screen = fake_get_screen,
	.key = fake_key,
	.quit = fake_quit,
	.key_ready = fake_key_ready,
};

static void run_loop(struct evloop *loop, u64 ns)
{
	u64 end = clock_now_ns() + ns;

	while (clock_now_ns() < end)
		evloop_run_once(loop,
				MIN(end, clock_now_ns() + 10 * NSEC_PER_MSEC));
}

/* Everything the display wrote so far, NUL-terminated. */
static size_t drain(int master, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap &&
	       (n = read(master, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

static int open_pty(int *slave)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	if (master < 0 || grantpt(master) || unlockpt(master))
		return -1;
	*slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	fcntl(master, F_SETFL, O_NONBLOCK);
	return *slave < 0 ? -1 : master;
}

static void test_display(void)
{
	static struct fake_host host;
	static char out[65536];
	struct terminal_ui_host ops = fake_ops;
	static const u16 key_a[] = {0x1e, 1, 0x1e, 0};
	struct terminal_ui *ui;
	struct termios before, during, after;
	struct winsize ws = {.ws_row = 30, .ws_col = 100};
	struct evloop loop;
	int master, slave;
	unsigned i;

	ops.opaque = &host;
	master = open_pty(&slave);
	CHECK(master >= 0);
	if (master < 0)
		return;
	ioctl(slave, TIOCSWINSZ, &ws);
	tcgetattr(slave, &before);
	blank(&host.screen, 25, 80);
	put(&host.screen, 0, 0, "Hello");
	for (i = 0; i < 5; i++)
		host.screen.cell[0][i].attr = 0x1e;
	host.screen.cursor_visible = true;
	host.screen.cursor_row = 2;
	host.screen.cursor_col = 3;
	CHECK_EQ(evloop_init(&loop), 0);
	CHECK_EQ(terminal_ui_create(&loop, slave, slave, &ops, &ui), 0);
	CHECK_EQ(terminal_ui_create(&loop, slave, slave, &ops, &ui), -EBUSY);
	tcgetattr(slave, &during);
	CHECK(!(during.c_lflag & ICANON));
	CHECK(!(during.c_lflag & ECHO));

	run_loop(&loop, 1200 * NSEC_PER_MSEC);
	drain(master, out, sizeof(out));
	CHECK(strstr(out, "\033[?1049h") != NULL);
	CHECK(strstr(out, "twoostwo: press Ctrl-] to quit") != NULL);
	/* Bright yellow on blue: VGA 0x1E in ANSI terms. */
	CHECK(strstr(out, "\033[0;93;44mHello") != NULL);
	CHECK(strstr(out, "\033[3;4H\033[?25h") != NULL);
	/* The status line sits below the 25 rows. */
	CHECK(strstr(out, "\033[30;1H") != NULL);

	/* Only what changed is sent again. */
	put(&host.screen, 1, 10, "Z");
	run_loop(&loop, 120 * NSEC_PER_MSEC);
	drain(master, out, sizeof(out));
	CHECK(strstr(out, "\033[2;11H") != NULL);
	CHECK(strstr(out, "Z") != NULL);
	CHECK(strstr(out, "Hello") == NULL);

	/* Keys typed, then the escape key. */
	CHECK_EQ(write(master, "a", 1), 1);
	run_loop(&loop, 30 * NSEC_PER_MSEC);
	check_keys(&host.keys, key_a, 2);
	CHECK_EQ(host.quits, 0);
	/* A lone ESC becomes the Esc key after a short wait. */
	memset(&host.keys, 0, sizeof(host.keys));
	CHECK_EQ(write(master, "\033", 1), 1);
	run_loop(&loop, 150 * NSEC_PER_MSEC);
	CHECK_EQ(host.keys.n, 2);
	CHECK_EQ(host.keys.code[0], 0x01);
	CHECK_EQ(write(master, "\x1d", 1), 1);
	run_loop(&loop, 30 * NSEC_PER_MSEC);
	CHECK_EQ(host.quits, 1);

	terminal_ui_destroy(ui);
	drain(master, out, sizeof(out));
	CHECK(strstr(out, "\033[?1049l") != NULL);
	tcgetattr(slave, &after);
	CHECK_EQ(after.c_lflag, before.c_lflag);
	evloop_destroy(&loop);
	close(slave);
	close(master);
}

/* Input that epoll cannot watch (/dev/null): the display still works. */
static void test_display_without_input(void)
{
	static struct fake_host host;
	struct terminal_ui_host ops = fake_ops;
	struct terminal_ui *ui = NULL;
	struct evloop loop;
	char out[256];
	int in = open("/dev/null", O_RDONLY), pipefd[2];

	CHECK(in >= 0);
	CHECK_EQ(pipe(pipefd), 0);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	ops.opaque = &host;
	blank(&host.screen, 25, 80);
	CHECK_EQ(evloop_init(&loop), 0);
	CHECK_EQ(terminal_ui_create(&loop, in, pipefd[1], &ops, &ui), 0);
	terminal_ui_destroy(ui);
	drain(pipefd[0], out, sizeof(out));
	CHECK(strstr(out, "\033[?1049h") != NULL);
	CHECK(strstr(out, "\033[?1049l") != NULL);
	evloop_destroy(&loop);
	close(in);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* Keys wait while the keyboard is busy, and a paste comes out whole. */
static void test_key_pacing(void)
{
	static struct fake_host host;
	static char out[65536];
	static const u16 abc[] = {0x1e, 1, 0x1e, 0, 0x30, 1,
				  0x30, 0, 0x2e, 1, 0x2e, 0};
	struct terminal_ui_host ops = fake_ops;
	struct terminal_ui *ui;
	struct evloop loop;
	char paste[100];
	int master, slave;
	unsigned i;

	ops.opaque = &host;
	master = open_pty(&slave);
	CHECK(master >= 0);
	if (master < 0)
		return;
	blank(&host.screen, 25, 80);
	CHECK_EQ(evloop_init(&loop), 0);
	CHECK_EQ(terminal_ui_create(&loop, slave, slave, &ops, &ui), 0);

	host.busy = true;
	CHECK_EQ(write(master, "abc", 3), 3);
	run_loop(&loop, 50 * NSEC_PER_MSEC);
	CHECK_EQ(host.keys.n, 0);
	host.busy = false;
	run_loop(&loop, 100 * NSEC_PER_MSEC);
	check_keys(&host.keys, abc, 6);

	/* 400 events: more than the display queues at once. */
	memset(&host.keys, 0, sizeof(host.keys));
	memset(paste, 'X', sizeof(paste));
	CHECK_EQ(write(master, paste, sizeof(paste)), (ssize_t)sizeof(paste));
	for (i = 0; i < 200 && host.keys.n < 4 * sizeof(paste); i++)
		run_loop(&loop, 10 * NSEC_PER_MSEC);
	CHECK_EQ(host.keys.n, 4 * sizeof(paste));
	CHECK_EQ(host.keys.code[0], 0x2a);
	CHECK_EQ(host.keys.code[1], 0x2d);
	CHECK(!host.keys.down[3]);
	terminal_ui_destroy(ui);
	drain(master, out, sizeof(out));
	evloop_destroy(&loop);
	close(slave);
	close(master);
}

int main(void)
{
	RUN_TEST(test_cp437);
	RUN_TEST(test_to_utf8);
	RUN_TEST(test_screen_dump);
	RUN_TEST(test_decode_text);
	RUN_TEST(test_decode_escapes);
	RUN_TEST(test_decode_hostile);
	RUN_TEST(test_display);
	RUN_TEST(test_display_without_input);
	RUN_TEST(test_key_pacing);
	return unit_summary();
}
