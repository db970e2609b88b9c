// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One ELF file: who it is (build-id, load segments), its debug information (libdwfl, at the
 * file's own virtual addresses, so that one load serves every process mapping it), and
 * addresses into frames the way eu-addr2line -f -i reads them.
 */
#include <dwarf.h>
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <libiberty/demangle.h>
#include "sym_internal.h"
#include "util.h"

static void hex(char *out, const unsigned char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", bytes[i]);
	out[2 * n] = '\0';
}

/* Build-id and load segments, from the ELF headers */
static int read_identity(struct sym_file *f, int fd)
{
	const void *id;
	Elf *elf;
	size_t nph;
	ssize_t len;
	int err = -ENOEXEC;

	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph))
		goto out;
	len = dwelf_elf_gnu_build_id(elf, &id);
	if (len > 0 && len <= SYM_BUILD_ID_MAX)
		hex(f->build_id, id, len);
	f->segs = calloc(nph + 1, sizeof(*f->segs));
	if (!f->segs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
			f->segs[f->nsegs++] = (struct sym_segment){
				.vaddr = ph.p_vaddr,
				.memsz = ph.p_memsz,
				.offset = ph.p_offset,
				.filesz = ph.p_filesz,
			};
	}
	err = f->nsegs ? 0 : -ENOEXEC;
out:
	elf_end(elf);
	return err;
}

static struct sym_file *find_same(struct symbolizer *s, const struct sym_file *f)
{
	for (struct sym_file *o = s->files; o; o = o->next) {
		if (f->build_id[0] ? !strcmp(o->build_id, f->build_id) :
				     !o->build_id[0] && o->dev == f->dev && o->ino == f->ino)
			return o;
	}
	return NULL;
}

