// SPDX-License-Identifier: MIT
/*
 * ACPI tables and their linker/loader script. The test runs the script the
 * way the firmware does (QEMU's BIOS linker/loader interface: allocate each
 * file in its zone, add file addresses to pointers, fix checksums) into a
 * fake guest memory, then reads the tables as an OS would: find the RSDP in
 * the F segment, follow the RSDT, check every signature, length and
 * checksum, and the FADT and MADT fields against the ACPI 3.0 layouts.
 */
#include <errno.h>
#include <stdlib.h>

#include "machine/acpi.h"
#include "unit.h"

#define FSEG_BASE 0xf0000u
#define HIGH_BASE 0x07ff0000u
#define ZONE_SIZE 0x10000u

/* Guest memory: the F segment and a stretch of high RAM. */
struct zone {
	u32 base;
	u32 used;
	u8 mem[ZONE_SIZE];
};

struct loaded {
	const char *name;
	u8 *data; /* inside a zone */
	u32 addr;
	u32 size;
};

struct guest {
	struct zone fseg, high;
	struct loaded files[2];
	unsigned nfiles;
	unsigned allocs, pointers, checksums;
};

static const struct acpi_config base_cfg = {
	.pm_base = 0x600,
	.sci_irq = 9,
	.reset_port = 0xcf9,
	.reset_value = 0x06,
	.cpu_apic_id = 0,
	.lapic_addr = 0xfee00000u,
	.ioapic_id = 1,
	.ioapic_addr = 0xfec00000u,
	.pci_level_irqs = BIT(10) | BIT(11),
	.pci_mem_start = 0xc0000000u,
	.pci_mem_end = 0xfec00000u,
};

static u8 sum8(const u8 *p, u32 len)
{
	u8 s = 0;

	while (len--)
		s = (u8)(s + *p++);
	return s;
}

static u8 *guest_ptr(struct guest *g, u64 addr, u32 len)
{
	struct zone *zones[] = {&g->fseg, &g->high};
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct zone *z = zones[i];

		if (addr >= z->base && addr + len <= (u64)z->base + ZONE_SIZE)
			return z->mem + (addr - z->base);
	}
	return NULL;
}

/* A name field must hold a NUL inside its 56 bytes. */
static const char *cmd_name(const u8 *field)
{
	return memchr(field, 0, ACPI_LOADER_NAME_LEN) ? (const char *)field :
							NULL;
}

static struct loaded *find_file(struct guest *g, const char *name)
{
	unsigned i;

	for (i = 0; name && i < g->nfiles; i++)
		if (!strcmp(g->files[i].name, name))
			return &g->files[i];
	return NULL;
}

static const struct acpi_blob *blob_named(const struct acpi_files *f,
					  const char *name)
{
	if (!strcmp(name, ACPI_FILE_RSDP))
		return &f->rsdp;
	if (!strcmp(name, ACPI_FILE_TABLES))
		return &f->tables;
	return NULL;
}

static void run_allocate(struct guest *g, const struct acpi_files *f,
			 const u8 *c)
{
	const char *name = cmd_name(c + 4);
	u32 align = get_le32(c + 60);
	const struct acpi_blob *b;
	struct zone *z;
	u32 off;

	CHECK(name != NULL);
	if (!name)
		return;
	b = blob_named(f, name);
	CHECK(b != NULL);
	CHECK(!find_file(g, name)); /* once per file */
	CHECK(align && !(align & (align - 1)));
	CHECK(c[64] == ACPI_LOADER_ZONE_HIGH || c[64] == ACPI_LOADER_ZONE_FSEG);
	if (!b || find_file(g, name) || !align || g->nfiles == 2)
		return;
	z = c[64] == ACPI_LOADER_ZONE_FSEG ? &g->fseg : &g->high;
	off = ((z->base + z->used + align - 1) & ~(align - 1)) - z->base;
	CHECK(off + b->len <= ZONE_SIZE);
	if (off + b->len > ZONE_SIZE)
		return;
	memcpy(z->mem + off, b->data, b->len);
	g->files[g->nfiles++] = (struct loaded){
		blob_named(f, name) == &f->rsdp ? ACPI_FILE_RSDP :
						  ACPI_FILE_TABLES,
		z->mem + off, z->base + off, b->len};
	CHECK_EQ((z->base + off) & (align - 1), 0);
	z->used = off + b->len;
	g->allocs++;
}

