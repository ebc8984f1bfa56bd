#ifndef SHRIKE_MGMT_MGMT_H
#define SHRIKE_MGMT_MGMT_H

/*
 * `shrike mgmt`: the management port (mutual-TLS HTTPS API). PID 1 starts it with a SOCK_SEQPACKET socketpair fd;
 * it can also be started by hand against a fake supervisor (tests/mgmt). Returns the exit status: 0 when PID 1
 * closed the channel or on SIGTERM, 1 on errors, 2 on usage errors.
 *
 * Weak, so that a build without CONFIG_MGMT (and without mbedTLS) still links: the symbol is then NULL.
 */
int mgmt_main(int argc, char **argv) __attribute__((weak));

#endif
