/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef STALLKIT_UTIL_H
#define STALLKIT_UTIL_H

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)    ((a) < (b) ? (a) : (b))
#define MAX(a, b)    ((a) > (b) ? (a) : (b))

/* For tdestroy() of a tree whose nodes' data belongs elsewhere */
static inline void free_nothing(void *p)
{
	(void)p;
}

/* Of array[0..n), sorted by field: how many have field <= key, which is the index just past the
 * last one at or below key (0: none).  A binary search. */
#define COUNT_AT_OR_BELOW(array, n, field, key)                                                 \
	({                                                                                     \
		size_t lo_ = 0, hi_ = (n);                                                     \
		while (lo_ < hi_) {                                                            \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;                                   \
			if ((array)[mid_].field <= (key))                                      \
				lo_ = mid_ + 1;                                                \
			else                                                                   \
				hi_ = mid_;                                                    \
		}                                                                              \
		lo_;                                                                           \
	})

#endif
