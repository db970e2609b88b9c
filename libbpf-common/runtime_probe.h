/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which language runtime a binary carries, from its dynamic symbols: V8 (its post-mortem
 * metadata, v8dbg_*) or CPython (the interpreter itself or libpython), and for CPython what the
 * unwinder and the symbolizer need to find its frames (bpf/runtime.h).
 */
#ifndef STALLKIT_RUNTIME_PROBE_H
#define STALLKIT_RUNTIME_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>
#include "runtime.h"

/*
 * What naming a V8 frame reads, from V8's post-mortem metadata (the v8dbg_* symbols, each an int
 * in the binary), in bytes and instance types; -1 where the binary lacks the symbol
 */
struct v8_objects {
	int fp_function, fp_context, fp_bytecode_offset, fp_bytecode_array;
	int function_shared;			    /* JSFunction */
	int map, map_instance_type;		    /* HeapObject, Map (a uint16_t) */
	int sfi_name_or_scope_info, sfi_script, sfi_function_data;
	int script_name, script_source;
	int string_length, seq_chars, cons_first, cons_second, thin_actual, sliced_parent,
		sliced_offset, external_resource;
	int fixed_array_length;			    /* FixedArrayBase, a Smi */
	int bytecode_array_data;		    /* where the bytecodes begin */
	int scope_info_context_locals, scope_info_first_vars; /* slot indexes */
	int first_nonstring_type, type_sfi, type_scope_info, type_script, type_bytecode_array,
		type_byte_array;
};

struct runtime_binary {
	bool v8;
	struct v8_objects v8_objects; /* if v8 */
	bool hotspot; /* a HotSpot JVM's libjvm.so (gHotSpotVMStructs) */
	bool python;
	/* CPython: PY_VERSION_HEX (0x030b02f0 for 3.11.2), 0 if unknown; the binary's virtual
	 * addresses of _PyRuntime, the evaluation loop and the code objects' type */
	unsigned int py_version;
	uint64_t py_runtime;
	uint64_t py_eval;
	uint64_t py_eval_size;
	uint64_t py_code_type;
};

/* What elf carries; path names it where its symbols do not tell the version (before 3.11) */
void runtime_probe(Elf *elf, const char *path, struct runtime_binary *out);

/* Where CPython keeps what naming a frame reads (the symbolizer's part), in bytes */
struct python_objects {
	uint16_t object_type;	   /* PyObject.ob_type */
	uint16_t code_filename;	   /* PyCodeObject.co_filename */
	uint16_t code_qualname;	   /* PyCodeObject.co_qualname */
	uint16_t code_firstlineno; /* PyCodeObject.co_firstlineno (int) */
	uint16_t code_linetable;   /* PyCodeObject.co_linetable (bytes, 3.11's format) */
	uint16_t str_length;	   /* PyASCIIObject.length */
	uint16_t str_state;	   /* PyASCIIObject.state: kind, compact, ascii bits */
	uint16_t str_ascii_data;   /* sizeof(PyASCIIObject): a compact ASCII string's text */
	uint16_t str_compact_data; /* sizeof(PyCompactUnicodeObject): other compact strings' */
	uint16_t bytes_size;	   /* PyVarObject.ob_size */
	uint16_t bytes_data;	   /* PyBytesObject.ob_sval */
};

/* The layouts of a CPython version's structures, NULL if it is not supported */
const struct python_layout *python_layout(unsigned int version);
const struct python_objects *python_objects(unsigned int version);

/* Whether a V8 binary's metadata has all that naming its frames needs */
bool v8_supported(const struct runtime_binary *b);

/* "3.11.2" */
char *python_version_format(unsigned int version, char *buf, size_t len);

/* "CPython 3.11.2: supported" or why not, for stallcheck */
const char *python_support(const struct runtime_binary *b, char *buf, size_t len);

#endif
