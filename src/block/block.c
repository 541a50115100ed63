// SPDX-License-Identifier: MIT
/*
 * Format-independent half of the block layer: every access is checked
 * against the device size here, once, so no backend ever sees an offset
 * outside its image.
 */
#include <errno.h>
#include <stdlib.h>

#include "block/block.h"

static bool block_in_range(const struct block_dev *bd, u64 offset, size_t len)
{
	return offset <= bd->size && len <= bd->size - offset;
}

int block_read(struct block_dev *bd, u64 offset, void *buf, size_t len)
{
	if (!block_in_range(bd, offset, len))
		return -EINVAL;
	if (!len)
		return 0;
	return bd->ops->read(bd, offset, buf, len);
}

int block_write(struct block_dev *bd, u64 offset, const void *buf, size_t len)
{
	if (!block_in_range(bd, offset, len))
		return -EINVAL;
	if (bd->read_only)
		return -EROFS;
	if (!len)
		return 0;
	return bd->ops->write(bd, offset, buf, len);
}

int block_flush(struct block_dev *bd)
{
	if (bd->read_only || !bd->ops->flush)
		return 0;
	return bd->ops->flush(bd);
}

void block_close(struct block_dev *bd)
{
	if (!bd)
		return;
	if (bd->ops->close)
		bd->ops->close(bd);
	free(bd->path);
	free(bd);
}
