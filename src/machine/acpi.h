/* SPDX-License-Identifier: MIT */
/*
 * The PC's ACPI tables (ACPI 2.0 layouts that ACPI 1.0 readers accept:
 * RSDP revision 0 pointing to an RSDT) and the firmware's instructions for
 * installing them.
 *
 * SeaBIOS takes ACPI tables only from fw_cfg, through QEMU's documented
 * BIOS linker/loader interface: etc/table-loader is a list of 128-byte
 * little-endian commands that allocate fw_cfg files in guest memory
 * (ALLOCATE), turn offsets inside one file into addresses of another
 * (ADD_POINTER) and fill checksums (ADD_CHECKSUM). Here the tables carry
 * offsets into etc/acpi/tables, and the loader makes them addresses:
 *
 *   etc/acpi/rsdp    RSDP, in the F segment where OSes search for it
 *   etc/acpi/tables  FACS, DSDT, FADT, MADT, RSDT
 *   etc/table-loader the commands
 */
#ifndef TWOOSTWO_MACHINE_ACPI_H
#define TWOOSTWO_MACHINE_ACPI_H

#include "core/types.h"

#define ACPI_FILE_RSDP "etc/acpi/rsdp"
#define ACPI_FILE_TABLES "etc/acpi/tables"
#define ACPI_FILE_LOADER "etc/table-loader"

/* Linker/loader command layout (offsets inside a 128-byte command). */
#define ACPI_LOADER_CMD_SIZE 128
#define ACPI_LOADER_NAME_LEN 56	   /* file names, NUL-terminated */
#define ACPI_LOADER_ALLOCATE 1	   /* file[56] align:u32 zone:u8 */
#define ACPI_LOADER_ADD_POINTER 2  /* dest[56] src[56] offset:u32 size:u8 */
#define ACPI_LOADER_ADD_CHECKSUM 3 /* file[56] offset start length: u32 */
#define ACPI_LOADER_ZONE_HIGH 1	   /* RAM at the top of memory */
#define ACPI_LOADER_ZONE_FSEG 2	   /* 0xF0000-0xFFFFF */

/* What the tables describe. */
struct acpi_config {
	u16 pm_base;	/* PIIX4 PM I/O block (src/hw/piix4_pm.h) */
	u8 sci_irq;	/* ISA IRQ of the SCI */
	u16 reset_port; /* FADT reset register: one byte written... */
	u8 reset_value; /* ...with this value resets the machine */
	u8 cpu_apic_id; /* the processor's local APIC ID */
	u32 lapic_addr;
	u8 ioapic_id;
	u32 ioapic_addr;
	u16 pci_level_irqs; /* ISA IRQs PCI links use: level, active high */
	/* 32-bit PCI window [pci_mem_start, pci_mem_end), in the DSDT. */
	u32 pci_mem_start;
	u32 pci_mem_end;
};

struct acpi_blob {
	u8 *data;
	u32 len;
};

struct acpi_files {
	struct acpi_blob rsdp;
	struct acpi_blob tables;
	struct acpi_blob loader;
};

/* Build the three files. Returns 0 or -errno (-ENOMEM, -EINVAL). */
int acpi_build(const struct acpi_config *cfg, struct acpi_files *out);
void acpi_files_free(struct acpi_files *files);

#endif
