// SPDX-License-Identifier: MIT
/*
 * The terminal display. Every refresh it takes the guest's text screen,
 * compares it with what it drew last time and sends only the changed cells
 * (ANSI cursor moves, SGR colours, UTF-8 for code page 437). Bytes typed
 * on the terminal become PS/2 scan code set 1 key presses and releases.
 *
 * The terminal is restored (cooked mode, main screen, cursor shown) on
 * destroy, at exit, and from the handlers of fatal and terminating
 * signals, which use only async-signal-safe calls.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "ui/terminal.h"

#define TERMINAL_REFRESH_NS (50 * NSEC_PER_MSEC)
/* How long a lone ESC waits for the rest of an escape sequence. */
#define TERMINAL_ESC_WAIT_NS (50 * NSEC_PER_MSEC)
/* How long the status line stays when it has no row of its own. */
#define TERMINAL_STATUS_NS NSEC_PER_SEC
#define TERMINAL_INBUF 64
/*
 * Keys reach the guest one every 10 ms at most (100 a second, faster than
 * anyone types), so a paste cannot overrun the keyboard's 16-byte buffer.
 */
#define TERMINAL_KEY_INTERVAL_NS (10 * NSEC_PER_MSEC)
#define TERMINAL_KEYQ 256
/* Most events one decoded key makes: three modifiers around it. */
#define TERMINAL_KEY_EVENTS_MAX 8
#define TERMINAL_STATUS "twoostwo: press Ctrl-] to quit"
/* Where to see it: the screendump command of `twoostwo control`. */
#define TERMINAL_GRAPHICS                                                      \
	"[graphics mode %ux%u: twoostwo control SOCKET screendump FILE.png]"
#define TERMINAL_ENTER "\033[?1049h\033[?25l\033[0m\033[2J"
#define TERMINAL_LEAVE "\033[0m\033[?25h\033[?1049l"
#define TERMINAL_DEFAULT_ROWS 25
#define TERMINAL_DEFAULT_COLS 80

/* Longest CSI sequence decoded; longer ones are dropped. */
#define CSI_MAX 16

/* Set 1 scan codes (IBM PC AT Technical Reference, keyboard). */
#define SC_ESC 0x01
#define SC_BACKSPACE 0x0e
#define SC_TAB 0x0f
#define SC_ENTER 0x1c
#define SC_LCTRL 0x1d
#define SC_LSHIFT 0x2a
#define SC_LALT 0x38
#define SC_SPACE 0x39
#define SC_F1 0x3b
#define SC_F11 0x57
#define SC_F12 0x58
#define SC_EXT(c) (0xe000 | (c))
#define SC_HOME SC_EXT(0x47)
#define SC_UP SC_EXT(0x48)
#define SC_PGUP SC_EXT(0x49)
#define SC_LEFT SC_EXT(0x4b)
#define SC_RIGHT SC_EXT(0x4d)
#define SC_END SC_EXT(0x4f)
#define SC_DOWN SC_EXT(0x50)
#define SC_PGDN SC_EXT(0x51)
#define SC_INS SC_EXT(0x52)
#define SC_DEL SC_EXT(0x53)

#define MOD_SHIFT 1
#define MOD_ALT 2
#define MOD_CTRL 4
/* In ascii_keys: the character needs Shift on a US keyboard. */
#define S 0x100

typedef void (*key_fn)(void *opaque, u16 keycode, bool down);

static const u16 ascii_keys[128] = {
	[' '] = SC_SPACE, ['!'] = S | 0x02, ['"'] = S | 0x28, ['#'] = S | 0x04,
	['$'] = S | 0x05, ['%'] = S | 0x06, ['&'] = S | 0x08, ['\''] = 0x28,
	['('] = S | 0x0a, [')'] = S | 0x0b, ['*'] = S | 0x09, ['+'] = S | 0x0d,
	[','] = 0x33,	  ['-'] = 0x0c,	    ['.'] = 0x34,     ['/'] = 0x35,
	['0'] = 0x0b,	  ['1'] = 0x02,	    ['2'] = 0x03,     ['3'] = 0x04,
	['4'] = 0x05,	  ['5'] = 0x06,	    ['6'] = 0x07,     ['7'] = 0x08,
	['8'] = 0x09,	  ['9'] = 0x0a,	    [':'] = S | 0x27, [';'] = 0x27,
	['<'] = S | 0x33, ['='] = 0x0d,	    ['>'] = S | 0x34, ['?'] = S | 0x35,
	['@'] = S | 0x03, ['['] = 0x1a,	    ['\\'] = 0x2b,    [']'] = 0x1b,
	['^'] = S | 0x07, ['_'] = S | 0x0c, ['`'] = 0x29,     ['{'] = S | 0x1a,
	['|'] = S | 0x2b, ['}'] = S | 0x1b, ['~'] = S | 0x29,
};

