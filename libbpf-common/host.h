/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Facts about this host that the loader and stallcheck both need. */
#ifndef STALLKIT_HOST_H
#define STALLKIT_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/capability.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* The effective capabilities of this process as a bit set (capget, no libcap); false if the
 * kernel would not say. */
bool capabilities_effective(uint64_t *set);

/* Where tracefs is mounted, of the two places libbpf looks (a tracefs mounted anywhere else
 * does not help it), or NULL. */
const char *tracefs_mount_point(void);

#endif
