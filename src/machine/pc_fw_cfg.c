// SPDX-License-Identifier: MIT
/*
 * What the PC tells SeaBIOS through fw_cfg (QEMU docs/specs/fw_cfg.rst):
 * RAM size, CPU counts, the E820 map of RAM, the IOAPIC wiring of IRQ 0
 * and the ACPI tables.
 */
#include <stdio.h>

#include "hw/ioapic.h"
#include "machine/acpi.h"
#include "machine/pc_internal.h"

#define E820_RAM 1
#define E820_ENTRY_SIZE 20 /* {u64 address, u64 length, u32 type} */
#define PC_LOW_RAM_END 0xa0000ull
#define PC_HIGH_RAM_START 0x100000ull

/*
 * Where SeaBIOS starts the 32-bit PCI window on an i440FX: 2 GiB, or 3 GiB
 * when RAM is over 2 GiB (its i440fx_mem_addr_setup). It ends below the
 * IOAPIC.
 */
#define PC_PCI_MEM_LOW 0x80000000ull
#define PC_PCI_MEM_HIGH 0xc0000000ull

/*
 * Legacy item 0x8002 (SeaBIOS's etc/irq0-override): non-zero when ISA IRQ
 * 0 reaches IOAPIC pin 2, so SeaBIOS's MP table agrees with the MADT.
 */
#define PC_FW_CFG_IRQ0_OVERRIDE 0x8002

/* PIIX3 reset control register: a hard reset (SRST | RCPU). */
#define PC_RESET_PORT 0xcf9
#define PC_RESET_VALUE 0x06
/* ISA IRQs SeaBIOS routes PIRQA-D to, and the DSDT's links offer. */
#define PC_PCI_IRQS (BIT(10) | BIT(11))

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

static int pc_fw_cfg_acpi(struct pc *pc)
{
	const struct acpi_config cfg = {
		.pm_base = PC_ACPI_PM_BASE,
		.sci_irq = PC_SCI_IRQ,
		.reset_port = PC_RESET_PORT,
		.reset_value = PC_RESET_VALUE,
		.cpu_apic_id = PC_CPU_APIC_ID,
		.lapic_addr = LAPIC_DEFAULT_BASE,
		.ioapic_id = PC_IOAPIC_ID,
		.ioapic_addr = IOAPIC_DEFAULT_BASE,
		.pci_level_irqs = PC_PCI_IRQS,
		.pci_mem_start = pc->cfg.ram_size <= PC_PCI_MEM_LOW ?
					 PC_PCI_MEM_LOW :
					 PC_PCI_MEM_HIGH,
		.pci_mem_end = IOAPIC_DEFAULT_BASE,
	};
	struct acpi_files files;
	int err = acpi_build(&cfg, &files);

	if (err)
		return err;
	err = fw_cfg_add_file(pc->fw, ACPI_FILE_RSDP, files.rsdp.data,
			      files.rsdp.len);
	if (!err)
		err = fw_cfg_add_file(pc->fw, ACPI_FILE_TABLES,
				      files.tables.data, files.tables.len);
	if (!err)
		err = fw_cfg_add_file(pc->fw, ACPI_FILE_LOADER,
				      files.loader.data, files.loader.len);
	acpi_files_free(&files);
	return err;
}

/*
 * --boot net: SeaBIOS's "bootorder" file names the first PCI card by its
 * Open Firmware path; SeaBIOS matches it against the card's ROM (a
 * glob of "/pci@i0cf8/", any name, "@SLOT") and tries that entry first.
 */
static int pc_fw_cfg_bootorder(struct pc *pc)
{
	char order[64];
	unsigned i, slot = PC_NIC_FIRST_SLOT;
	int len;

	if (pc->cfg.boot != PC_BOOT_NET)
		return 0;
	for (i = 0; i < pc->cfg.nr_nics; i++)
		if (pc->cfg.nics[i].card == NET_CARD_NE2K_PCI)
			break;
	if (i == pc->cfg.nr_nics)
		return 0;
	len = snprintf(order, sizeof(order), "/pci@i0cf8/ethernet@%x\n", slot);
	return fw_cfg_add_file(pc->fw, "bootorder", order, (size_t)len + 1);
}

int pc_fw_cfg_init(struct pc *pc)
{
	const u8 irq0_pin2 = 1;
	int err = fw_cfg_add_u64(pc->fw, FW_CFG_RAM_SIZE, pc->cfg.ram_size);

	if (!err)
		err = fw_cfg_add_u16(pc->fw, FW_CFG_NB_CPUS, 1);
	if (!err)
		err = fw_cfg_add_u16(pc->fw, FW_CFG_MAX_CPUS, 1);
	if (!err)
		err = pc_fw_cfg_e820(pc);
	if (!err)
		err = fw_cfg_add_bytes(pc->fw, PC_FW_CFG_IRQ0_OVERRIDE,
				       &irq0_pin2, 1);
	if (!err)
		err = pc_fw_cfg_acpi(pc);
	if (!err)
		err = pc_fw_cfg_bootorder(pc);
	return err;
}
