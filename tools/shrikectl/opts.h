#ifndef SHRIKECTL_OPTS_H
#define SHRIKECTL_OPTS_H

#include <stddef.h>

#define OPTS_DEFAULT_PORT "8443"
#define OPTS_PATH_MAX 4096

/*
 * Where to connect and with which certificates. Each setting comes from the first of: the command line, the
 * environment (SHRIKE_HOST, SHRIKE_CERT, SHRIKE_KEY, SHRIKE_CA, SHRIKE_SERVER_NAME), the config file
 * (--config FILE, else $XDG_CONFIG_HOME/shrike/shrikectl.conf or ~/.config/shrike/shrikectl.conf).
 */
struct opts {
	char host[256];			/* as given, without brackets around an IPv6 address */
	char port[8];
	char cert[OPTS_PATH_MAX];	/* PEM certificate, may hold the key too (admin.pem) */
	char key[OPTS_PATH_MAX];	/* empty: the key is in cert */
	char ca[OPTS_PATH_MAX];
	char server_name[256];		/* the name to verify the server certificate against; empty: host */
	int timeout_s;			/* connect, handshake and each read */
	int json;
	char **args;			/* the verb and its arguments (options the verb knows stay in here) */
	int nargs;
};

/* Returns 0, or 2 after printing a usage error. */
int opts_parse(int argc, char **argv, struct opts *o);

/* The connection settings a verb that talks to the server needs: 0, or 2 after saying which one is missing. */
int opts_require_server(const struct opts *o);

/* "host:port", "[v6]:port" */
void opts_where(const struct opts *o, char *out, size_t size);

void opts_usage(void);

#endif
