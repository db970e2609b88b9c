/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Strict parsing of what users type: numbers, durations with units, ID lists. */
#ifndef STALLKIT_PARSE_H
#define STALLKIT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC  1000000000ULL

/*
 * All return 0 on success and -EINVAL (nothing stored) on anything that is not entirely a
 * valid value: "12abc", "", "-3", overflow.
 */
int parse_u64(const char *s, uint64_t *out);

/* "250ms", "1.5s", "2m", "1h", "7d", "500us", "100ns"; a bare number is in default_unit_ns. */
int parse_duration(const char *s, uint64_t default_unit_ns, uint64_t *out_ns);

/* "2%", "0.5" or "2.5%": a share above 0 and at most 100 */
int parse_percent(const char *s, double *out);

struct id_list {
	pid_t *ids;
	size_t len;
};

/* "1234" or "1234,5678": appends to list (repeated options accumulate); IDs must be > 0. */
int parse_id_list(const char *s, struct id_list *list);
bool id_list_contains(const struct id_list *list, pid_t id);
void id_list_free(struct id_list *list);

#endif
