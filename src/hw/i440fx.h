/* SPDX-License-Identifier: MIT */
/*
 * Intel 82441FX PCI and memory controller (host bridge, PCI 8086:1237 at
 * 00:00.0): its PAM registers 0x59-0x5F route the 0xC0000-0xFFFFF shadow
 * area to RAM or ROM (82441FX datasheet, 3.2.18).
 */
#ifndef TWOOSTWO_HW_I440FX_H
#define TWOOSTWO_HW_I440FX_H

#include "bus/pci.h"
#include "hw/device.h"

struct i440fx;

struct i440fx *i440fx_create(struct pci_bus *pci, struct phys_mem *mem);
struct device i440fx_device(struct i440fx *hb);

#endif
