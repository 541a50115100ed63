// SPDX-License-Identifier: MIT
/*
 * ACPI tables of the PC and the linker/loader script that installs them
 * (see acpi.h). Table layouts from the ACPI 3.0 specification, chapter 5:
 * RSDP (5.2.5.3, revision 0 for ACPI 1.0 readers), RSDT (5.2.7), FADT
 * revision 3 (5.2.9), FACS (5.2.10), MADT (5.2.11); the DSDT is compiled
 * from dsdt.asl.
 *
 * Pointers between tables are written as offsets into etc/acpi/tables
 * and every checksum as 0; the loader's ADD_POINTER adds the address where
 * the firmware placed the file, then ADD_CHECKSUM fixes the sums.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dsdt_aml.h"
#include "hw/piix4_pm.h"
#include "machine/acpi.h"

#define ACPI_OEM_ID "TWOOS2"
#define ACPI_OEM_TABLE_ID "TWOOSTWO"
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "TWOS"
#define ACPI_CREATOR_REVISION 1

/* System description table header (5.2.6). */
#define HDR_SIZE 36
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9

/* RSDP, revision 0 (5.2.5.3). */
#define RSDP_SIZE 20
#define RSDP_ALIGN 16
#define RSDP_CHECKSUM 8
#define RSDP_OEM_ID 9
#define RSDP_RSDT 16

/* FACS (5.2.10): 64 bytes, 64-byte aligned. */
#define FACS_SIZE 64
#define FACS_ALIGN 64
#define FACS_LENGTH 4

/* FADT revision 3 (5.2.9, table 5-27): field offsets. */
#define FADT_REVISION 3
#define FADT_SIZE 244
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_GPE0_BLK 80
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_GPE0_BLK_LEN 92
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208
#define FADT_X_GPE0_BLK 220

/* FADT flags (table 5-28). */
#define FADT_WBINVD BIT(0)
#define FADT_PROC_C1 BIT(2)
/*
 * BIT(4) PWR_BUTTON stays clear: the power button is the fixed-feature one
 * in PM1 (PIIX4 PWRBTN_STS/EN), pressed by `twoostwo vm stop`.
 */
#define FADT_SLP_BUTTON BIT(5) /* no fixed-feature sleep button */
#define FADT_FIX_RTC BIT(6)    /* no RTC wake status in PM1 */
#define FADT_RESET_REG_SUP BIT(10)
/* IA-PC boot architecture flags (table 5-29). */
#define FADT_LEGACY_DEVICES BIT(0)
#define FADT_8042 BIT(1)
/* C2/C3 latencies over 100/1000 us mean "not supported". */
#define FADT_NO_C2 101
#define FADT_NO_C3 1001
#define RTC_CENTURY_INDEX 0x32

/* Generic address structure (5.2.3.1). */
#define GAS_SIZE 12
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* MADT (5.2.11.4) and its entries. */
#define MADT_REVISION 1
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_PCAT_COMPAT BIT(0)
#define MADT_HDR_SIZE 44
#define MADT_LAPIC 0
#define MADT_LAPIC_SIZE 8
#define MADT_IOAPIC 1
#define MADT_IOAPIC_SIZE 12
#define MADT_ISO 2
#define MADT_ISO_SIZE 10
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_NMI_SIZE 6
#define MADT_ENABLED BIT(0)
#define MADT_ALL_PROCESSORS 0xff
#define MADT_LINT1 1
/* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2. */
#define MPS_INTI_ACTIVE_HIGH 0x1
#define MPS_INTI_LEVEL 0xc
#define ACPI_PROCESSOR_UID 0 /* dsdt.asl, \_SB.CPU0._UID */

#define RSDT_REVISION 1
#define RSDT_ENTRIES 2 /* FADT, MADT */

/*
 * The 32-bit PCI window as dsdt.asl writes it (PW32): _MIN, _MAX,
 * _TRA, _LEN of a DWordMemory descriptor, found by these values.
 */
