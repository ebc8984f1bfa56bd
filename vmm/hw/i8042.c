#include <string.h>

#include "hw/i8042.h"
#include "lib/log.h"

#define I8042_DATA_PORT		0x60
#define I8042_COMMAND_PORT	0x64
#define I8042_CMD_RESET		0xfe
/*
 * Status: output buffer full, input buffer empty. A guest about to send a command sees room at once (the reboot
 * path polls for that), while a probing keyboard driver finds a buffer that never drains and decides there is no
 * controller: one quick "No controller found" instead of half a second of timeouts.
 */
#define I8042_STATUS		0x01

static void i8042_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	if (!is_write) {
		memset(data, addr == I8042_COMMAND_PORT ? I8042_STATUS : 0xff, len);
		return;
	}
	if (addr == I8042_COMMAND_PORT && data[0] == I8042_CMD_RESET)
		vm_request_exit(vm, VM_EXIT_REBOOT);
}

int i8042_create(struct vm *vm)
{
	int ret;

	ret = iotrap_register(&vm->io, IOTRAP_PIO, I8042_DATA_PORT, 1, i8042_io, vm);
	if (!ret)
		ret = iotrap_register(&vm->io, IOTRAP_PIO, I8042_COMMAND_PORT, 1, i8042_io, vm);
	if (ret < 0)
		log_error("i8042: ports 0x60/0x64: %s", strerror(-ret));
	return ret;
}
