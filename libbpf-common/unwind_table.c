// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Compiling call frame information into unwind rows.  libdw interprets the CFI: for an address
 * it gives the frame state and the range of addresses over which that state holds, so walking
 * each function from its start, range by range, yields its rows.  The functions come from
 * .eh_frame_hdr's sorted index, which the linker writes for every binary with .eh_frame.
 *
 * Only the rules an x86-64 unwinder needs are kept: how to find the CFA from rsp or rbp, where
 * rbp is saved, and whether there is a caller at all.  The return address is at CFA - 8.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdw.h>
#include "unwind_table.h"
#include "util.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA	16

/* .eh_frame_hdr's pointer encodings (DW_EH_PE_*), those linkers write */
#define PE_UDATA4  0x03
#define PE_SDATA4  0x0b
#define PE_PCREL   0x10
#define PE_DATAREL 0x30

struct fde_index {
	const unsigned char *table; /* pairs of (initial location, FDE address), datarel sdata4 */
	size_t count;
	__u64 base; /* the virtual address of .eh_frame_hdr */
};

static __s32 read_s32(const unsigned char *p)
{
	__s32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int find_index(Elf *elf, struct fde_index *ix)
{
	size_t nph;
	GElf_Phdr ph;
	Elf_Data *d;
	const unsigned char *h;

	if (elf_getphdrnum(elf, &nph))
		return -ENOEXEC;
	for (size_t i = 0; i < nph; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_GNU_EH_FRAME)
			continue;
		if (ph.p_filesz < 12)
			break; /* the section was stripped, its program header left */
		d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		if (!d || d->d_size < 12)
			return -ENOEXEC;
		h = d->d_buf;
		/* version 1; the .eh_frame pointer pcrel sdata4, count udata4, table datarel
		 * sdata4: what GNU ld, gold, lld and mold write */
		if (h[0] != 1 || h[1] != (PE_PCREL | PE_SDATA4) || h[2] != PE_UDATA4 ||
		    h[3] != (PE_DATAREL | PE_SDATA4))
			return -ENOTSUP;
		ix->count = (__u32)read_s32(h + 8);
		if (ix->count > (d->d_size - 12) / 8)
			return -ENOEXEC;
		ix->table = h + 12;
		ix->base = ph.p_vaddr;
		return 0;
	}
	ix->count = 0;
	return 0;
}

static int push(struct unwind_table *t, const struct unwind_row *r)
{
	if (t->count && t->rows[t->count - 1].pc == r->pc) {
		t->rows[t->count - 1] = *r; /* an empty range before it */
		return 0;
	}
	if (t->count && !memcmp(&t->rows[t->count - 1].cfa_offset, &r->cfa_offset,
				sizeof(*r) - sizeof(r->pc)))
		return 0; /* the same rule goes on */
	if (t->count == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct unwind_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		t->rows = rows;
		t->cap = cap;
	}
	t->rows[t->count++] = *r;
	return 0;
}

static bool is_breg(const Dwarf_Op *op, unsigned int reg)
{
	return op->atom == DW_OP_breg0 + reg || (op->atom == DW_OP_bregx && op->number == reg);
}

static __s64 breg_offset(const Dwarf_Op *op)
{
	return op->atom == DW_OP_bregx ? (__s64)op->number2 : (__s64)op->number;
}

/* gcc's and the linkers' PLT rule: rsp + 8, + 8 after the entry's push (ip & 15 >= n) */
static bool is_plt_rule(const Dwarf_Op *ops, size_t n, __s16 *threshold)
{
	if (n != 9 || !is_breg(&ops[0], REG_RSP) || breg_offset(&ops[0]) != 8 ||
	    !is_breg(&ops[1], REG_RA) || ops[2].atom != DW_OP_lit15 || ops[3].atom != DW_OP_and ||
	    ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit31 || ops[5].atom != DW_OP_ge ||
	    ops[6].atom != DW_OP_lit3 || ops[7].atom != DW_OP_shl || ops[8].atom != DW_OP_plus)
		return false;
	*threshold = ops[4].atom - DW_OP_lit0;
	return true;
}

static void cfa_rule(Dwarf_Frame *frame, struct unwind_row *r)
{
	Dwarf_Op *ops;
	size_t n;
	__s64 off;

	r->rule = UNWIND_UNSUPPORTED;
	if (dwarf_frame_cfa(frame, &ops, &n) || n == 0)
		return;
	if (is_plt_rule(ops, n, &r->cfa_offset)) {
		r->rule = UNWIND_CFA_PLT;
		return;
	}
	off = breg_offset(&ops[0]);
	if (off != (__s16)off)
		return;
	r->cfa_offset = off;
	if (n == 1 && is_breg(&ops[0], REG_RSP))
		r->rule = UNWIND_CFA_SP;
	else if (n == 1 && is_breg(&ops[0], REG_RBP))
		r->rule = UNWIND_CFA_BP;
	else if (n == 2 && is_breg(&ops[0], REG_RBP) && ops[1].atom == DW_OP_deref)
		r->rule = UNWIND_CFA_DEREF_BP;
}

