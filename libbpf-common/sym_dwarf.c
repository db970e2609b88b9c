// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One file's DWARF as an index, so that an address costs a few binary searches however large
 * the file and however many addresses are asked.
 *
 * When the file's DWARF is first needed, only the compilation units' address ranges are read
 * (one DIE each).  When an address first falls in a unit, that unit's DIE tree is walked once:
 * every function and every inlined call becomes a scope (its DIE, the scope around it), and
 * their address ranges are flattened into disjoint segments, each naming its innermost scope.
 * An address is then found in three binary searches (the unit, the segment, the line table,
 * which libdw decodes once per unit), and its inline chain is the list of the scope's parents.
 * Names, call sites and source paths are read from the DIEs when first asked, and kept.
 *
 * Memory: per unit walked, 16 bytes per segment and 48 per scope (about 100 bytes per
 * function) and 16 per line-table row, plus what libdw keeps of it (its own line table, its
 * abbreviations).
 */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>
#include "sym_internal.h"
#include "util.h"

#define SCOPE_NONE UINT32_MAX

struct sym_scope {
	Dwarf_Off die;
	uint32_t parent; /* the scope an inlined call sits in; SCOPE_NONE for a function */
	bool inlined;
	bool read;	       /* the fields below are read from the DIE */
	const char *name;      /* demangled, NULL if the DIE has none */
	const char *call_file; /* inlined: where the call is */
	unsigned int call_line, call_column;
	uint64_t entry; /* a function: its DW_AT_low_pc, 0 if none */
};

/* [start, next segment's start): innermost scope, or SCOPE_NONE */
struct scope_segment {
	uint64_t start;
	uint32_t scope;
};

/* A row of a unit's line table: from addr to the next row's */
struct sym_line {
	uint64_t addr;
	uint32_t line; /* 0: none (the end of a sequence) */
	uint16_t column;
	uint16_t file; /* index in the unit's file table; LINE_FILE_NONE if beyond */
};

#define LINE_FILE_NONE UINT16_MAX

struct sym_cu {
	Dwarf_Die die;
	bool walked;
	bool files_read;
	bool lines_read;
	struct sym_line *lines; /* libdw's order: by address */
	size_t nlines;
	struct sym_scope *scopes;
	size_t nscopes;
	struct scope_segment *segs;
	size_t nsegs;
	Dwarf_Files *files;
	size_t nfiles;
	const char **paths; /* by file index, joined to the compilation directory when read */
};

/* Where a unit's code begins (it ends where the next range begins: see find_unit()) */
struct sym_cu_range {
	uint64_t low;
	struct sym_cu *cu;
};

struct sym_dwarf {
	struct sym_file *file;
	Dwarf *dw;
	Dwarf_Addr bias;
	struct sym_cu *cus;
	size_t ncus;
	struct sym_cu_range *ranges; /* sorted by low */
	size_t nranges;
};

/* Room for one more of n elements in array (*cap of them): the array, moved if it had to grow
 * (*cap updated), or NULL without memory, the array then as it was */
static void *grow(void *array, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap * 2 : 64;
	void *bigger;

	if (n < *cap)
		return array;
	bigger = realloc(array, want * size);
	if (bigger)
		*cap = want;
	return bigger;
}

static int compare_cu_ranges(const void *a, const void *b)
{
	const struct sym_cu_range *x = a, *y = b;

	return x->low < y->low ? -1 : x->low > y->low;
}

/* Every unit with code, and its address ranges (from its DIE: DW_AT_ranges or low/high) */
static int read_units(struct sym_dwarf *d)
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Die cudie, subdie;
	size_t cap = 0, rcap = 0;
	uint8_t unit_type;
	Dwarf_Half version;

	while (dwarf_get_units(d->dw, cu, &next, &version, &unit_type, &cudie, &subdie) == 0) {
		Dwarf_Addr base, start, end;
		ptrdiff_t off = 0;
		struct sym_cu *grown;

		cu = next;
		if (unit_type != DW_UT_compile && unit_type != DW_UT_skeleton)
			continue;
		grown = grow(d->cus, &cap, d->ncus, sizeof(*d->cus));
		if (!grown)
			return -1;
		d->cus = grown;
		d->cus[d->ncus] = (struct sym_cu){ .die = cudie };
		while ((off = dwarf_ranges(&cudie, off, &base, &start, &end)) > 0) {
			struct sym_cu_range *r = grow(d->ranges, &rcap, d->nranges, sizeof(*r));

			if (!r)
				return -1;
			d->ranges = r;
			/* the unit by its index until the array of units stops moving */
			if (start < end)
				r[d->nranges++] = (struct sym_cu_range){
					start, (struct sym_cu *)(uintptr_t)d->ncus
				};
		}
		d->ncus++;
	}
	for (size_t i = 0; i < d->nranges; i++)
		d->ranges[i].cu = &d->cus[(uintptr_t)d->ranges[i].cu];
	if (d->nranges)
		qsort(d->ranges, d->nranges, sizeof(*d->ranges), compare_cu_ranges);
	return 0;
}

