/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* glibc's heap on transparent huge pages (heap.c says why and how). */
#ifndef STALLKIT_HEAP_H
#define STALLKIT_HEAP_H

/* Runs the program again with glibc's tunables for a huge-page heap, unless they (or other
 * malloc tunables) are set; returns only if it does not.  First thing in main(). */
void heap_on_huge_pages(void);

#endif
