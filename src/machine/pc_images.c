// SPDX-License-Identifier: MIT
/*
 * The files a PC starts from: the system firmware, the VGA option ROM and
 * the CD image. Each is checked when the machine is built, so a wrong file
 * is one clear line at start-up instead of a guest that silently hangs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/hostdev.h"
#include "machine/pc_internal.h"

#define FIRMWARE_UNIT (64u << 10)
#define FIRMWARE_MAX (16u << 20)
/* The 0xE0000-0xFFFFF window shows the image's last 128 KiB. */
#define FIRMWARE_LOW_WINDOW (128u << 10)
#define OPTION_ROM_MAX (1u << 20)

/* ISO 9660: the primary volume descriptor is in sector 16 of 2048 bytes. */
#define ISO_SECTOR 2048u
#define ISO_PVD_ID_OFFSET (16 * ISO_SECTOR + 1)

/* Read a whole regular file of at most max bytes; what: "a thing". */
static int pc_read_file(const char *path, const char *what, u64 max, u8 **out,
			u64 *size, char *err, size_t errlen)
{
	struct stat st;
	u8 *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		if (fd >= 0)
			close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode) || (u64)st.st_size > max) {
		snprintf(err, errlen, "%s: not %s (size %lld)", path, what,
			 (long long)st.st_size);
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: %s", path,
			 n < 0 ? strerror(errno) : "short read");
		free(buf);
		return -EIO;
	}
	*out = buf;
	*size = (u64)st.st_size;
	return 0;
}

/*
 * A firmware image is a whole number of 64 KiB blocks, mapped to end at
 * 4 GiB. Images smaller than the 128 KiB low window are placed at the top
 * of a 128 KiB buffer of 0xFF bytes, as the bus would read unused ROM
 * space, so the reset code still appears at 0xF0000.
 */
int pc_load_firmware(const char *path, u8 **out, u64 *size, char *err,
		     size_t errlen)
{
	u8 *buf, *padded;
	u64 len;
	int ret = pc_read_file(path, "a firmware image", FIRMWARE_MAX, &buf,
			       &len, err, errlen);

	if (ret)
		return ret;
	if (!len || len % FIRMWARE_UNIT) {
		snprintf(err, errlen, "%s: not a firmware image (size %llu)",
			 path, (unsigned long long)len);
		free(buf);
		return -EINVAL;
	}
	if (len < FIRMWARE_LOW_WINDOW) {
		padded = malloc(FIRMWARE_LOW_WINDOW);
		if (!padded) {
			free(buf);
			snprintf(err, errlen, "%s: out of memory", path);
			return -ENOMEM;
		}
		memset(padded, 0xff, FIRMWARE_LOW_WINDOW - len);
		memcpy(padded + FIRMWARE_LOW_WINDOW - len, buf, len);
		free(buf);
		buf = padded;
		len = FIRMWARE_LOW_WINDOW;
	}
	*out = buf;
	*size = len;
	return 0;
}

/* An option ROM starts with the 55AA signature (PCI Firmware Spec 5.1). */
int pc_load_option_rom(const char *path, u8 **out, size_t *size, char *err,
		       size_t errlen)
{
	u8 *buf;
	u64 len;
	int ret = pc_read_file(path, "an option ROM", OPTION_ROM_MAX, &buf,
			       &len, err, errlen);

	if (ret)
		return ret;
	if (len < 3 || buf[0] != 0x55 || buf[1] != 0xaa) {
		snprintf(err, errlen,
			 "%s: not an option ROM (no 55AA signature)", path);
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*size = (size_t)len;
	return 0;
}

static int pc_check_iso(struct block_dev *bd, const char *path, char *err,
			size_t errlen)
{
	u8 id[5];

	if (bd->size % ISO_SECTOR) {
		snprintf(err, errlen,
			 "%s: not an ISO 9660 image (size %llu is not a "
			 "multiple of 2048)",
			 path, (unsigned long long)bd->size);
		return -EINVAL;
	}
	if (bd->size < ISO_PVD_ID_OFFSET + sizeof(id) ||
	    block_read(bd, ISO_PVD_ID_OFFSET, id, sizeof(id)) ||
	    memcmp(id, "CD001", sizeof(id))) {
		snprintf(err, errlen,
			 "%s: not an ISO 9660 image (no CD001 at sector 16)",
			 path);
		return -EINVAL;
	}
	return 0;
}

/*
 * A host CD reader: whatever disc is in it (audio, a blank, a data disc
 * of any file system) is the guest's business; only its size must be in
 * whole CD sectors. No disc is an empty drive, not an error.
 */
static int pc_open_host_cdrom(const char *path, struct block_dev **out,
			      char *err, size_t errlen)
{
	int ret = block_open_hostdev(path, BLOCK_OPEN_READ_ONLY, out, err,
				     errlen);

	if (ret == -ENOMEDIUM) {
		*out = NULL;
		return 0;
	}
	if (ret)
		return ret;
	if ((*out)->size % ISO_SECTOR) {
		snprintf(err, errlen,
			 "%s: size %llu is not a whole number of 2048-byte CD "
			 "sectors",
			 path, (unsigned long long)(*out)->size);
		block_close(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

int pc_open_cdrom(const char *path, struct block_dev **out, char *err,
		  size_t errlen)
{
	struct block_dev *bd;
	int ret;

	if (hostdev_probe(path))
		return pc_open_host_cdrom(path, out, err, errlen);
	ret = block_open_raw(path, BLOCK_OPEN_READ_ONLY, &bd, err, errlen);
	if (ret)
		return ret;
	ret = pc_check_iso(bd, path, err, errlen);
	if (ret) {
		block_close(bd);
		return ret;
	}
	*out = bd;
	return 0;
}
