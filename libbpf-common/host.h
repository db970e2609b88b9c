/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Facts about this host that the loader and stallcheck both need. */
#ifndef STALLKIT_HOST_H
#define STALLKIT_HOST_H

/* Where tracefs is mounted, of the two places libbpf looks (a tracefs mounted anywhere else
 * does not help it), or NULL. */
const char *tracefs_mount_point(void);

#endif