#define PW32_MIN 0x80000000u
#define PW32_MAX 0xfebfffffu
#define PW32_FIELDS 16

#define LOADER_MAX_CMDS 16

/* Where each table sits in etc/acpi/tables. */
struct acpi_layout {
	u32 facs, dsdt, fadt, madt, rsdt, size;
};

struct acpi_loader {
	u8 *cmds;
	unsigned n;
};

static u32 acpi_align(u32 off, u32 align)
{
	return (off + align - 1) & ~(align - 1);
}

static void acpi_header(u8 *t, const char *sig, u32 len, u8 rev)
{
	memcpy(t, sig, 4);
	put_le32(t + HDR_LENGTH, len);
	t[HDR_REVISION] = rev;
	t[HDR_CHECKSUM] = 0; /* the loader fills it */
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put_le32(t + 24, ACPI_OEM_REVISION);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put_le32(t + 32, ACPI_CREATOR_REVISION);
}

/* --- loader commands ---------------------------------------------------- */

static u8 *loader_cmd(struct acpi_loader *l, u32 command)
{
	u8 *c;

	if (l->n == LOADER_MAX_CMDS)
		return NULL;
	c = l->cmds + l->n++ * ACPI_LOADER_CMD_SIZE;
	put_le32(c, command);
	return c;
}

/* Names are this file's constants, all shorter than the field. */
static void loader_name(u8 *field, const char *name)
{
	strncpy((char *)field, name, ACPI_LOADER_NAME_LEN - 1);
}

static int loader_allocate(struct acpi_loader *l, const char *file, u32 align,
			   u8 zone)
{
	u8 *c = loader_cmd(l, ACPI_LOADER_ALLOCATE);

	if (!c)
		return -ENOSPC;
	loader_name(c + 4, file);
	put_le32(c + 60, align);
	c[64] = zone;
	return 0;
}

static int loader_add_pointer(struct acpi_loader *l, const char *dest,
			      const char *src, u32 offset, u8 size)
{
	u8 *c = loader_cmd(l, ACPI_LOADER_ADD_POINTER);

	if (!c)
		return -ENOSPC;
	loader_name(c + 4, dest);
	loader_name(c + 60, src);
	put_le32(c + 116, offset);
	c[120] = size;
	return 0;
}

static int loader_add_checksum(struct acpi_loader *l, const char *file,
			       u32 start, u32 len, u32 checksum)
{
	u8 *c = loader_cmd(l, ACPI_LOADER_ADD_CHECKSUM);

	if (!c)
		return -ENOSPC;
	loader_name(c + 4, file);
	put_le32(c + 60, checksum);
	put_le32(c + 64, start);
	put_le32(c + 68, len);
	return 0;
}

/* A table in etc/acpi/tables: its checksum byte covers its length. */
static int loader_table_checksum(struct acpi_loader *l, const u8 *tables,
				 u32 off)
{
	return loader_add_checksum(l, ACPI_FILE_TABLES, off,
				   get_le32(tables + off + HDR_LENGTH),
				   off + HDR_CHECKSUM);
}

/* --- tables ------------------------------------------------------------- */

static void acpi_facs(u8 *t)
{
	memcpy(t, "FACS", 4);
	put_le32(t + FACS_LENGTH, FACS_SIZE);
}

