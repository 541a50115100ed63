// SPDX-License-Identifier: MIT
/*
 * Suspend and resume of the whole PC into a saved-state file
 * (vm/statefile.h). Sections:
 *
 *   machine  field list: RAM size, A20 inputs, ISA IRQ levels
 *   cpu      field list: the x86_state, field by field by name, so that a
 *            wider or longer register file still reads older files
 *   devices  every device's own named, versioned sections (hw/device.h)
 *   ram      sparse and compressed: u32 chunk size, u64 RAM size, a bitmap
 *            of the chunks that are not all zero, then one zstd frame of
 *            those chunks in order
 *
 * Before saving, every disk's queued requests are drained (the IDE
 * device's save does it) and every writable disk is flushed, so the disks
 * on the medium are exactly what the saved machine expects.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/clock.h"
#include "machine/pc_internal.h"
#include "vm/statefile.h"

#define PC_STATE_CHUNK (64u << 10)
/* zstd level 1: suspend time matters more than the last few percent. */
#define PC_STATE_ZSTD_LEVEL 1

/*
 * CPU: every field of x86_state under a stable name. One table lists the
 * scalar fields for both directions, so that save and load cannot drift
 * apart; arrays, segments and byte strings follow the table.
 */

struct cpu_scalar {
	const char *name;
	size_t offset; /* in struct x86_state */
	u8 size;
	bool is_bool;
};

#define CPU_SCALAR_OF(member, name_)                                           \
	{                                                                      \
		name_, offsetof(struct x86_state, member),                     \
			sizeof(((struct x86_state *)0)->member),               \
			__builtin_types_compatible_p(                          \
				__typeof__(((struct x86_state *)0)->member),   \
				bool),                                         \
	}
#define CPU_SCALAR(member) CPU_SCALAR_OF(member, #member)
/* The FPU fields keep the plain names they were saved under. */
#define FPU_SCALAR(member) CPU_SCALAR_OF(fpu.member, #member)

static const struct cpu_scalar cpu_scalars[] = {
	CPU_SCALAR(rip),
	CPU_SCALAR(eflags),
	CPU_SCALAR_OF(gdtr.base, "gdtr.base"),
	CPU_SCALAR_OF(gdtr.limit, "gdtr.limit"),
	CPU_SCALAR_OF(idtr.base, "idtr.base"),
	CPU_SCALAR_OF(idtr.limit, "idtr.limit"),
	CPU_SCALAR(cr0),
	CPU_SCALAR(cr2),
	CPU_SCALAR(cr3),
	CPU_SCALAR(cr4),
	CPU_SCALAR(cr8),
	CPU_SCALAR(efer),
	CPU_SCALAR(sysenter_cs),
	CPU_SCALAR(sysenter_esp),
	CPU_SCALAR(sysenter_eip),
	CPU_SCALAR(star),
	CPU_SCALAR(lstar),
	CPU_SCALAR(cstar),
	CPU_SCALAR(sfmask),
	CPU_SCALAR(kernel_gs_base),
	CPU_SCALAR(tsc_aux),
	CPU_SCALAR(apic_base),
	CPU_SCALAR(pat),
	CPU_SCALAR(mtrr_def_type),
	CPU_SCALAR(halted),
	CPU_SCALAR(nmi_pending),
	CPU_SCALAR(nmi_blocked),
	CPU_SCALAR(a20_masked),
	FPU_SCALAR(fcw),
	FPU_SCALAR(fsw),
	FPU_SCALAR(ftw),
	FPU_SCALAR(fop),
	FPU_SCALAR(fip),
	FPU_SCALAR(fcs),
	FPU_SCALAR(fdp),
	FPU_SCALAR(fds),
	FPU_SCALAR(mxcsr),
};

static u64 cpu_scalar_get(const struct x86_state *s, const struct cpu_scalar *c)
{
	const u8 *p = (const u8 *)s + c->offset;
	u64 v = 0;

	/* Little-endian host: the low bytes of v are the field. */
	memcpy(&v, p, c->size);
	return c->is_bool ? v != 0 : v;
}

static void cpu_scalar_set(struct x86_state *s, const struct cpu_scalar *c,
			   u64 v)
{
	u8 *p = (u8 *)s + c->offset;

	if (c->is_bool)
		v = v != 0; /* a bool may hold only 0 or 1 */
	memcpy(p, &v, c->size);
}

/* A segment register's fields, named "NAME.selector" and so on. */
#define SEG_FIELDS(X)                                                          \
	X(selector)                                                            \
	X(base)                                                                \
	X(limit)                                                               \
	X(attr)

