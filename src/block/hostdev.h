/* SPDX-License-Identifier: MIT */
/*
 * Host block devices as guest drives: a disk (/dev/sdX, /dev/loopN) or a
 * CD-ROM reader (/dev/srN). Byte n of the guest drive is byte n of the
 * device. They are opened read-only unless the caller asks for writes
 * (BLOCK_OPEN_DEVICE_WRITE), because a wrong path here is a whole host
 * disk; a read-write open is exclusive (O_EXCL: the host has not mounted
 * it and no other program holds it exclusively) and both kinds take an OFD
 * lock, so two twoostwo processes cannot write one device at once.
 */
#ifndef TWOOSTWO_BLOCK_HOSTDEV_H
#define TWOOSTWO_BLOCK_HOSTDEV_H

#include "block/block.h"

/* Whether path (symbolic links followed) is a block device. */
bool hostdev_probe(const char *path);

/*
 * Open the block device at path. Returns 0 or -errno with one line "PATH:
 * reason" in err; -ENOMEDIUM for a removable drive without a medium (a CD
 * reader with no disc), which the caller may take as an empty drive.
 */
int block_open_hostdev(const char *path, unsigned flags, struct block_dev **out,
		       char *err, size_t errlen);

#endif
