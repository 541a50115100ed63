/* SPDX-License-Identifier: MIT */
/*
 * The device contract. A device model is one file in hw/: a state struct,
 * port or MMIO handlers registered on the buses, and these lifecycle hooks.
 * Save and load are part of every device from the start: suspend, resume
 * and migration depend on them.
 */
#ifndef TWOOSTWO_HW_DEVICE_H
#define TWOOSTWO_HW_DEVICE_H

#include "core/snapshot.h"

struct device_ops {
	const char *name;
	/* Power-on / hard reset state (what a PC reset line does). */
	void (*reset)(void *opaque);
	int (*save)(void *opaque, struct snap_writer *w);
	int (*load)(void *opaque, const struct snap_reader *r);
	void (*destroy)(void *opaque);
};

struct device {
	const struct device_ops *ops;
	void *opaque;
};

#endif