/* The segment registers, the LDTR and the TR, by saved name. */
static const struct {
	const char *name;
	size_t offset; /* of the struct x86_segment in struct x86_state */
} cpu_segs[] = {
	{"es", offsetof(struct x86_state, seg[S_ES])},
	{"cs", offsetof(struct x86_state, seg[S_CS])},
	{"ss", offsetof(struct x86_state, seg[S_SS])},
	{"ds", offsetof(struct x86_state, seg[S_DS])},
	{"fs", offsetof(struct x86_state, seg[S_FS])},
	{"gs", offsetof(struct x86_state, seg[S_GS])},
	{"ldtr", offsetof(struct x86_state, ldtr)},
	{"tr", offsetof(struct x86_state, tr)},
};

static void pc_put_seg(struct fieldlist *fl, const char *name,
		       const struct x86_segment *sg)
{
	char n[48];

#define PUT_SEG_FIELD(f)                                                       \
	snprintf(n, sizeof(n), "%s." #f, name);                                \
	fieldlist_put(fl, n, sg->f);
	SEG_FIELDS(PUT_SEG_FIELD)
#undef PUT_SEG_FIELD
}

static void pc_put_array(struct fieldlist *fl, const char *name, const u64 *v,
			 unsigned count)
{
	char n[48];
	unsigned i;

	for (i = 0; i < count; i++) {
		snprintf(n, sizeof(n), "%s.%u", name, i);
		fieldlist_put(fl, n, v[i]);
	}
}

static void pc_put_cpu(struct fieldlist *fl, const struct x86_state *s)
{
	const struct x86_fpu_state *f = &s->fpu;
	u64 v[16];
	char n[16];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cpu_scalars); i++)
		fieldlist_put(fl, cpu_scalars[i].name,
			      cpu_scalar_get(s, &cpu_scalars[i]));
	for (i = 0; i < ARRAY_SIZE(s->gpr); i++)
		v[i] = s->gpr[i];
	pc_put_array(fl, "gpr", v, ARRAY_SIZE(s->gpr));
	for (i = 0; i < ARRAY_SIZE(cpu_segs); i++)
		pc_put_seg(fl, cpu_segs[i].name,
			   (const void *)((const u8 *)s + cpu_segs[i].offset));
	for (i = 0; i < ARRAY_SIZE(s->dr); i++)
		v[i] = s->dr[i];
	pc_put_array(fl, "dr", v, ARRAY_SIZE(s->dr));
	/* The soft engine keeps an offset from host time: store the value. */
	fieldlist_put(fl, "tsc", s->tsc + clock_guest_ns());
	pc_put_array(fl, "mtrr_fixed", s->mtrr_fixed,
		     ARRAY_SIZE(s->mtrr_fixed));
	pc_put_array(fl, "mtrr_var", s->mtrr_var, ARRAY_SIZE(s->mtrr_var));
	fieldlist_put_bytes(fl, "st", f->st, sizeof(f->st));
	/* One field per register: a field holds at most 255 bytes. */
	for (i = 0; i < ARRAY_SIZE(f->xmm); i++) {
		snprintf(n, sizeof(n), "xmm.%u", i);
		fieldlist_put_bytes(fl, n, f->xmm[i], sizeof(f->xmm[i]));
	}
}

/* Field lookups during load: absent fields keep their reset value. */
struct pc_cpu_reader {
	const u8 *buf;
	size_t len;
	int error;
};

static bool pc_get(struct pc_cpu_reader *r, const char *name, u64 *v)
{
	int ret = fieldlist_get(r->buf, r->len, name, v);

	if (ret == -EINVAL)
		r->error = ret;
	return !ret;
}

#define CPU_GET_NAMED(r, name, lvalue)                                         \
	do {                                                                   \
		u64 v_;                                                        \
		if (pc_get(r, name, &v_))                                      \
			(lvalue) = (__typeof__(lvalue))v_;                     \
	} while (0)

