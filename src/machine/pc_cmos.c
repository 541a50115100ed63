// SPDX-License-Identifier: MIT
/*
 * The CMOS NVRAM contents of a PC, as the BIOS setup program would have
 * left them: memory sizes, the equipment byte, the first hard disk's type
 * and the boot order. SeaBIOS reads its RAM size and boot order from here
 * (HARDWARE.md, section 4, "CMOS fallback"); DOS-era software reads the
 * standard IBM AT locations.
 */
#include "machine/pc_internal.h"

#define CMOS_FLOPPY_TYPES 0x10
#define CMOS_DISK_TYPES 0x12
#define CMOS_EQUIPMENT 0x14
#define CMOS_BASE_MEM_LO 0x15
#define CMOS_EXT_MEM_LO 0x17 /* KiB above 1 MiB, as POST found it */
#define CMOS_DISK0_EXT_TYPE 0x19
#define CMOS_DISK0_PARAMS 0x1b
#define CMOS_CHECKSUM_HI 0x2e
#define CMOS_EXT_MEM2_LO 0x30 /* KiB above 1 MiB */
#define CMOS_BOOT_FLAG1 0x38
#define CMOS_MEM_ABOVE_16M_LO 0x34 /* in 64 KiB units */
#define CMOS_BOOT_FLAG2 0x3d
#define CMOS_MEM_ABOVE_4G 0x5b /* 3 bytes, 64 KiB units */
#define CMOS_CPU_COUNT 0x5f    /* CPUs - 1 */

/* Equipment byte: bit 1 math coprocessor, bit 2 pointing device. */
#define CMOS_EQUIP_FPU 0x02
#define CMOS_EQUIP_MOUSE 0x04

/* Disk type 15 in the nibble: "see the extended type byte"; 47 = user. */
#define CMOS_DISK_EXTENDED 0x0f
#define CMOS_DISK_USER_TYPE 47

/* SeaBIOS boot device codes in the boot order nibbles. */
#define CMOS_BOOT_DISK 2
#define CMOS_BOOT_CDROM 3
#define CMOS_BOOT_NET 4 /* a BEV: a network card's boot ROM */

#define KIB 1024ull
#define MIB (1024ull * KIB)

static void cmos_put16(struct rtc *rtc, u8 index, u64 value)
{
	u16 v = (u16)MIN(value, 0xffffu);

	rtc_cmos_write(rtc, index, (u8)v);
	rtc_cmos_write(rtc, (u8)(index + 1), (u8)(v >> 8));
}

static void pc_cmos_memory(struct rtc *rtc, u64 ram)
{
	u64 above_1m = ram > MIB ? (ram - MIB) / KIB : 0;
	u64 above_16m = ram > 16 * MIB ? (ram - 16 * MIB) / (64 * KIB) : 0;
	unsigned i;

	cmos_put16(rtc, CMOS_BASE_MEM_LO, 640);
	cmos_put16(rtc, CMOS_EXT_MEM_LO, above_1m);
	cmos_put16(rtc, CMOS_EXT_MEM2_LO, above_1m);
	cmos_put16(rtc, CMOS_MEM_ABOVE_16M_LO, above_16m);
	for (i = 0; i < 3; i++)
		rtc_cmos_write(rtc, (u8)(CMOS_MEM_ABOVE_4G + i), 0);
	rtc_cmos_write(rtc, CMOS_CPU_COUNT, 0);
}

/*
 * First hard disk as a user-defined type 47 with a 16-head, 63-sector
 * translation (the layout of the AT BIOS parameter table: cylinders,
 * heads, write precompensation, control byte, landing zone, sectors).
 */
static void pc_cmos_disk(struct rtc *rtc, const struct block_dev *hda)
{
	u64 cyl;

	if (!hda) {
		rtc_cmos_write(rtc, CMOS_DISK_TYPES, 0);
		return;
	}
	cyl = MAX(1, MIN(hda->size / 512 / (16 * 63), 16383));
	rtc_cmos_write(rtc, CMOS_DISK_TYPES, CMOS_DISK_EXTENDED << 4);
	rtc_cmos_write(rtc, CMOS_DISK0_EXT_TYPE, CMOS_DISK_USER_TYPE);
	cmos_put16(rtc, CMOS_DISK0_PARAMS, cyl);
	rtc_cmos_write(rtc, CMOS_DISK0_PARAMS + 2, 16);
	cmos_put16(rtc, CMOS_DISK0_PARAMS + 3, 0xffff);
	rtc_cmos_write(rtc, CMOS_DISK0_PARAMS + 5, 0xc0 | 1 << 3);
	cmos_put16(rtc, CMOS_DISK0_PARAMS + 6, cyl);
	rtc_cmos_write(rtc, CMOS_DISK0_PARAMS + 8, 63);
}

/*
 * Boot order: 0x3D low nibble first device, high nibble second; 0x38
 * bits 7:4 third. The CD comes first when asked for, or by default when
 * there is one.
 */
static void pc_cmos_boot_order(struct rtc *rtc, const struct pc_config *cfg)
{
	bool cd_first = cfg->boot == PC_BOOT_CDROM ||
			(cfg->boot == PC_BOOT_DEFAULT && cfg->cdrom_path);
	u8 first = cd_first ? CMOS_BOOT_CDROM : CMOS_BOOT_DISK;
	u8 second = cd_first ? CMOS_BOOT_DISK : CMOS_BOOT_CDROM;

	/* --boot net: the network first, then the disk and the CD. */
	if (cfg->boot == PC_BOOT_NET) {
		rtc_cmos_write(rtc, CMOS_BOOT_FLAG2,
			       (u8)(CMOS_BOOT_DISK << 4 | CMOS_BOOT_NET));
		rtc_cmos_write(rtc, CMOS_BOOT_FLAG1,
			       (u8)(CMOS_BOOT_CDROM << 4 | 0x01));
		return;
	}
	rtc_cmos_write(rtc, CMOS_BOOT_FLAG2, (u8)(second << 4 | first));
	/* Bit 0 set: skip the floppy boot signature check. */
	rtc_cmos_write(rtc, CMOS_BOOT_FLAG1, 0x01);
}

/* The AT checksum: the 16-bit sum of bytes 0x10-0x2D, big-endian. */
static void pc_cmos_checksum(struct rtc *rtc)
{
	u16 sum = 0;
	u8 i;

	for (i = CMOS_FLOPPY_TYPES; i < CMOS_CHECKSUM_HI; i++)
		sum = (u16)(sum + rtc_cmos_read(rtc, i));
	rtc_cmos_write(rtc, CMOS_CHECKSUM_HI, (u8)(sum >> 8));
	rtc_cmos_write(rtc, CMOS_CHECKSUM_HI + 1, (u8)sum);
}

void pc_cmos_init(struct pc *pc)
{
	struct rtc *rtc = pc->rtc;

	rtc_cmos_write(rtc, CMOS_FLOPPY_TYPES, 0);
	rtc_cmos_write(rtc, CMOS_EQUIPMENT, CMOS_EQUIP_FPU | CMOS_EQUIP_MOUSE);
	pc_cmos_memory(rtc, pc->cfg.ram_size);
	pc_cmos_disk(rtc, pc_first_disk(pc));
	pc_cmos_boot_order(rtc, &pc->cfg);
	pc_cmos_checksum(rtc);
}
