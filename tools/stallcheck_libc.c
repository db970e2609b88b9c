// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The C library seen from a stack walker: does its code keep frame pointers, and are its
 * separate debug files installed?  Read from the ELF file of the libc this process maps, which
 * on an ordinary host is the one every traced process maps too.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnu/libc-version.h>
#include <sys/stat.h>
#include "procfs.h"
#include "stallcheck.h"

#define DEBUG_DIR "/usr/lib/debug/.build-id"

/*
 * Below this share of functions setting up a frame pointer, the library was built without
 * them.  A build without frame pointers still sets one up in functions that need it (alloca,
 * variable-length arrays: getaddrinfo is one), about 1-2% of glibc's exported functions; a
 * build with them does so in most functions, all but the tail-calling stubs, the assembly and
 * the ones whose prologue the compiler moved off the fast path.
 */
#define FP_SHARE_DIVISOR 4
#define FP_MIN_FUNCTIONS 100
#define FP_MIN_SIZE	 16 /* smaller functions are stubs and tail calls: no prologue */

struct found_libc {
	char *path;
	size_t len;
};

static int note_first_libc(const char *path, const char *reach, void *ctx)
{
	struct found_libc *found = ctx;

	(void)reach;
	snprintf(found->path, found->len, "%s", path);
	return 1;
}

/* The libc this process maps */
static int find_libc(char *path, size_t len)
{
	struct found_libc found = { path, len };
	int ret = proc_for_each_libc(0, note_first_libc, &found);

	return ret == 1 ? 0 : ret < 0 ? ret : -ENOENT;
}

/* push %rbp; mov %rsp,%rbp (either encoding of the mov), possibly after endbr64 */
static bool has_fp_prologue(const unsigned char *p, size_t avail)
{
	static const unsigned char endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

	if (avail >= 8 && !memcmp(p, endbr64, 4)) {
		p += 4;
		avail -= 4;
	}
	return avail >= 4 && p[0] == 0x55 && p[1] == 0x48 &&
	       ((p[2] == 0x89 && p[3] == 0xe5) || (p[2] == 0x8b && p[3] == 0xec));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The first bytes of the function at addr, from the section that holds it */
static bool function_has_fp(Elf *elf, uint64_t addr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || addr < sh.sh_addr ||
		    addr >= sh.sh_addr + sh.sh_size)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || addr - sh.sh_addr >= data->d_size)
			return false;
		return has_fp_prologue((unsigned char *)data->d_buf + (addr - sh.sh_addr),
				       data->d_size - (addr - sh.sh_addr));
	}
	return false;
}

/*
 * One function proves nothing (getaddrinfo sets up a frame pointer in Debian's glibc, which
 * has none elsewhere), so count every exported function, each address once (aliases).
 */
static void check_frame_pointers(Elf *elf, Elf_Scn *dynsym, struct libc_facts *l)
{
	Elf_Data *data = elf_getdata(dynsym, NULL);
	uint64_t *addrs;
	size_t n = 0, count;
	GElf_Shdr sh;

	if (!data || !gelf_getshdr(dynsym, &sh) || !sh.sh_entsize)
		return;
	count = sh.sh_size / sh.sh_entsize;
	addrs = calloc(count ? count : 1, sizeof(*addrs));
	if (!addrs)
		return;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;

		if (gelf_getsym(data, i, &sym) && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    sym.st_shndx != SHN_UNDEF && sym.st_size >= FP_MIN_SIZE)
			addrs[n++] = sym.st_value;
	}
	qsort(addrs, n, sizeof(*addrs), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (i && addrs[i] == addrs[i - 1])
			continue;
		l->fp_checked++;
		l->fp_with += function_has_fp(elf, addrs[i]);
	}
	free(addrs);
	if (l->fp_checked >= FP_MIN_FUNCTIONS) {
		l->fp_known = true;
		l->frame_pointers = l->fp_with * FP_SHARE_DIVISOR >= l->fp_checked;
	} else {
		snprintf(l->why, sizeof(l->why),
			 "only %u exported functions: too few to tell frame pointers",
			 l->fp_checked);
	}
}

static void read_build_id(Elf_Scn *note_scn, struct libc_facts *l)
{
	Elf_Data *data = elf_getdata(note_scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;
		size_t len = 0;

		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((char *)data->d_buf + name_off, "GNU", 4))
			continue;
		for (size_t i = 0; i < nh.n_descsz && len + 3 <= sizeof(l->build_id); i++)
			len += snprintf(l->build_id + len, sizeof(l->build_id) - len, "%02x",
					desc[i]);
		return;
	}
}

/* Where separate debug files are found by build-id (Debian's libc6-dbg, Fedora's
 * debuginfo packages, and what libdwfl looks up) */
static void find_debug_file(struct libc_facts *l)
{
	struct stat st;

	if (strlen(l->build_id) < 4)
		return;
	snprintf(l->debug_file, sizeof(l->debug_file), DEBUG_DIR "/%.2s/%s.debug", l->build_id,
		 l->build_id + 2);
	l->debug_file_exists = stat(l->debug_file, &st) == 0;
}

void libc_collect(struct libc_facts *l)
{
	Elf_Scn *scn = NULL, *dynsym = NULL;
	Elf *elf;
	int fd, err;

	memset(l, 0, sizeof(*l));
	l->version = gnu_get_libc_version();
	err = find_libc(l->path, sizeof(l->path));
	if (err) {
		snprintf(l->why, sizeof(l->why), "no libc in /proc/self/maps (%s)", strerror(-err));
		return;
	}
	fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(l->why, sizeof(l->why), "cannot open it: %s", strerror(errno));
		return;
	}
	l->unwind_rules = unwind_rules_of(fd);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		snprintf(l->why, sizeof(l->why), "not an ELF file: %s", elf_errmsg(-1));
		close(fd);
		return;
	}
	l->found = true;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM)
			dynsym = scn;
		else if (sh.sh_type == SHT_NOTE && !l->build_id[0])
			read_build_id(scn, l);
	}
#if defined(__x86_64__)
	if (dynsym)
		check_frame_pointers(elf, dynsym, l);
	else
		snprintf(l->why, sizeof(l->why), "it has no .dynsym: cannot check its functions");
#else
	(void)dynsym;
	snprintf(l->why, sizeof(l->why), "the prologue check knows only x86_64 code");
#endif
	find_debug_file(l);
	elf_end(elf);
	close(fd);
}
