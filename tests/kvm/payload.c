#include <stdio.h>

#include "payload.h"

static int failures;

void payload_verdict(const char *name, bool ok, const char *why)
{
	if (ok) {
		printf("ok %s\n", name);
		return;
	}
	printf("not ok %s: %s\n", name, why);
	failures++;
}

int payload_status(void)
{
	return failures ? 1 : 0;
}
