/* SPDX-License-Identifier: MIT */
/*
 * The firmware configuration device SeaBIOS reads (QEMU's documented
 * fw_cfg interface, docs/specs/fw_cfg.rst): selector at 0x510, data at
 * 0x511, DMA address at 0x514 (big-endian, a write to the low half at 0x518
 * starts the transfer). Items are numbered keys or named files listed in
 * the directory item 0x19.
 */
#ifndef TWOOSTWO_HW_FW_CFG_H
#define TWOOSTWO_HW_FW_CFG_H

#include "bus/memory.h"
#include "bus/pio.h"
#include "hw/device.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20

struct fw_cfg;

struct fw_cfg *fw_cfg_create(struct pio_bus *pio, struct phys_mem *mem);
/* Items are copied. Returns 0 or -errno. */
int fw_cfg_add_bytes(struct fw_cfg *fw, u16 key, const void *data, u32 len);
int fw_cfg_add_u16(struct fw_cfg *fw, u16 key, u16 value);
int fw_cfg_add_u32(struct fw_cfg *fw, u16 key, u32 value);
int fw_cfg_add_u64(struct fw_cfg *fw, u16 key, u64 value);
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data,
		    u32 len);
struct device fw_cfg_device(struct fw_cfg *fw);

#endif
