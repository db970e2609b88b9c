/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading BPF maps from userspace: per-CPU values, whole hash maps. */
#ifndef STALLKIT_MAPS_H
#define STALLKIT_MAPS_H

#include <stddef.h>
#include <bpf/libbpf.h>

/* libbpf_num_possible_cpus(), cached; per-CPU values come in arrays of this many */
int possible_cpus(void);

/*
 * Every key and value of a hash map, read in batches: keys and values are malloc'ed arrays
 * (values of per-CPU maps hold possible_cpus() entries per key, each rounded up to 8 bytes).
 * Returns the number of entries or -errno.
 */
long map_dump(struct bpf_map *map, void **keys, void **values);

#endif
