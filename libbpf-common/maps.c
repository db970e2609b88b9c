// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "maps.h"

int possible_cpus(void)
{
	static int ncpu;

	if (!ncpu)
		ncpu = libbpf_num_possible_cpus();
	return ncpu > 0 ? ncpu : 1;
}

static size_t value_stride(const struct bpf_map *map)
{
	size_t size = bpf_map__value_size(map);
	enum bpf_map_type type = bpf_map__type(map);

	if (type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	    type == BPF_MAP_TYPE_PERCPU_ARRAY)
		return ((size + 7) & ~(size_t)7) * possible_cpus();
	return size;
}

long map_dump(struct bpf_map *map, void **keys_out, void **values_out)
{
	size_t ksize = bpf_map__key_size(map), vsize = value_stride(map);
	size_t cap = bpf_map__max_entries(map), n = 0;
	int fd = bpf_map__fd(map);
	char *keys = malloc(cap * ksize), *values = malloc(cap * vsize);
	size_t tsize = ksize > 8 ? ksize : 8; /* the batch token: a key, or a bucket number */
	void *in = NULL, *out = malloc(tsize);

	*keys_out = *values_out = NULL;
	if (!keys || !values || !out)
		goto nomem;
	/* Batches need no consistent snapshot across the map, which a live map never has:
	 * each element is read whole, which is all the counters need. */
	for (;;) {
		__u32 count = cap - n;
		int err;

		if (!count)
			break;
		err = bpf_map_lookup_batch(fd, in, out, keys + n * ksize, values + n * vsize,
					   &count, NULL);
		n += count;
		if (err && errno == ENOENT)
			break;
		if (err) {
			err = -errno;
			free(keys);
			free(values);
			free(in);
			free(out);
			return err;
		}
		if (!in)
			in = malloc(tsize);
		if (!in)
			goto nomem;
		memcpy(in, out, tsize);
	}
	free(in);
	free(out);
	*keys_out = keys;
	*values_out = values;
	return n;
nomem:
	free(keys);
	free(values);
	free(in);
	free(out);
	return -ENOMEM;
}
