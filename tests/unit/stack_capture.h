#ifndef STACK_CAPTURE_H
#define STACK_CAPTURE_H

#include <stdint.h>

struct stack_capture {
	uintptr_t frames[64];
	uintptr_t sp;        /* where the walk started */
	uint32_t depth, id;
};

uint32_t capture_id(struct stack_capture *c, uint32_t max);

#endif