/* Copy the compiled DSDT and set the 32-bit PCI window of PCI0._CRS. */
static int acpi_dsdt(u8 *t, const struct acpi_config *cfg)
{
	u8 pattern[PW32_FIELDS] = {0};
	u8 *pw32 = NULL;
	size_t i;

	memcpy(t, dsdt_aml, sizeof(dsdt_aml));
	put_le32(pattern, PW32_MIN);
	put_le32(pattern + 4, PW32_MAX);
	put_le32(pattern + 12, PW32_MAX - PW32_MIN + 1);
	for (i = 0; i + PW32_FIELDS <= sizeof(dsdt_aml); i++) {
		if (memcmp(t + i, pattern, PW32_FIELDS))
			continue;
		if (pw32)
			return -EINVAL; /* ambiguous: dsdt.asl changed */
		pw32 = t + i;
	}
	if (!pw32)
		return -EINVAL;
	put_le32(pw32, cfg->pci_mem_start);
	put_le32(pw32 + 4, cfg->pci_mem_end - 1);
	put_le32(pw32 + 12, cfg->pci_mem_end - cfg->pci_mem_start);
	t[HDR_CHECKSUM] = 0;
	return 0;
}

static void acpi_gas_io(u8 *g, u8 bits, u8 access, u16 port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = bits;
	g[2] = 0; /* bit offset */
	g[3] = access;
	put_le64(g + 4, port);
}

/* The PM register blocks, in the 32-bit fields and the X_ GAS fields. */
static void acpi_fadt_pm(u8 *t, u16 base)
{
	static const struct {
		u8 blk, len_field, x_blk, off, len;
	} blocks[] = {
		{FADT_PM1A_EVT_BLK, FADT_PM1_EVT_LEN, FADT_X_PM1A_EVT_BLK,
		 PIIX4_PM_PMSTS, PIIX4_PM_EVT_LEN},
		{FADT_PM1A_CNT_BLK, FADT_PM1_CNT_LEN, FADT_X_PM1A_CNT_BLK,
		 PIIX4_PM_PMCNTRL, PIIX4_PM_CNT_LEN},
		{FADT_PM_TMR_BLK, FADT_PM_TMR_LEN, FADT_X_PM_TMR_BLK,
		 PIIX4_PM_PMTMR, PIIX4_PM_TMR_LEN},
		{FADT_GPE0_BLK, FADT_GPE0_BLK_LEN, FADT_X_GPE0_BLK,
		 PIIX4_PM_GPSTS, PIIX4_PM_GPE0_LEN},
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(blocks); i++) {
		u16 port = (u16)(base + blocks[i].off);

		put_le32(t + blocks[i].blk, port);
		t[blocks[i].len_field] = blocks[i].len;
		acpi_gas_io(t + blocks[i].x_blk, (u8)(blocks[i].len * 8), 0,
			    port);
	}
}

/*
 * No SMI command port (SMI_CMD 0): the hardware is always in ACPI mode
 * and SCI_EN reads 1 (src/hw/piix4_pm.c). Pointers hold table offsets.
 */
static void acpi_fadt(u8 *t, const struct acpi_config *cfg,
		      const struct acpi_layout *lay)
{
	acpi_header(t, "FACP", FADT_SIZE, FADT_REVISION);
	put_le32(t + FADT_FIRMWARE_CTRL, lay->facs);
	put_le32(t + FADT_DSDT, lay->dsdt);
	put_le64(t + FADT_X_DSDT, lay->dsdt);
	put_le16(t + FADT_SCI_INT, cfg->sci_irq);
	acpi_fadt_pm(t, cfg->pm_base);
	put_le16(t + FADT_P_LVL2_LAT, FADT_NO_C2);
	put_le16(t + FADT_P_LVL3_LAT, FADT_NO_C3);
	t[FADT_CENTURY] = RTC_CENTURY_INDEX;
	put_le16(t + FADT_IAPC_BOOT_ARCH, FADT_LEGACY_DEVICES | FADT_8042);
	put_le32(t + FADT_FLAGS, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
					 FADT_FIX_RTC | FADT_RESET_REG_SUP);
	acpi_gas_io(t + FADT_RESET_REG, 8, GAS_ACCESS_BYTE, cfg->reset_port);
	t[FADT_RESET_VALUE] = cfg->reset_value;
}

/* ISA IRQs that are level-triggered, active high: the SCI and PCI links. */
static u16 acpi_level_irqs(const struct acpi_config *cfg)
{
	return (u16)((cfg->pci_level_irqs | BIT(cfg->sci_irq)) & ~BIT(0));
}

