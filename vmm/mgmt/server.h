#ifndef SHRIKE_MGMT_SERVER_H
#define SHRIKE_MGMT_SERVER_H

/*
 * The management port's event loop: one thread, epoll, non-blocking sockets and non-blocking mbedTLS sessions.
 *
 * Limits (docs/security.md): SERVER_MAX_CONNS connections at once; at the cap a new connection takes the place of
 * the oldest one still in its handshake, else of the longest-idle keep-alive connection, so idle or slow clients
 * cannot lock an operator out. A handshake must finish within SERVER_HANDSHAKE_MS, a request within
 * SERVER_REQUEST_MS of its first byte, and a keep-alive connection is closed after SERVER_IDLE_MS without one.
 */
#define SERVER_MAX_CONNS 512
#define SERVER_HANDSHAKE_MS 10000
#define SERVER_REQUEST_MS 30000
#define SERVER_IDLE_MS 60000
#define SERVER_SUPERVISOR_MS 15000	/* PID 1 must answer within this, or the client gets 504 */
#define SERVER_STREAM_BACKLOG (256 * 1024)	/* stream bytes queued for a slow reader before output is dropped */

/* Serves until PID 1 closes sup_fd (returns 0) or SIGTERM/SIGINT (returns 0); -errno if the loop cannot run. */
int server_run(int listen_fd, int sup_fd);

#endif