static const u8 letter_keys[26] = {
	0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17,
	0x24, 0x25, 0x26, 0x32, 0x31, 0x18, 0x19, 0x10, 0x13,
	0x1f, 0x14, 0x16, 0x2f, 0x11, 0x2d, 0x15, 0x2c,
};

/* ESC [ n ~ (VT220 and xterm editing and function keys). */
static const u16 tilde_keys[25] = {
	[1] = SC_HOME,	  [2] = SC_INS,	    [3] = SC_DEL,     [4] = SC_END,
	[5] = SC_PGUP,	  [6] = SC_PGDN,    [7] = SC_HOME,    [8] = SC_END,
	[11] = SC_F1,	  [12] = SC_F1 + 1, [13] = SC_F1 + 2, [14] = SC_F1 + 3,
	[15] = SC_F1 + 4, [17] = SC_F1 + 5, [18] = SC_F1 + 6, [19] = SC_F1 + 7,
	[20] = SC_F1 + 8, [21] = SC_F1 + 9, [23] = SC_F11,    [24] = SC_F12,
};

/* A press and release, wrapped in the presses of the modifiers. */
static void key_tap(u16 code, unsigned mods, key_fn key, void *opaque)
{
	if (mods & MOD_CTRL)
		key(opaque, SC_LCTRL, true);
	if (mods & MOD_ALT)
		key(opaque, SC_LALT, true);
	if (mods & MOD_SHIFT)
		key(opaque, SC_LSHIFT, true);
	key(opaque, code, true);
	key(opaque, code, false);
	if (mods & MOD_SHIFT)
		key(opaque, SC_LSHIFT, false);
	if (mods & MOD_ALT)
		key(opaque, SC_LALT, false);
	if (mods & MOD_CTRL)
		key(opaque, SC_LCTRL, false);
}

static void decode_control(u8 b, unsigned mods, key_fn key, void *opaque)
{
	switch (b) {
	case '\r':
	case '\n':
		key_tap(SC_ENTER, mods, key, opaque);
		break;
	case '\b':
	case 0x7f:
		key_tap(SC_BACKSPACE, mods, key, opaque);
		break;
	case '\t':
		key_tap(SC_TAB, mods, key, opaque);
		break;
	case 0x00: /* Ctrl-Space */
		key_tap(SC_SPACE, mods | MOD_CTRL, key, opaque);
		break;
	case 0x1c: /* Ctrl-\ */
		key_tap(0x2b, mods | MOD_CTRL, key, opaque);
		break;
	case 0x1d: /* Ctrl-] */
		key_tap(0x1b, mods | MOD_CTRL, key, opaque);
		break;
	case 0x1e: /* Ctrl-^ */
		key_tap(0x07, mods | MOD_CTRL, key, opaque);
		break;
	case 0x1f: /* Ctrl-_ */
		key_tap(0x0c, mods | MOD_CTRL, key, opaque);
		break;
	default: /* Ctrl-A .. Ctrl-Z */
		if (b >= 1 && b <= 26)
			key_tap(letter_keys[b - 1], mods | MOD_CTRL, key,
				opaque);
		break;
	}
}

/* One byte that is not ESC; bytes above 0x7F (UTF-8) have no key. */
static void decode_byte(u8 b, unsigned mods, key_fn key, void *opaque)
{
	u16 k;

	if (b >= 'a' && b <= 'z') {
		key_tap(letter_keys[b - 'a'], mods, key, opaque);
	} else if (b >= 'A' && b <= 'Z') {
		key_tap(letter_keys[b - 'A'], mods | MOD_SHIFT, key, opaque);
	} else if (b < 0x20 || b == 0x7f) {
		decode_control(b, mods, key, opaque);
	} else if (b < 0x80 && (k = ascii_keys[b])) {
		key_tap(k & 0xff, mods | ((k & S) ? MOD_SHIFT : 0), key,
			opaque);
	}
}

