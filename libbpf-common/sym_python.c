// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CPython frames (bpf/runtime.h) named from the process's own code objects: each is read from
 * its memory once (its type checked against PyCode_Type, so that freed memory is not taken for
 * a function), its qualified name, file and line table kept; the line of each frame comes from
 * the line table at the frame's last instruction, as CPython's own tracebacks find it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "addr_table.h"
#include "runtime_probe.h"
#include "sym_internal.h"

#define MAX_NAME	 1024	   /* bytes of a name or file read */
#define MAX_LINETABLE	 (1 << 20) /* bytes of a line table read */

struct py_code {
	uint64_t addr; /* its table's key */
	const char *name;
	const char *file;
	int firstline;
	uint8_t *linetable;
	size_t linetable_len;
	bool readable;
};

struct sym_python {
	pid_t pid;
	int mem;			   /* /proc/PID/mem */
	const struct python_objects *objects; /* NULL: not CPython, or not supported */
	uint64_t code_type;		   /* &PyCode_Type in the process */
	struct addr_table codes;	   /* struct py_code, by address */
	struct sym_python *next;
};

static bool read_memory(const struct sym_python *py, uint64_t addr, void *buf, size_t len)
{
	return pread(py->mem, buf, len, (off_t)addr) == (ssize_t)len;
}

static bool read_pointer(const struct sym_python *py, uint64_t addr, uint64_t *out)
{
	return read_memory(py, addr, out, sizeof(*out));
}

/* UTF-8 of one code point */
static size_t utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18 & 0x07));
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* A str object's text as UTF-8 (compact strings: what names and file names are), NULL if it
 * cannot be read */
