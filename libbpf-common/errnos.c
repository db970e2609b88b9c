// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "errnos.h"
#include "parse.h"
#include "util.h"

/* include/linux/errno.h: never seen by applications, but sys_exit sees them before the kernel
 * restarts an interrupted syscall.  Stable kernel ABI for tracers. */
static const struct errno_name kernel_restart_codes[] = {
	{ "ERESTARTSYS", 512, false },	  { "ERESTARTNOINTR", 513, false },
	{ "ERESTARTNOHAND", 514, false }, { "ENOIOCTLCMD", 515, false },
	{ "ERESTART_RESTARTBLOCK", 516, false },
};

const char *errno_name(int value)
{
	for (unsigned int i = 0; i < errno_names_len; i++)
		if (errno_names[i].value == value && !errno_names[i].alias)
			return errno_names[i].name;
	for (unsigned int i = 0; i < ARRAY_LEN(kernel_restart_codes); i++)
		if (kernel_restart_codes[i].value == value)
			return kernel_restart_codes[i].name;
	return NULL;
}

int errno_lookup(const char *s, int *value)
{
	uint64_t v;

	if (!parse_u64(s, &v)) {
		if (v == 0 || v > 4095)
			return -ENOENT;
		*value = v;
		return 0;
	}
	for (unsigned int i = 0; i < errno_names_len; i++) {
		if (!strcmp(errno_names[i].name, s)) {
			*value = errno_names[i].value;
			return 0;
		}
	}
	for (unsigned int i = 0; i < ARRAY_LEN(kernel_restart_codes); i++) {
		if (!strcmp(kernel_restart_codes[i].name, s)) {
			*value = kernel_restart_codes[i].value;
			return 0;
		}
	}
	return -ENOENT;
}
