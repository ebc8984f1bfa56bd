/* unit-sources: vmm/run/control.c vmm/lib/size.c vmm/lib/log.c vmm/lib/evloop.c vmm/kvm/vm.c vmm/kvm/vcpu.c vmm/kvm/cpuid.c vmm/hw/acpi_pm.c vmm/bus/iotrap.c vmm/run/stats.c */
/*
 * The control commands of `shrike run --control`, on a VM without KVM behind it: what each command answers, and
 * that bad input is an error line, never a crash. Pause and power button need a real guest (image test).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "check.h"
#include "run/control.h"

static struct vm vm;
static struct control_guest guest;
static char reply[CONTROL_MSG_MAX];

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.vm_fd = vm.kvm_fd = -1;
	vm.ram_size = 256ULL << 20;
	vm.exit_fd = eventfd(0, EFD_CLOEXEC);
	iotrap_init(&vm.io);
	guest = (struct control_guest){ .vm = &vm, .nr_vcpus = 2 };
}

static void teardown(void)
{
	close(vm.exit_fd);
}

static const char *test_info(void)
{
	setup();
	control_command(&guest, "info", reply, sizeof(reply));
	CHECK_STR(reply, "ok state=running vcpus=2 memory=268435456");
	teardown();
	return NULL;
}

static const char *test_unknown_and_malformed(void)
{
	static const char *const bad[] = { "", "reboot", "info now", "pause 3", "infox", "a very long command that "
					   "goes on and on and on and on and on and on and on and on" };
	unsigned int i;

	setup();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		control_command(&guest, bad[i], reply, sizeof(reply));
		CHECK(!strncmp(reply, "error: unknown command", 22));
	}
	CHECK_INT(atomic_load(&vm.exit_reason), VM_RUNNING);
	teardown();
	return NULL;
}

static const char *test_balloon_without_device(void)
{
	setup();
	control_command(&guest, "balloon 128M", reply, sizeof(reply));
	CHECK_STR(reply, "error: this guest has no balloon (CONFIG_VIRTIO_BALLOON)");
	teardown();
	return NULL;
}

static const char *test_stop(void)
{
	setup();
	control_command(&guest, "stop", reply, sizeof(reply));
	CHECK_STR(reply, "ok stopping");
	CHECK_INT(atomic_load(&vm.exit_reason), VM_EXIT_SIGNAL);
	teardown();
	return NULL;
}

/* A reply that does not fit is cut, not overrun (ASan watches the small buffer). */
static const char *test_small_reply_buffer(void)
{
	char small[8];

	setup();
	control_command(&guest, "info", small, sizeof(small));
	CHECK_STR(small, "ok stat");
	control_command(&guest, "nonsense", small, sizeof(small));
	CHECK_STR(small, "error: ");
	teardown();
	return NULL;
}

/* The socket: a client connects, sends a command, gets the reply; a ninth client is refused. */
static const char *test_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[] = "/tmp/shrike-control-test-XXXXXX";
	int fds[CONTROL_MAX_CONNS + 1], i, extra;
	struct control c;
	struct evloop loop;
	char buf[CONTROL_MSG_MAX];
	ssize_t n;

	setup();
	CHECK(mkdtemp(path));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", path);
	CHECK_INT(evloop_init(&loop), 0);
	CHECK_INT(control_open(&c, &loop, sa.sun_path, &guest), 0);
	for (i = 0; i <= CONTROL_MAX_CONNS; i++) {
		fds[i] = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		CHECK_INT(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		CHECK_INT(evloop_run_once(&loop, 1000), 0);	/* accept */
	}
	CHECK_INT(send(fds[0], "info\n", 5, 0), 5);
	CHECK_INT(evloop_run_once(&loop, 1000), 0);
	n = recv(fds[0], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	CHECK(n > 0);
	buf[n] = '\0';
	CHECK_STR(buf, "ok state=running vcpus=2 memory=268435456");
	/* the one over the limit was closed at once */
	extra = fds[CONTROL_MAX_CONNS];
	CHECK_INT(recv(extra, buf, sizeof(buf), 0), 0);
	for (i = 0; i <= CONTROL_MAX_CONNS; i++)
		close(fds[i]);
	control_close(&c);
	CHECK(access(sa.sun_path, F_OK) != 0);			/* the socket file is gone */
	evloop_destroy(&loop);
	rmdir(path);
	teardown();
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "control-info", test_info },
		{ "control-unknown-and-malformed", test_unknown_and_malformed },
		{ "control-balloon-without-device", test_balloon_without_device },
		{ "control-stop", test_stop },
		{ "control-small-reply-buffer", test_small_reply_buffer },
		{ "control-socket", test_socket },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