/* Where a register of the caller is: 1 saved at CFA + *offset, 0 unchanged, -1 otherwise
 * (undefined, or a rule not followed) */
static int saved_at(Dwarf_Frame *frame, int reg, __s64 *offset)
{
	Dwarf_Op mem[3], *ops;
	size_t n;

	if (dwarf_frame_register(frame, reg, mem, &ops, &n))
		return -1;
	if (n == 0)
		return ops == NULL ? 0 : -1;
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -1;
	if (n == 1) {
		*offset = 0;
		return 1;
	}
	if (n == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*offset = ops[1].number;
		return 1;
	}
	if (n == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus) {
		*offset = (__s64)ops[1].number;
		return 1;
	}
	return -1;
}

/* The return address held in a register, where the CFA is rsp-based: glibc's vfork pops it into
 * rdi around the syscall */
static void ra_in_register(Dwarf_Frame *frame, struct unwind_row *r)
{
	Dwarf_Op mem[3], *ops;
	size_t n;
	__s64 off;

	r->rule = UNWIND_UNSUPPORTED;
	if (dwarf_frame_register(frame, REG_RA, mem, &ops, &n) || n != 1 ||
	    ops[0].atom != DW_OP_regx || ops[0].number > REG_RA || saved_at(frame, REG_RBP, &off))
		return;
	cfa_rule(frame, r);
	if (r->rule != UNWIND_CFA_SP)
		return;
	r->rule = UNWIND_RA_IN_REG;
	r->bp_offset = ops[0].number;
}

static void row_from_frame(Dwarf_Frame *frame, bool signal, struct unwind_row *r)
{
	Dwarf_Op mem[3], *ops;
	size_t n;
	__s64 off;
	int bp;

	memset(r, 0, sizeof(*r));
	if (signal) {
		r->rule = UNWIND_SIGNAL;
		return;
	}
	if (!dwarf_frame_register(frame, REG_RA, mem, &ops, &n) && n == 0 && ops == mem) {
		r->rule = UNWIND_ROOT;
		return;
	}
	if (saved_at(frame, REG_RA, &off) != 1 || off != -8) {
		ra_in_register(frame, r);
		return;
	}
	cfa_rule(frame, r);
	bp = saved_at(frame, REG_RBP, &off);
	if (bp == 1 && off < 0 && off % 8 == 0 && off / 8 > UNWIND_BP_UNDEFINED)
		r->bp_offset = off / 8;
	else
		r->bp_offset = bp == 0 ? UNWIND_BP_SAME : UNWIND_BP_UNDEFINED;
}

/* The rows of the function that starts at pc, up to limit at most */
static int function_rows(Dwarf_CFI *cfi, __u64 pc, __u64 limit, struct unwind_table *t)
{
	struct unwind_row r;
	Dwarf_Addr start, end;
	bool signal;
	int err;

	while (pc < limit) {
		Dwarf_Frame *frame;

		if (dwarf_cfi_addrframe(cfi, pc, &frame))
			break;
		err = dwarf_frame_info(frame, &start, &end, &signal) < 0 ? -EINVAL : 0;
		if (!err) {
			row_from_frame(frame, signal, &r);
			r.pc = pc;
		}
		free(frame);
		if (err || end <= pc || pc != (__u32)pc)
			return -EINVAL;
		err = push(t, &r);
		if (err)
			return err;
		pc = end;
	}
	/* where the function ends, no information, unless the next begins there */
	r = (struct unwind_row){ .pc = pc, .rule = UNWIND_NONE };
	return pc == (__u32)pc ? push(t, &r) : -EINVAL;
}

int unwind_table_build(Elf *elf, struct unwind_table *t)
{
	struct fde_index ix;
	Dwarf_CFI *cfi;
	int err;

	memset(t, 0, sizeof(*t));
	err = find_index(elf, &ix);
	if (err || !ix.count)
		return err;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi)
		return 0;
	for (size_t i = 0; i < ix.count && !err; i++) {
		__u64 pc = ix.base + read_s32(ix.table + 8 * i);
		__u64 next = i + 1 < ix.count ? ix.base + read_s32(ix.table + 8 * (i + 1)) :
						UINT32_MAX;

		err = function_rows(cfi, pc, next, t);
	}
	dwarf_cfi_end(cfi);
	if (err)
		unwind_table_free(t);
	return err;
}

void unwind_table_free(struct unwind_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

const struct unwind_row *unwind_table_find(const struct unwind_table *t, __u32 pc)
{
	/* the last row at or below pc */
	size_t n = COUNT_AT_OR_BELOW(t->rows, t->count, pc, pc);

	return n ? &t->rows[n - 1] : NULL;
}
