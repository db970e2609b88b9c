/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The running kernel's build configuration: /boot/config-$(uname -r) or /proc/config.gz. */
#ifndef STALLKIT_KCONFIG_H
#define STALLKIT_KCONFIG_H

/* The value of a numeric option such as "CONFIG_HZ": 0, or -1 if no configuration says it */
int kconfig_number(const char *name, long *value);

#endif
