// SPDX-License-Identifier: MIT
/*
 * The saved-state container (see statefile.h): sections by name, a CRC-32
 * over the file, and an atomic replace on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/statefile.h"

#define STATEFILE_TRAILER "END"
#define STATEFILE_HEADER_LEN (STATEFILE_MAGIC_LEN + 8)
#define STATEFILE_TRAILER_LEN 8
/* A state holds RAM (at most 3 GiB) plus devices: anything larger is junk. */
#define STATEFILE_MAX_SIZE (8ull << 30)

void statefile_init(struct statefile *sf)
{
	*sf = (struct statefile){.version = STATEFILE_VERSION};
}

void statefile_free(struct statefile *sf)
{
	unsigned i;

	for (i = 0; i < sf->count; i++) {
		free(sf->sec[i].name);
		free(sf->sec[i].data);
	}
	free(sf->sec);
	statefile_init(sf);
}

int statefile_add_owned(struct statefile *sf, const char *name, u8 *data,
			u64 len)
{
	struct statefile_section *s;

	if (strlen(name) > 0xffff || sf->count >= STATEFILE_MAX_SECTIONS) {
		free(data);
		return -EINVAL;
	}
	if (sf->count == sf->cap) {
		unsigned cap = sf->cap ? sf->cap * 2 : 16;

		s = realloc(sf->sec, cap * sizeof(*s));
		if (!s) {
			free(data);
			return -ENOMEM;
		}
		sf->sec = s;
		sf->cap = cap;
	}
	s = &sf->sec[sf->count];
	s->name = strdup(name);
	if (!s->name) {
		free(data);
		return -ENOMEM;
	}
	s->data = data;
	s->len = len;
	sf->count++;
	return 0;
}

int statefile_add(struct statefile *sf, const char *name, const void *data,
		  u64 len)
{
	u8 *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	return statefile_add_owned(sf, name, copy, len);
}

const struct statefile_section *statefile_find(const struct statefile *sf,
					       const char *name)
{
	unsigned i;

	for (i = 0; i < sf->count; i++)
		if (!strcmp(sf->sec[i].name, name))
			return &sf->sec[i];
	return NULL;
}

/* CRC-32, reflected polynomial 0xEDB88320 (IEEE 802.3), bitwise by nibble. */
u32 statefile_crc32(u32 crc, const u8 *p, size_t len)
{
	static const u32 nib[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
		0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ nib[crc & 15];
		crc = (crc >> 4) ^ nib[crc & 15];
	}
	return ~crc;
}

int statefile_encode(const struct statefile *sf, u8 **out, size_t *outlen)
{
	size_t total = STATEFILE_HEADER_LEN + STATEFILE_TRAILER_LEN, pos;
	unsigned i;
	u8 *b;

	for (i = 0; i < sf->count; i++)
		total += 2 + strlen(sf->sec[i].name) + 8 + sf->sec[i].len;
	b = malloc(total);
	if (!b)
		return -ENOMEM;
	memcpy(b, STATEFILE_MAGIC, STATEFILE_MAGIC_LEN);
	put_le32(b + 16, STATEFILE_VERSION);
	put_le32(b + 20, sf->count);
	pos = STATEFILE_HEADER_LEN;
	for (i = 0; i < sf->count; i++) {
		size_t nl = strlen(sf->sec[i].name);

		put_le16(b + pos, (u16)nl);
		memcpy(b + pos + 2, sf->sec[i].name, nl);
		put_le64(b + pos + 2 + nl, sf->sec[i].len);
		pos += 10 + nl;
		if (sf->sec[i].len)
			memcpy(b + pos, sf->sec[i].data, sf->sec[i].len);
		pos += sf->sec[i].len;
	}
	memcpy(b + pos, STATEFILE_TRAILER, 4);
	put_le32(b + pos + 4, statefile_crc32(0, b, pos + 4));
	*out = b;
	*outlen = total;
	return 0;
}

static int statefile_bad(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "not a usable saved state: %s", why);
	return -EINVAL;
}