static u32 acpi_madt_size(const struct acpi_config *cfg)
{
	unsigned isos = 1 + (unsigned)__builtin_popcount(acpi_level_irqs(cfg));

	return MADT_HDR_SIZE + MADT_LAPIC_SIZE + MADT_IOAPIC_SIZE +
	       isos * MADT_ISO_SIZE + MADT_LAPIC_NMI_SIZE;
}

static u8 *madt_iso(u8 *e, u8 irq, u32 gsi, u16 flags)
{
	e[0] = MADT_ISO;
	e[1] = MADT_ISO_SIZE;
	e[2] = 0; /* bus: ISA */
	e[3] = irq;
	put_le32(e + 4, gsi);
	put_le16(e + 8, flags);
	return e + MADT_ISO_SIZE;
}

/*
 * One processor, one IOAPIC whose pins 0-23 are GSIs 0-23, ISA IRQ 0 on
 * pin 2, the level-triggered IRQs, and NMI on LINT1 (virtual wire).
 */
static void acpi_madt(u8 *t, const struct acpi_config *cfg)
{
	u16 level = acpi_level_irqs(cfg);
	u8 *e = t + MADT_HDR_SIZE;
	u8 irq;

	acpi_header(t, "APIC", acpi_madt_size(cfg), MADT_REVISION);
	put_le32(t + MADT_LAPIC_ADDR, cfg->lapic_addr);
	put_le32(t + MADT_FLAGS, MADT_PCAT_COMPAT);
	e[0] = MADT_LAPIC;
	e[1] = MADT_LAPIC_SIZE;
	e[2] = ACPI_PROCESSOR_UID;
	e[3] = cfg->cpu_apic_id;
	put_le32(e + 4, MADT_ENABLED);
	e += MADT_LAPIC_SIZE;
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_SIZE;
	e[2] = cfg->ioapic_id;
	put_le32(e + 4, cfg->ioapic_addr);
	put_le32(e + 8, 0); /* GSI base */
	e += MADT_IOAPIC_SIZE;
	e = madt_iso(e, 0, 2, 0); /* bus-conforming: edge, active high */
	for (irq = 1; irq < 16; irq++)
		if (level & BIT(irq))
			e = madt_iso(e, irq, irq,
				     MPS_INTI_LEVEL | MPS_INTI_ACTIVE_HIGH);
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_SIZE;
	e[2] = MADT_ALL_PROCESSORS;
	put_le16(e + 3, 0); /* bus-conforming */
	e[5] = MADT_LINT1;
}

static void acpi_rsdt(u8 *t, const struct acpi_layout *lay)
{
	acpi_header(t, "RSDT", HDR_SIZE + 4 * RSDT_ENTRIES, RSDT_REVISION);
	put_le32(t + HDR_SIZE, lay->fadt);
	put_le32(t + HDR_SIZE + 4, lay->madt);
}

static void acpi_rsdp(u8 *t, const struct acpi_layout *lay)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + RSDP_OEM_ID, ACPI_OEM_ID, 6);
	put_le32(t + RSDP_RSDT, lay->rsdt); /* revision 0: RSDT only */
}

/* --- assembly ----------------------------------------------------------- */

static void acpi_plan(const struct acpi_config *cfg, struct acpi_layout *lay)
{
	u32 off = 0;

	lay->facs = off;
	off += FACS_SIZE;
	lay->dsdt = off;
	off = acpi_align(off + (u32)sizeof(dsdt_aml), 8);
	lay->fadt = off;
	off = acpi_align(off + FADT_SIZE, 8);
	lay->madt = off;
	off = acpi_align(off + acpi_madt_size(cfg), 8);
	lay->rsdt = off;
	lay->size = off + HDR_SIZE + 4 * RSDT_ENTRIES;
}