/* xterm's modifier parameter: 1 + (shift 1 | alt 2 | ctrl 4). */
static unsigned csi_mods(unsigned param)
{
	return param >= 2 ? (param - 1) & (MOD_SHIFT | MOD_ALT | MOD_CTRL) : 0;
}

/* Keys named by the final byte of CSI or SS3 sequences. */
static u16 final_key(u8 final)
{
	switch (final) {
	case 'A':
		return SC_UP;
	case 'B':
		return SC_DOWN;
	case 'C':
		return SC_RIGHT;
	case 'D':
		return SC_LEFT;
	case 'H':
		return SC_HOME;
	case 'F':
		return SC_END;
	case 'P':
	case 'Q':
	case 'R':
	case 'S':
		return (u16)(SC_F1 + final - 'P');
	default:
		return 0;
	}
}

static void csi_final(u8 final, const unsigned *params, key_fn key,
		      void *opaque)
{
	unsigned mods = csi_mods(params[1]);
	u16 code = 0;

	if (final == '~' && params[0] < ARRAY_SIZE(tilde_keys))
		code = tilde_keys[params[0]];
	else if (final == 'Z') /* back tab */
		code = SC_TAB;
	else
		code = final_key(final);
	if (final == 'Z')
		mods |= MOD_SHIFT;
	if (code)
		key_tap(code, mods, key, opaque);
}

/* ESC [ params final; unknown sequences are consumed silently. */
static size_t decode_csi(const u8 *buf, size_t len, key_fn key, void *opaque)
{
	unsigned params[2] = {0, 0}, n = 0;
	size_t i;

	/* ESC [ [ A..E: the Linux console's F1-F5. */
	if (len > 2 && buf[2] == '[') {
		if (len < 4)
			return 0;
		if (buf[3] >= 'A' && buf[3] <= 'E')
			key_tap((u16)(SC_F1 + buf[3] - 'A'), 0, key, opaque);
		return 4;
	}
	for (i = 2; i < len && i < CSI_MAX; i++) {
		u8 b = buf[i];

		if (b >= '0' && b <= '9') {
			if (n < 2)
				params[n] =
					MIN(params[n] * 10 + (b - '0'), 1000u);
		} else if (b == ';') {
			n++;
		} else if (b >= 0x40 && b <= 0x7e) {
			csi_final(b, params, key, opaque);
			return i + 1;
		} else if (b < 0x20 || b > 0x7e) {
			return i; /* broken off by another key */
		}
	}
	return i >= CSI_MAX ? i : 0;
}

size_t terminal_decode_keys(const u8 *buf, size_t len, key_fn key, void *opaque)
{
	u16 code;

	if (!len)
		return 0;
	if (buf[0] != 0x1b) {
		decode_byte(buf[0], 0, key, opaque);
		return 1;
	}
	if (len < 2)
		return 0;
	if (buf[1] == '[')
		return decode_csi(buf, len, key, opaque);
	if (buf[1] == 'O') {
		if (len < 3)
			return 0;
		if ((code = final_key(buf[2])))
			key_tap(code, 0, key, opaque);
		return 3;
	}
	/* ESC then a printable character: Meta, i.e. Alt held. */
	if (buf[1] >= 0x20 && buf[1] < 0x7f) {
		decode_byte(buf[1], MOD_ALT, key, opaque);
		return 2;
	}
	key_tap(SC_ESC, 0, key, opaque);
	return 1;
}

/*
 * The terminal's state before we took it over. Static because the exit
 * and signal paths need it without a pointer; one display at a time.
 */
static const int terminal_signals[] = {SIGTERM, SIGHUP,	 SIGQUIT, SIGSEGV,
				       SIGBUS,	SIGABRT, SIGFPE,  SIGILL};
static struct termios saved_termios;
static struct sigaction saved_actions[ARRAY_SIZE(terminal_signals)];
static int saved_in_fd = -1, saved_out_fd = -1;
static bool saved_has_termios;
static volatile sig_atomic_t terminal_taken;