static int statefile_check_header(struct statefile *sf, const u8 *buf,
				  size_t len, char *err, size_t errlen)
{
	if (len < STATEFILE_HEADER_LEN ||
	    memcmp(buf, STATEFILE_MAGIC, STATEFILE_MAGIC_LEN))
		return statefile_bad(err, errlen,
				     "no twoostwo saved-state header");
	sf->version = get_le32(buf + 16);
	if (sf->version > STATEFILE_VERSION) {
		snprintf(err, errlen,
			 "saved state has format version %u, this twoostwo "
			 "reads up to %u: resume it with a newer twoostwo",
			 sf->version, STATEFILE_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (sf->version == 0)
		return statefile_bad(err, errlen, "format version 0");
	if (len < STATEFILE_HEADER_LEN + STATEFILE_TRAILER_LEN)
		return statefile_bad(err, errlen, "truncated");
	if (memcmp(buf + len - 8, STATEFILE_TRAILER, 4))
		return statefile_bad(err, errlen, "truncated (no end marker)");
	if (get_le32(buf + len - 4) != statefile_crc32(0, buf, len - 4))
		return statefile_bad(err, errlen,
				     "checksum mismatch (corrupted)");
	return 0;
}

int statefile_decode(struct statefile *sf, const u8 *buf, size_t len, char *err,
		     size_t errlen)
{
	size_t pos = STATEFILE_HEADER_LEN, end;
	u32 count, i;
	int ret;

	statefile_init(sf);
	ret = statefile_check_header(sf, buf, len, err, errlen);
	if (ret)
		return ret;
	end = len - STATEFILE_TRAILER_LEN;
	count = get_le32(buf + 20);
	if (count > STATEFILE_MAX_SECTIONS)
		return statefile_bad(err, errlen, "too many sections");
	for (i = 0; i < count; i++) {
		size_t nl;
		u64 dl;
		char name[256];

		if (end - pos < 2)
			goto bad;
		nl = get_le16(buf + pos);
		if (end - pos - 2 < nl + 8 || nl >= sizeof(name))
			goto bad;
		memcpy(name, buf + pos + 2, nl);
		name[nl] = '\0';
		dl = get_le64(buf + pos + 2 + nl);
		pos += 10 + nl;
		if (dl > end - pos)
			goto bad;
		ret = statefile_add(sf, name, buf + pos, dl);
		if (ret) {
			statefile_free(sf);
			return ret;
		}
		pos += dl;
	}
	if (pos != end)
		goto bad;
	return 0;
bad:
	statefile_free(sf);
	return statefile_bad(err, errlen, "section table overruns the file");
}

static int statefile_sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int statefile_write_fd(int fd, const u8 *b, size_t len)
{
	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		b += n;
		len -= (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

int statefile_write(const struct statefile *sf, const char *path, char *err,
		    size_t errlen)
{
	char tmp[4096];
	size_t len;
	u8 *b;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	ret = statefile_encode(sf, &b, &len);
	if (ret) {
		snprintf(err, errlen, "%s: out of memory", path);
		return ret;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		free(b);
		snprintf(err, errlen, "%s: %s", tmp, strerror(-ret));
		return ret;
	}
	ret = statefile_write_fd(fd, b, len);
	free(b);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (!ret)
		ret = statefile_sync_dir(path);
	if (ret) {
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	}
	return ret;
}

int statefile_read(struct statefile *sf, const char *path, char *err,
		   size_t errlen)
{
	struct stat st;
	size_t got = 0;
	u8 *b;
	int fd, ret;

	statefile_init(sf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode) || (u64)st.st_size > STATEFILE_MAX_SIZE) {
		close(fd);
		snprintf(err, errlen, "%s: not a saved-state file", path);
		return -EINVAL;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	ret = statefile_decode(sf, b, got, err, errlen);
	free(b);
	if (ret) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
	}
	return ret;
}

/* Field lists */

static void fieldlist_append(struct fieldlist *fl, const char *name,
			     const void *p, size_t n)
{
	size_t nl = strlen(name), need = 2 + nl + n;
	u8 *b;

	if (fl->error)
		return;
	if (nl > 255 || n > 255) {
		fl->error = -EINVAL;
		return;
	}
	if (fl->len + need > fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 1024;

		while (cap < fl->len + need)
			cap *= 2;
		b = realloc(fl->buf, cap);
		if (!b) {
			fl->error = -ENOMEM;
			return;
		}
		fl->buf = b;
		fl->cap = cap;
	}
	b = fl->buf + fl->len;
	b[0] = (u8)nl;
	memcpy(b + 1, name, nl);
	b[1 + nl] = (u8)n;
	memcpy(b + 2 + nl, p, n);
	fl->len += need;
}

void fieldlist_put(struct fieldlist *fl, const char *name, u64 value)
{
	u8 le[8];

	put_le64(le, value);
	fieldlist_append(fl, name, le, 8);
}

void fieldlist_put_bytes(struct fieldlist *fl, const char *name, const void *p,
			 size_t n)
{
	fieldlist_append(fl, name, p, n);
}

/* The value of name: 0 with *p and *n, -ENOENT, or -EINVAL. */
static int fieldlist_find(const u8 *buf, size_t len, const char *name,
			  const u8 **p, size_t *n)
{
	size_t pos = 0, want = strlen(name);

	while (pos < len) {
		size_t nl = buf[pos], vl;

		if (len - pos < 2 + nl)
			return -EINVAL;
		vl = buf[pos + 1 + nl];
		if (len - pos - 2 - nl < vl)
			return -EINVAL;
		if (nl == want && !memcmp(buf + pos + 1, name, nl)) {
			*p = buf + pos + 2 + nl;
			*n = vl;
			return 0;
		}
		pos += 2 + nl + vl;
	}
	return -ENOENT;
}

int fieldlist_get(const u8 *buf, size_t len, const char *name, u64 *value)
{
	const u8 *p;
	size_t n, i;
	int ret = fieldlist_find(buf, len, name, &p, &n);

	if (ret)
		return ret;
	if (n > 8)
		return -EINVAL;
	*value = 0;
	for (i = 0; i < n; i++)
		*value |= (u64)p[i] << (8 * i);
	return 0;
}

int fieldlist_get_bytes(const u8 *buf, size_t len, const char *name, void *out,
			size_t n)
{
	const u8 *p;
	size_t got;
	int ret = fieldlist_find(buf, len, name, &p, &got);

	if (ret)
		return ret;
	if (got != n)
		return -EINVAL;
	memcpy(out, p, n);
	return 0;
}
