/*
 * Comparing two configurations, and editing one's text in place: what PUT /v1/config (which guests a new config
 * changes) and PUT /v1/guests/NAME/autostart (one line of the stored text) need.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static bool disks_equal(const struct config_guest *a, const struct config_guest *b)
{
	unsigned int i;

	if (a->ndisks != b->ndisks)
		return false;
	for (i = 0; i < a->ndisks; i++)
		if (a->disks[i].kind != b->disks[i].kind || strcmp(a->disks[i].path, b->disks[i].path) ||
		    a->disks[i].ro != b->disks[i].ro)
			return false;
	return true;
}

static bool nics_equal(const struct config_guest *a, const struct config_guest *b)
{
	const struct config_nic *x, *y;
	unsigned int i;

	if (a->nnics != b->nnics)
		return false;
	for (i = 0; i < a->nnics; i++) {
		x = &a->nics[i];
		y = &b->nics[i];
		/* The MACs are the effective ones (given or derived), so a rename that changes them counts. */
		if (x->kind != y->kind || strcmp(x->bridge, y->bridge) || memcmp(x->mac, y->mac, 6) || x->net != y->net ||
		    x->prefix != y->prefix || x->address != y->address || x->address_given != y->address_given)
			return false;
	}
	return true;
}

static bool forwards_equal(const struct config_guest *a, const struct config_guest *b)
{
	unsigned int i;

	if (a->nforwards != b->nforwards)
		return false;
	for (i = 0; i < a->nforwards; i++)
		if (a->forwards[i].host_port != b->forwards[i].host_port ||
		    a->forwards[i].guest_port != b->forwards[i].guest_port)
			return false;
	return true;
}

enum config_guest_diff config_guest_diff(const struct config_guest *a, const struct config_guest *b)
{
	unsigned int i;

	if (strcmp(a->name, b->name) || strcmp(a->kernel, b->kernel) || strcmp(a->initrd, b->initrd) ||
	    strcmp(a->cmdline, b->cmdline) || a->vcpus != b->vcpus || a->memory != b->memory ||
	    a->console != b->console || a->watchdog != b->watchdog || strcmp(a->user_data, b->user_data) ||
	    !disks_equal(a, b) || !nics_equal(a, b) || !forwards_equal(a, b))
		return CONFIG_GUEST_CHANGED;
	if (a->autostart != b->autostart || a->restart != b->restart ||
	    a->restart_limit_count != b->restart_limit_count || a->restart_limit_seconds != b->restart_limit_seconds ||
	    a->shutdown_timeout != b->shutdown_timeout || a->nafter != b->nafter)
		return CONFIG_GUEST_POLICY;
	/* By name: the indices in after[] move when guests are added or removed before the named ones. */
	for (i = 0; i < a->nafter; i++)
		if (strcmp(a->after_names[i], b->after_names[i]))
			return CONFIG_GUEST_POLICY;
	return CONFIG_GUEST_SAME;
}

bool config_host_equal(const struct config *a, const struct config *b)
{
	const struct config_host *h = &a->host, *k = &b->host;
	const struct config_mgmt *m = &a->mgmt, *n = &b->mgmt;
	unsigned int i, j;

	if (strcmp(h->hostname, k->hostname) || strcmp(h->mgmt_nic, k->mgmt_nic) || h->dhcp != k->dhcp ||
	    h->address != k->address || h->prefix != k->prefix || h->gateway_set != k->gateway_set ||
	    h->gateway != k->gateway || h->ndns != k->ndns || memcmp(h->dns, k->dns, sizeof(h->dns[0]) * h->ndns) ||
	    h->log_level != k->log_level || h->rescue_shell != k->rescue_shell)
		return false;
	if (m->listen_addr != n->listen_addr || m->listen_port != n->listen_port || strcmp(m->cert, n->cert) ||
	    strcmp(m->key, n->key) || strcmp(m->client_ca, n->client_ca))
		return false;
	if (a->nbridges != b->nbridges)
		return false;
	for (i = 0; i < a->nbridges; i++) {
		if (strcmp(a->bridges[i].name, b->bridges[i].name) || a->bridges[i].nports != b->bridges[i].nports)
			return false;
		for (j = 0; j < a->bridges[i].nports; j++)
			if (strcmp(a->bridges[i].ports[j], b->bridges[i].ports[j]))
				return false;
	}
	return true;
}

/* The line of text that starts at *pos: its start, the end of its content and the start of the next line. */
static void next_line(const char *text, size_t len, size_t *pos, size_t *start, size_t *end)
{
	const char *nl = memchr(text + *pos, '\n', len - *pos);

	*start = *pos;
	*end = nl ? (size_t)(nl - text) : len;
	*pos = nl ? *end + 1 : len;
	if (*end > *start && text[*end - 1] == '\r')
		(*end)--;
}

/* True if text[start, end) is "autostart = ..." (blanks anywhere around the key and '='). */
static bool is_autostart_line(const char *text, size_t start, size_t end)
{
	static const char key[] = "autostart";

	while (start < end && (text[start] == ' ' || text[start] == '\t'))
		start++;
	if (end - start < sizeof(key) - 1 || memcmp(text + start, key, sizeof(key) - 1))
		return false;
	start += sizeof(key) - 1;
	while (start < end && (text[start] == ' ' || text[start] == '\t'))
		start++;
	return start < end && text[start] == '=';
}

int config_set_autostart(const char *text, size_t len, const struct config *cfg, unsigned int guest, bool autostart,
			 char **out, size_t *out_len)
{
	const char *value = autostart ? "yes" : "no";
	size_t pos = 0, start = 0, end = 0, indent, cut_from, cut_to, header_next = 0;
	const char *eol = "\n";
	char insert[48];
	unsigned int line = 0;
	bool found = false;
	int n;

	if (guest >= cfg->nguests)
		return -ENOENT;
	/* Up to and including the [guest NAME] line; it decides the line ending of an inserted line. */
	while (pos < len && line < cfg->guests[guest].line) {
		next_line(text, len, &pos, &start, &end);
		line++;
	}
	if (line != cfg->guests[guest].line)
		return -ENOENT;
	header_next = pos;
	if (end < len && text[end] == '\r')
		eol = "\r\n";
	/* The section runs up to the next line that starts a section (a '[' first; comments start with '#'). */
	while (pos < len) {
		next_line(text, len, &pos, &start, &end);
		for (indent = start; indent < end && (text[indent] == ' ' || text[indent] == '\t'); indent++)
			;
		if (indent < end && text[indent] == '[')
			break;
		if (is_autostart_line(text, start, end)) {
			found = true;
			break;
		}
	}
	if (found) {
		/* The line keeps its indentation and its line ending; key and value are written anew. */
		cut_from = indent;
		cut_to = end;
		n = snprintf(insert, sizeof(insert), "autostart = %s", value);
	} else {
		cut_from = cut_to = header_next;
		/* A header on the last line without its end gets one first. */
		n = snprintf(insert, sizeof(insert), "%sautostart = %s%s",
			     header_next == len && (!len || text[len - 1] != '\n') ? eol : "", value, eol);
	}
	*out_len = len - (cut_to - cut_from) + (size_t)n;
	*out = malloc(*out_len ? *out_len : 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, text, cut_from);
	memcpy(*out + cut_from, insert, (size_t)n);
	memcpy(*out + cut_from + n, text + cut_to, len - cut_to);
	return 0;
}