static void run_add_pointer(struct guest *g, const u8 *c)
{
	struct loaded *dst = find_file(g, cmd_name(c + 4));
	struct loaded *src = find_file(g, cmd_name(c + 60));
	u32 off = get_le32(c + 116);
	u8 size = c[120];
	u64 v = 0;
	unsigned i;

	CHECK(dst && src);
	CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	CHECK((u64)off + size <= (dst ? dst->size : 0));
	if (!dst || !src || !size || size > 8 || (u64)off + size > dst->size)
		return;
	for (i = 0; i < size; i++)
		v |= (u64)dst->data[off + i] << (8 * i);
	/* the offset stored there must lie inside the source file */
	CHECK(v < src->size);
	v += src->addr;
	for (i = 0; i < size; i++)
		dst->data[off + i] = (u8)(v >> (8 * i));
	g->pointers++;
}

static void run_add_checksum(struct guest *g, const u8 *c)
{
	struct loaded *file = find_file(g, cmd_name(c + 4));
	u32 off = get_le32(c + 60), start = get_le32(c + 64);
	u32 len = get_le32(c + 68);

	CHECK(file != NULL);
	if (!file)
		return;
	CHECK(off < file->size);
	CHECK((u64)start + len <= file->size);
	if (off >= file->size || (u64)start + len > file->size)
		return;
	/* the field starts at 0, inside the summed range */
	CHECK_EQ(file->data[off], 0);
	CHECK(off >= start && off < start + len);
	file->data[off] = (u8)(file->data[off] - sum8(file->data + start, len));
	g->checksums++;
}

/* Execute the loader script the way the firmware does. */
static void run_loader(struct guest *g, const struct acpi_files *f)
{
	u32 pos;

	memset(g, 0, sizeof(*g));
	g->fseg.base = FSEG_BASE + 0x5a30; /* not aligned: alignment matters */
	g->high.base = HIGH_BASE + 0x10;
	CHECK(f->loader.len && f->loader.len % ACPI_LOADER_CMD_SIZE == 0);
	for (pos = 0; pos + ACPI_LOADER_CMD_SIZE <= f->loader.len;
	     pos += ACPI_LOADER_CMD_SIZE) {
		const u8 *c = f->loader.data + pos;

		switch (get_le32(c)) {
		case ACPI_LOADER_ALLOCATE:
			run_allocate(g, f, c);
			break;
		case ACPI_LOADER_ADD_POINTER:
			run_add_pointer(g, c);
			break;
		case ACPI_LOADER_ADD_CHECKSUM:
			run_add_checksum(g, c);
			break;
		default:
			CHECK(!"unknown loader command");
		}
	}
}

/* The table at addr with this signature, its length and checksum right. */
static u8 *table_at(struct guest *g, u64 addr, const char *sig)
{
	u8 *t = guest_ptr(g, addr, 36);
	u32 len;

	CHECK(t != NULL);
	if (!t)
		return NULL;
	CHECK(!memcmp(t, sig, 4));
	len = get_le32(t + 4);
	CHECK(len >= 36 && guest_ptr(g, addr, len));
	if (len < 36 || !guest_ptr(g, addr, len))
		return NULL;
	CHECK_EQ(sum8(t, len), 0);
	return t;
}

/* The RSDP as an OS finds it: 16-byte aligned in 0xE0000-0xFFFFF. */
static u8 *find_rsdp(struct guest *g)
{
	u32 a;

	for (a = FSEG_BASE; a < FSEG_BASE + ZONE_SIZE; a += 16) {
		u8 *p = guest_ptr(g, a, 20);

		if (p && !memcmp(p, "RSD PTR ", 8) && sum8(p, 20) == 0)
			return p;
	}
	return NULL;
}

static void check_gas_io(const u8 *gas, u8 bits, u64 port)
{
	CHECK_EQ(gas[0], 1); /* system I/O */
	CHECK_EQ(gas[1], bits);
	CHECK_EQ(gas[2], 0);
	CHECK_EQ(get_le64(gas + 4), port);
}

