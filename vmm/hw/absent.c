#include <string.h>

#include "hw/absent.h"
#include "lib/log.h"

static const struct {
	uint16_t port;
	uint16_t len;
} absent_ports[] = {
	{ 0x2e, 2 },		/* Super I/O configuration index/data */
	{ 0x4e, 2 },		/* the other Super I/O address */
	{ 0x87, 1 },		/* DMA page register the kernel reads early */
	{ 0x2e8, 8 },		/* COM4 */
	{ 0x2f8, 8 },		/* COM2 */
	{ 0x3e8, 8 },		/* COM3 */
	{ 0xcf8, 8 },		/* PCI configuration mechanism 1 */
};

static void absent_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	(void)opaque;
	(void)addr;
	if (!is_write)
		memset(data, 0xff, len);
}

int absent_create(struct vm *vm)
{
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(absent_ports) / sizeof(absent_ports[0]); i++) {
		ret = iotrap_register(&vm->io, IOTRAP_PIO, absent_ports[i].port, absent_ports[i].len, absent_io, NULL);
		if (ret < 0) {
			log_error("ports 0x%x-0x%x: %s", absent_ports[i].port,
				  absent_ports[i].port + absent_ports[i].len - 1, strerror(-ret));
			return ret;
		}
	}
	return 0;
}