/* Async-signal-safe: tcsetattr() and write() only. */
static void terminal_restore(void)
{
	ssize_t n;

	if (!terminal_taken)
		return;
	terminal_taken = 0;
	n = write(saved_out_fd, TERMINAL_LEAVE, sizeof(TERMINAL_LEAVE) - 1);
	(void)n;
	if (saved_has_termios)
		tcsetattr(saved_in_fd, TCSANOW, &saved_termios);
}

static void terminal_atexit(void)
{
	terminal_restore();
}

/* Restore, then let the previous disposition of the signal act. */
static void terminal_signal(int sig)
{
	unsigned i;

	terminal_restore();
	for (i = 0; i < ARRAY_SIZE(terminal_signals); i++)
		if (terminal_signals[i] == sig)
			sigaction(sig, &saved_actions[i], NULL);
	raise(sig);
}

static void terminal_install_handlers(void)
{
	static bool atexit_done;
	struct sigaction sa;
	unsigned i;

	if (!atexit_done && !atexit(terminal_atexit))
		atexit_done = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = terminal_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(terminal_signals); i++)
		sigaction(terminal_signals[i], &sa, &saved_actions[i]);
}

static void terminal_remove_handlers(void)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(terminal_signals); i++)
		sigaction(terminal_signals[i], &saved_actions[i], NULL);
}

/* Raw mode when in_fd is a terminal; pipes are used as they are. */
static int terminal_take(int in_fd, int out_fd)
{
	struct termios raw;

	saved_has_termios = isatty(in_fd) && !tcgetattr(in_fd, &saved_termios);
	if (saved_has_termios) {
		raw = saved_termios;
		cfmakeraw(&raw);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(in_fd, TCSANOW, &raw) < 0)
			return -errno;
	}
	saved_in_fd = in_fd;
	saved_out_fd = out_fd;
	terminal_taken = 1;
	terminal_install_handlers();
	return 0;
}

struct terminal_key {
	u16 code;
	bool down;
};

struct terminal_ui {
	struct evloop *loop;
	int in_fd, out_fd;
	struct terminal_ui_host host;
	struct timer refresh;
	struct timer esc_timer;
	bool watching_input;
	bool reading; /* EPOLLIN wanted: room in inbuf */
	u8 inbuf[TERMINAL_INBUF];
	size_t inlen;
	/* Decoded key events waiting for their turn. */
	struct terminal_key keyq[TERMINAL_KEYQ];
	unsigned keyq_head, keyq_count;
	struct timer key_timer;
	u64 last_key_ns;
	/* screen[shown] is what the terminal shows now. */
	struct text_screen screen[2];
	unsigned shown;
	bool have_shown;
	unsigned term_rows, term_cols;
	/* Drawing state: output buffer, current SGR and cursor position. */
	char *out;
	size_t out_len, out_cap;
	bool out_lost; /* part of a frame was dropped: redraw it all */
	int sgr;       /* attribute in effect, -1 unknown */
	bool pos_known;
	unsigned pos_row, pos_col;
	bool cursor_shown;
	unsigned cursor_row, cursor_col;
};

static void out_append(struct terminal_ui *ui, const char *s, size_t n)
{
	if (ui->out_len + n > ui->out_cap) {
		size_t cap = MAX(ui->out_cap * 2, ui->out_len + n + 4096);
		char *p = realloc(ui->out, cap);

		if (!p) {
			ui->out_lost = true;
			return;
		}
		ui->out = p;
		ui->out_cap = cap;
	}
	memcpy(ui->out + ui->out_len, s, n);
	ui->out_len += n;
}

static void out_str(struct terminal_ui *ui, const char *s)
{
	out_append(ui, s, strlen(s));
}

static __attribute__((format(printf, 2, 3))) void
out_fmt(struct terminal_ui *ui, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_append(ui, buf, MIN((size_t)n, sizeof(buf) - 1));
}

/* Sends the buffer; if the terminal cannot take it, redraw everything. */
static void out_flush(struct terminal_ui *ui)
{
	size_t off = 0;

	while (off < ui->out_len) {
		ssize_t n = write(ui->out_fd, ui->out + off, ui->out_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ui->out_lost = true;
			break;
		}
		off += (size_t)n;
	}
	if (ui->out_lost)
		ui->have_shown = false;
	ui->out_lost = false;
	ui->out_len = 0;
}