static void pc_get_seg(struct pc_cpu_reader *r, const char *name,
		       struct x86_segment *sg)
{
	char n[48];

#define GET_SEG_FIELD(f)                                                       \
	snprintf(n, sizeof(n), "%s." #f, name);                                \
	CPU_GET_NAMED(r, n, sg->f);
	SEG_FIELDS(GET_SEG_FIELD)
#undef GET_SEG_FIELD
}

#define CPU_GET_ARRAY(r, name, arr)                                            \
	do {                                                                   \
		char n_[48];                                                   \
		unsigned i_;                                                   \
		for (i_ = 0; i_ < ARRAY_SIZE(arr); i_++) {                     \
			snprintf(n_, sizeof(n_), "%s.%u", name, i_);           \
			CPU_GET_NAMED(r, n_, (arr)[i_]);                       \
		}                                                              \
	} while (0)

static void pc_get_bytes(struct pc_cpu_reader *r, const char *name, void *p,
			 size_t len)
{
	if (fieldlist_get_bytes(r->buf, r->len, name, p, len) == -EINVAL)
		r->error = -EINVAL;
}

static int pc_get_cpu(struct pc_cpu_reader *r, struct x86_state *s)
{
	struct x86_fpu_state *f = &s->fpu;
	char n[16];
	unsigned i;
	u64 v;

	for (i = 0; i < ARRAY_SIZE(cpu_scalars); i++)
		if (pc_get(r, cpu_scalars[i].name, &v))
			cpu_scalar_set(s, &cpu_scalars[i], v);
	CPU_GET_ARRAY(r, "gpr", s->gpr);
	for (i = 0; i < ARRAY_SIZE(cpu_segs); i++)
		pc_get_seg(r, cpu_segs[i].name,
			   (void *)((u8 *)s + cpu_segs[i].offset));
	CPU_GET_ARRAY(r, "dr", s->dr);
	if (pc_get(r, "tsc", &v))
		s->tsc = v - clock_guest_ns();
	CPU_GET_ARRAY(r, "mtrr_fixed", s->mtrr_fixed);
	CPU_GET_ARRAY(r, "mtrr_var", s->mtrr_var);
	pc_get_bytes(r, "st", f->st, sizeof(f->st));
	for (i = 0; i < ARRAY_SIZE(f->xmm); i++) {
		snprintf(n, sizeof(n), "xmm.%u", i);
		pc_get_bytes(r, n, f->xmm[i], sizeof(f->xmm[i]));
	}
	return r->error;
}

/* RAM */

static bool pc_chunk_zero(const u8 *p, size_t n)
{
	static const u8 zero[256];
	size_t i;

	for (i = 0; i < n; i += sizeof(zero))
		if (memcmp(p + i, zero, MIN(sizeof(zero), n - i)))
			return false;
	return true;
}

struct pc_zbuf {
	u8 *buf;
	size_t len, cap;
};

static int pc_zbuf_reserve(struct pc_zbuf *z, size_t more)
{
	size_t cap = z->cap ? z->cap : (1u << 20);
	u8 *p;

	if (z->len + more <= z->cap)
		return 0;
	while (cap < z->len + more)
		cap *= 2;
	p = realloc(z->buf, cap);
	if (!p)
		return -ENOMEM;
	z->buf = p;
	z->cap = cap;
	return 0;
}

/* Feed one input buffer (NULL at the end) through the compressor. */
static int pc_zfeed(ZSTD_CCtx *cc, struct pc_zbuf *z, const void *p, size_t n,
		    bool end)
{
	ZSTD_inBuffer in = {p, n, 0};
	size_t left;

	do {
		ZSTD_outBuffer out;

		if (pc_zbuf_reserve(z, ZSTD_CStreamOutSize()))
			return -ENOMEM;
		out = (ZSTD_outBuffer){z->buf + z->len, z->cap - z->len, 0};
		left = ZSTD_compressStream2(cc, &out, &in,
					    end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return -EIO;
		z->len += out.pos;
	} while (end ? left != 0 : in.pos < in.size);
	return 0;
}

static int pc_save_ram(struct pc *pc, struct statefile *sf)
{
	u64 chunks = pc->mem.ram_size / PC_STATE_CHUNK, i;
	size_t bitmap_len = (size_t)((chunks + 7) / 8);
	struct pc_zbuf z = {0};
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	int ret = cc ? 0 : -ENOMEM;

	if (!ret)
		ret = pc_zbuf_reserve(&z, 12 + bitmap_len);
	if (!ret) {
		memset(z.buf, 0, 12 + bitmap_len);
		put_le32(z.buf, PC_STATE_CHUNK);
		put_le64(z.buf + 4, pc->mem.ram_size);
		z.len = 12 + bitmap_len;
		ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel,
				       PC_STATE_ZSTD_LEVEL);
	}
	for (i = 0; i < chunks && !ret; i++) {
		const u8 *p = pc->mem.ram + i * PC_STATE_CHUNK;

		if (pc_chunk_zero(p, PC_STATE_CHUNK))
			continue;
		z.buf[12 + i / 8] |= (u8)(1u << (i % 8));
		ret = pc_zfeed(cc, &z, p, PC_STATE_CHUNK, false);
	}
	if (!ret)
		ret = pc_zfeed(cc, &z, NULL, 0, true);
	ZSTD_freeCCtx(cc);
	if (ret) {
		free(z.buf);
		return ret;
	}
	return statefile_add_owned(sf, "ram", z.buf, z.len);
}

static int pc_load_ram(struct pc *pc, const struct statefile_section *s)
{
	u64 chunks = pc->mem.ram_size / PC_STATE_CHUNK, i, want = 0;
	size_t bitmap_len = (size_t)((chunks + 7) / 8);
	ZSTD_DCtx *dc;
	ZSTD_inBuffer in;
	int ret = 0;

	if (s->len < 12 + bitmap_len || get_le32(s->data) != PC_STATE_CHUNK ||
	    get_le64(s->data + 4) != pc->mem.ram_size)
		return -EINVAL;
	dc = ZSTD_createDCtx();
	if (!dc)
		return -ENOMEM;
	in = (ZSTD_inBuffer){s->data + 12 + bitmap_len,
			     s->len - 12 - bitmap_len, 0};
	memset(pc->mem.ram, 0, pc->mem.ram_size);
	for (i = 0; i < chunks && !ret; i++) {
		ZSTD_outBuffer out = {pc->mem.ram + i * PC_STATE_CHUNK,
				      PC_STATE_CHUNK, 0};

		if (!(s->data[12 + i / 8] & (1u << (i % 8))))
			continue;
		want++;
		while (out.pos < out.size) {
			size_t r = ZSTD_decompressStream(dc, &out, &in);

			if (ZSTD_isError(r) ||
			    (in.pos == in.size && out.pos < out.size)) {
				ret = -EINVAL;
				break;
			}
		}
	}
	ZSTD_freeDCtx(dc);
	return ret;
}

/* Every decoded instruction the CPU cached is stale now. */
static void pc_ram_rewritten(struct pc *pc)
{
	unsigned i;

	for (i = 0; i < pc->mem.nr_listeners; i++)
		if (pc->mem.listeners[i].dma_written)
			pc->mem.listeners[i].dma_written(
				pc->mem.listeners[i].opaque, 0,
				pc->mem.ram_size);
}

/* Machine-level fields */

static void pc_put_machine(struct pc *pc, struct fieldlist *fl)
{
	fieldlist_put(fl, "ram_size", pc->mem.ram_size);
	fieldlist_put(fl, "a20_kbc", pc->a20_kbc);
	fieldlist_put(fl, "a20_port92", pc->a20_port92);
	fieldlist_put(fl, "isa_dev_level", pc->isa_dev_level);
	fieldlist_put(fl, "isa_pirq_level", pc->isa_pirq_level);
	fieldlist_put(fl, "nr_devices", pc->nr_devices);
}

static int pc_get_machine(struct pc *pc, const struct statefile_section *s,
			  char *err, size_t errlen)
{
	u64 ram = 0, v;

	if (fieldlist_get(s->data, s->len, "ram_size", &ram) ||
	    ram != pc->mem.ram_size) {
		snprintf(err, errlen,
			 "saved state is of a machine with %llu MiB of RAM, "
			 "this one has %llu MiB",
			 (unsigned long long)(ram >> 20),
			 (unsigned long long)(pc->mem.ram_size >> 20));
		return -EINVAL;
	}
	if (!fieldlist_get(s->data, s->len, "a20_kbc", &v))
		pc->a20_kbc = v & 1;
	if (!fieldlist_get(s->data, s->len, "a20_port92", &v))
		pc->a20_port92 = v & 1;
	if (!fieldlist_get(s->data, s->len, "isa_dev_level", &v))
		pc->isa_dev_level = (u16)v;
	if (!fieldlist_get(s->data, s->len, "isa_pirq_level", &v))
		pc->isa_pirq_level = (u16)v;
	return 0;
}

static int pc_flush_disks(struct pc *pc)
{
	unsigned i;
	int ret;

	for (i = 0; i < PC_IDE_SLOTS; i++) {
		if (!pc->disk[i])
			continue;
		ret = block_flush(pc->disk[i]);
		if (ret && ret != -EROFS && ret != -EBADF)
			return ret;
	}
	return 0;
}

static int pc_save_devices(struct pc *pc, struct statefile *sf, char *err,
			   size_t errlen)
{
	struct snap_writer w;
	unsigned i;
	int ret = 0;

	snap_writer_init(&w);
	for (i = 0; i < pc->nr_devices && !ret; i++) {
		ret = pc->devices[i].ops->save(pc->devices[i].opaque, &w);
		ret = ret ?: w.error;
		if (ret)
			snprintf(err, errlen, "cannot save the machine: %s: %s",
				 pc->devices[i].ops->name, strerror(-ret));
	}
	if (!ret)
		ret = statefile_add(sf, "devices", w.buf, w.len);
	snap_writer_free(&w);
	return ret;
}

int pc_save_state(struct pc *pc, const char *path, char *err, size_t errlen)
{
	struct fieldlist machine = {0}, cpu = {0};
	struct statefile sf;
	struct x86_state st;
	int ret;

	if (errlen)
		*err = '\0';
	statefile_init(&sf);
	pc->engine->get_state(pc->vcpu, &st);
	pc_put_machine(pc, &machine);
	pc_put_cpu(&cpu, &st);
	ret = machine.error ?: cpu.error;
	ret = ret ?: statefile_add(&sf, "machine", machine.buf, machine.len);
	ret = ret ?: statefile_add(&sf, "cpu", cpu.buf, cpu.len);
	/* Device saves drain the disks' queued requests (ide_save). */
	ret = ret ?: pc_save_devices(pc, &sf, err, errlen);
	ret = ret ?: pc_save_ram(pc, &sf);
	free(machine.buf);
	free(cpu.buf);
	if (ret) {
		if (!*err)
			snprintf(err, errlen, "cannot save the machine: %s",
				 strerror(-ret));
		statefile_free(&sf);
		return ret;
	}
	ret = pc_flush_disks(pc);
	if (ret) {
		snprintf(err, errlen, "cannot flush the disks: %s",
			 strerror(-ret));
		statefile_free(&sf);
		return ret;
	}
	ret = statefile_write(&sf, path, err, errlen);
	statefile_free(&sf);
	return ret;
}

static int pc_load_devices(struct pc *pc, const struct statefile *sf, char *err,
			   size_t errlen)
{
	const struct statefile_section *s = statefile_find(sf, "devices");
	struct snap_reader r;
	unsigned i;
	int ret;

	if (!s) {
		snprintf(err, errlen, "saved state has no devices section");
		return -EINVAL;
	}
	snap_reader_init(&r, s->data, s->len);
	for (i = 0; i < pc->nr_devices; i++) {
		ret = pc->devices[i].ops->load(pc->devices[i].opaque, &r);
		if (ret) {
			snprintf(err, errlen,
				 "saved state does not fit this machine: "
				 "device %s: %s",
				 pc->devices[i].ops->name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int pc_load_cpu(struct pc *pc, const struct statefile *sf, char *err,
		       size_t errlen)
{
	const struct statefile_section *s = statefile_find(sf, "cpu");
	struct pc_cpu_reader r;
	struct x86_state st;

	if (!s) {
		snprintf(err, errlen, "saved state has no cpu section");
		return -EINVAL;
	}
	pc->engine->get_state(pc->vcpu, &st);
	r = (struct pc_cpu_reader){s->data, s->len, 0};
	if (pc_get_cpu(&r, &st)) {
		snprintf(err, errlen, "saved state: malformed cpu section");
		return -EINVAL;
	}
	pc->engine->set_state(pc->vcpu, &st);
	return 0;
}

int pc_load_state(struct pc *pc, const char *path, char *err, size_t errlen)
{
	const struct statefile_section *m, *ram;
	struct statefile sf;
	int ret = statefile_read(&sf, path, err, errlen);

	if (ret)
		return ret;
	m = statefile_find(&sf, "machine");
	ram = statefile_find(&sf, "ram");
	if (!m || !ram) {
		snprintf(err, errlen, "%s: saved state lacks %s", path,
			 m ? "ram" : "machine");
		statefile_free(&sf);
		return -EINVAL;
	}
	ret = pc_get_machine(pc, m, err, errlen);
	ret = ret ?: pc_load_devices(pc, &sf, err, errlen);
	ret = ret ?: pc_load_cpu(pc, &sf, err, errlen);
	if (!ret && pc_load_ram(pc, ram)) {
		snprintf(err, errlen, "%s: saved RAM is corrupted", path);
		ret = -EINVAL;
	}
	statefile_free(&sf);
	if (ret)
		return ret;
	pc_ram_rewritten(pc);
	pc->engine->set_a20(pc->vcpu, pc->a20_kbc || pc->a20_port92);
	pc->engine->set_intr(pc->vcpu, lapic_pending(pc->lapic));
	return 0;
}
