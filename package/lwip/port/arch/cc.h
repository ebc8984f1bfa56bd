/* lwIP compiler/platform glue for a hosted musl build: standard headers give the
 * integer types, errno values and byte order. */
#ifndef SHRIKE_LWIP_ARCH_CC_H
#define SHRIKE_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_ERRNO_STDINCLUDE   1
/* The VMM includes <arpa/inet.h> next to lwIP: keep the libc's htons() and friends. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1
#define LWIP_TIMEVAL_PRIVATE    0
#define LWIP_PLATFORM_DIAG(x)   do { printf x; } while (0)
/* A failed lwIP assertion is a bug in the stack's use, never guest input: stop loudly. */
#define LWIP_PLATFORM_ASSERT(x) do { fprintf(stderr, "lwip: assertion \"%s\" failed at %s:%d\n", \
                                     x, __FILE__, __LINE__); abort(); } while (0)

#endif