struct sym_dwarf *sym_dwarf_new(struct sym_file *file, Dwarf *dw, Dwarf_Addr bias)
{
	struct sym_dwarf *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->file = file;
	d->dw = dw;
	d->bias = bias;
	if (read_units(d)) {
		sym_dwarf_free(d);
		return NULL;
	}
	return d;
}

void sym_dwarf_free(struct sym_dwarf *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ncus; i++) {
		free(d->cus[i].scopes);
		free(d->cus[i].segs);
		free(d->cus[i].paths);
		free(d->cus[i].lines);
	}
	free(d->cus);
	free(d->ranges);
	free(d);
}

/* ---- walking a unit ------------------------------------------------------------------- */

struct range {
	uint64_t low, high;
	uint32_t scope;
	uint32_t depth;
};

struct walk {
	struct sym_cu *cu;
	size_t scap;
	struct range *ranges;
	size_t nranges, rcap;
	bool failed;
};

static bool is_function_tag(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* Where functions and inlined calls can be found under a DIE */
static bool may_hold_code(int tag)
{
	switch (tag) {
	case DW_TAG_subprogram:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_entry_point:
	case DW_TAG_lexical_block:
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
	case DW_TAG_with_stmt:
		return true;
	default:
		return false;
	}
}

static uint32_t add_scope(struct walk *w, Dwarf_Die *die, int tag, uint32_t parent,
			  uint32_t depth)
{
	struct sym_cu *cu = w->cu;
	struct sym_scope *scopes;
	Dwarf_Addr base, start, end;
	uint32_t index = cu->nscopes;
	ptrdiff_t off = 0;
	bool any = false;

	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
		struct range *r;

		if (start >= end)
			continue;
		r = grow(w->ranges, &w->rcap, w->nranges, sizeof(*r));
		if (!r) {
			w->failed = true;
			return parent;
		}
		w->ranges = r;
		r[w->nranges++] = (struct range){ start, end, index, depth };
		any = true;
	}
	if (!any) /* a declaration, an abstract instance: no code of its own */
		return parent;
	scopes = grow(cu->scopes, &w->scap, cu->nscopes, sizeof(*scopes));
	if (!scopes) {
		w->failed = true;
		return parent;
	}
	cu->scopes = scopes;
	cu->scopes[cu->nscopes++] = (struct sym_scope){
		.die = dwarf_dieoffset(die),
		.parent = tag == DW_TAG_inlined_subroutine ? parent : SCOPE_NONE,
		.inlined = tag == DW_TAG_inlined_subroutine,
	};
	return index;
}

static void walk_children(struct walk *w, Dwarf_Die *die, uint32_t scope, uint32_t depth)
{
	Dwarf_Die child;

	if (dwarf_child(die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		uint32_t inner = scope;

		if (!may_hold_code(tag))
			continue;
		if (is_function_tag(tag))
			inner = add_scope(w, &child, tag, scope, depth + 1);
		if (dwarf_haschildren(&child))
			walk_children(w, &child, inner, depth + 1);
	} while (!w->failed && dwarf_siblingof(&child, &child) == 0);
}

/* In the order they go on the sweep's stack, where the last pushed wins: outer ranges first
 * where they begin together; of equal ones, the first DIE last (libdw's dwarf_getscopes()
 * finds the first, and an assembler's aliases are equal functions) */
static int compare_ranges(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->low != y->low)
		return x->low < y->low ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->high != y->high)
		return x->high > y->high ? -1 : 1;
	return x->scope > y->scope ? -1 : x->scope < y->scope;
}

static bool add_segment(struct sym_cu *cu, size_t *cap, uint64_t start, uint32_t scope)
{
	struct scope_segment *s;

	if (cu->nsegs && cu->segs[cu->nsegs - 1].start == start) {
		cu->segs[cu->nsegs - 1].scope = scope; /* empty: replaced */
	} else if (!cu->nsegs || cu->segs[cu->nsegs - 1].scope != scope) {
		s = grow(cu->segs, cap, cu->nsegs, sizeof(*s));
		if (!s)
			return false;
		cu->segs = s;
		s[cu->nsegs++] = (struct scope_segment){ start, scope };
	}
	return true;
}