static void out_move(struct terminal_ui *ui, unsigned row, unsigned col)
{
	if (ui->pos_known && ui->pos_row == row && ui->pos_col == col)
		return;
	out_fmt(ui, "\033[%u;%uH", row + 1, col + 1);
	ui->pos_known = true;
	ui->pos_row = row;
	ui->pos_col = col;
}

/* VGA colour bits are blue 0, green 1, red 2; ANSI's are red 0, blue 2. */
static unsigned vga_to_ansi(unsigned color)
{
	return (color & 2) | (color & 1) << 2 | (color & 4) >> 2;
}

/* Foreground with intensity as the bright colours, background, blink. */
static void out_sgr(struct terminal_ui *ui, u8 attr)
{
	unsigned fg = vga_to_ansi(attr & 7), bg = vga_to_ansi((attr >> 4) & 7);

	if (ui->sgr == attr)
		return;
	out_fmt(ui, "\033[0;%u;%u%sm", (attr & 8) ? 90 + fg : 30 + fg, 40 + bg,
		(attr & 0x80) ? ";5" : "");
	ui->sgr = attr;
}

static void terminal_query_size(struct terminal_ui *ui, bool *changed)
{
	struct winsize ws;
	unsigned rows = TERMINAL_DEFAULT_ROWS, cols = TERMINAL_DEFAULT_COLS;

	if (!ioctl(ui->out_fd, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	*changed = rows != ui->term_rows || cols != ui->term_cols;
	ui->term_rows = rows;
	ui->term_cols = cols;
}

static void out_status(struct terminal_ui *ui, unsigned row)
{
	out_move(ui, row, 0);
	out_str(ui, "\033[0m\033[2K");
	ui->sgr = -1;
	out_append(ui, TERMINAL_STATUS,
		   MIN(strlen(TERMINAL_STATUS), (size_t)ui->term_cols));
	ui->pos_known = false;
}

static void terminal_clear(struct terminal_ui *ui, const struct text_screen *s)
{
	out_str(ui, "\033[0m\033[2J");
	ui->sgr = -1;
	ui->pos_known = false;
	if (ui->term_rows > s->rows)
		out_status(ui, ui->term_rows - 1);
	if (s->graphics) {
		char line[80];
		int n = snprintf(line, sizeof(line), TERMINAL_GRAPHICS,
				 s->gfx_width, s->gfx_height);

		out_move(ui, 0, 0);
		out_append(ui, line,
			   MIN((size_t)MAX(n, 0), (size_t)ui->term_cols));
		ui->pos_known = false;
	}
}

static bool cell_same(const struct text_cell *a, const struct text_cell *b)
{
	return a->ch == b->ch && a->attr == b->attr;
}

static bool terminal_draw_cells(struct terminal_ui *ui,
				const struct text_screen *s,
				const struct text_screen *old, bool full)
{
	unsigned rows = MIN(s->rows, ui->term_rows);
	unsigned cols = MIN(s->cols, ui->term_cols);
	bool drew = false;
	unsigned r, c;

	for (r = 0; r < rows; r++) {
		for (c = 0; c < cols; c++) {
			const struct text_cell *cell = &s->cell[r][c];

			if (!full && cell_same(cell, &old->cell[r][c]))
				continue;
			out_move(ui, r, c);
			out_sgr(ui, cell->attr);
			out_str(ui, cp437_to_utf8(cell->ch));
			/* At the last column the terminal may wrap. */
			ui->pos_col++;
			if (ui->pos_col >= ui->term_cols)
				ui->pos_known = false;
			drew = true;
		}
	}
	return drew;
}

static void terminal_place_cursor(struct terminal_ui *ui,
				  const struct text_screen *s, bool drew)
{
	bool show = !s->graphics && s->cursor_visible &&
		    s->cursor_row < MIN(s->rows, ui->term_rows) &&
		    s->cursor_col < MIN(s->cols, ui->term_cols);

	if (!drew && show == ui->cursor_shown &&
	    (!show || (s->cursor_row == ui->cursor_row &&
		       s->cursor_col == ui->cursor_col)))
		return;
	if (show) {
		out_move(ui, s->cursor_row, s->cursor_col);
		out_str(ui, "\033[?25h");
	} else {
		out_str(ui, "\033[?25l");
	}
	ui->cursor_shown = show;
	ui->cursor_row = s->cursor_row;
	ui->cursor_col = s->cursor_col;
}

/* The host's screen, with its sizes bounded to the cell array. */
static void terminal_fetch(struct terminal_ui *ui, struct text_screen *s)
{
	memset(s, 0, sizeof(*s));
	ui->host.get_screen(ui->host.opaque, s);
	s->rows = MIN(s->rows, TEXT_SCREEN_MAX_ROWS);
	s->cols = MIN(s->cols, TEXT_SCREEN_MAX_COLS);
	if (s->graphics)
		s->rows = s->cols = 0;
}

static void terminal_draw(struct terminal_ui *ui)
{
	struct text_screen *s = &ui->screen[!ui->shown];
	const struct text_screen *old = &ui->screen[ui->shown];
	bool resized, full, drew;

	terminal_query_size(ui, &resized);
	terminal_fetch(ui, s);
	full = !ui->have_shown || resized || s->graphics != old->graphics ||
	       s->gfx_width != old->gfx_width ||
	       s->gfx_height != old->gfx_height || s->rows != old->rows ||
	       s->cols != old->cols;
	if (full)
		terminal_clear(ui, s);
	drew = terminal_draw_cells(ui, s, old, full) || full;
	terminal_place_cursor(ui, s, drew);
	ui->shown = !ui->shown;
	ui->have_shown = true;
	out_flush(ui);
}

static void terminal_refresh(void *opaque)
{
	struct terminal_ui *ui = opaque;

	terminal_draw(ui);
	timer_arm(&ui->refresh, clock_now_ns() + TERMINAL_REFRESH_NS);
}

static void terminal_queue_key(void *opaque, u16 keycode, bool down)
{
	struct terminal_ui *ui = opaque;

	if (ui->keyq_count == TERMINAL_KEYQ)
		return;
	ui->keyq[(ui->keyq_head + ui->keyq_count) % TERMINAL_KEYQ] =
		(struct terminal_key){keycode, down};
	ui->keyq_count++;
}

static bool terminal_keyq_has_room(const struct terminal_ui *ui)
{
	return TERMINAL_KEYQ - ui->keyq_count >= TERMINAL_KEY_EVENTS_MAX;
}

/* Stop watching input while inbuf is full; epoll would report it forever. */
static void terminal_set_reading(struct terminal_ui *ui)
{
	bool want = ui->inlen < sizeof(ui->inbuf);

	if (ui->watching_input && want != ui->reading &&
	    !evloop_mod_fd(ui->loop, ui->in_fd, want ? EPOLLIN : 0))
		ui->reading = want;
}

static void terminal_schedule_keys(struct terminal_ui *ui)
{
	if (ui->keyq_count && !ui->key_timer.armed)
		timer_arm(&ui->key_timer,
			  ui->last_key_ns + TERMINAL_KEY_INTERVAL_NS);
}

/*
 * Decode what has arrived into the key queue. flush_esc: the wait for the
 * rest of an escape sequence is over, so a pending ESC is the Esc key.
 * Returns false when quit() was called: the caller must not touch ui.
 */
static bool terminal_process_input(struct terminal_ui *ui, bool flush_esc)
{
	bool incomplete = false;
	size_t pos = 0, n;

	while (pos < ui->inlen && terminal_keyq_has_room(ui)) {
		const u8 *p = ui->inbuf + pos;

		if (*p == TERMINAL_ESCAPE_KEY) {
			struct terminal_ui_host host = ui->host;

			/* quit() may destroy us: touch nothing after it. */
			ui->inlen = 0;
			timer_cancel(&ui->esc_timer);
			host.quit(host.opaque);
			return false;
		}
		n = terminal_decode_keys(p, ui->inlen - pos, terminal_queue_key,
					 ui);
		if (!n && flush_esc) {
			key_tap(SC_ESC, 0, terminal_queue_key, ui);
			n = 1;
		}
		if (!n) {
			incomplete = true;
			break;
		}
		pos += n;
	}
	memmove(ui->inbuf, ui->inbuf + pos, ui->inlen - pos);
	ui->inlen -= pos;
	if (incomplete)
		timer_arm(&ui->esc_timer,
			  clock_now_ns() + TERMINAL_ESC_WAIT_NS);
	else
		timer_cancel(&ui->esc_timer);
	terminal_set_reading(ui);
	terminal_schedule_keys(ui);
	return true;
}

static void terminal_esc_timeout(void *opaque)
{
	terminal_process_input(opaque, true);
}

/* Hand the guest one key: events until no key is held any more. */
static void terminal_send_key(void *opaque)
{
	struct terminal_ui *ui = opaque;
	u64 now = clock_now_ns();
	int held = 0;

	if (!ui->keyq_count)
		return;
	if (ui->host.key_ready && !ui->host.key_ready(ui->host.opaque)) {
		timer_arm(&ui->key_timer, now + TERMINAL_KEY_INTERVAL_NS);
		return;
	}
	do {
		struct terminal_key k = ui->keyq[ui->keyq_head];

		ui->keyq_head = (ui->keyq_head + 1) % TERMINAL_KEYQ;
		ui->keyq_count--;
		held += k.down ? 1 : -1;
		ui->host.key(ui->host.opaque, k.code, k.down);
	} while (ui->keyq_count && held > 0);
	ui->last_key_ns = now;
	/* Room again: decode what waited for it. */
	if (ui->inlen && terminal_process_input(ui, false))
		return;
	terminal_schedule_keys(ui);
}

static void terminal_stop_input(struct terminal_ui *ui)
{
	if (ui->watching_input)
		evloop_del_fd(ui->loop, ui->in_fd);
	ui->watching_input = false;
}

static void terminal_input(void *opaque, int fd, u32 events)
{
	struct terminal_ui *ui = opaque;
	ssize_t n = 0;

	if (ui->inlen < sizeof(ui->inbuf))
		n = read(fd, ui->inbuf + ui->inlen,
			 sizeof(ui->inbuf) - ui->inlen);
	else if (!(events & (EPOLLHUP | EPOLLERR)))
		return;
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* End of input: keep showing the screen, stop reading. */
		terminal_stop_input(ui);
		return;
	}
	ui->inlen += (size_t)n;
	terminal_process_input(ui, false);
}

static void terminal_start(struct terminal_ui *ui)
{
	bool resized;

	terminal_query_size(ui, &resized);
	out_str(ui, TERMINAL_ENTER);
	ui->sgr = -1;
	out_status(ui, 0);
	out_flush(ui);
	/* The first frame waits a moment so the status line can be read. */
	timer_arm(&ui->refresh, clock_now_ns() + TERMINAL_STATUS_NS);
}

int terminal_ui_create(struct evloop *loop, int in_fd, int out_fd,
		       const struct terminal_ui_host *host,
		       struct terminal_ui **out)
{
	struct terminal_ui *ui;
	int err;

	if (terminal_taken)
		return -EBUSY;
	ui = calloc(1, sizeof(*ui));
	if (!ui)
		return -ENOMEM;
	*ui = (struct terminal_ui){.loop = loop,
				   .in_fd = in_fd,
				   .out_fd = out_fd,
				   .host = *host,
				   .sgr = -1};
	timer_init(&ui->refresh, &loop->timers, terminal_refresh, ui);
	timer_init(&ui->esc_timer, &loop->timers, terminal_esc_timeout, ui);
	timer_init(&ui->key_timer, &loop->timers, terminal_send_key, ui);
	err = evloop_add_fd(loop, in_fd, EPOLLIN, terminal_input, ui);
	ui->watching_input = ui->reading = !err;
	/* A regular file or /dev/null cannot be watched: show, don't read. */
	if (err == -EPERM)
		err = 0;
	if (!err)
		err = terminal_take(in_fd, out_fd);
	if (err) {
		log_error("terminal", "cannot use the terminal: %s",
			  strerror(-err));
		terminal_stop_input(ui);
		free(ui);
		return err;
	}
	terminal_start(ui);
	*out = ui;
	return 0;
}

void terminal_ui_destroy(struct terminal_ui *ui)
{
	if (!ui)
		return;
	timer_cancel(&ui->refresh);
	timer_cancel(&ui->esc_timer);
	timer_cancel(&ui->key_timer);
	terminal_stop_input(ui);
	terminal_restore();
	terminal_remove_handlers();
	free(ui->out);
	free(ui);
}
