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

/* CPU: every field of x86_state under a stable name. */

#define CPU_FIELD(fl, s, f) fieldlist_put(fl, #f, (u64)(s)->f)

static void pc_put_seg(struct fieldlist *fl, const char *name,
		       const struct x86_segment *sg)
{
	char n[48];

	snprintf(n, sizeof(n), "%s.selector", name);
	fieldlist_put(fl, n, sg->selector);
	snprintf(n, sizeof(n), "%s.base", name);
	fieldlist_put(fl, n, sg->base);
	snprintf(n, sizeof(n), "%s.limit", name);
	fieldlist_put(fl, n, sg->limit);
	snprintf(n, sizeof(n), "%s.attr", name);
	fieldlist_put(fl, n, sg->attr);
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

static void pc_put_fpu(struct fieldlist *fl, const struct x86_fpu_state *f)
{
	char n[16];
	unsigned i;

	CPU_FIELD(fl, f, fcw);
	CPU_FIELD(fl, f, fsw);
	CPU_FIELD(fl, f, ftw);
	CPU_FIELD(fl, f, fop);
	CPU_FIELD(fl, f, fip);
	CPU_FIELD(fl, f, fcs);
	CPU_FIELD(fl, f, fdp);
	CPU_FIELD(fl, f, fds);
	CPU_FIELD(fl, f, mxcsr);
	fieldlist_put_bytes(fl, "st", f->st, sizeof(f->st));
	/* One field per register: a field holds at most 255 bytes. */
	for (i = 0; i < ARRAY_SIZE(f->xmm); i++) {
		snprintf(n, sizeof(n), "xmm.%u", i);
		fieldlist_put_bytes(fl, n, f->xmm[i], sizeof(f->xmm[i]));
	}
}

static void pc_put_cpu(struct fieldlist *fl, const struct x86_state *s)
{
	static const char *const segs[] = {"es", "cs", "ss", "ds", "fs", "gs"};
	u64 v[16];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(s->gpr); i++)
		v[i] = s->gpr[i];
	pc_put_array(fl, "gpr", v, ARRAY_SIZE(s->gpr));
	CPU_FIELD(fl, s, rip);
	CPU_FIELD(fl, s, eflags);
	for (i = 0; i < 6; i++)
		pc_put_seg(fl, segs[i], &s->seg[i]);
	pc_put_seg(fl, "ldtr", &s->ldtr);
	pc_put_seg(fl, "tr", &s->tr);
	fieldlist_put(fl, "gdtr.base", s->gdtr.base);
	fieldlist_put(fl, "gdtr.limit", s->gdtr.limit);
	fieldlist_put(fl, "idtr.base", s->idtr.base);
	fieldlist_put(fl, "idtr.limit", s->idtr.limit);
	CPU_FIELD(fl, s, cr0);
	CPU_FIELD(fl, s, cr2);
	CPU_FIELD(fl, s, cr3);
	CPU_FIELD(fl, s, cr4);
	CPU_FIELD(fl, s, cr8);
	for (i = 0; i < ARRAY_SIZE(s->dr); i++)
		v[i] = s->dr[i];
	pc_put_array(fl, "dr", v, ARRAY_SIZE(s->dr));
	CPU_FIELD(fl, s, efer);
	/* The soft engine keeps an offset from host time: store the value. */
	fieldlist_put(fl, "tsc", s->tsc + clock_guest_ns());
	CPU_FIELD(fl, s, sysenter_cs);
	CPU_FIELD(fl, s, sysenter_esp);
	CPU_FIELD(fl, s, sysenter_eip);
	CPU_FIELD(fl, s, star);
	CPU_FIELD(fl, s, lstar);
	CPU_FIELD(fl, s, cstar);
	CPU_FIELD(fl, s, sfmask);
	CPU_FIELD(fl, s, kernel_gs_base);
	CPU_FIELD(fl, s, tsc_aux);
	CPU_FIELD(fl, s, apic_base);
	CPU_FIELD(fl, s, pat);
	CPU_FIELD(fl, s, mtrr_def_type);
	pc_put_array(fl, "mtrr_fixed", s->mtrr_fixed,
		     ARRAY_SIZE(s->mtrr_fixed));
	pc_put_array(fl, "mtrr_var", s->mtrr_var, ARRAY_SIZE(s->mtrr_var));
	CPU_FIELD(fl, s, halted);
	CPU_FIELD(fl, s, nmi_pending);
	CPU_FIELD(fl, s, nmi_blocked);
	CPU_FIELD(fl, s, a20_masked);
	pc_put_fpu(fl, &s->fpu);
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

#define CPU_GET(r, s, f)                                                       \
	do {                                                                   \
		u64 v_;                                                        \
		if (pc_get(r, #f, &v_))                                        \
			(s)->f = (__typeof__((s)->f))v_;                       \
	} while (0)

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

	snprintf(n, sizeof(n), "%s.selector", name);
	CPU_GET_NAMED(r, n, sg->selector);
	snprintf(n, sizeof(n), "%s.base", name);
	CPU_GET_NAMED(r, n, sg->base);
	snprintf(n, sizeof(n), "%s.limit", name);
	CPU_GET_NAMED(r, n, sg->limit);
	snprintf(n, sizeof(n), "%s.attr", name);
	CPU_GET_NAMED(r, n, sg->attr);
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

static void pc_get_fpu(struct pc_cpu_reader *r, struct x86_fpu_state *f)
{
	char n[16];
	unsigned i;

	CPU_GET(r, f, fcw);
	CPU_GET(r, f, fsw);
	CPU_GET(r, f, ftw);
	CPU_GET(r, f, fop);
	CPU_GET(r, f, fip);
	CPU_GET(r, f, fcs);
	CPU_GET(r, f, fdp);
	CPU_GET(r, f, fds);
	CPU_GET(r, f, mxcsr);
	if (fieldlist_get_bytes(r->buf, r->len, "st", f->st, sizeof(f->st)) ==
	    -EINVAL)
		r->error = -EINVAL;
	for (i = 0; i < ARRAY_SIZE(f->xmm); i++) {
		snprintf(n, sizeof(n), "xmm.%u", i);
		if (fieldlist_get_bytes(r->buf, r->len, n, f->xmm[i],
					sizeof(f->xmm[i])) == -EINVAL)
			r->error = -EINVAL;
	}
}

static int pc_get_cpu(struct pc_cpu_reader *r, struct x86_state *s)
{
	static const char *const segs[] = {"es", "cs", "ss", "ds", "fs", "gs"};
	unsigned i;
	u64 tsc;

	CPU_GET_ARRAY(r, "gpr", s->gpr);
	CPU_GET(r, s, rip);
	CPU_GET(r, s, eflags);
	for (i = 0; i < 6; i++)
		pc_get_seg(r, segs[i], &s->seg[i]);
	pc_get_seg(r, "ldtr", &s->ldtr);
	pc_get_seg(r, "tr", &s->tr);
	CPU_GET_NAMED(r, "gdtr.base", s->gdtr.base);
	CPU_GET_NAMED(r, "gdtr.limit", s->gdtr.limit);
	CPU_GET_NAMED(r, "idtr.base", s->idtr.base);
	CPU_GET_NAMED(r, "idtr.limit", s->idtr.limit);
	CPU_GET(r, s, cr0);
	CPU_GET(r, s, cr2);
	CPU_GET(r, s, cr3);
	CPU_GET(r, s, cr4);
	CPU_GET(r, s, cr8);
	CPU_GET_ARRAY(r, "dr", s->dr);
	CPU_GET(r, s, efer);
	if (pc_get(r, "tsc", &tsc))
		s->tsc = tsc - clock_guest_ns();
	CPU_GET(r, s, sysenter_cs);
	CPU_GET(r, s, sysenter_esp);
	CPU_GET(r, s, sysenter_eip);
	CPU_GET(r, s, star);
	CPU_GET(r, s, lstar);
	CPU_GET(r, s, cstar);
	CPU_GET(r, s, sfmask);
	CPU_GET(r, s, kernel_gs_base);
	CPU_GET(r, s, tsc_aux);
	CPU_GET(r, s, apic_base);
	CPU_GET(r, s, pat);
	CPU_GET(r, s, mtrr_def_type);
	CPU_GET_ARRAY(r, "mtrr_fixed", s->mtrr_fixed);
	CPU_GET_ARRAY(r, "mtrr_var", s->mtrr_var);
	CPU_GET(r, s, halted);
	CPU_GET(r, s, nmi_pending);
	CPU_GET(r, s, nmi_blocked);
	CPU_GET(r, s, a20_masked);
	pc_get_fpu(r, &s->fpu);
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