/* Allocate, point, then sum: pointers must be in place before checksums. */
static int acpi_script(struct acpi_loader *l, const u8 *tables,
		       const struct acpi_layout *lay)
{
	const char *tbl = ACPI_FILE_TABLES;
	const struct {
		u32 offset;
		u8 size;
	} ptrs[] = {
		{lay->fadt + FADT_FIRMWARE_CTRL, 4}, /* FADT -> FACS */
		{lay->fadt + FADT_DSDT, 4},	     /* FADT -> DSDT */
		{lay->fadt + FADT_X_DSDT, 8},	     /* FADT -> DSDT, 64-bit */
		{lay->rsdt + HDR_SIZE, 4},	     /* RSDT -> FADT */
		{lay->rsdt + HDR_SIZE + 4, 4},	     /* RSDT -> MADT */
	};
	const u32 summed[] = {lay->dsdt, lay->fadt, lay->madt, lay->rsdt};
	int ret = loader_allocate(l, tbl, FACS_ALIGN, ACPI_LOADER_ZONE_HIGH);
	unsigned i;

	for (i = 0; !ret && i < ARRAY_SIZE(ptrs); i++)
		ret = loader_add_pointer(l, tbl, tbl, ptrs[i].offset,
					 ptrs[i].size);
	for (i = 0; !ret && i < ARRAY_SIZE(summed); i++)
		ret = loader_table_checksum(l, tables, summed[i]);
	if (!ret)
		ret = loader_allocate(l, ACPI_FILE_RSDP, RSDP_ALIGN,
				      ACPI_LOADER_ZONE_FSEG);
	if (!ret)
		ret = loader_add_pointer(l, ACPI_FILE_RSDP, tbl, RSDP_RSDT, 4);
	if (!ret)
		ret = loader_add_checksum(l, ACPI_FILE_RSDP, 0, RSDP_SIZE,
					  RSDP_CHECKSUM);
	return ret;
}

static bool acpi_config_valid(const struct acpi_config *cfg)
{
	return cfg->sci_irq > 0 && cfg->sci_irq < 16 &&
	       cfg->pci_mem_start < cfg->pci_mem_end &&
	       (u32)cfg->pm_base + PIIX4_PM_IO_SIZE <= 0x10000;
}

int acpi_build(const struct acpi_config *cfg, struct acpi_files *out)
{
	struct acpi_layout lay;
	struct acpi_loader l = {0};
	u8 *tables, *rsdp;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!acpi_config_valid(cfg))
		return -EINVAL;
	acpi_plan(cfg, &lay);
	tables = calloc(1, lay.size);
	rsdp = calloc(1, RSDP_SIZE);
	l.cmds = calloc(LOADER_MAX_CMDS, ACPI_LOADER_CMD_SIZE);
	ret = tables && rsdp && l.cmds ? 0 : -ENOMEM;
	ret = ret ?: acpi_dsdt(tables + lay.dsdt, cfg);
	if (!ret) {
		acpi_facs(tables + lay.facs);
		acpi_fadt(tables + lay.fadt, cfg, &lay);
		acpi_madt(tables + lay.madt, cfg);
		acpi_rsdt(tables + lay.rsdt, &lay);
		acpi_rsdp(rsdp, &lay);
		ret = acpi_script(&l, tables, &lay);
	}
	if (ret) {
		free(tables);
		free(rsdp);
		free(l.cmds);
		return ret;
	}
	out->tables = (struct acpi_blob){tables, lay.size};
	out->rsdp = (struct acpi_blob){rsdp, RSDP_SIZE};
	out->loader = (struct acpi_blob){l.cmds, l.n * ACPI_LOADER_CMD_SIZE};
	return 0;
}

void acpi_files_free(struct acpi_files *files)
{
	free(files->rsdp.data);
	free(files->tables.data);
	free(files->loader.data);
	memset(files, 0, sizeof(*files));
}
