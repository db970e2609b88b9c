// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>
#include "kconfig.h"

/* gzopen reads plain files too */
static int kconfig_file_number(const char *path, const char *name, long *value)
{
	size_t name_len = strlen(name);
	char line[512];
	int ret = -1;
	gzFile gz;

	gz = gzopen(path, "rb");
	if (!gz)
		return -1;
	while (ret && gzgets(gz, line, sizeof(line))) {
		char *end;

		if (strncmp(line, name, name_len) || line[name_len] != '=')
			continue;
		*value = strtol(line + name_len + 1, &end, 0);
		if (end != line + name_len + 1)
			ret = 0;
	}
	gzclose(gz);
	return ret;
}

int kconfig_number(const char *name, long *value)
{
	char boot[300];
	struct utsname u;

	if (!uname(&u)) {
		snprintf(boot, sizeof(boot), "/boot/config-%s", u.release);
		if (!kconfig_file_number(boot, name, value))
			return 0;
	}
	return kconfig_file_number("/proc/config.gz", name, value);
}
