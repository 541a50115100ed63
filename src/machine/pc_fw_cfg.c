// SPDX-License-Identifier: MIT
/*
 * What the PC tells SeaBIOS through fw_cfg (QEMU docs/specs/fw_cfg.rst):
 * RAM size, CPU counts and the E820 map of RAM.
 */
#include "machine/pc_internal.h"

#define E820_RAM 1
#define E820_ENTRY_SIZE 20 /* {u64 address, u64 length, u32 type} */
#define PC_LOW_RAM_END 0xa0000ull
#define PC_HIGH_RAM_START 0x100000ull

static void e820_put(u8 *e, u64 addr, u64 len, u32 type)
{
	put_le64(e, addr);
	put_le64(e + 8, len);
	put_le32(e + 16, type);
}

/*
 * RAM as the guest can use it: the 640 KiB below the legacy hole and
 * everything from 1 MiB up (all below the PCI hole, PC_MAX_RAM). SeaBIOS
 * takes RAM below its CMOS-derived size from CMOS and adds its own
 * reservations (EBDA, BIOS area) on top.
 */
static int pc_fw_cfg_e820(struct pc *pc)
{
	u8 table[2 * E820_ENTRY_SIZE];

	e820_put(table, 0, PC_LOW_RAM_END, E820_RAM);
	e820_put(table + E820_ENTRY_SIZE, PC_HIGH_RAM_START,
		 pc->cfg.ram_size - PC_HIGH_RAM_START, E820_RAM);
	return fw_cfg_add_file(pc->fw, "etc/e820", table, sizeof(table));
}

int pc_fw_cfg_init(struct pc *pc)
{
	int err = fw_cfg_add_u64(pc->fw, FW_CFG_RAM_SIZE, pc->cfg.ram_size);

	if (!err)
		err = fw_cfg_add_u16(pc->fw, FW_CFG_NB_CPUS, 1);
	if (!err)
		err = fw_cfg_add_u16(pc->fw, FW_CFG_MAX_CPUS, 1);
	if (!err)
		err = pc_fw_cfg_e820(pc);
	return err;
}
