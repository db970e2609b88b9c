/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A table of fixed-size records by a 64-bit address (open addressing): the runtimes' objects
 * that the symbolizer has read (code objects, SharedFunctionInfos), by where they are. */
#ifndef STALLKIT_ADDR_TABLE_H
#define STALLKIT_ADDR_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each record begins with its address, a uint64_t, which is never 0 */
struct addr_table {
	char *records;
	size_t size; /* of a record */
	size_t n, cap;
};

#define ADDR_TABLE_INIT(record_type) ((struct addr_table){ .size = sizeof(record_type) })

/* The record of addr, a new one (zeroed but for its address: *created set) if there was
 * none; NULL if there is no memory */
void *addr_table_get(struct addr_table *t, uint64_t addr, bool *created);
/* The record in slot i (of addr_table_slots()), NULL if the slot is empty */
void *addr_table_slot(const struct addr_table *t, size_t i);
size_t addr_table_slots(const struct addr_table *t);
void addr_table_free(struct addr_table *t);

#endif
