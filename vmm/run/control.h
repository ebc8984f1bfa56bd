#ifndef SHRIKE_RUN_CONTROL_H
#define SHRIKE_RUN_CONTROL_H

#include <stdint.h>

#include "kvm/vcpu.h"
#include "kvm/vm.h"
#include "lib/evloop.h"
#include "virtio/mmio.h"

/*
 * The control socket of a running guest (`shrike run --control PATH`), how the supervisor and `shrike ctl` talk
 * to it: a Unix SOCK_SEQPACKET socket, one command per message, one reply per command, handled on the event
 * thread. Commands (docs/vmm.md): info, shutdown, balloon SIZE, pause, resume, stop.
 */
#define CONTROL_MAX_CONNS	8
#define CONTROL_MSG_MAX		512

struct control_guest {
	struct vm *vm;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;
	struct virtio_dev *balloon;	/* NULL without one */
};

struct control {
	struct evloop *loop;
	const struct control_guest *guest;
	char path[108];
	struct evloop_watch listen;
	struct evloop_watch conns[CONTROL_MAX_CONNS];	/* fd -1: free */
};

/* Listens on a new socket at path (an old socket file there is replaced). Returns 0 or -errno (logged). */
int control_open(struct control *c, struct evloop *loop, const char *path, const struct control_guest *guest);
/* Closes the connections and the socket and removes its file. The event thread must be stopped. */
void control_close(struct control *c);

/* Handles one command; the reply ("ok ..." or "error: ...") goes into reply. For the socket and for tests. */
void control_command(const struct control_guest *g, const char *cmd, char *reply, size_t size);

/* `shrike ctl SOCKET COMMAND [ARG]`: sends the command, prints the reply; exit 0 on "ok", 1 otherwise. */
int control_client_main(int argc, char **argv);

#endif