static void check_fadt(struct guest *g, u8 *fadt)
{
	u32 dsdt = get_le32(fadt + 40);
	u8 *facs = guest_ptr(g, get_le32(fadt + 36), 64);

	CHECK_EQ(get_le32(fadt + 4), 244);
	CHECK_EQ(fadt[8], 3);
	CHECK(facs != NULL);
	CHECK_EQ(get_le32(fadt + 36) % 64, 0);
	if (facs) {
		CHECK(!memcmp(facs, "FACS", 4));
		CHECK_EQ(get_le32(facs + 4), 64);
	}
	CHECK(table_at(g, dsdt, "DSDT") != NULL);
	CHECK_EQ(get_le64(fadt + 140), dsdt); /* X_DSDT */
	CHECK_EQ(get_le16(fadt + 46), 9);     /* SCI */
	CHECK_EQ(get_le32(fadt + 48), 0);     /* no SMI_CMD: ACPI mode */
	CHECK_EQ(get_le32(fadt + 56), 0x600); /* PM1a_EVT_BLK */
	CHECK_EQ(get_le32(fadt + 64), 0x604); /* PM1a_CNT_BLK */
	CHECK_EQ(get_le32(fadt + 76), 0x608); /* PM_TMR_BLK */
	CHECK_EQ(get_le32(fadt + 80), 0x60c); /* GPE0_BLK */
	CHECK_EQ(fadt[88], 4);
	CHECK_EQ(fadt[89], 2);
	CHECK_EQ(fadt[91], 4);
	CHECK_EQ(fadt[92], 4);
	CHECK(get_le16(fadt + 96) > 100);	 /* no C2 */
	CHECK(get_le16(fadt + 98) > 1000);	 /* no C3 */
	CHECK_EQ(fadt[108], 0x32);		 /* RTC century index */
	CHECK(get_le16(fadt + 109) & BIT(1));	 /* 8042 present */
	CHECK(get_le32(fadt + 112) & BIT(10));	 /* RESET_REG_SUP */
	CHECK(!(get_le32(fadt + 112) & BIT(8))); /* 24-bit PM timer */
	check_gas_io(fadt + 116, 8, 0xcf9);
	CHECK_EQ(fadt[128], 0x06);
	check_gas_io(fadt + 148, 32, 0x600);
	check_gas_io(fadt + 172, 16, 0x604);
	check_gas_io(fadt + 208, 32, 0x608);
	check_gas_io(fadt + 220, 32, 0x60c);
}

struct madt_seen {
	unsigned lapics, ioapics, nmis, isos;
	u16 iso_irqs;
};

static void check_madt_entry(const u8 *e, struct madt_seen *s)
{
	switch (e[0]) {
	case 0: /* processor local APIC */
		CHECK_EQ(e[1], 8);
		CHECK_EQ(e[2], 0); /* UID: \_SB.CPU0 */
		CHECK_EQ(e[3], 0); /* APIC ID */
		CHECK_EQ(get_le32(e + 4), 1);
		s->lapics++;
		break;
	case 1: /* I/O APIC */
		CHECK_EQ(e[1], 12);
		CHECK_EQ(e[2], 1);
		CHECK_EQ(get_le32(e + 4), 0xfec00000u);
		CHECK_EQ(get_le32(e + 8), 0);
		s->ioapics++;
		break;
	case 2: /* interrupt source override */
		CHECK_EQ(e[1], 10);
		CHECK_EQ(e[2], 0);
		if (e[3] == 0) {
			CHECK_EQ(get_le32(e + 4), 2);
			CHECK_EQ(get_le16(e + 8), 0);
		} else {
			CHECK_EQ(get_le32(e + 4), e[3]);
			CHECK_EQ(get_le16(e + 8), 0x0d); /* level, high */
		}
		s->iso_irqs |= (u16)BIT(e[3] & 15);
		s->isos++;
		break;
	case 4: /* local APIC NMI */
		CHECK_EQ(e[1], 6);
		CHECK_EQ(e[5], 1); /* LINT1 */
		s->nmis++;
		break;
	default:
		CHECK(!"unexpected MADT entry");
	}
}

static void check_madt(u8 *madt)
{
	u32 len = get_le32(madt + 4), off = 44;
	struct madt_seen s = {0};

	CHECK_EQ(get_le32(madt + 36), 0xfee00000u);
	CHECK_EQ(get_le32(madt + 40), 1); /* PCAT_COMPAT */
	while (off + 2 <= len) {
		u8 elen = madt[off + 1];

		CHECK(elen >= 2 && off + elen <= len);
		if (elen < 2 || off + elen > len)
			break;
		check_madt_entry(madt + off, &s);
		off += elen;
	}
	CHECK_EQ(off, len);
	CHECK_EQ(s.lapics, 1);
	CHECK_EQ(s.ioapics, 1);
	CHECK_EQ(s.nmis, 1);
	CHECK_EQ(s.isos, 4);
	CHECK_EQ(s.iso_irqs, BIT(0) | BIT(9) | BIT(10) | BIT(11));
}

static bool contains(const u8 *p, u32 len, const void *what, u32 wlen)
{
	u32 i;

	for (i = 0; i + wlen <= len; i++)
		if (!memcmp(p + i, what, wlen))
			return true;
	return false;
}

static void check_dsdt(struct guest *g, u8 *fadt, u32 start, u32 end)
{
	u8 *dsdt = table_at(g, get_le32(fadt + 40), "DSDT");
	u8 window[16] = {0}, kbd[] = {0x0c, 0x41, 0xd0, 0x03, 0x03};
	u32 len;

	if (!dsdt)
		return;
	len = get_le32(dsdt + 4);
	put_le32(window, start);
	put_le32(window + 4, end - 1);
	put_le32(window + 12, end - start);
	CHECK(contains(dsdt, len, window, sizeof(window)));
	CHECK(contains(dsdt, len, "_S5_", 4));
	CHECK(contains(dsdt, len, kbd, sizeof(kbd))); /* EisaId PNP0303 */
}

