// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* stallreport --prune: the policy's retention of the captures it keeps */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "options.h"
#include "parse.h"
#include "policy.h"
#include "stallreport_prune.h"

#define NSEC_PER_DAY (86400 * NSEC_PER_SEC)

/* A capture (NAME.cap), or the temporary file of one (.NAME.cap.XXXXXX) */
static bool is_capture(const char *name)
{
	size_t len = strlen(name);

	return (len > 4 && !strcmp(name + len - 4, ".cap")) ||
	       (name[0] == '.' && strstr(name, ".cap."));
}

static int prune_dir(const struct policy *p, time_t cutoff)
{
	size_t removed = 0, kept = 0, failed = 0;
	unsigned long long bytes = 0;
	struct dirent *e;
	DIR *dir = opendir(p->capture_dir);

	if (!dir) {
		fprintf(stderr, "stallreport: %s: %s\n", p->capture_dir, strerror(errno));
		return EXIT_RUNTIME;
	}
	while ((e = readdir(dir))) {
		struct stat st;

		if (!is_capture(e->d_name) ||
		    fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (st.st_mtime >= cutoff) {
			kept++;
		} else if (unlinkat(dirfd(dir), e->d_name, 0)) {
			fprintf(stderr, "stallreport: removing %s/%s: %s\n", p->capture_dir,
				e->d_name, strerror(errno));
			failed++;
		} else {
			removed++;
			bytes += st.st_size;
		}
	}
	closedir(dir);
	printf("%zu capture%s removed (%llu bytes), older than %.4g days, from %s; %zu kept\n",
	       removed, removed == 1 ? "" : "s", bytes, (double)p->retention_ns / NSEC_PER_DAY,
	       p->capture_dir, kept);
	return failed ? EXIT_RUNTIME : 0;
}

int prune_captures(void)
{
	struct policy p;
	char err[512];
	int ret = EXIT_USAGE;

	if (policy_load(&p, err, sizeof(err))) {
		fprintf(stderr, "stallreport: %s\n", err);
		ret = EXIT_RUNTIME;
	} else if (!p.present) {
		fprintf(stderr, "stallreport: --prune: there is no policy (%s): no capture_dir to "
			"prune\n", p.path);
	} else if (!p.capture_dir || !p.retention_ns) {
		fprintf(stderr, "stallreport: --prune: the policy (%s) has no %s\n", p.path,
			!p.capture_dir ? "capture_dir" : "retention");
	} else {
		ret = prune_dir(&p, time(NULL) - (time_t)(p.retention_ns / NSEC_PER_SEC));
	}
	policy_free(&p);
	return ret;
}