/*
 * Nested ranges (a call inlined into a function, into another inlined call) into disjoint
 * segments of the innermost: a sweep in address order with the ranges open at each point on a
 * stack.  A range that overlaps the end of the one around it is cut there.
 */
static bool flatten(struct walk *w)
{
	struct sym_cu *cu = w->cu;
	struct range *stack;
	size_t depth = 0, cap = 0;
	bool ok = true;

	if (!w->nranges) /* a unit without functions (data, assembly) */
		return true;
	qsort(w->ranges, w->nranges, sizeof(*w->ranges), compare_ranges);
	stack = malloc((w->nranges + 1) * sizeof(*stack));
	if (!stack)
		return false;
	for (size_t i = 0; ok && i <= w->nranges; i++) {
		uint64_t at = i < w->nranges ? w->ranges[i].low : UINT64_MAX;

		/* close what ends before the next range begins */
		while (ok && depth && stack[depth - 1].high <= at) {
			uint64_t end = stack[--depth].high;

			ok = add_segment(cu, &cap, end, depth ? stack[depth - 1].scope : SCOPE_NONE);
		}
		if (i == w->nranges || !ok)
			break;
		stack[depth] = w->ranges[i];
		if (depth && stack[depth].high > stack[depth - 1].high)
			stack[depth].high = stack[depth - 1].high;
		ok = add_segment(cu, &cap, at, stack[depth].scope);
		depth++;
	}
	free(stack);
	return ok;
}

static bool walk_unit(struct sym_cu *cu)
{
	struct walk w = { .cu = cu };
	bool ok;

	cu->walked = true;
	walk_children(&w, &cu->die, SCOPE_NONE, 0);
	ok = !w.failed && flatten(&w);
	free(w.ranges);
	if (!ok) {
		free(cu->segs);
		cu->segs = NULL;
		cu->nsegs = 0;
	}
	return ok;
}

/* ---- lookups ---------------------------------------------------------------------------- */

/* The unit of addr (a DWARF address) */
static struct sym_cu *find_unit(struct sym_dwarf *d, uint64_t addr)
{
	size_t lo = COUNT_AT_OR_BELOW(d->ranges, d->nranges, low, addr);

	/* the last range beginning at or below addr, even if it ends before: as libdwfl, so that
	 * the padding after a function has the line its unit's line table gives it */
	return lo ? d->ranges[lo - 1].cu : NULL;
}

static uint32_t find_scope(const struct sym_cu *cu, uint64_t addr)
{
	size_t n = COUNT_AT_OR_BELOW(cu->segs, cu->nsegs, start, addr);

	return n ? cu->segs[n - 1].scope : SCOPE_NONE;
}

static void read_files(struct sym_cu *cu)
{
	if (cu->files_read)
		return;
	cu->files_read = true;
	if (dwarf_getsrcfiles(&cu->die, &cu->files, &cu->nfiles) == 0)
		cu->paths = calloc(cu->nfiles, sizeof(*cu->paths));
}

/* A file of the unit's table by index (or a name of it, if given), as eu-addr2line shows it:
 * joined to the compilation directory when relative */
static const char *unit_path(struct sym_file *f, struct sym_cu *cu, size_t index,
			     const char *name)
{
	Dwarf_Attribute attr;
	const char *dir;
	char *joined;

	read_files(cu);
	if (!name && cu->files && index < cu->nfiles)
		name = dwarf_filesrc(cu->files, index, NULL, NULL);
	if (!name || name[0] == '/')
		return name;
	if (cu->paths && index < cu->nfiles && cu->paths[index])
		return cu->paths[index];
	dir = dwarf_formstring(dwarf_attr(&cu->die, DW_AT_comp_dir, &attr));
	if (!dir || asprintf(&joined, "%s/%s", dir, name) < 0)
		return name;
	name = sym_file_keep_name(f, joined);
	if (name && cu->paths && index < cu->nfiles)
		cu->paths[index] = name;
	return name;
}

static unsigned int attr_udata(Dwarf_Die *die, unsigned int name)
{
	Dwarf_Attribute attr;
	Dwarf_Word value;

	return dwarf_formudata(dwarf_attr(die, name, &attr), &value) == 0 ? value : 0;
}

/* The linkage name when there is one, as eu-addr2line prefers it; else the plain name */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));

	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	return name ? name : dwarf_diename(die);
}

