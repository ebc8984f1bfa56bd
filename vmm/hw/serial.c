#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hw/serial.h"
#include "lib/log.h"

/* Register offsets from the base port. */
#define UART_RBR_THR	0	/* DLL with DLAB */
#define UART_IER	1	/* DLM with DLAB */
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7
#define UART_NR_PORTS	8

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_MASK	0x0f
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO_ON	0xc0
#define FCR_FIFO_ON	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/*
 * COM1's IRQ 4 is edge-triggered (ISA), so the guest sees an interrupt only when the line rises. The THR-empty
 * interrupt therefore works as on a 16550: pending when the transmitter empties (at once here, transmission is
 * instant), cleared by a write to THR or by an IIR read that reports it. Each byte the guest's interrupt handler
 * writes lowers the line and raises it again, so a handler that returns with bytes left to send (the 8250
 * driver's pass limit, while another vCPU keeps filling its buffer) gets another interrupt. A line that simply
 * stayed high while THRI was enabled gave it none, and the guest's console output stopped for good.
 */
static void update_irq(struct serial *s)
{
	int level;

	if ((s->ier & IER_RDI) && (s->lsr & LSR_DR))
		s->iir = IIR_RDI;
	else if ((s->ier & IER_THRI) && s->thr_pending)
		s->iir = IIR_THRI;
	else
		s->iir = IIR_NO_INT;
	level = s->iir != IIR_NO_INT;
	if (level != s->irq_level) {
		s->irq_level = level;
		vm_irq_line(s->vm, s->irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count < SERIAL_RX_FIFO) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO] = byte;
		s->rx_count++;
	}
	s->lsr |= LSR_DR;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t byte = 0;

	if (s->rx_count) {
		byte = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO;
		s->rx_count--;
	}
	if (!s->rx_count)
		s->lsr &= (uint8_t)~LSR_DR;
	return byte;
}

static void transmit(struct serial *s, uint8_t byte)
{
	/* In loopback the byte comes straight back, which the 8250 driver uses to test for a UART. */
	if (s->mcr & MCR_LOOP) {
		rx_push(s, byte);
		return;
	}
	s->emit(s->emit_opaque, &byte, 1);
}

static uint8_t modem_status(const struct serial *s)
{
	uint8_t msr = 0;

	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback wires the modem control outputs back to the status inputs. */
	if (s->mcr & MCR_DTR)
		msr |= MSR_DSR;
	if (s->mcr & MCR_RTS)
		msr |= MSR_CTS;
	if (s->mcr & MCR_OUT1)
		msr |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return msr;
}

static void serial_write(struct serial *s, unsigned int reg, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab) {
			s->dll = v;
			break;
		}
		s->thr_pending = false;
		update_irq(s);
		transmit(s, v);
		s->thr_pending = true;
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI while the transmitter is empty makes it pending, as on a 16550. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_pending = true;
		s->ier = v & IER_MASK;
		break;
	case UART_IIR_FCR:
		if (v & FCR_CLEAR_RX) {
			s->rx_count = 0;
			s->lsr &= (uint8_t)~LSR_DR;
		}
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & MCR_MASK;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break;	/* LSR and MSR are read-only */
	}
}

static uint8_t serial_read(struct serial *s, unsigned int reg)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? s->dll : rx_pop(s);
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR_FCR:
		v = s->iir;
		if (v == IIR_THRI)
			s->thr_pending = false;
		return v | IIR_FIFO_ON;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return s->lsr;
	case UART_MSR:
		return modem_status(s);
	default:
		return s->scr;
	}
}

static void serial_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial *s = opaque;
	unsigned int reg = (unsigned int)(addr - SERIAL_COM1_PORT);
	uint32_t i;

	pthread_mutex_lock(&s->lock);
	/* A wider access touches consecutive registers, as on the ISA bus; the range check keeps it inside. */
	for (i = 0; i < len && reg + i < UART_NR_PORTS; i++) {
		if (is_write)
			serial_write(s, reg + i, data[i]);
		else
			data[i] = serial_read(s, reg + i);
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

int serial_create(struct serial *s, struct vm *vm, int in_fd,
		  void (*emit)(void *opaque, const uint8_t *buf, size_t len), void *emit_opaque)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->irq = SERIAL_COM1_IRQ;
	s->in_fd = in_fd;
	s->emit = emit;
	s->emit_opaque = emit_opaque;
	s->iir = IIR_NO_INT;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->mcr = MCR_OUT2;
	pthread_mutex_init(&s->lock, NULL);
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0) {
		ret = -errno;
		log_error("serial: eventfd: %s", strerror(errno));
		return ret;
	}
	ret = iotrap_register(&vm->io, IOTRAP_PIO, SERIAL_COM1_PORT, UART_NR_PORTS, serial_io, s);
	if (ret < 0) {
		log_error("serial: ports 0x%x-0x%x: %s", SERIAL_COM1_PORT, SERIAL_COM1_PORT + UART_NR_PORTS - 1,
			  strerror(-ret));
		close(s->stop_fd);
		s->stop_fd = -1;
	}
	return ret;
}

/* Waits until the FIFO has room, then hands the guest what arrived; a guest that never reads stalls only us. */
static void *serial_input(void *arg)
{
	struct serial *s = arg;
	struct pollfd fds[2] = { { .fd = s->stop_fd, .events = POLLIN }, { .fd = s->in_fd, .events = POLLIN } };
	uint8_t buf[SERIAL_RX_FIFO];
	unsigned int room, i;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		room = SERIAL_RX_FIFO - s->rx_count;
		pthread_mutex_unlock(&s->lock);
		if (poll(fds, room ? 2 : 1, room ? -1 : 10) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		if (!room || !(fds[1].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(s->in_fd, buf, room);
		if (n <= 0) {
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			break;	/* end of input: the guest just gets no more */
		}
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < (unsigned int)n; i++)
			rx_push(s, buf[i]);
		update_irq(s);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int serial_start(struct serial *s)
{
	int err;

	if (s->in_fd < 0)
		return 0;
	err = pthread_create(&s->input, NULL, serial_input, s);
	if (err) {
		log_error("serial: input thread: %s", strerror(err));
		return -err;
	}
	s->input_started = true;
	return 0;
}

void serial_destroy(struct serial *s)
{
	uint64_t one = 1;

	if (s->input_started) {
		if (write(s->stop_fd, &one, sizeof(one)) < 0)
			log_error("serial: stopping input: %s", strerror(errno));
		pthread_join(s->input, NULL);
		s->input_started = false;
	}
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	s->stop_fd = -1;
}
