#include <string.h>

#include "hw/i8042.h"
#include "lib/log.h"

#define I8042_DATA_PORT		0x60
#define I8042_COMMAND_PORT	0x64
#define I8042_CMD_RESET		0xfe

/* Reads as an idle controller: no output waiting, input buffer empty, so a guest waiting to send never spins. */
static void i8042_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	if (!is_write) {
		memset(data, 0, len);
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
		log_error("run: i8042: ports 0x60/0x64: %s", strerror(-ret));
	return ret;
}
