// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "runtime_probe.h"

/*
 * Each CPython version that is supported, from its headers (Include/cpython/ and
 * Include/internal/pycore_ headers): offsetof() of each field, checked against the headers of the
 * version the tests run (tests/unit/test_runtime_probe.c).  What naming a frame reads of the
 * objects differs in the code object's first line and the strings' headers only.
 */
#define PYTHON_OBJECTS(firstlineno, ascii_data, compact_data)                              \
	{                                                                                  \
		.object_type = 8, .code_filename = 112, .code_qualname = 128,              \
		.code_firstlineno = (firstlineno), .code_linetable = 136, .str_length = 16, \
		.str_state = 32, .str_ascii_data = (ascii_data),                           \
		.str_compact_data = (compact_data), .bytes_size = 16, .bytes_data = 32,    \
	}
static const struct {
	unsigned int minor; /* 3.minor */
	struct python_layout layout;
	struct python_objects objects;
} python_versions[] = {
	{ 11,
	  {
		  .runtime_interpreters = 40,
		  .interp_threads = 16,
		  .thread_next = 8,
		  .thread_tid = 160,
		  .thread_frame = 56,
		  .cframe_frame = 8,
		  .frame_code = 32,
		  .frame_previous = 48,
		  .frame_instr = 56,
		  .frame_is_entry = 68,
		  .frame_owner = PY_NONE,
		  .code_bytecode = 184,
	  },
	  PYTHON_OBJECTS(72, 48, 72) },
	{ 12,
	  {
		  .runtime_interpreters = 40,
		  .interp_threads = 72,
		  .thread_next = 8,
		  .thread_tid = 144,
		  .thread_frame = 56,
		  .cframe_frame = 0,
		  .frame_code = 0,
		  .frame_previous = 8,
		  .frame_instr = 56,
		  .frame_is_entry = PY_NONE,
		  .frame_owner = 70,
		  .owner_cstack = 3,
		  .code_bytecode = 192,
	  },
	  PYTHON_OBJECTS(68, 40, 56) },
	{ 13,
	  {
		  .runtime_interpreters = 632,
		  .interp_threads = 7344,
		  .thread_next = 8,
		  .thread_tid = 160,
		  .thread_frame = 72,
		  .cframe_frame = PY_NONE,
		  .frame_code = 0,
		  .frame_previous = 8,
		  .frame_instr = 56,
		  .frame_is_entry = PY_NONE,
		  .frame_owner = 70,
		  .owner_cstack = 3,
		  .code_bytecode = 200,
	  },
	  PYTHON_OBJECTS(68, 40, 56) },
};

static int python_version_index(unsigned int version)
{
	if (version >> 24 != 3)
		return -1;
	for (size_t i = 0; i < sizeof(python_versions) / sizeof(python_versions[0]); i++)
		if (python_versions[i].minor == (version >> 16 & 0xff))
			return (int)i;
	return -1;
}

const struct python_layout *python_layout(unsigned int version)
{
	int i = python_version_index(version);

	return i < 0 ? NULL : &python_versions[i].layout;
}

const struct python_objects *python_objects(unsigned int version)
{
	int i = python_version_index(version);

	return i < 0 ? NULL : &python_versions[i].objects;
}

char *python_version_format(unsigned int version, char *buf, size_t len)
{
	if (version & 0xffff) /* from Py_Version: the micro version and the release level */
		snprintf(buf, len, "%u.%u.%u", version >> 24, version >> 16 & 0xff,
			 version >> 8 & 0xff);
	else
		snprintf(buf, len, "%u.%u", version >> 24, version >> 16 & 0xff);
	return buf;
}

const char *python_support(const struct runtime_binary *b, char *buf, size_t len)
{
	char v[32];

	if (!b->py_version)
		snprintf(buf, len, "CPython of unknown version: not supported");
	else if (!b->py_runtime || !b->py_eval || !b->py_code_type)
		snprintf(buf, len, "CPython %s: not supported (its symbols are not exported)",
			 python_version_format(b->py_version, v, sizeof(v)));
	else if (!python_layout(b->py_version))
		snprintf(buf, len, "CPython %s: not supported (supported: 3.11 to 3.13)",
			 python_version_format(b->py_version, v, sizeof(v)));
	else
		snprintf(buf, len, "CPython %s: supported",
			 python_version_format(b->py_version, v, sizeof(v)));
	return buf;
}

/* len bytes at a virtual address of the file's allocated sections (zero in .bss) */
static bool read_at(Elf *elf, uint64_t vaddr, void *out, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || vaddr < sh.sh_addr ||
		    vaddr + len > sh.sh_addr + sh.sh_size)
			continue;
		if (sh.sh_type == SHT_NOBITS) { /* .bss: zero (v8dbg_ values that are 0) */
			memset(out, 0, len);
			return true;
		}
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || vaddr - sh.sh_addr + len > d->d_size)
			return false;
		memcpy(out, (const char *)d->d_buf + (vaddr - sh.sh_addr), len);
		return true;
	}
	return false;
}

/* python3.10, libpython3.9.so.1.0: the version before it was a symbol */
static unsigned int version_from_path(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	unsigned int major, minor;

	base = base ? base + 1 : path;
	if (base && (sscanf(base, "python%u.%u", &major, &minor) == 2 ||
		     sscanf(base, "libpython%u.%u", &major, &minor) == 2))
		return major << 24 | minor << 16;
	return 0;
}

