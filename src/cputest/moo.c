// SPDX-License-Identifier: MIT
/*
 * MOO file reader. Every chunk is taken through moo_chunk_next(), which
 * checks the chunk's length against the bytes left in its parent before
 * anything looks inside it; payload readers then check their own fields
 * against the chunk's length.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cputest/moo.h"

#define MOO_CHUNK_HDR 8
#define MOO_HEADER_MIN 12
#define MOO_RAM_ENTRY 5
#define MOO_READ_STEP (1u << 20)

/* A view of bytes [p, p + len) inside the file buffer. */
struct moo_span {
	const u8 *p;
	size_t len;
};

struct moo_chunk {
	char type[5];
	struct moo_span payload;
};

static const char *const moo_reg_names[MOO_NR_REGS] = {
	"ax", "bx", "cx", "dx", "cs", "ss", "ds",
	"es", "sp", "bp", "si", "di", "ip", "flags",
};

const char *moo_reg_name(enum moo_reg reg)
{
	return (unsigned)reg < MOO_NR_REGS ? moo_reg_names[reg] : "?";
}

static int moo_fail(struct moo_file *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int moo_fail(struct moo_file *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Take the next chunk out of *in. Returns 1 and advances *in past it, 0
 * when *in is empty, -1 when the bytes left cannot hold the chunk.
 */
static int moo_chunk_next(struct moo_span *in, struct moo_chunk *c)
{
	size_t len;
	unsigned i;

	if (!in->len)
		return 0;
	if (in->len < MOO_CHUNK_HDR)
		return -1;
	len = get_le32(in->p + 4);
	if (len > in->len - MOO_CHUNK_HDR)
		return -1;
	for (i = 0; i < 4; i++) {
		u8 ch = in->p[i];

		c->type[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	c->type[4] = '\0';
	c->payload.p = in->p + MOO_CHUNK_HDR;
	c->payload.len = len;
	in->p += MOO_CHUNK_HDR + len;
	in->len -= MOO_CHUNK_HDR + len;
	return 1;
}

static bool moo_is(const struct moo_chunk *c, const char *type)
{
	return !memcmp(c->type, type, 4);
}

/* REGS and RMSK: u16 mask, then one u16 per set bit, lowest bit first. */
static bool moo_parse_regs(struct moo_span s, struct moo_regs *r)
{
	u16 mask;
	size_t need;
	unsigned bit, n = 0;

	if (s.len < 2)
		return false;
	mask = get_le16(s.p);
	need = 2 + 2 * (size_t)__builtin_popcount(mask);
	if (s.len < need)
		return false;
	*r = (struct moo_regs){0};
	/* Bits above flags name registers this reader does not know. */
	for (bit = 0; bit < 16; bit++) {
		if (!(mask & BIT(bit)))
			continue;
		if (bit < MOO_NR_REGS) {
			r->val[bit] = get_le16(s.p + 2 + 2 * n);
			r->present |= (u16)BIT(bit);
		}
		n++;
	}
	return true;
}

static bool moo_parse_ram(struct moo_span s, struct moo_state *st)
{
	u32 count;

	if (s.len < 4)
		return false;
	count = get_le32(s.p);
	if (count > (s.len - 4) / MOO_RAM_ENTRY)
		return false;
	st->ram = s.p + 4;
	st->ram_count = count;
	return true;
}

static int moo_parse_state(struct moo_file *f, struct moo_span s,
			   struct moo_state *st, const char *what)
{
	struct moo_chunk c;
	bool ok = true;
	int r;

	*st = (struct moo_state){0};
	while ((r = moo_chunk_next(&s, &c)) > 0) {
		if (moo_is(&c, "REGS"))
			ok = moo_parse_regs(c.payload, &st->regs);
		else if (moo_is(&c, "RMSK"))
			ok = moo_parse_regs(c.payload, &st->rmsk);
		else if (moo_is(&c, "RAM "))
			ok = moo_parse_ram(c.payload, st);
		if (!ok)
			return moo_fail(f, "test %u: %s: bad %s chunk",
					f->tests_read, what, c.type);
	}
	if (r < 0)
		return moo_fail(f, "test %u: %s: chunk overruns its parent",
				f->tests_read, what);
	return 0;
}

/* NAME and BYTS: a u32 length, then that many bytes. */
static bool moo_parse_counted(struct moo_span s, struct moo_span *out)
{
	u32 n;

	if (s.len < 4)
		return false;
	n = get_le32(s.p);
	if (n > s.len - 4)
		return false;
	out->p = s.p + 4;
	out->len = n;
	return true;
}

/* Keep only printable ASCII: names end up on the user's terminal. */
static void moo_copy_name(char *dst, struct moo_span name)
{
	size_t i, n = MIN(name.len, (size_t)MOO_NAME_MAX - 1);

	for (i = 0; i < n; i++) {
		u8 ch = name.p[i];

		dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[n] = '\0';
}

static bool moo_parse_excp(struct moo_span s, struct moo_test *t)
{
	if (s.len < 5)
		return false;
	t->has_excp = true;
	t->excp_vector = s.p[0];
	t->excp_flags_addr = get_le32(s.p + 1);
	return true;
}

static bool moo_parse_hash(struct moo_span s, struct moo_test *t)
{
	if (s.len < MOO_HASH_LEN)
		return false;
	t->has_hash = true;
	memcpy(t->hash, s.p, MOO_HASH_LEN);
	return true;
}

/* One sub-chunk of a TEST; INIT and FINA set the bits in *seen. */
static int moo_parse_subchunk(struct moo_file *f, const struct moo_chunk *c,
			      struct moo_test *t, unsigned *seen)
{
	struct moo_span sp;
	bool ok = true;

	if (moo_is(c, "INIT")) {
		*seen |= 1;
		return moo_parse_state(f, c->payload, &t->init, "INIT");
	}
	if (moo_is(c, "FINA")) {
		*seen |= 2;
		return moo_parse_state(f, c->payload, &t->fina, "FINA");
	}
	if (moo_is(c, "NAME")) {
		ok = moo_parse_counted(c->payload, &sp);
		if (ok)
			moo_copy_name(t->name, sp);
	} else if (moo_is(c, "BYTS")) {
		ok = moo_parse_counted(c->payload, &sp);
		if (ok) {
			t->bytes = sp.p;
			t->nr_bytes = (u32)sp.len;
		}
	} else if (moo_is(c, "EXCP")) {
		ok = moo_parse_excp(c->payload, t);
	} else if (moo_is(c, "HASH")) {
		ok = moo_parse_hash(c->payload, t);
	}
	if (!ok)
		return moo_fail(f, "test %u: bad %s chunk", f->tests_read,
				c->type);
	return 0;
}

static int moo_parse_test(struct moo_file *f, struct moo_span s,
			  struct moo_test *t)
{
	struct moo_chunk c;
	unsigned seen = 0;
	int r;

	*t = (struct moo_test){.number = f->tests_read};
	if (s.len < 4)
		return moo_fail(f, "test %u: TEST chunk too short",
				f->tests_read);
	t->index = get_le32(s.p);
	s.p += 4;
	s.len -= 4;
	while ((r = moo_chunk_next(&s, &c)) > 0) {
		r = moo_parse_subchunk(f, &c, t, &seen);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return moo_fail(f, "test %u: chunk overruns the TEST chunk",
				f->tests_read);
	if (seen != 3)
		return moo_fail(f, "test %u: no %s chunk", f->tests_read,
				seen & 1 ? "FINA" : "INIT");
	if (t->init.regs.present != MOO_ALL_REGS)
		return moo_fail(f, "test %u: INIT lacks registers (mask %#x)",
				f->tests_read, t->init.regs.present);
	return 0;
}

int moo_next(struct moo_file *f, struct moo_test *t)
{
	struct moo_span in = {f->data + f->pos, f->len - f->pos};
	struct moo_chunk c;
	int r;

	while ((r = moo_chunk_next(&in, &c)) > 0) {
		f->pos = (size_t)(in.p - f->data);
		if (moo_is(&c, "TEST")) {
			r = moo_parse_test(f, c.payload, t);
			if (r < 0)
				return r;
			f->tests_read++;
			return 1;
		}
		if (moo_is(&c, "RMSK") && !moo_parse_regs(c.payload, &f->rmsk))
			return moo_fail(f, "bad top-level RMSK chunk");
	}
	if (r < 0)
		return moo_fail(
			f, "truncated chunk at offset %zu (after %u tests)",
			f->pos, f->tests_read);
	return 0;
}

static int moo_parse_header(struct moo_file *f)
{
	struct moo_span in = {f->data, f->len};
	struct moo_chunk c;
	const u8 *p;
	unsigned i;

	if (moo_chunk_next(&in, &c) <= 0 || !moo_is(&c, "MOO "))
		return moo_fail(f, "not a MOO file (no MOO header chunk)");
	if (c.payload.len < MOO_HEADER_MIN)
		return moo_fail(f, "MOO header chunk too short (%zu bytes)",
				c.payload.len);
	p = c.payload.p;
	f->major = p[0];
	f->minor = p[1];
	/* The format keeps major version 1 while chunks stay compatible. */
	if (f->major != 1)
		return moo_fail(f, "unsupported MOO version %u.%u", f->major,
				f->minor);
	f->declared_tests = get_le32(p + 4);
	for (i = 0; i < 4; i++)
		f->cpu[i] = p[8 + i] >= 0x20 && p[8 + i] < 0x7f ?
				    (char)p[8 + i] :
				    '?';
	f->cpu[4] = '\0';
	f->pos = (size_t)(in.p - f->data);
	return 0;
}

int moo_open_buffer(struct moo_file *f, const void *buf, size_t len)
{
	*f = (struct moo_file){0};
	if (len > MOO_MAX_FILE_SIZE)
		return moo_fail(f, "file larger than %u bytes",
				MOO_MAX_FILE_SIZE);
	f->data = malloc(len ? len : 1);
	if (!f->data) {
		snprintf(f->err, sizeof(f->err), "out of memory");
		return -ENOMEM;
	}
	memcpy(f->data, buf, len);
	f->len = len;
	return moo_parse_header(f);
}

/* Grow the buffer so at least MOO_READ_STEP bytes fit after f->len. */
static int moo_reserve(struct moo_file *f, size_t *cap)
{
	size_t want = f->len + MOO_READ_STEP;
	u8 *p;

	if (want <= *cap)
		return 0;
	if (want > MOO_MAX_FILE_SIZE + MOO_READ_STEP)
		return moo_fail(f, "file larger than %u bytes",
				MOO_MAX_FILE_SIZE);
	want = MAX(want, *cap * 2);
	p = realloc(f->data, want);
	if (!p) {
		snprintf(f->err, sizeof(f->err), "out of memory");
		return -ENOMEM;
	}
	f->data = p;
	*cap = want;
	return 0;
}

/*
 * gzread() reads gzip and plain files alike. At the end of the input,
 * gzerror() says Z_BUF_ERROR if it ended inside a gzip stream (zlib.h).
 */
static int moo_read_all(struct moo_file *f, gzFile gz)
{
	size_t cap = 0;
	int n, r, zerr;

	for (;;) {
		r = moo_reserve(f, &cap);
		if (r < 0)
			return r;
		n = gzread(gz, f->data + f->len, MOO_READ_STEP);
		if (n < 0)
			return moo_fail(f, "read error: %s",
					gzerror(gz, &zerr));
		if (n == 0) {
			gzerror(gz, &zerr);
			if (zerr == Z_BUF_ERROR)
				return moo_fail(f, "truncated gzip stream");
			break;
		}
		f->len += (size_t)n;
		if (f->len > MOO_MAX_FILE_SIZE)
			return moo_fail(f, "file larger than %u bytes",
					MOO_MAX_FILE_SIZE);
	}
	return 0;
}

int moo_open(struct moo_file *f, const char *path)
{
	gzFile gz;
	int r;

	*f = (struct moo_file){0};
	errno = 0;
	gz = gzopen(path, "rb");
	if (!gz) {
		r = errno ? -errno : -ENOMEM;
		snprintf(f->err, sizeof(f->err), "cannot open: %s",
			 strerror(-r));
		return r;
	}
	r = moo_read_all(f, gz);
	gzclose(gz);
	if (r < 0)
		return r;
	return moo_parse_header(f);
}

void moo_close(struct moo_file *f)
{
	free(f->data);
	f->data = NULL;
	f->len = 0;
	f->pos = 0;
}
