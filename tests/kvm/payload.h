/* Shared by the KVM payload tests: one result line per case, in the protocol tests/run reads. */
#ifndef SHRIKE_TESTS_KVM_PAYLOAD_H
#define SHRIKE_TESTS_KVM_PAYLOAD_H

#include <stdbool.h>

/* Prints "ok NAME" or "not ok NAME: WHY" and counts the failures. */
void payload_verdict(const char *name, bool ok, const char *why);
/* The exit status for main(): 0 if every case passed, 1 otherwise. */
int payload_status(void);

#endif
