// SPDX-License-Identifier: MIT
/*
 * Section layout: u16 name length, name, u32 version, u32 data length, data.
 * All little-endian.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"

void snap_writer_init(struct snap_writer *w)
{
	*w = (struct snap_writer){ 0 };
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	*w = (struct snap_writer){ 0 };
}

static int snap_reserve(struct snap_writer *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 4096;
	u8 *p;

	if (w->len + more <= w->cap)
		return 0;
	while (cap < w->len + more)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p)
		return -ENOMEM;
	w->buf = p;
	w->cap = cap;
	return 0;
}

int snap_put(struct snap_writer *w, const char *name, u32 version,
	     const void *data, size_t len)
{
	size_t name_len = strlen(name);
	u8 *p;

	if (w->error)
		return w->error;
	if (name_len > 0xffff || len > 0xffffffffu)
		return w->error = -EINVAL;
	if (snap_reserve(w, 2 + name_len + 8 + len))
		return w->error = -ENOMEM;
	p = w->buf + w->len;
	put_le16(p, (u16)name_len);
	memcpy(p + 2, name, name_len);
	put_le32(p + 2 + name_len, version);
	put_le32(p + 6 + name_len, (u32)len);
	memcpy(p + 10 + name_len, data, len);
	w->len += 10 + name_len + len;
	return 0;
}

void snap_reader_init(struct snap_reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
}

int snap_get(const struct snap_reader *r, const char *name, u32 version,
	     void *data, size_t len)
{
	size_t pos = 0, name_len = strlen(name);

	while (pos + 2 <= r->len) {
		size_t nl = get_le16(r->buf + pos), dl;
		const u8 *p = r->buf + pos;

		if (pos + 10 + nl > r->len)
			break;
		dl = get_le32(p + 6 + nl);
		if (dl > r->len - pos - 10 - nl)
			break;
		if (nl == name_len && !memcmp(p + 2, name, nl)) {
			if (get_le32(p + 2 + nl) != version || dl != len)
				return -EINVAL;
			memcpy(data, p + 10 + nl, len);
			return 0;
		}
		pos += 10 + nl + dl;
	}
	return -ENOENT;
}
