#ifndef SHRIKE_MGMT_SANDBOX_H
#define SHRIKE_MGMT_SANDBOX_H

#include <sys/types.h>

/* The user the management process runs as once PID 1 (root) has started it: nobody's. */
#define SANDBOX_UID 65534
#define SANDBOX_GID 65534

/*
 * Leaves root for uid/gid if it is root, sets no_new_privs and installs the seccomp filter (sandbox.c says what
 * it allows). Called once the certificates are read and the port is bound. Returns 0, or -errno after logging.
 */
int sandbox_enter(uid_t uid, gid_t gid);

#endif
