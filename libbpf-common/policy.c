// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reading the policy file: KEY = VALUE lines, every key known, every value valid. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "parse.h"
#include "policy.h"

enum value_kind { DURATION, YES_NO, PATH, NAME, PERCENT };

static const struct policy_key {
	const char *name;
	enum value_kind kind;
} keys[] = {
	{ "max_duration", DURATION },  { "require_reason", YES_NO }, { "require_target", YES_NO },
	{ "audit_log", PATH },	       { "capture_dir", PATH },	     { "capture_group", NAME },
	{ "retention", DURATION },     { "max_cpu", PERCENT },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const expected[] = {
	[DURATION] = "a duration like 5m, 90s or 7d",
	[YES_NO] = "yes or no",
	[PATH] = "an absolute path",
	[NAME] = "a group name",
	[PERCENT] = "a share of the CPU like 2% or 0.5%",
};

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int set_string(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	return *field ? 0 : -1;
}

/* Stores a valid value of key k: 0, or -1 when it does not parse */
static int set_value(struct policy *p, size_t k, const char *v)
{
	uint64_t *durations[] = { &p->max_duration_ns, &p->retention_ns };
	bool *flags[] = { &p->require_reason, &p->require_target };
	const char *name = keys[k].name;

	switch (keys[k].kind) {
	case DURATION:
		return parse_duration(v, NSEC_PER_SEC,
				      durations[!strcmp(name, "retention")]) ? -1 : 0;
	case YES_NO:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return -1;
		*flags[!strcmp(name, "require_target")] = !strcmp(v, "yes");
		return 0;
	case PATH:
		if (*v != '/')
			return -1;
		return set_string(!strcmp(name, "audit_log") ? &p->audit_log : &p->capture_dir, v);
	case NAME:
		if (!*v || strpbrk(v, " \t:/"))
			return -1;
		return set_string(&p->capture_group, v);
	case PERCENT:
		return parse_percent(v, &p->max_cpu_pct) ? -1 : 0;
	}
	return -1;
}

static int parse_line(struct policy *p, char *line, bool seen[NKEYS], char *err, size_t errlen,
		      unsigned int lineno)
{
	char *eq = strchr(line, '='), *key, *value;
	size_t k;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	if (!eq) {
		snprintf(err, errlen, "%s:%u: expected KEY = VALUE, found '%.40s'", p->path, lineno,
			 line);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	for (k = 0; k < NKEYS && strcmp(key, keys[k].name); k++)
		;
	if (k == NKEYS) {
		snprintf(err, errlen, "%s:%u: %.40s: unknown key", p->path, lineno, key);
		return -1;
	}
	if (seen[k]) {
		snprintf(err, errlen, "%s:%u: %s: given twice", p->path, lineno, key);
		return -1;
	}
	seen[k] = true;
	if (set_value(p, k, value)) {
		snprintf(err, errlen, "%s:%u: %s: '%.40s' is not %s", p->path, lineno, key, value,
			 expected[keys[k].kind]);
		return -1;
	}
	return 0;
}

int policy_load_file(struct policy *p, const char *path, char *err, size_t errlen)
{
	bool seen[NKEYS] = {};
	unsigned int lineno = 0;
	char line[1024];
	struct stat st;
	FILE *f;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	snprintf(p->path, sizeof(p->path), "%s", path);
	if (set_string(&p->audit_log, POLICY_AUDIT_LOG))
		return -1;
	f = fopen(path, "re");
	if (!f && errno == ENOENT && !strcmp(path, POLICY_PATH))
		return 0;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	p->present = true;
	if (fstat(fileno(f), &st) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		/* whoever else could write it could allow themselves anything */
		snprintf(err, errlen, "%s: must be owned by root and writable by root only", path);
		fclose(f);
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			ret = -1;
		} else {
			ret = parse_line(p, line, seen, err, errlen, lineno);
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ret = -1;
	}
	fclose(f);
	return ret;
}

int policy_load(struct policy *p, char *err, size_t errlen)
{
	/* not for a program run with file capabilities: its caller would choose its own policy */
	const char *path = secure_getenv("STALLKIT_POLICY");

	return policy_load_file(p, path && *path ? path : POLICY_PATH, err, errlen);
}

void policy_free(struct policy *p)
{
	free(p->audit_log);
	free(p->capture_dir);
	free(p->capture_group);
	p->audit_log = p->capture_dir = p->capture_group = NULL;
}
