/* SPDX-License-Identifier: MIT */
/*
 * A host parallel port through Linux's ppdev (/dev/parportN,
 * Documentation/driver-api/parport-lowlevel.rst): the guest's register
 * accesses become PPWDATA/PPRDATA, PPRSTATUS, PPWCONTROL/PPRCONTROL and
 * PPDATADIR on the claimed port, so a real printer or dongle sees the
 * guest's own handshake.
 */
#ifndef TWOOSTWO_CHARDEV_PPDEV_H
#define TWOOSTWO_CHARDEV_PPDEV_H

#include <stddef.h>

#include "core/types.h"

/* Open and claim path (PPCLAIM); fd or -errno with one line in err. */
int ppdev_open(const char *path, char *err, size_t errlen);
void ppdev_close(int fd);
void ppdev_write_data(int fd, u8 v);
u8 ppdev_read_data(int fd);
u8 ppdev_read_status(int fd);
void ppdev_write_control(int fd, u8 v);
/* PS/2 direction: true = the data lines are inputs. */
void ppdev_set_direction(int fd, bool input);

#endif
