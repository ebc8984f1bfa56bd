/* unit-sources: vmm/hw/serial.c vmm/bus/iotrap.c vmm/lib/log.c */
/*
 * The 8250's interrupt line as the guest's 8250 driver drives it. IRQ 4 is edge-triggered, so what counts is
 * when the line rises: a handler that leaves bytes unsent must see it rise again, or output stops for good.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "hw/serial.h"

#define THR	(SERIAL_COM1_PORT + 0)
#define IER	(SERIAL_COM1_PORT + 1)
#define IIR	(SERIAL_COM1_PORT + 2)
#define LSR	(SERIAL_COM1_PORT + 5)

#define IER_THRI	0x02
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02

static struct vm vm;
static struct serial uart;
static int level;
static unsigned int rises;
static size_t emitted;

/* serial.c raises its line through vm_irq_line(); this definition records the level and counts rising edges. */
int vm_irq_line(struct vm *v, unsigned int irq, int l)
{
	(void)v;
	(void)irq;
	if (l && !level)
		rises++;
	level = l;
	return 0;
}

static void emit(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	emitted += len;
}

static uint8_t in(uint16_t port)
{
	uint8_t v = 0x5a;

	iotrap_dispatch(&vm.io, IOTRAP_PIO, port, &v, 1, false);
	return v;
}

static void out(uint16_t port, uint8_t v)
{
	iotrap_dispatch(&vm.io, IOTRAP_PIO, port, &v, 1, true);
}

static int fresh(void)
{
	memset(&vm, 0, sizeof(vm));
	iotrap_init(&vm.io);
	level = 0;
	rises = 0;
	emitted = 0;
	return serial_create(&uart, &vm, -1, emit, NULL);
}

/* An interrupt handler's pass as Linux's serial8250_handle_irq() makes it: IIR, LSR, then up to 16 bytes. */
static uint8_t handler_pass(void)
{
	uint8_t iir = in(IIR);
	int i;

	if (iir & IIR_NO_INT)
		return iir;
	if (in(LSR) & 0x20)
		for (i = 0; i < 16; i++)
			out(THR, 'x');
	return iir;
}

static const char *test_tx_interrupt_rises_again(void)
{
	unsigned int before;

	CHECK_INT(fresh(), 0);
	out(IER, IER_THRI);	/* start_tx */
	CHECK_INT(level, 1);
	CHECK_INT(rises, 1);
	CHECK_INT(handler_pass() & 0x0f, IIR_THRI);
	CHECK_INT(emitted, 16);
	/* The handler returns with bytes still queued (its pass limit): the line must have risen since. */
	before = rises;
	CHECK(before > 1);
	CHECK_INT(level, 1);
	/* The next interrupt finds THRI pending and sends on. */
	CHECK_INT(handler_pass() & 0x0f, IIR_THRI);
	CHECK(rises > before);
	/* Nothing left: stop_tx turns THRI off and the line goes down. */
	out(IER, 0);
	CHECK_INT(level, 0);
	CHECK_INT(in(IIR) & 0x0f, IIR_NO_INT);
	serial_destroy(&uart);
	return NULL;
}

static const char *test_iir_read_clears_thri(void)
{
	CHECK_INT(fresh(), 0);
	out(IER, IER_THRI);
	CHECK_INT(in(IIR) & 0x0f, IIR_THRI);
	CHECK_INT(level, 0);
	CHECK_INT(in(IIR) & 0x0f, IIR_NO_INT);
	/* A byte written empties at once, so THRI is pending again. */
	out(THR, 'x');
	CHECK_INT(level, 1);
	CHECK_INT(in(IIR) & 0x0f, IIR_THRI);
	serial_destroy(&uart);
	return NULL;
}

/* Linux's startup test for UARTs that do not re-assert THRE (UART_BUG_THRE): re-enabling THRI must. */
static const char *test_thri_reenabled(void)
{
	CHECK_INT(fresh(), 0);
	out(IER, IER_THRI);
	CHECK_INT(in(IIR) & 0x0f, IIR_THRI);
	out(IER, 0);
	out(IER, IER_THRI);
	CHECK_INT(in(IIR) & 0x0f, IIR_THRI);
	out(IER, 0);
	serial_destroy(&uart);
	return NULL;
}

/* The console's polled writes (IER 0) never touch the line. */
static const char *test_polled_writes_quiet(void)
{
	int i;

	CHECK_INT(fresh(), 0);
	for (i = 0; i < 100; i++) {
		CHECK(in(LSR) & 0x20);
		out(THR, 'p');
	}
	CHECK_INT(emitted, 100);
	CHECK_INT(rises, 0);
	CHECK_INT(level, 0);
	serial_destroy(&uart);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "serial-tx-interrupt-rises-again", test_tx_interrupt_rises_again },
		{ "serial-iir-read-clears-thri", test_iir_read_clears_thri },
		{ "serial-thri-reenabled", test_thri_reenabled },
		{ "serial-polled-writes-quiet", test_polled_writes_quiet },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
