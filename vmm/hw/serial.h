#ifndef SHRIKE_HW_SERIAL_H
#define SHRIKE_HW_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/vm.h"

#define SERIAL_COM1_PORT	0x3f8
#define SERIAL_COM1_IRQ		4
#define SERIAL_RX_FIFO		64

/*
 * An 8250 UART with a receive FIFO: what the guest writes goes to emit() (a console_out, see console.h), what
 * arrives on in_fd (-1: nothing) to the guest.
 */
struct serial {
	struct vm *vm;
	unsigned int irq;
	int in_fd;
	void (*emit)(void *opaque, const uint8_t *buf, size_t len);	/* never blocks; called under lock */
	void *emit_opaque;
	pthread_mutex_t lock;
	uint8_t dll, dlm, ier, iir, lcr, mcr, lsr, msr, scr;
	uint8_t rx[SERIAL_RX_FIFO];
	unsigned int rx_head, rx_count;
	bool thr_pending;	/* the THR-empty interrupt, see update_irq() */
	int irq_level;
	int stop_fd;		/* eventfd that ends the input thread */
	pthread_t input;
	bool input_started;
};

/* Registers COM1 at SERIAL_COM1_PORT on vm's port bus. Returns 0 or -errno (logged). */
int serial_create(struct serial *s, struct vm *vm, int in_fd,
		  void (*emit)(void *opaque, const uint8_t *buf, size_t len), void *emit_opaque);

/* Starts the thread that feeds in_fd to the guest. */
int serial_start(struct serial *s);

void serial_destroy(struct serial *s);

#endif
