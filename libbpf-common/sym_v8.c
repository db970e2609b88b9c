// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * V8's JavaScript frames (bpf/runtime.h) named from the process's own heap, with the layouts
 * V8's post-mortem metadata gives (v8dbg_*, runtime_probe.h) and, where it gives none, those of
 * V8 11.3 (Node.js 20), each checked by the object's type:
 *
 *   SharedFunctionInfo -> name_or_scope_info: the name, or a ScopeInfo that holds it (or the
 *                         name the compiler inferred: "Module._compile")
 *                      -> script_or_debug_info: the Script, its name (the file) and source (its
 *                         line ends are computed from it: V8 computes them lazily)
 *                      -> function_data: the BytecodeArray, its source position table
 *
 * An interpreted frame's line comes from its bytecode offset through the source position
 * table; a compiled frame (baseline or optimized code) has its function and file only.  Each
 * SharedFunctionInfo is read once, the first time the BPF half sees it (they live in old space
 * and stay where they are), and its type checked, so that freed memory is never taken for one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "addr_table.h"
#include "runtime_probe.h"
#include "sym_internal.h"

#define MAX_NAME	 1024	   /* characters of a name read */
#define MAX_SOURCE	 (16 << 20) /* characters of a script's source read for its lines */
#define MAX_POSITIONS	 (1 << 20) /* bytes of a source position table */
#define MAX_STRING_DEPTH 8	   /* cons, thin and sliced strings followed */

/* 11.3's layouts that v8dbg does not describe */
#define SCOPE_INFO_FIRST_SLOT	  8  /* after the map */
#define SCOPE_LOCALS_IN_TABLE	  75 /* from this many context locals, their names are a table */
#define BYTECODE_POSITIONS	  32 /* BytecodeArray.source_position_table */
#define BYTE_ARRAY_DATA		  16
#define EXTERNAL_DATA_AFTER_RESOURCE 8 /* the cached data pointer */
#define CODE_BYTECODE		  16 /* Code.bytecode_or_interpreter_data (baseline code) */

struct v8_script {
	uint64_t addr;
	const char *name;
	uint32_t *line_ends; /* offsets of the newlines, then the source's end */
	size_t nlines;
	struct v8_script *next;
};

struct v8_function {
	uint64_t sfi; /* tagged (its table's key) */
	bool readable;
	const char *name;
	const struct v8_script *script;
	uint64_t bytecode;  /* its BytecodeArray (tagged), 0 if none */
	uint8_t *positions; /* the source position table, NULL if none */
	size_t npositions;
};

struct sym_v8 {
	pid_t pid;
	int mem;
	const struct v8_objects *o; /* NULL: not supported */
	struct addr_table functions; /* struct v8_function, by SharedFunctionInfo */
	struct v8_script *scripts;
	struct sym_v8 *next;
};

static bool read_memory(const struct sym_v8 *v, uint64_t addr, void *buf, size_t len)
{
	return pread(v->mem, buf, len, (off_t)addr) == (ssize_t)len;
}

static bool read_word(const struct sym_v8 *v, uint64_t addr, uint64_t *out)
{
	return read_memory(v, addr, out, sizeof(*out));
}

static bool is_object(uint64_t w)
{
	return (w & 3) == 1;
}

static bool is_smi(uint64_t w)
{
	return !(w & 1);
}

static int32_t smi(uint64_t w)
{
	return (int32_t)(w >> 32);
}

/* A field of a tagged object */
static bool field(const struct sym_v8 *v, uint64_t object, int offset, uint64_t *out)
{
	return is_object(object) && read_word(v, object - 1 + offset, out);
}

/* An object's instance type, -1 if it is not one */
static int type_of(const struct sym_v8 *v, uint64_t object)
{
	uint64_t map;
	uint16_t type;

	if (!field(v, object, v->o->map, &map) || !is_object(map) ||
	    !read_memory(v, map - 1 + v->o->map_instance_type, &type, sizeof(type)))
		return -1;
	return type;
}

/* Up to max characters of a string object (one byte each, or two: Latin-1 or UTF-16, kept as
 * UTF-8 by their low byte for names, which are ASCII but for rare ones) into buf */