struct sym_file *sym_file_open(struct symbolizer *s, int fd, const char *path,
			       const char *open_path, const char *extra_debug_dir)
{
	struct sym_file *f = calloc(1, sizeof(*f)), *same;
	struct stat st;

	if (!f || fstat(fd, &st) || read_identity(f, fd)) {
		close(fd);
		sym_file_free(f);
		return NULL;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	same = find_same(s, f);
	if (same) {
		close(fd);
		sym_file_free(f);
		return same;
	}
	f->fd = fd;
	f->path = strdup(path);
	f->open_path = strdup(open_path ? open_path : path);
	/* '+': check the CRC of .gnu_debuglink files; "" then ".debug": next to the file */
	if (asprintf(&f->debuginfo_path, "+:.debug:%s%s%s", s->debug_root,
		     extra_debug_dir ? ":" : "", extra_debug_dir ? extra_debug_dir : "") < 0)
		f->debuginfo_path = NULL;
	if (!f->path || !f->open_path || !f->debuginfo_path) {
		sym_file_free(f);
		return NULL;
	}
	f->next = s->files;
	s->files = f;
	s->nfiles++;
	return f;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(a, b);
}

void sym_file_free(struct sym_file *f)
{
	if (!f)
		return;
	sym_dwarf_free(f->dwarf);
	sym_symtab_free(f->symtab);
	if (f->dwfl)
		dwfl_end(f->dwfl);
	free(f->dwfl_callbacks);
	tdestroy(f->names, free_nothing);
	for (size_t i = 0; i < f->nstrings; i++)
		free(f->strings[i]);
	free(f->strings);
	if (f->fd > 0)
		close(f->fd);
	free(f->segs);
	free(f->path);
	free(f->open_path);
	free(f->debuginfo_path);
	free(f);
}

/* libdwfl at the file's own addresses: reported at base 0, bias 0 */
static bool load(struct sym_file *f)
{
	int fd;

	if (f->mod || f->load_failed)
		return f->mod != NULL;
	f->load_failed = true;
	f->dwfl_callbacks = calloc(1, sizeof(*f->dwfl_callbacks));
	if (!f->dwfl_callbacks)
		return false;
	*f->dwfl_callbacks = (Dwfl_Callbacks){
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
		.debuginfo_path = &f->debuginfo_path,
	};
	f->dwfl = dwfl_begin(f->dwfl_callbacks);
	fd = dup(f->fd); /* libdwfl owns and closes the descriptor it is given */
	if (!f->dwfl || fd < 0)
		return false;
	dwfl_report_begin(f->dwfl);
	f->mod = dwfl_report_elf(f->dwfl, f->path, f->open_path, fd, 0, false);
	dwfl_report_end(f->dwfl, NULL, NULL);
	if (!f->mod) {
		close(fd);
		return false;
	}
	f->load_failed = false;
	return true;
}

/* A name this file's frames can point to for as long as the file lives, stored once */
const char *sym_file_keep_name(struct sym_file *f, char *name)
{
	char **found, **grown;

	if (!name)
		return NULL;
	found = tfind(name, &f->names, compare_strings);
	if (found) {
		free(name);
		return *found;
	}
	grown = realloc(f->strings, (f->nstrings + 1) * sizeof(*grown));
	if (!grown || !tsearch(name, &f->names, compare_strings)) {
		f->strings = grown ? grown : f->strings;
		free(name);
		return NULL;
	}
	f->strings = grown;
	f->strings[f->nstrings++] = name;
	return name;
}

/* C++ and Rust names demangled (libiberty); others as they are */
const char *sym_file_function_name(struct sym_file *f, const char *name)
{
	char *demangled;

	if (!name || (strncmp(name, "_Z", 2) && strncmp(name, "_R", 2)))
		return name;
	demangled = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	return demangled ? sym_file_keep_name(f, demangled) : name;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - start->tv_sec + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * The file's debug information, looked for once and indexed: where a local copy is missing,
 * libdwfl asks the debuginfod servers of DEBUGINFOD_URLS by build-id (DEBUGINFOD_TIMEOUT, which
 * symbolizer_new() sets).  A search that took long and found nothing means a server that is
 * slow or unreachable: no more fetches this run, so that one cannot stall a report twice.
 */
static void debuginfo_seek(struct sym_file *f)
{
	struct timespec start;
	Dwarf_Addr bias;
	Dwarf *dw;
	double took;

	f->debuginfo_sought = true;
	clock_gettime(CLOCK_MONOTONIC, &start);
	dw = dwfl_module_getdwarf(f->mod, &bias);
	if (dw) {
		f->dwarf = sym_dwarf_new(f, dw, bias);
		return;
	}
	if (!getenv("DEBUGINFOD_URLS"))
		return;
	took = seconds_since(&start);
	if (took > DEBUGINFOD_GIVE_UP_S) {
		fprintf(stderr, "note: debuginfod found nothing for %s in %.1fs: no more fetches "
			"this run\n", f->path, took);
		unsetenv("DEBUGINFOD_URLS");
	}
}

struct sym_frame sym_file_base_frame(const struct sym_file *f, uint64_t report, uint64_t addr)
{
	struct sym_frame base = {
		.addr = addr,
		.kind = SYM_FRAME_MODULE,
		.module = f->path,
		.build_id = f->build_id[0] ? f->build_id : NULL,
	};

	sym_file_vaddr_to_offset(f, report, &base.module_offset);
	return base;
}

size_t sym_file_resolve(struct sym_file *f, uint64_t lookup, uint64_t report, uint64_t addr,
			struct sym_frame *out, size_t max)
{
	struct sym_frame base = sym_file_base_frame(f, report, addr);
	uint64_t start;
	size_t n;

	if (!max)
		return 0;
	out[0] = base;
	if (!load(f))
		return 1;
	if (!f->debuginfo_sought)
		debuginfo_seek(f);
	n = f->dwarf ? sym_dwarf_frames(f->dwarf, lookup, report, &base, out, max) : 0;
	if (n)
		return n;
	/* no function in the DWARF here: the symbol table's name (the .symtab, the .dynsym or
	 * MiniDebugInfo's), and the line table's line (code between functions, cold parts) */
	if (!f->symtab)
		f->symtab = sym_symtab_new(f, f->mod);
	out[0].function = f->symtab ? sym_symtab_lookup(f->symtab, lookup, &start) : NULL;
	if (out[0].function) {
		out[0].kind = SYM_FRAME_SYMBOL;
		out[0].function_offset = report - start;
	}
	if (f->dwarf)
		sym_dwarf_line(f->dwarf, lookup, &out[0]);
	if (out[0].file)
		out[0].kind = SYM_FRAME_SOURCE;
	return 1;
}

bool sym_file_vaddr_to_offset(const struct sym_file *f, uint64_t vaddr, uint64_t *offset)
{
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct sym_segment *sg = &f->segs[i];

		if (vaddr >= sg->vaddr && vaddr < sg->vaddr + sg->memsz) {
			*offset = vaddr - sg->vaddr + sg->offset;
			return true;
		}
	}
	return false;
}

const struct runtime_binary *sym_file_runtime(struct sym_file *f)
{
	Elf *elf;

	if (!f->runtime_probed) {
		f->runtime_probed = true;
		elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
		if (elf && elf_kind(elf) == ELF_K_ELF)
			runtime_probe(elf, f->path, &f->runtime);
		if (elf)
			elf_end(elf);
	}
	return &f->runtime;
}

bool sym_file_offset_to_vaddr(const struct sym_file *f, uint64_t offset, uint64_t *vaddr)
{
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct sym_segment *sg = &f->segs[i];

		if (offset >= sg->offset && offset < sg->offset + sg->filesz) {
			*vaddr = offset - sg->offset + sg->vaddr;
			return true;
		}
	}
	return false;
}

/* A mapping of file offset pgoff at map_start: the segment that starts there (page-aligned)
 * says which virtual address the mapping holds. */
uint64_t sym_file_bias(const struct sym_file *f, uint64_t map_start, uint64_t map_pgoff)
{
	uint64_t page = sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < f->nsegs; i++) {
		const struct sym_segment *sg = &f->segs[i];

		if ((sg->offset & ~(page - 1)) == map_pgoff)
			return map_start - (sg->vaddr & ~(page - 1));
	}
	/* not the start of a segment: assume the file is mapped whole from its first */
	return map_start - map_pgoff - (f->nsegs ? f->segs[0].vaddr - f->segs[0].offset : 0);
}
