#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "mgmt/api.h"
#include "mgmt/mgmt.h"
#include "mgmt/sandbox.h"
#include "mgmt/server.h"
#include "mgmt/tls.h"

#define EXIT_USAGE 2

static const char usage[] =
	"usage: shrike mgmt --listen ADDR:PORT --cert FILE --key FILE --client-ca FILE --supervisor-fd N | --routes";

/* ADDR:PORT with a numeric IPv4 address, or [IPv6]:PORT. */
static int parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hlen;

	colon = strrchr(arg, ':');
	if (!colon)
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || !port || port > 65535)
		return -EINVAL;
	hlen = (size_t)(colon - arg);
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -EINVAL;
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	*len = sizeof(*in);
	return 0;
}

static int open_listener(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a restarted mgmt must be able to bind while old connections sit in TIME_WAIT */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, 511)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int mgmt_main(int argc, char **argv)
{
	const char *listen_arg = NULL, *cert = NULL, *key = NULL, *ca = NULL, *sup_arg = NULL;
	struct sockaddr_storage ss;
	socklen_t sl;
	int i, sup, type, lfd, rc;
	socklen_t tl = sizeof(type);
	char *end;

	log_set_role("mgmt");
	if (argc == 2 && !strcmp(argv[1], "--routes")) {
		api_print_routes();
		return 0;
	}
	for (i = 1; i < argc; i++) {
		const char **opt = !strcmp(argv[i], "--listen") ? &listen_arg : !strcmp(argv[i], "--cert") ? &cert :
				   !strcmp(argv[i], "--key") ? &key : !strcmp(argv[i], "--client-ca") ? &ca :
				   !strcmp(argv[i], "--supervisor-fd") ? &sup_arg : NULL;

		if (!opt || i + 1 == argc) {
			log_error(opt ? "%s needs a value" : "unknown option %s", argv[i]);
			log_error("%s", usage);
			return EXIT_USAGE;
		}
		*opt = argv[++i];
	}
	if (!listen_arg || !cert || !key || !ca || !sup_arg) {
		log_error("%s", usage);
		return EXIT_USAGE;
	}
	if (parse_listen(listen_arg, &ss, &sl)) {
		log_error("--listen %s: expected ADDR:PORT or [ADDR6]:PORT with a numeric address", listen_arg);
		return EXIT_USAGE;
	}
	sup = (int)strtol(sup_arg, &end, 10);
	if (*end || sup < 0 || getsockopt(sup, SOL_SOCKET, SO_TYPE, &type, &tl) || type != SOCK_SEQPACKET) {
		log_error("--supervisor-fd %s: not an open SOCK_SEQPACKET socket", sup_arg);
		return EXIT_USAGE;
	}
	rc = tls_init(cert, key, ca);
	if (rc)
		return 1;
	lfd = open_listener(&ss, sl);
	if (lfd < 0) {
		log_error("listen on %s: %s", listen_arg, strerror(-lfd));
		return 1;
	}
	log_info("listening on %s", listen_arg);
	/* Nothing more to open: from here on a compromise reaches only the sockets mgmt has. */
	if (sandbox_enter(SANDBOX_UID, SANDBOX_GID)) {
		close(lfd);
		return 1;
	}
	rc = server_run(lfd, sup);
	close(lfd);
	if (rc) {
		log_error("%s", strerror(-rc));
		return 1;
	}
	return 0;
}