/* The v8dbg_ symbols naming a V8 frame needs, by where their value goes */
#define V8_FIELD(name, field) { name, offsetof(struct v8_objects, field) }
static const struct {
	const char *name; /* after "v8dbg_" */
	size_t at;
} v8_fields[] = {
	V8_FIELD("off_fp_function", fp_function),
	V8_FIELD("off_fp_context", fp_context),
	V8_FIELD("off_fp_bytecode_offset", fp_bytecode_offset),
	V8_FIELD("off_fp_bytecode_array", fp_bytecode_array),
	V8_FIELD("class_JSFunction__shared__SharedFunctionInfo", function_shared),
	V8_FIELD("class_HeapObject__map__Map", map),
	V8_FIELD("class_Map__instance_type__uint16_t", map_instance_type),
	V8_FIELD("class_SharedFunctionInfo__name_or_scope_info__Object", sfi_name_or_scope_info),
	V8_FIELD("class_SharedFunctionInfo__script_or_debug_info__HeapObject", sfi_script),
	V8_FIELD("class_SharedFunctionInfo__function_data__Object", sfi_function_data),
	V8_FIELD("class_Script__name__Object", script_name),
	V8_FIELD("class_Script__source__Object", script_source),
	V8_FIELD("class_String__length__int32_t", string_length),
	V8_FIELD("class_SeqOneByteString__chars__char", seq_chars),
	V8_FIELD("class_ConsString__first__String", cons_first),
	V8_FIELD("class_ConsString__second__String", cons_second),
	V8_FIELD("class_ThinString__actual__String", thin_actual),
	V8_FIELD("class_SlicedString__parent__String", sliced_parent),
	V8_FIELD("class_SlicedString__offset__SMI", sliced_offset),
	V8_FIELD("class_ExternalString__resource__Object", external_resource),
	V8_FIELD("class_FixedArrayBase__length__SMI", fixed_array_length),
	V8_FIELD("class_BytecodeArray__data__uintptr_t", bytecode_array_data),
	V8_FIELD("scopeinfo_idx_ncontextlocals", scope_info_context_locals),
	V8_FIELD("scopeinfo_idx_first_vars", scope_info_first_vars),
	V8_FIELD("FirstNonstringType", first_nonstring_type),
	V8_FIELD("type_SharedFunctionInfo__SHARED_FUNCTION_INFO_TYPE", type_sfi),
	V8_FIELD("type_ScopeInfo__SCOPE_INFO_TYPE", type_scope_info),
	V8_FIELD("type_Script__SCRIPT_TYPE", type_script),
	V8_FIELD("type_BytecodeArray__BYTECODE_ARRAY_TYPE", type_bytecode_array),
	V8_FIELD("type_ByteArray__BYTE_ARRAY_TYPE", type_byte_array),
};
#define V8_FIELDS (sizeof(v8_fields) / sizeof(v8_fields[0]))

static void note_v8_symbol(Elf *elf, const char *name, const GElf_Sym *sym,
			   struct v8_objects *out)
{
	int32_t value;

	for (size_t i = 0; i < V8_FIELDS; i++)
		if (!strcmp(name, v8_fields[i].name) && read_at(elf, sym->st_value, &value, 4))
			memcpy((char *)out + v8_fields[i].at, &value, sizeof(value));
}

bool v8_supported(const struct runtime_binary *b)
{
	const struct v8_objects *o = &b->v8_objects;

	for (size_t i = 0; b->v8 && i < V8_FIELDS; i++)
		if (*(const int *)((const char *)o + v8_fields[i].at) == -1)
			return false;
	/* the frame slots the BPF half reads: fp - 40 .. fp - 8 */
	return b->v8 && o->fp_function >= -40 && o->fp_function <= -8 && o->fp_context >= -40 &&
	       o->fp_context <= -8 && o->fp_bytecode_offset >= -40 && o->fp_bytecode_offset <= -8 &&
	       o->fp_bytecode_array >= -40 && o->fp_bytecode_array <= -8;
}

static void note_symbol(Elf *elf, const char *name, const GElf_Sym *sym, struct runtime_binary *out)
{
	uint64_t version;

	if (!strncmp(name, "v8dbg_", 6)) {
		out->v8 = true;
		note_v8_symbol(elf, name + 6, sym, &out->v8_objects);
	}
	else if (!strcmp(name, "gHotSpotVMStructs"))
		out->hotspot = true;
	else if (!strcmp(name, "_PyRuntime"))
		out->py_runtime = sym->st_value;
	else if (!strcmp(name, "_PyEval_EvalFrameDefault")) {
		out->py_eval = sym->st_value;
		out->py_eval_size = sym->st_size;
	} else if (!strcmp(name, "PyCode_Type"))
		out->py_code_type = sym->st_value;
	else if (!strcmp(name, "Py_Version") && read_at(elf, sym->st_value, &version, 8))
		out->py_version = (unsigned int)version;
}

void runtime_probe(Elf *elf, const char *path, struct runtime_binary *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	*out = (struct runtime_binary){ 0 };
	memset(&out->v8_objects, 0xff, sizeof(out->v8_objects)); /* -1: not found */
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_DYNSYM ?
				      elf_getdata(scn, NULL) :
				      NULL;

		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (gelf_getsym(d, i, &sym) && sym.st_shndx != SHN_UNDEF &&
			    (name = elf_strptr(elf, sh.sh_link, sym.st_name)))
				note_symbol(elf, name, &sym, out);
		}
	}
	out->python = out->py_runtime != 0;
	if (out->python && !out->py_version)
		out->py_version = version_from_path(path);
}