static struct sym_scope *read_scope(struct sym_dwarf *d, struct sym_cu *cu, uint32_t index)
{
	struct sym_scope *sc = &cu->scopes[index];
	Dwarf_Addr low;
	Dwarf_Die die;

	if (sc->read)
		return sc;
	sc->read = true;
	if (!dwarf_offdie(d->dw, sc->die, &die))
		return sc;
	sc->name = sym_file_function_name(d->file, die_name(&die));
	if (sc->inlined) {
		sc->call_file = unit_path(d->file, cu, attr_udata(&die, DW_AT_call_file), NULL);
		sc->call_line = attr_udata(&die, DW_AT_call_line);
		sc->call_column = attr_udata(&die, DW_AT_call_column);
	} else if (dwarf_lowpc(&die, &low) == 0) {
		sc->entry = low;
	}
	return sc;
}

/* The unit's line table, compact (libdw's rows are 40 bytes, and read through calls) */
static void read_lines(struct sym_cu *cu)
{
	Dwarf_Lines *lines;
	size_t n;

	cu->lines_read = true;
	read_files(cu);
	if (dwarf_getsrclines(&cu->die, &lines, &n) || !n ||
	    !(cu->lines = malloc(n * sizeof(*cu->lines))))
		return;
	for (size_t i = 0; i < n; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		struct sym_line *row = &cu->lines[i];
		int lineno = 0, col = 0;
		Dwarf_Files *files;
		size_t file;
		bool end = true;
		Dwarf_Addr addr = 0;

		dwarf_lineaddr(l, &addr);
		dwarf_lineendsequence(l, &end);
		dwarf_lineno(l, &lineno);
		dwarf_linecol(l, &col);
		row->addr = addr;
		row->line = end || lineno <= 0 ? 0 : lineno;
		row->column = col > 0 && col < UINT16_MAX ? col : 0;
		row->file = dwarf_line_file(l, &files, &file) == 0 && files == cu->files &&
					    file < LINE_FILE_NONE ?
				    file :
				    LINE_FILE_NONE;
	}
	cu->nlines = n;
}

/* The row in effect at addr, as libdw's dwarf_getsrc_die() finds it: the last one at or
 * below addr, unless that ends a sequence */
static void unit_line(struct sym_dwarf *d, struct sym_cu *cu, uint64_t addr,
		      struct sym_frame *frame)
{
	const struct sym_line *row;
	size_t n;

	if (!cu->lines_read)
		read_lines(cu);
	n = COUNT_AT_OR_BELOW(cu->lines, cu->nlines, addr, addr);
	if (!n || !(row = &cu->lines[n - 1])->line)
		return;
	frame->file = row->file == LINE_FILE_NONE ? NULL : unit_path(d->file, cu, row->file, NULL);
	frame->line = row->line;
	frame->column = row->column;
}

void sym_dwarf_line(struct sym_dwarf *d, uint64_t lookup, struct sym_frame *frame)
{
	struct sym_cu *cu = find_unit(d, lookup - d->bias);

	if (cu)
		unit_line(d, cu, lookup - d->bias, frame);
}

size_t sym_dwarf_frames(struct sym_dwarf *d, uint64_t lookup, uint64_t report,
			const struct sym_frame *base, struct sym_frame *out, size_t max)
{
	uint64_t addr = lookup - d->bias;
	struct sym_cu *cu = find_unit(d, addr);
	struct sym_scope *sc;
	uint32_t index;
	size_t n = 0;

	if (!cu || (!cu->walked && !walk_unit(cu)))
		return 0;
	index = find_scope(cu, addr);
	if (index == SCOPE_NONE || !read_scope(d, cu, index)->name)
		return 0;
	out[0] = *base;
	out[0].kind = SYM_FRAME_SOURCE;
	unit_line(d, cu, addr, &out[0]);
	/* the innermost function, then each function an inlined call sits in, at the call */
	for (;;) {
		sc = read_scope(d, cu, index);
		out[n].function = sc->name;
		out[n].inlined = sc->inlined;
		if (++n == max || !sc->inlined || sc->parent == SCOPE_NONE)
			break;
		out[n] = *base;
		out[n].kind = SYM_FRAME_SOURCE;
		out[n].file = sc->call_file;
		out[n].line = sc->call_line;
		out[n].column = sc->call_column;
		index = sc->parent;
	}
	if (!sc->inlined && sc->entry && sc->entry + d->bias <= report)
		out[0].function_offset = report - (sc->entry + d->bias);
	return n;
}
