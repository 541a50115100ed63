/* SPDX-License-Identifier: MIT */
/*
 * Reader for "MOO" files, the chunked binary format of the SingleStepTests
 * CPU test suites (shared/specs/CPU-TESTS.md, and the MOO format
 * specification v1.1 by its authors).
 *
 * A file is a sequence of chunks: 4-byte ASCII type, u32 payload length,
 * payload, all little-endian. The header chunk "MOO " comes first; then
 * one "TEST" chunk per test, whose payload (after a u32 index) holds
 * sub-chunks NAME, BYTS, INIT, FINA, EXCP, HASH. Unknown chunks are skipped
 * by their length at every level.
 *
 * The whole (gzip-compressed or plain) file is read into memory once; every
 * length in it is checked against the bytes that remain before it is used,
 * so a truncated or hostile file yields an error message, never an
 * out-of-bounds access. The reader does not depend on any CPU engine.
 */
#ifndef TWOOSTWO_CPUTEST_MOO_H
#define TWOOSTWO_CPUTEST_MOO_H

#include <stddef.h>

#include "core/types.h"

/* Register order of REGS and RMSK chunks (bit n of their mask). */
enum moo_reg {
	MOO_AX,
	MOO_BX,
	MOO_CX,
	MOO_DX,
	MOO_CS,
	MOO_SS,
	MOO_DS,
	MOO_ES,
	MOO_SP,
	MOO_BP,
	MOO_SI,
	MOO_DI,
	MOO_IP,
	MOO_FLAGS,
	MOO_NR_REGS,
};

#define MOO_ALL_REGS ((u16)((1u << MOO_NR_REGS) - 1))
#define MOO_HASH_LEN 20
#define MOO_NAME_MAX 128
#define MOO_ERR_MAX 160

/* A REGS or RMSK chunk: which registers it holds, and their values. */
struct moo_regs {
	u16 present; /* bit n: val[n] is valid (enum moo_reg) */
	u16 val[MOO_NR_REGS];
};

/* An INIT or FINA chunk. RAM entries stay in the file buffer. */
struct moo_state {
	struct moo_regs regs;
	struct moo_regs rmsk; /* per-test masks of undefined bits */
	/* ram_count entries of {u32 address, u8 value} */
	const u8 *ram;
	u32 ram_count;
};

struct moo_test {
	u32 number;		 /* position in the file, from 0 */
	u32 index;		 /* the index field (0 in every 8086 test) */
	char name[MOO_NAME_MAX]; /* printable ASCII only, NUL-terminated */
	const u8 *bytes;	 /* the instruction bytes */
	u32 nr_bytes;
	struct moo_state init, fina;
	bool has_excp;
	u8 excp_vector;
	u32 excp_flags_addr; /* where the exception pushed FLAGS */
	bool has_hash;
	u8 hash[MOO_HASH_LEN];
};

struct moo_file {
	u8 *data; /* the whole decompressed file */
	size_t len;
	size_t pos; /* offset of the next top-level chunk */
	u8 major, minor;
	u32 declared_tests; /* test count in the header */
	u32 tests_read;
	char cpu[5];	      /* CPU id from the header, NUL-terminated */
	struct moo_regs rmsk; /* top-level RMSK: masks for every test */
	char err[MOO_ERR_MAX];
};

/* Files larger than this (decompressed) are refused. */
#define MOO_MAX_FILE_SIZE (512u << 20)

/*
 * Open a MOO file, gzip-compressed or not, and parse its header.
 * Returns 0, or a negative errno with a message in f->err.
 */
int moo_open(struct moo_file *f, const char *path);
/* The same from bytes in memory (copied). */
int moo_open_buffer(struct moo_file *f, const void *buf, size_t len);
/*
 * Parse the next test into *t. Returns 1 for a test, 0 at the end of the
 * file, or a negative errno with a message in f->err. Pointers in *t stay
 * valid until moo_close().
 */
int moo_next(struct moo_file *f, struct moo_test *t);
void moo_close(struct moo_file *f);

/* RAM entry i (< s->ram_count) of an INIT or FINA state. */
static inline void moo_ram_entry(const struct moo_state *s, u32 i, u32 *addr,
				 u8 *value)
{
	const u8 *e = s->ram + (size_t)i * 5;

	*addr = get_le32(e);
	*value = e[4];
}

/* "ax", "bx", ... "flags". */
const char *moo_reg_name(enum moo_reg reg);

#endif