static ssize_t string_chars(const struct sym_v8 *v, uint64_t s, char *buf, size_t max,
			    unsigned int depth)
{
	const struct v8_objects *o = v->o;
	int type = type_of(v, s);
	int32_t length;
	uint64_t a, b, data;
	size_t n;

	if (type < 0 || type >= o->first_nonstring_type || depth > MAX_STRING_DEPTH ||
	    !read_memory(v, s - 1 + o->string_length, &length, sizeof(length)) || length < 0)
		return -1;
	n = (size_t)length < max ? (size_t)length : max;
	switch (type & 7) { /* the representation */
	case 0:			 /* sequential */
		data = s - 1 + o->seq_chars;
		break;
	case 2: /* external: its resource keeps a pointer to the characters */
		if (!read_word(v, s - 1 + o->external_resource + EXTERNAL_DATA_AFTER_RESOURCE,
			       &data) || !data)
			return -1;
		break;
	case 1: { /* cons: first and second */
		ssize_t got;

		if (!field(v, s, o->cons_first, &a) || !field(v, s, o->cons_second, &b))
			return -1;
		got = string_chars(v, a, buf, n, depth + 1);
		if (got < 0)
			return -1;
		if ((size_t)got < n) {
			ssize_t more = string_chars(v, b, buf + got, n - got, depth + 1);

			if (more < 0)
				return -1;
			got += more;
		}
		return got;
	}
	case 3: { /* sliced: a part of its parent */
		char *whole;
		ssize_t got;

		if (!field(v, s, o->sliced_parent, &a) || !field(v, s, o->sliced_offset, &b) ||
		    !is_smi(b) || smi(b) < 0 || !(whole = malloc(smi(b) + n + 1)))
			return -1;
		got = string_chars(v, a, whole, smi(b) + n, depth + 1);
		if (got >= smi(b)) {
			got -= smi(b);
			memcpy(buf, whole + smi(b), got);
		} else {
			got = -1;
		}
		free(whole);
		return got;
	}
	case 5: /* thin: the internalized string it stands for */
		return field(v, s, o->thin_actual, &a) ? string_chars(v, a, buf, n, depth + 1) : -1;
	default:
		return -1;
	}
	if (type & 8) /* one byte each */
		return read_memory(v, data, buf, n) ? (ssize_t)n : -1;
	for (size_t i = 0; i < n; i++) {
		uint16_t c;

		if (!read_memory(v, data + 2 * i, &c, sizeof(c)))
			return -1;
		buf[i] = c < 0x80 ? (char)c : '?';
	}
	return n;
}

/* A string object as a NUL-terminated string (malloc'ed), NULL if it is not one */
static char *string_of(const struct sym_v8 *v, uint64_t s)
{
	char *buf = malloc(MAX_NAME + 1);
	ssize_t n = buf ? string_chars(v, s, buf, MAX_NAME, 0) : -1;

	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * A ScopeInfo's function name (or the name the compiler inferred) and where the function
 * starts in its script.  11.3's layout, from slot 0: flags (scope type in bits 0-3, a saved
 * class variable in bit 10, the function variable in bits 12-13, an inferred name in bit 14),
 * then after the first variable slots the context locals' names and infos, the saved class
 * variable, the function variable (name, slot), the inferred name, the position (start, end).
 */
static char *scope_info_name(const struct sym_v8 *v, uint64_t si)
{
	const struct v8_objects *o = v->o;
	uint64_t flags_word, locals_word, w;
	int32_t flags, locals, i = o->scope_info_first_vars;
	char *name = NULL;

#define SLOT(n, out) read_word(v, si - 1 + SCOPE_INFO_FIRST_SLOT + 8 * (n), out)
	if (!SLOT(0, &flags_word) || !SLOT(o->scope_info_context_locals, &locals_word) ||
	    !is_smi(flags_word) || !is_smi(locals_word) || (locals = smi(locals_word)) < 0)
		return NULL;
	flags = smi(flags_word);
	if ((flags & 0xf) == 3) /* a module's scope: its variable count */
		i++;
	i += locals < SCOPE_LOCALS_IN_TABLE ? locals : 1;
	i += locals;
	if (flags >> 10 & 1)
		i++;
	if (flags >> 12 & 3) {
		if (SLOT(i, &w) && is_object(w))
			name = string_of(v, w);
		i += 2;
	}
	if ((!name || !*name) && flags >> 14 & 1 && SLOT(i, &w) && is_object(w)) {
		free(name);
		name = string_of(v, w);
	}
#undef SLOT
	return name;
}

