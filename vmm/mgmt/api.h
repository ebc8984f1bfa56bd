#ifndef SHRIKE_MGMT_API_H
#define SHRIKE_MGMT_API_H

#include <stddef.h>
#include <stdint.h>

#include "mgmt/http.h"
#include "mgmt/proto.h"

/*
 * API v1: from a parsed request and the client's role to either an answer at once (errors, 403, 404) or a message
 * for PID 1, and from PID 1's reply to the answer. Bodies are rendered into static buffers (the process is
 * single-threaded) that stay valid until the next call; the server copies them out.
 */

/* A row of the route table in api.c: an endpoint, with what answers it. */
struct api_route;

struct api_result {
	int status;			/* 0: send msg to PID 1 and call api_reply() with its answer */
	const struct api_route *route;	/* the endpoint, for api_reply() */
	const char *content_type;
	const char *body;
	size_t body_len;
	int stream;			/* the body continues as a chunked stream of api_event() pieces */
	struct proto_hdr *msg;		/* for PID 1 (status 0); id to be filled in by the sender */
};

/* role is enum tls_role, from the client certificate. */
void api_handle(const struct http_request *req, int role, struct api_result *res);
void api_reply(const struct api_route *route, const struct proto_hdr *reply, struct api_result *res);
/* An answer that is not about a request's content: a parse error, PID 1 gone or silent. */
void api_error(int status, const char *message, struct api_result *res);
/* The stream bytes for an event of a subscription (console output, a state change); 0 if nothing to send. */
size_t api_event(const struct proto_hdr *evt, char *out, size_t size);
/* The route table on stdout, a line per route: "METHOD PATH ROLE" (shrike mgmt --routes). */
void api_print_routes(void);

#endif
