#ifndef UNWIND_CAPTURE_H
#define UNWIND_CAPTURE_H

#include <stdint.h>

#define MAX 256

struct capture {
	uintptr_t fast[MAX], full[MAX];
	uint32_t nfast, nfull, max;
};

void capture_both(struct capture *c, uint32_t max);

#endif
