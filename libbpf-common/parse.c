// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t ns;
} duration_units[] = {
	{ "ns", 1 },
	{ "us", NSEC_PER_USEC },
	{ "\xc2\xb5s", NSEC_PER_USEC }, /* µs */
	{ "ms", NSEC_PER_MSEC },
	{ "s", NSEC_PER_SEC },
	{ "m", 60 * NSEC_PER_SEC },
	{ "min", 60 * NSEC_PER_SEC },
	{ "h", 3600 * NSEC_PER_SEC },
	{ "d", 86400 * NSEC_PER_SEC },
};

int parse_duration(const char *s, uint64_t default_unit_ns, uint64_t *out_ns)
{
	uint64_t unit = default_unit_ns;
	const char *p = s;
	long double value;
	char *end;
	size_t i;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	/* digits and at most one decimal point, then the unit */
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p) {
		for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
			if (!strcmp(p, duration_units[i].suffix))
				break;
		if (i == sizeof(duration_units) / sizeof(duration_units[0]))
			return -EINVAL;
		unit = duration_units[i].ns;
	}
	errno = 0;
	value = strtold(s, &end);
	if (errno || end != p)
		return -EINVAL;
	value *= unit;
	if (value >= 18446744073709551615.0L)
		return -EINVAL;
	/* roundl, not llroundl: a long long cannot hold 2^63 ns and more */
	*out_ns = (uint64_t)roundl(value);
	return 0;
}

static int parse_one_id(const char *p, size_t n, pid_t *id)
{
	char buf[24];
	uint64_t v;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (parse_u64(buf, &v) || v == 0 || v > INT_MAX)
		return -EINVAL;
	*id = v;
	return 0;
}

/* Two passes, so that a bad item leaves the list as it was. */
int parse_id_list(const char *s, struct id_list *list)
{
	size_t count = 1;
	pid_t *grown;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		count += *p == ',';
	grown = realloc(list->ids, (list->len + count) * sizeof(*list->ids));
	if (!grown)
		return -ENOMEM;
	list->ids = grown;
	for (int pass = 0; pass < 2; pass++) {
		for (const char *p = s;; p++) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			pid_t id;

			if (parse_one_id(p, n, &id))
				return -EINVAL;
			if (pass == 1 && !id_list_contains(list, id))
				list->ids[list->len++] = id;
			if (!comma)
				break;
			p = comma;
		}
	}
	return 0;
}

bool id_list_contains(const struct id_list *list, pid_t id)
{
	for (size_t i = 0; i < list->len; i++)
		if (list->ids[i] == id)
			return true;
	return false;
}

void id_list_free(struct id_list *list)
{
	free(list->ids);
	list->ids = NULL;
	list->len = 0;
}

int parse_percent(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || (*end && strcmp(end, "%")) || !(v > 0) || v > 100)
		return -EINVAL;
	*out = v;
	return 0;
}
