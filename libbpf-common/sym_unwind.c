// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Putting back the user frames a frame-pointer walk misses.  A function that keeps no frame
 * pointer leaves rbp pointing at its caller's caller's frame, so the walk goes from the
 * function straight to its caller's caller.  Its call frame information (.eh_frame, or
 * .debug_frame) says where its return address is, relative to rsp: the innermost frames are
 * unwound from a sample of the registers and the top of the stack until they return to the
 * frame the walk found second.  x86-64 only; elsewhere the stack is left as it is.
 */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>
#include "sym_internal.h"

#define REG_RSP	    7
#define REG_RA	    16 /* the return address column: the ip */
#define MAX_HIDDEN  6		   /* frames put back between the walk's first two */
#define MAX_UNWOUND SYM_HIDDEN_MAX /* frames unwound where the walk found only the first */

#if defined(__x86_64__)
#define UNWIND_SUPPORTED true
#else
#define UNWIND_SUPPORTED false
#endif

struct unwind_regs {
	uint64_t value[SYM_USER_REGS];
	uint32_t known; /* a bit per register */
};

static bool read_word(const struct sym_user_sample *sample, uint64_t addr, uint64_t *out)
{
	uint64_t sp = sample->regs[REG_RSP];

	if (addr < sp || addr - sp > sample->len || sample->len - (addr - sp) < sizeof(*out))
		return false;
	memcpy(out, (const char *)sample->stack + (addr - sp), sizeof(*out));
	return true;
}

static bool register_value(const struct unwind_regs *r, unsigned int regno, uint64_t *out)
{
	if (regno >= SYM_USER_REGS || !(r->known & (1u << regno)))
		return false;
	*out = r->value[regno];
	return true;
}

/* The canonical frame address: the frame's rule is "register + offset" */
static bool frame_cfa(Dwarf_Frame *frame, const struct unwind_regs *r, uint64_t *cfa)
{
	Dwarf_Op *ops;
	size_t nops;
	uint64_t base;

	if (dwarf_frame_cfa(frame, &ops, &nops) || nops != 1)
		return false;
	if (ops[0].atom == DW_OP_bregx) {
		if (!register_value(r, ops[0].number, &base))
			return false;
		*cfa = base + ops[0].number2;
		return true;
	}
	if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		if (!register_value(r, ops[0].atom - DW_OP_breg0, &base))
			return false;
		*cfa = base + ops[0].number;
		return true;
	}
	return false; /* an expression (PLT entries): not followed */
}

/* A register of the caller, by the frame's rule for it (the forms dwarf_frame_register gives:
 * saved at CFA + n, CFA + n itself, another register, unchanged, undefined) */
static bool caller_register(Dwarf_Frame *frame, unsigned int regno, uint64_t cfa,
			    const struct unwind_regs *r, const struct sym_user_sample *sample,
			    uint64_t *out)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	bool value;
	uint64_t addr;

	if (dwarf_frame_register(frame, regno, mem, &ops, &nops))
		return false;
	if (nops == 0)
		return ops == NULL && register_value(r, regno, out); /* same value, or undefined */
	value = ops[nops - 1].atom == DW_OP_stack_value;
	nops -= value;
	if (ops[0].atom == DW_OP_call_frame_cfa && nops <= 2) {
		addr = cfa;
		if (nops == 2) {
			if (ops[1].atom != DW_OP_plus_uconst)
				return false;
			addr += ops[1].number;
		}
		if (value) {
			*out = addr;
			return true;
		}
		return read_word(sample, addr, out);
	}
	if (ops[0].atom == DW_OP_regx && nops == 1 && !value)
		return register_value(r, ops[0].number, out);
	return false;
}

/* One frame up: the caller's registers, from the frame of pc (a return address if not the
 * innermost frame) */
static bool unwind_step(const struct sym_process *p, bool innermost, struct unwind_regs *r,
			const struct sym_user_sample *sample)
{
	uint64_t pc = r->value[REG_RA], lookup = innermost ? pc : pc - 1, cfa, v;
	const struct sym_map *map = sym_process_map(p, lookup);
	struct unwind_regs caller = { 0 };
	Dwarf_Frame *frame;

	if (!map || !map->file)
		return false;
	frame = sym_file_cfi_frame(map->file, lookup - map->bias);
	if (!frame)
		return false;
	if (!frame_cfa(frame, r, &cfa)) {
		free(frame);
		return false;
	}
	for (unsigned int i = 0; i < SYM_USER_REGS; i++) {
		if (i != REG_RSP && caller_register(frame, i, cfa, r, sample, &v)) {
			caller.value[i] = v;
			caller.known |= 1u << i;
		}
	}
	free(frame);
	/* the caller's rsp is the CFA (the x86-64 convention) */
	caller.value[REG_RSP] = cfa;
	caller.known |= 1u << REG_RSP;
	if (!(caller.known & (1u << REG_RA)) || !caller.value[REG_RA])
		return false;
	*r = caller;
	return true;
}

/*
 * Unwinds from the sample: the return addresses, up to the frame-pointer walk's second frame
 * (second; 0 when the walk found none) or as far as the sample goes.  Returns how many, with
 * *met telling whether they reached second.
 */
static size_t unwind(struct symbolizer *s, pid_t pid, const struct sym_user_sample *sample,
		     uint64_t second, uint64_t *frames, size_t max, bool *met)
{
	struct sym_process *p = sym_process_find(s, pid);
	struct unwind_regs r = { .known = (1u << SYM_USER_REGS) - 1 };
	size_t n = 0;

	*met = false;
	if (!p)
		return 0;
	memcpy(r.value, sample->regs, sizeof(r.value));
	while (n < max && unwind_step(p, n == 0, &r, sample)) {
		if (second && r.value[REG_RA] == second) {
			*met = true;
			break;
		}
		frames[n++] = r.value[REG_RA];
	}
	return n;
}

size_t symbolizer_user_stack_complete(struct symbolizer *s, pid_t pid, const uint64_t *stack,
				      size_t n, const struct sym_user_sample *sample,
				      uint64_t *out, size_t max)
{
	uint64_t unwound[MAX_UNWOUND];
	size_t nunwound = 0, w = 0;
	bool met = false;

	if (UNWIND_SUPPORTED && n && sample && sample->regs[REG_RA] == stack[0]) {
		/* past the innermost frame the walk found nothing: the sample is all there is */
		nunwound = unwind(s, pid, sample, n > 1 ? stack[1] : 0, unwound,
				  n > 1 ? MAX_HIDDEN : MAX_UNWOUND, &met);
		if (n > 1 && !met)
			nunwound = 0; /* the two disagree: the stack as the walk found it */
	}
	for (size_t i = 0; i < n && w < max; i++) {
		out[w++] = stack[i];
		for (size_t j = 0; i == 0 && j < nunwound && w < max; j++)
			out[w++] = unwound[j];
	}
	return w;
}