/* Where each line of a source string ends (its newlines, then its end) */
static bool line_ends_of(const struct sym_v8 *v, uint64_t source, struct v8_script *script)
{
	char *text = malloc(MAX_SOURCE);
	ssize_t n = text ? string_chars(v, source, text, MAX_SOURCE, 0) : -1;
	size_t cap = 0;

	for (ssize_t i = 0; i <= n; i++) {
		if (i < n && text[i] != '\n')
			continue;
		if (script->nlines == cap) {
			uint32_t *grown = realloc(script->line_ends,
						  (cap = cap ? 2 * cap : 256) * sizeof(*grown));

			if (!grown)
				break;
			script->line_ends = grown;
		}
		script->line_ends[script->nlines++] = (uint32_t)i;
	}
	free(text);
	return n >= 0;
}

static const struct v8_script *script_of(struct symbolizer *s, struct sym_v8 *v, uint64_t addr)
{
	struct v8_script *script;
	uint64_t name, source;

	for (script = v->scripts; script; script = script->next)
		if (script->addr == addr)
			return script;
	if (type_of(v, addr) != v->o->type_script || !(script = calloc(1, sizeof(*script))))
		return NULL;
	script->addr = addr;
	if (field(v, addr, v->o->script_name, &name))
		script->name = sym_keep_string(s, string_of(v, name));
	if (field(v, addr, v->o->script_source, &source))
		line_ends_of(v, source, script);
	script->next = v->scripts;
	v->scripts = script;
	return script;
}

/* A function's source position table: its BytecodeArray's (through its baseline code, if it
 * has some) */
static void positions_of(const struct sym_v8 *v, uint64_t sfi, struct v8_function *f)
{
	uint64_t data, table, length;

	if (!field(v, sfi, v->o->sfi_function_data, &data))
		return;
	if (type_of(v, data) != v->o->type_bytecode_array &&
	    (!field(v, data, CODE_BYTECODE, &data) ||
	     type_of(v, data) != v->o->type_bytecode_array))
		return;
	f->bytecode = data;
	if (!field(v, data, BYTECODE_POSITIONS, &table) ||
	    type_of(v, table) != v->o->type_byte_array ||
	    !field(v, table, v->o->fixed_array_length, &length) || !is_smi(length) ||
	    smi(length) <= 0 || smi(length) > MAX_POSITIONS ||
	    !(f->positions = malloc(smi(length))))
		return;
	if (read_memory(v, table - 1 + BYTE_ARRAY_DATA, f->positions, smi(length)))
		f->npositions = smi(length);
}

static void read_function(struct symbolizer *s, struct sym_v8 *v, struct v8_function *f)
{
	const struct v8_objects *o = v->o;
	uint64_t name, script;
	int type;
	char *text = NULL;

	if (type_of(v, f->sfi) != o->type_sfi ||
	    !field(v, f->sfi, o->sfi_name_or_scope_info, &name))
		return;
	type = type_of(v, name);
	if (type == o->type_scope_info)
		text = scope_info_name(v, name);
	else if (type >= 0 && type < o->first_nonstring_type)
		text = string_of(v, name);
	if (!text || !*text) {
		free(text);
		text = strdup("(anonymous)");
	}
	f->name = sym_keep_string(s, text);
	if (field(v, f->sfi, o->sfi_script, &script))
		f->script = script_of(s, v, script);
	positions_of(v, f->sfi, f);
	f->readable = f->name != NULL;
}

