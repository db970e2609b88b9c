// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One file's symbol table, sorted once, so that a name for an address is a binary search
 * (libdwfl's dwfl_module_addrinfo() reads every symbol for every address).
 *
 * The symbols are libdwfl's: the .symtab, else the .dynsym, and MiniDebugInfo's
 * (.gnu_debugdata).  The choice follows eu-addr2line's: a symbol whose size covers the address,
 * global before weak before local at the same start; an assembly label without a size only
 * where no sized symbol covers the address.  Memory: 40 bytes per symbol.
 */
#include <stdlib.h>
#include "sym_internal.h"
#include "util.h"

struct sym_symbol {
	uint64_t start;
	uint64_t size;
	const char *name; /* libdwfl's until demangled */
	uint32_t index;	  /* in the table: of equals, libdwfl takes the first */
	uint8_t rank;	  /* 3 global, 2 weak, 1 local */
	bool demangled;
};

struct sym_symtab {
	struct sym_file *file;
	struct sym_symbol *syms; /* sorted by start, the preferred first among equal starts */
	size_t nsyms;
	uint64_t *reach; /* reach[i]: the highest end of the sized symbols up to i */
};

static uint8_t rank(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	case STB_LOCAL:
		return 1;
	default:
		return 0;
	}
}

static bool names_code(const GElf_Sym *sym, const char *name)
{
	int type = GELF_ST_TYPE(sym->st_info);

	return name && name[0] && sym->st_shndx != SHN_UNDEF && type != STT_SECTION &&
	       type != STT_FILE && type != STT_TLS;
}

static int compare_symbols(const void *a, const void *b)
{
	const struct sym_symbol *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* sized before sizeless, then by binding, then the smaller */
	if (!x->size != !y->size)
		return x->size ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

struct sym_symtab *sym_symtab_new(struct sym_file *file, Dwfl_Module *mod)
{
	struct sym_symtab *t = calloc(1, sizeof(*t));
	int n = dwfl_module_getsymtab(mod);
	uint64_t reach = 0;

	if (!t)
		return NULL;
	t->file = file;
	if (n > 0) {
		t->syms = calloc(n, sizeof(*t->syms));
		t->reach = calloc(n, sizeof(*t->reach));
	}
	if (n > 0 && (!t->syms || !t->reach)) {
		sym_symtab_free(t);
		return NULL;
	}
	for (int i = 1; i < n; i++) {
		GElf_Addr value;
		GElf_Sym sym;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL, NULL);

		if (names_code(&sym, name))
			t->syms[t->nsyms++] = (struct sym_symbol){
				.start = value, .size = sym.st_size, .name = name, .index = i,
				.rank = rank(&sym)
			};
	}
	if (t->nsyms)
		qsort(t->syms, t->nsyms, sizeof(*t->syms), compare_symbols);
	for (size_t i = 0; i < t->nsyms; i++) {
		uint64_t end = t->syms[i].start + t->syms[i].size;

		reach = end > reach ? end : reach;
		t->reach[i] = reach;
	}
	return t;
}

void sym_symtab_free(struct sym_symtab *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->reach);
	free(t);
}

static const char *name_of(struct sym_symtab *t, struct sym_symbol *s, uint64_t *start)
{
	if (!s->demangled) {
		s->name = sym_file_function_name(t->file, s->name);
		s->demangled = true;
	}
	*start = s->start;
	return s->name;
}

const char *sym_symtab_lookup(struct sym_symtab *t, uint64_t addr, uint64_t *start)
{
	size_t n = COUNT_AT_OR_BELOW(t->syms, t->nsyms, start, addr), last;
	struct sym_symbol *best = NULL;

	if (!n)
		return NULL;
	last = n - 1;
	/* the sized symbols covering addr: the nearest start, global over local as libdwfl
	 * chooses, the first of equal starts (the array's order prefers it) */
	for (size_t i = last + 1; i-- > 0 && t->reach[i] > addr;) {
		struct sym_symbol *s = &t->syms[i];

		if (best && best->rank > 1 && s->start != best->start)
			break;
		if (!s->size || addr - s->start >= s->size)
			continue;
		if (!best || s->start == best->start || (best->rank == 1 && s->rank > 1))
			best = s;
	}
	if (best)
		return name_of(t, best, start);
	/* else an assembly label: the nearest one at or below addr that no sized symbol
	 * below addr reaches past */
	for (size_t i = last + 1; i-- > 0 && t->syms[i].start >= t->reach[last];) {
		if (!t->syms[i].size)
			return name_of(t, &t->syms[i], start);
	}
	return NULL;
}