static void test_tables(void)
{
	struct acpi_files f;
	struct guest *g = calloc(1, sizeof(*g));
	u8 *rsdp, *rsdt, *fadt = NULL, *madt = NULL;
	unsigned i;

	CHECK_EQ(acpi_build(&base_cfg, &f), 0);
	run_loader(g, &f);
	CHECK_EQ(g->allocs, 2);
	CHECK_EQ(g->pointers, 6);
	CHECK_EQ(g->checksums, 5);
	rsdp = find_rsdp(g);
	CHECK(rsdp != NULL);
	if (!rsdp)
		goto out;
	CHECK_EQ(rsdp[15], 0); /* revision 0: ACPI 1.0 layout */
	rsdt = table_at(g, get_le32(rsdp + 16), "RSDT");
	if (!rsdt)
		goto out;
	CHECK_EQ(get_le32(rsdt + 4), 36 + 8);
	for (i = 36; i + 4 <= get_le32(rsdt + 4); i += 4) {
		u32 addr = get_le32(rsdt + i);
		u8 *t = guest_ptr(g, addr, 4);

		if (t && !memcmp(t, "FACP", 4))
			fadt = table_at(g, addr, "FACP");
		else if (t && !memcmp(t, "APIC", 4))
			madt = table_at(g, addr, "APIC");
		else
			CHECK(!"unexpected RSDT entry");
	}
	CHECK(fadt && madt);
	if (fadt) {
		check_fadt(g, fadt);
		check_dsdt(g, fadt, 0xc0000000u, 0xfec00000u);
	}
	if (madt)
		check_madt(madt);
out:
	acpi_files_free(&f);
	free(g);
}

/* The PCI window follows the RAM size; the rest does not change. */
static void test_pci_window(void)
{
	struct acpi_config cfg = base_cfg;
	struct acpi_files a, b;
	struct guest *g = calloc(1, sizeof(*g));
	u8 *rsdp, *rsdt;

	cfg.pci_mem_start = 0x80000000u;
	CHECK_EQ(acpi_build(&cfg, &a), 0);
	CHECK_EQ(acpi_build(&base_cfg, &b), 0);
	CHECK_EQ(a.tables.len, b.tables.len);
	CHECK_EQ(a.loader.len, b.loader.len);
	CHECK(!memcmp(a.loader.data, b.loader.data, a.loader.len));
	run_loader(g, &a);
	rsdp = find_rsdp(g);
	rsdt = rsdp ? table_at(g, get_le32(rsdp + 16), "RSDT") : NULL;
	CHECK(rsdt != NULL);
	if (rsdt)
		check_dsdt(g, guest_ptr(g, get_le32(rsdt + 36), 244),
			   0x80000000u, 0xfec00000u);
	acpi_files_free(&a);
	acpi_files_free(&b);
	free(g);
}

/* Before the loader runs, checksums are 0 and pointers are offsets. */
static void test_unlinked(void)
{
	struct acpi_files f;

	CHECK_EQ(acpi_build(&base_cfg, &f), 0);
	CHECK_EQ(f.rsdp.len, 20);
	CHECK(!memcmp(f.rsdp.data, "RSD PTR ", 8));
	CHECK_EQ(f.rsdp.data[8], 0);
	CHECK(get_le32(f.rsdp.data + 16) < f.tables.len);
	CHECK(!memcmp(f.tables.data, "FACS", 4)); /* first: 64-byte aligned */
	acpi_files_free(&f);
	CHECK(f.tables.data == NULL && f.loader.data == NULL);
}

static void test_bad_config(void)
{
	struct acpi_config cfg = base_cfg;
	struct acpi_files f;

	cfg.pci_mem_start = cfg.pci_mem_end;
	CHECK_EQ(acpi_build(&cfg, &f), -EINVAL);
	CHECK(f.tables.data == NULL && f.rsdp.data == NULL);
	cfg = base_cfg;
	cfg.sci_irq = 16;
	CHECK_EQ(acpi_build(&cfg, &f), -EINVAL);
	cfg = base_cfg;
	cfg.pm_base = 0xfff0;
	CHECK_EQ(acpi_build(&cfg, &f), -EINVAL);
}

int main(void)
{
	RUN_TEST(test_tables);
	RUN_TEST(test_pci_window);
	RUN_TEST(test_unlinked);
	RUN_TEST(test_bad_config);
	return unit_summary();
}
