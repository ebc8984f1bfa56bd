#ifndef SHRIKE_INIT_MGMTLINK_H
#define SHRIKE_INIT_MGMTLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "init/mgmtqueue.h"
#include "init/supervisor.h"

/*
 * PID 1's side of the management port: it starts `shrike mgmt` (the TLS server, vmm/mgmt) when [mgmt] names a
 * certificate, key and client CA, on one end of a SOCK_SEQPACKET socketpair, and answers its requests
 * (vmm/mgmt/proto.h) from the supervisor's state. mgmt parses everything that comes from the network; what
 * arrives here is checked with proto_check() before any field is read.
 *
 * Built with CONFIG_MGMT only; the functions are weak, so they are NULL in a build without it.
 */
/* Console follows and event streams mgmt holds open at once (each an HTTP client). */
#define MGMTLINK_MAX_SUBS	64

struct mgmtlink_sub {
	uint32_t id;			/* mgmt's request id; 0: a free slot (mgmt's ids start at 1) */
	int guest;			/* a guest's index for a console follow, -1 for events */
	uint64_t dropped;		/* console bytes not sent since the last event: mgmt's socket was full */
};

struct mgmtlink {
	struct supervisor *sv;
	int fd;				/* PID 1's end of the socketpair, -1 */
	pid_t pid;
	uint64_t started_ms;
	bool given_up;
	struct mgmtlink_sub subs[MGMTLINK_MAX_SUBS];
	struct mgmtqueue queue;		/* what waits for the socket to take it */
	int kvm_ok, kvm_api;		/* the boot probe's verdict, for host info */
	void (*power)(void *opaque, int how);	/* a host power request: RB_POWER_OFF or RB_AUTOBOOT */
	void *opaque;
};

/* Starts mgmt if the configuration asks for the port. Returns 0 (also when it does not) or -errno (logged). */
int mgmtlink_start(struct mgmtlink *m) __attribute__((weak));

/* The descriptor to poll for POLLIN, -1 when mgmt does not run. */
int mgmtlink_fd(const struct mgmtlink *m) __attribute__((weak));

/* The poll events to wait for on the descriptor: POLLOUT while messages wait, POLLIN unless a reply waits. */
short mgmtlink_events(const struct mgmtlink *m) __attribute__((weak));

/* Sends what waits, then answers the requests waiting on the socket. */
void mgmtlink_handle(struct mgmtlink *m) __attribute__((weak));

/* A child exited that the supervisor does not know: if it was mgmt, restart it (once it ran a while). */
void mgmtlink_exited(struct mgmtlink *m, pid_t pid, int wstatus) __attribute__((weak));

#endif
