// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The heap on transparent huge pages.  Indexing a large binary's debug information allocates
 * hundreds of MiB (libdw's line tables and DIE data, the symbolizer's own index) and reads them
 * at random: with 4 KiB pages, page faults and TLB misses were near half the time it took
 * (stallsym on 5,000 addresses of a 32,000-function binary: 0.95 s, 0.5 s on huge pages).
 *
 * Where the kernel gives huge pages only to memory that asks (transparent_hugepage "madvise",
 * Debian's default), glibc's malloc asks for its heap when its tunable glibc.malloc.hugetlb=1 is
 * set, and large blocks stay on that heap with a higher mmap threshold.  Tunables are read when
 * the program starts, so a tool started without them runs itself again with them (the same
 * process: exec keeps the PID, the arguments and the signal mask).  A tunable the user set is
 * left as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "heap.h"
#include "procfs.h"

#define TUNABLES     "GLIBC_TUNABLES"
#define HUGE_HEAP    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432"
#define MAX_CMDLINE  (256 << 10)

/* The arguments the process was started with, from /proc/self/cmdline; NULL if unreadable */
static char **own_arguments(void)
{
	static char buf[MAX_CMDLINE];
	ssize_t len = proc_read_file("/proc/self/cmdline", buf, sizeof(buf));
	size_t n = 0;
	char **argv;

	if (len <= 0 || len == sizeof(buf) - 1)
		return NULL;
	for (ssize_t i = 0; i < len; i++)
		n += !buf[i];
	argv = calloc(n + 1, sizeof(*argv));
	for (ssize_t i = 0, k = 0; argv && i < len; i += strlen(buf + i) + 1)
		argv[k++] = buf + i;
	return argv;
}

void heap_on_huge_pages(void)
{
	const char *set = getenv(TUNABLES);
	char **argv;
	char *value;

	if (set && strstr(set, "glibc.malloc."))
		return; /* ours, already applied, or the user's own choice */
	argv = own_arguments();
	if (!argv || asprintf(&value, "%s%s%s", set ? set : "", set ? ":" : "", HUGE_HEAP) < 0) {
		free(argv);
		return;
	}
	setenv(TUNABLES, value, 1);
	execv("/proc/self/exe", argv);
	/* not run again (no /proc): the heap as it is */
	if (set)
		setenv(TUNABLES, set, 1);
	else
		unsetenv(TUNABLES);
	free(value);
	free(argv);
}