/* A zigzag variable-length quantity of the position table: 7 bits a byte */
static int64_t position_vlq(const uint8_t *t, size_t len, size_t *i)
{
	uint64_t v = 0;
	unsigned int shift = 0;

	while (*i < len && shift < 64) {
		uint8_t b = t[(*i)++];

		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* The line of the bytecode at offset, 0 if not known: the last position at or before it, a
 * SourcePosition (bit 0 external, then the script offset + 1), on the script's lines */
static unsigned int line_at(const struct v8_function *f, int32_t offset)
{
	int64_t code = -1, position = 0, best = -1, offset_in_script;
	size_t i = 0, lo = 0, hi;

	if (!f->positions || !f->script || !f->script->nlines)
		return 0;
	while (i < f->npositions) {
		int64_t delta = position_vlq(f->positions, f->npositions, &i);

		code += delta >= 0 ? delta : -(delta + 1); /* negative: not a statement */
		if (i >= f->npositions)
			break;
		delta = position_vlq(f->positions, f->npositions, &i);
		if (code > offset)
			break;
		position += delta;
		best = position;
	}
	if (best < 0)
		return 0;
	offset_in_script = ((best >> 1) & 0x3fffffff) - 1;
	hi = f->script->nlines;
	while (lo < hi) { /* the first line that ends at or after the offset */
		size_t mid = (lo + hi) / 2;

		if (f->script->line_ends[mid] < offset_in_script)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->script->nlines ? lo + 1 : 0;
}

static struct sym_v8 *v8_new(struct symbolizer *s, const struct sym_process *p)
{
	struct sym_v8 *v = calloc(1, sizeof(*v));
	char path[64];

	if (!v)
		return NULL;
	v->pid = p->pid;
	v->functions = ADDR_TABLE_INIT(struct v8_function);
	snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
	v->mem = open(path, O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < p->nmaps && !v->o; i++) {
		const struct runtime_binary *b = p->maps[i].file ?
							 sym_file_runtime(p->maps[i].file) :
							 NULL;

		if (b && v8_supported(b))
			v->o = &b->v8_objects;
	}
	v->next = s->v8s;
	s->v8s = v;
	return v;
}

static struct sym_v8 *v8_of(struct symbolizer *s, const struct sym_process *p)
{
	for (struct sym_v8 *v = s->v8s; v; v = v->next)
		if (v->pid == p->pid)
			return v;
	return v8_new(s, p);
}

/* The function of a SharedFunctionInfo, read on first use; NULL if there is no memory */
static struct v8_function *function_of(struct symbolizer *s, struct sym_v8 *v, uint64_t sfi)
{
	bool created;
	struct v8_function *f = v->o ? addr_table_get(&v->functions, sfi, &created) : NULL;

	if (f && created)
		read_function(s, v, f);
	return f;
}

void symbolizer_note_v8_function(struct symbolizer *s, pid_t pid, uint64_t sfi)
{
	struct sym_process *p;
	struct sym_v8 *v;

	if (symbolizer_note_process_once(s, pid) || !(p = sym_process_find(s, pid)))
		return;
	if ((v = v8_of(s, p)))
		function_of(s, v, sfi);
}

void sym_v8_frame(struct symbolizer *s, const struct sym_process *p, uint64_t sfi,
		  int32_t bytecode_offset, uint64_t bytecode, struct sym_frame *out)
{
	struct sym_v8 *v = p ? v8_of(s, p) : NULL;
	struct v8_function *f = v ? function_of(s, v, sfi) : NULL;

	if (!f || !f->readable) {
		*out = (struct sym_frame){ .addr = sfi, .kind = SYM_FRAME_LOST,
					   .stop = RUNTIME_LOSS_JS_FUNCTION,
					   .runtime = SYM_RUNTIME_JS };
		return;
	}
	*out = (struct sym_frame){
		.addr = sfi,
		.kind = SYM_FRAME_SOURCE,
		.function = f->name,
		.file = f->script ? f->script->name : NULL,
		.runtime = SYM_RUNTIME_JS,
	};
	/* an interpreted frame: its bytecode array slot holds the function's own bytecode */
	if (bytecode_offset != V8_POS_NONE && f->bytecode && bytecode == f->bytecode)
		out->line = line_at(f, bytecode_offset - (v->o->bytecode_array_data - 1));
}

void sym_v8_free_all(struct symbolizer *s)
{
	struct sym_v8 *v = s->v8s, *next;

	for (; v; v = next) {
		next = v->next;
		for (size_t i = 0; i < addr_table_slots(&v->functions); i++) {
			struct v8_function *f = addr_table_slot(&v->functions, i);

			if (f)
				free(f->positions);
		}
		addr_table_free(&v->functions);
		while (v->scripts) {
			struct v8_script *script = v->scripts->next;

			free(v->scripts->line_ends);
			free(v->scripts);
			v->scripts = script;
		}
		if (v->mem >= 0)
			close(v->mem);
		free(v);
	}
	s->v8s = NULL;
}