static char *read_string(const struct sym_python *py, uint64_t addr)
{
	const struct python_objects *o = py->objects;
	uint64_t length, type;
	uint32_t state, kind;
	unsigned char raw[MAX_NAME * 4];
	char *text;
	size_t w = 0;

	if (!read_pointer(py, addr + o->object_type, &type) ||
	    !read_pointer(py, addr + o->str_length, &length) ||
	    !read_memory(py, addr + o->str_state, &state, sizeof(state)))
		return NULL;
	kind = state >> 2 & 7;
	if (!(state >> 5 & 1) || (kind != 1 && kind != 2 && kind != 4)) /* compact, 1-4 bytes */
		return NULL;
	if (length > MAX_NAME)
		length = MAX_NAME;
	if (!read_memory(py, addr + (state >> 6 & 1 ? o->str_ascii_data : o->str_compact_data),
			 raw, length * kind))
		return NULL;
	text = malloc(length * 4 + 1);
	if (!text)
		return NULL;
	for (size_t i = 0; i < length; i++) {
		uint32_t c = kind == 1 ? raw[i] :
			     kind == 2 ? (uint32_t)raw[2 * i] | (uint32_t)raw[2 * i + 1] << 8 :
					 (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
						 (uint32_t)raw[4 * i + 2] << 16 |
						 (uint32_t)raw[4 * i + 3] << 24;

		w += utf8_encode(c > 0x10ffff ? 0xfffd : c, text + w);
	}
	text[w] = '\0';
	return text;
}

/* A code object's name, file, first line and line table */
static void read_code(struct symbolizer *s, const struct sym_python *py, struct py_code *c)
{
	const struct python_objects *o = py->objects;
	uint64_t type, name, file, table, len;
	int32_t firstline;

	if (!read_pointer(py, c->addr + o->object_type, &type) || type != py->code_type ||
	    !read_pointer(py, c->addr + o->code_qualname, &name) ||
	    !read_pointer(py, c->addr + o->code_filename, &file) ||
	    !read_pointer(py, c->addr + o->code_linetable, &table) ||
	    !read_memory(py, c->addr + o->code_firstlineno, &firstline, sizeof(firstline)))
		return;
	c->name = sym_keep_string(s, read_string(py, name));
	c->file = sym_keep_string(s, read_string(py, file));
	c->firstline = firstline;
	if (!c->name || !c->file)
		return;
	c->readable = true;
	if (read_pointer(py, table + o->bytes_size, &len) && len <= MAX_LINETABLE &&
	    (c->linetable = malloc(len ? len : 1)) &&
	    read_memory(py, table + o->bytes_data, c->linetable, len))
		c->linetable_len = len;
}

/* An unsigned varint of the line table: 6 bits a byte, bit 6 says more follow */
static unsigned int varint(const uint8_t *t, size_t len, size_t *i)
{
	unsigned int v = 0, shift = 0;

	while (*i < len && shift < 32) {
		uint8_t b = t[(*i)++];

		v |= (unsigned int)(b & 63) << shift;
		shift += 6;
		if (!(b & 64))
			break;
	}
	return v;
}

static int svarint(const uint8_t *t, size_t len, size_t *i)
{
	unsigned int v = varint(t, len, i);

	return v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
}

/*
 * The line of the instruction at index lasti (code units), from a line table in CPython 3.11's
 * format (Objects/locations.md): entries, each a first byte 1cccclll (code c, l + 1 code
 * units) and what the code says follows; the line starts at the first line and moves by each
 * entry's delta.  0 if the table has no line there.
 */
static unsigned int line_of(const struct py_code *c, unsigned int lasti)
{
	const uint8_t *t = c->linetable;
	size_t i = 0, len = c->linetable_len;
	unsigned int start = 0;
	int line = c->firstline;

	while (i < len) {
		uint8_t first = t[i++];
		unsigned int code = first >> 3 & 15, units = (first & 7) + 1;
		bool located = code != 15;

		if (!(first & 128))
			return 0; /* not the start of an entry: a table not understood */
		if (code == 13 || code == 14)
			line += svarint(t, len, &i);
		else if (code >= 10 && code <= 12)
			line += code - 10;
		if (lasti >= start && lasti < start + units)
			return located && line > 0 ? (unsigned int)line : 0;
		start += units;
		while (i < len && !(t[i] & 128)) /* the rest of the entry */
			i++;
	}
	return 0;
}

/* The process's interpreter, found in its mappings (NULL: it cannot be read) */
static struct sym_python *python_new(struct symbolizer *s, const struct sym_process *p)
{
	struct sym_python *py = calloc(1, sizeof(*py));
	char path[64];

	if (!py)
		return NULL;
	py->pid = p->pid;
	py->codes = ADDR_TABLE_INIT(struct py_code);
	snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
	py->mem = open(path, O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < p->nmaps && !py->objects; i++) {
		const struct runtime_binary *b = p->maps[i].file ?
							 sym_file_runtime(p->maps[i].file) :
							 NULL;

		if (b && b->python && b->py_code_type && python_objects(b->py_version)) {
			py->objects = python_objects(b->py_version);
			py->code_type = b->py_code_type + p->maps[i].bias;
		}
	}
	py->next = s->pythons;
	s->pythons = py;
	return py;
}

static struct sym_python *python_of(struct symbolizer *s, const struct sym_process *p)
{
	for (struct sym_python *py = s->pythons; py; py = py->next)
		if (py->pid == p->pid)
			return py;
	return python_new(s, p);
}

/* The code object at addr, read on first use; NULL if there is no memory */
static struct py_code *code_of(struct symbolizer *s, struct sym_python *py, uint64_t addr)
{
	bool created;
	struct py_code *c = addr_table_get(&py->codes, addr, &created);

	if (c && created)
		read_code(s, py, c);
	return c;
}

void sym_python_frame(struct symbolizer *s, const struct sym_process *p, uint64_t entry,
		      struct sym_frame *out)
{
	struct sym_python *py = p ? python_of(s, p) : NULL;
	struct py_code *c = py && py->objects ? code_of(s, py, PY_FRAME_CODE(entry)) : NULL;
	unsigned int lasti = PY_FRAME_LASTI(entry);

	if (!c || !c->readable) {
		*out = (struct sym_frame){ .addr = entry, .kind = SYM_FRAME_LOST,
					   .stop = RUNTIME_LOSS_CODE,
					   .runtime = SYM_RUNTIME_PYTHON };
		return;
	}
	*out = (struct sym_frame){
		.addr = entry,
		.kind = SYM_FRAME_SOURCE,
		.function = c->name,
		.file = c->file,
		.line = lasti == PY_FRAME_LASTI_NONE ? 0 : line_of(c, lasti),
		.runtime = SYM_RUNTIME_PYTHON,
	};
}

bool sym_python_supported(struct symbolizer *s, const struct sym_process *p)
{
	struct sym_python *py = python_of(s, p);

	return py && py->objects;
}

void symbolizer_note_python_code(struct symbolizer *s, pid_t pid, uint64_t code)
{
	struct sym_process *p;
	struct sym_python *py;

	if (symbolizer_note_process_once(s, pid) || !(p = sym_process_find(s, pid)))
		return;
	py = python_of(s, p);
	if (py && py->objects)
		code_of(s, py, code);
}

void sym_python_free_all(struct symbolizer *s)
{
	struct sym_python *py = s->pythons, *next;

	for (; py; py = next) {
		next = py->next;
		for (size_t i = 0; i < addr_table_slots(&py->codes); i++) {
			struct py_code *c = addr_table_slot(&py->codes, i);

			if (c)
				free(c->linetable);
		}
		addr_table_free(&py->codes);
		if (py->mem >= 0)
			close(py->mem);
		free(py);
	}
	s->pythons = NULL;
}
