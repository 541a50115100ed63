// SPDX-License-Identifier: MIT
/*
 * The text screen as UTF-8 lines, and its atomic dump to a file for
 * scripts and guest tests that read what the guest shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/screen_dump.h"

/* The longest UTF-8 form of a code page 437 character. */
#define CP437_UTF8_MAX 3

static bool cell_is_blank(const struct text_cell *cell)
{
	return cell->ch == ' ' || cell->ch == 0;
}

/* Append one row, without its trailing blanks, to out; returns the end. */
static char *screen_dump_row(const struct text_cell *row, unsigned cols,
			     char *out)
{
	unsigned c, len = cols;

	while (len && cell_is_blank(&row[len - 1]))
		len--;
	for (c = 0; c < len; c++) {
		const char *s = cp437_to_utf8(row[c].ch);
		size_t n = strlen(s);

		memcpy(out, s, n);
		out += n;
	}
	return out;
}

char *text_screen_to_utf8(const struct text_screen *screen)
{
	unsigned rows = MIN(screen->rows, TEXT_SCREEN_MAX_ROWS);
	unsigned cols = MIN(screen->cols, TEXT_SCREEN_MAX_COLS);
	char *text, *p;
	unsigned r;

	if (screen->graphics) {
		if (asprintf(&text, "[graphics mode %ux%u]", screen->gfx_width,
			     screen->gfx_height) < 0)
			return NULL;
		return text;
	}
	text = malloc((size_t)rows * (cols * CP437_UTF8_MAX + 1) + 1);
	if (!text)
		return NULL;
	p = text;
	for (r = 0; r < rows; r++) {
		if (r)
			*p++ = '\n';
		p = screen_dump_row(screen->cell[r], cols, p);
	}
	*p = '\0';
	return text;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write text and a final newline to path, creating or truncating it. */
static int screen_dump_file(const char *path, const char *text)
{
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = write_all(fd, text, strlen(text));
	if (!err)
		err = write_all(fd, "\n", 1);
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int screen_dump_write(const char *path, const struct text_screen *screen)
{
	char *text, *tmp;
	int err;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	text = text_screen_to_utf8(screen);
	if (!text) {
		free(tmp);
		return -ENOMEM;
	}
	err = screen_dump_file(tmp, text);
	/* rename() replaces path in one step: readers never see half a dump. */
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	free(text);
	free(tmp);
	return err;
}
