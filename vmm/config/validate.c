#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/sha256.h"

/* The checks that need the whole file: names, references, cycles, resources shared between guests. */

struct validator {
	struct config *cfg;
	struct config_errors *errs;
	bool failed;
};

static void error(struct validator *v, unsigned int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void error(struct validator *v, unsigned int line, const char *fmt, ...)
{
	char text[CONFIG_ERROR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	config_error(v->errs, v->cfg->file, line, "%s", text);
	v->failed = true;
}

static int guest_find(const struct config *cfg, const char *name)
{
	unsigned int i;

	for (i = 0; i < cfg->nguests; i++)
		if (!strcmp(cfg->guests[i].name, name))
			return (int)i;
	return -1;
}

static void check_names(struct validator *v)
{
	const struct config *cfg = v->cfg;
	unsigned int i, j, k, l;

	for (i = 0; i < cfg->nguests; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->guests[i].name, cfg->guests[j].name)) {
				error(v, cfg->guests[i].line, "guest %s is defined twice, first at line %u",
				      cfg->guests[i].name, cfg->guests[j].line);
				break;
			}
	for (i = 0; i < cfg->nbridges; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->bridges[i].name, cfg->bridges[j].name)) {
				error(v, cfg->bridges[i].line, "bridge %s is defined twice, first at line %u",
				      cfg->bridges[i].name, cfg->bridges[j].line);
				break;
			}
	/* An interface can only be enslaved to one bridge. */
	for (i = 0; i < cfg->nbridges; i++)
		for (k = 0; k < cfg->bridges[i].nports; k++)
			for (j = 0; j < i; j++)
				for (l = 0; l < cfg->bridges[j].nports; l++)
					if (!strcmp(cfg->bridges[i].ports[k], cfg->bridges[j].ports[l]))
						error(v, cfg->bridges[i].ports_line,
						      "ports: %s is already a port of bridge %s (line %u)",
						      cfg->bridges[i].ports[k], cfg->bridges[j].name,
						      cfg->bridges[j].ports_line);
}

static void check_host(struct validator *v)
{
	const struct config_host *h = &v->cfg->host;
	const struct config_mgmt *m = &v->cfg->mgmt;
	uint32_t mask;
	int given = !!m->cert_line + !!m->key_line + !!m->client_ca_line;

	if (h->gateway_set) {
		mask = h->prefix ? UINT32_MAX << (32 - h->prefix) : 0;
		if (h->dhcp)
			error(v, h->gateway_line, "gateway: only with a static address (address is dhcp)");
		else if ((h->gateway & mask) != (h->address & mask) || h->gateway == h->address)
			error(v, h->gateway_line, "gateway: %u.%u.%u.%u is not another address in the subnet of address",
			      h->gateway >> 24, h->gateway >> 16 & 255, h->gateway >> 8 & 255, h->gateway & 255);
	}
	if (given && given < 3)
		error(v, m->line, "[mgmt]: cert, key and client-ca are given all three or none (missing:%s%s%s)",
		      m->cert_line ? "" : " cert", m->key_line ? "" : " key", m->client_ca_line ? "" : " client-ca");
}

/* The user networks of one guest live in one VMM, which tells their packets apart by network. */
static void check_user_nets(struct validator *v, const struct config_guest *g)
{
	const struct config_nic *a, *b;
	uint32_t mask_a, mask_b;
	unsigned int i, j;

	for (i = 0; i < g->nnics; i++) {
		a = &g->nics[i];
		if (a->kind != CONFIG_NIC_USER)
			continue;
		mask_a = UINT32_MAX << (32 - a->prefix);
		for (j = 0; j < i; j++) {
			b = &g->nics[j];
			if (b->kind != CONFIG_NIC_USER)
				continue;
			mask_b = UINT32_MAX << (32 - b->prefix);
			if ((a->net & mask_b) != b->net && (b->net & mask_a) != a->net)
				continue;
			error(v, a->line, "nic: user network %u.%u.%u.%u/%u overlaps the one of line %u; give each "
			      "user NIC its own net=", a->net >> 24, a->net >> 16 & 255, a->net >> 8 & 255,
			      a->net & 255, a->prefix, b->line);
			break;
		}
	}
}

static void check_nics(struct validator *v)
{
	struct config *cfg = v->cfg;
	struct config_guest *g;
	struct config_nic *n;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char seed[CONFIG_NAME_MAX + 16];
	unsigned int i, j, bi;
	bool user;

	for (i = 0; i < cfg->nguests; i++) {
		g = &cfg->guests[i];
		user = false;
		for (j = 0; j < g->nnics; j++) {
			n = &g->nics[j];
			if (n->kind == CONFIG_NIC_USER)
				user = true;
			if (n->kind == CONFIG_NIC_BRIDGE) {
				for (bi = 0; bi < cfg->nbridges; bi++)
					if (!strcmp(cfg->bridges[bi].name, n->bridge))
						break;
				if (bi == cfg->nbridges)
					error(v, n->line, "nic: no [bridge %s] in this file", n->bridge);
			}
			if (!n->mac_given) {
				/* Stable across boots and reflashes: derived from what names the NIC. */
				snprintf(seed, sizeof(seed), "%s/%u", g->name, j);
				sha256_digest(seed, strlen(seed), digest);
				n->mac[0] = 0x52, n->mac[1] = 0x54, n->mac[2] = 0x00;
				memcpy(n->mac + 3, digest, 3);
			}
		}
		for (j = 0; j < g->nforwards && !user; j++)
			error(v, g->forwards[j].line, "forward: guest %s has no user NIC (nic = user) to forward to",
			      g->name);
		check_user_nets(v, g);
	}
}

/* Every pair of NICs, each pair once, in file order: the later one gets the error. */
static void check_macs(struct validator *v)
{
	const struct config *cfg = v->cfg;
	const struct config_nic *a, *b;
	unsigned int gi, ni, gj, nj;

	for (gi = 0; gi < cfg->nguests; gi++)
		for (ni = 0; ni < cfg->guests[gi].nnics; ni++) {
			a = &cfg->guests[gi].nics[ni];
			for (gj = 0; gj <= gi; gj++)
				for (nj = 0; nj < cfg->guests[gj].nnics && (gj < gi || nj < ni); nj++) {
					b = &cfg->guests[gj].nics[nj];
					if (memcmp(a->mac, b->mac, 6))
						continue;
					error(v, a->line, "nic: MAC %02x:%02x:%02x:%02x:%02x:%02x%s is also the MAC of a "
					      "NIC of guest %s (line %u)%s", a->mac[0], a->mac[1], a->mac[2], a->mac[3],
					      a->mac[4], a->mac[5], a->mac_given ? "" : " (generated)",
					      cfg->guests[gj].name, b->line,
					      a->mac_given && b->mac_given ? "" : "; set mac= by hand");
					goto next;
				}
next:
			;
		}
}

static void check_forwards(struct validator *v)
{
	const struct config *cfg = v->cfg;
	const struct config_forward *a, *b;
	unsigned int gi, fi, gj, fj;

	for (gi = 0; gi < cfg->nguests; gi++)
		for (fi = 0; fi < cfg->guests[gi].nforwards; fi++) {
			a = &cfg->guests[gi].forwards[fi];
			if (cfg->mgmt.line && a->host_port == cfg->mgmt.listen_port)
				error(v, a->line, "forward: host port %u is the management port ([mgmt] listen)",
				      a->host_port);
			for (gj = 0; gj <= gi; gj++)
				for (fj = 0; fj < cfg->guests[gj].nforwards && (gj < gi || fj < fi); fj++) {
					b = &cfg->guests[gj].forwards[fj];
					if (a->host_port != b->host_port)
						continue;
					error(v, a->line, "forward: host port %u is already forwarded to guest %s "
					      "(line %u)", a->host_port, cfg->guests[gj].name, b->line);
					goto next;
				}
next:
			;
		}
}

static void resolve_after(struct validator *v)
{
	struct config *cfg = v->cfg;
	struct config_guest *g;
	unsigned int i, j;
	int idx;

	for (i = 0; i < cfg->nguests; i++) {
		g = &cfg->guests[i];
		for (j = 0; j < g->nafter; j++) {
			idx = guest_find(cfg, g->after_names[j]);
			if (idx < 0)
				error(v, g->after_line, "after: no guest named %s", g->after_names[j]);
			else if ((unsigned int)idx == i || !strcmp(g->after_names[j], g->name))
				error(v, g->after_line, "after: guest %s names itself", g->name);
			g->after[j] = idx < 0 ? i : (unsigned int)idx;	/* self-edges are ignored by the walk */
		}
	}
}

enum { WHITE, GREY, BLACK };

/* Depth-first walk along after[]; a grey guest met again closes a cycle, which stack[] spells out. */
static void walk(struct validator *v, unsigned int i, unsigned char *color, unsigned int *stack, unsigned int depth)
{
	const struct config *cfg = v->cfg;
	const struct config_guest *g = &cfg->guests[i];
	char text[CONFIG_ERROR_LEN];
	unsigned int j, k, start, next;
	size_t len;

	color[i] = GREY;
	stack[depth] = i;
	for (j = 0; j < g->nafter; j++) {
		next = g->after[j];
		if (next == i)
			continue;
		if (color[next] == GREY) {
			for (start = 0; stack[start] != next; start++)
				;
			len = 0;
			for (k = start; k <= depth && len < sizeof(text); k++)
				len += (size_t)snprintf(text + len, sizeof(text) - len, "%s -> ",
							cfg->guests[stack[k]].name);
			if (len < sizeof(text))
				snprintf(text + len, sizeof(text) - len, "%s", cfg->guests[next].name);
			error(v, g->after_line, "after: dependency cycle %s", text);
		} else if (color[next] == WHITE) {
			walk(v, next, color, stack, depth + 1);
		}
	}
	color[i] = BLACK;
}

static void check_cycles(struct validator *v)
{
	unsigned char color[CONFIG_MAX_GUESTS] = { 0 };
	unsigned int stack[CONFIG_MAX_GUESTS], i;

	for (i = 0; i < v->cfg->nguests; i++)
		if (color[i] == WHITE)
			walk(v, i, color, stack, 0);
}

static void check_memory(struct validator *v, uint64_t host_memory)
{
	const struct config *cfg = v->cfg;
	uint64_t sum = 0;
	unsigned int i;

	if (!host_memory)
		return;
	for (i = 0; i < cfg->nguests; i++) {
		if (!cfg->guests[i].autostart)
			continue;
		sum += cfg->guests[i].memory;
		if (sum > host_memory) {
			error(v, cfg->guests[i].line, "guest %s: the autostart guests up to here need %llu MiB, more "
			      "than the %llu MiB the host has", cfg->guests[i].name, (unsigned long long)(sum >> 20),
			      (unsigned long long)(host_memory >> 20));
			return;
		}
	}
}

int config_validate(struct config *cfg, uint64_t host_memory, struct config_errors *errs)
{
	struct validator v = { .cfg = cfg, .errs = errs };

	check_names(&v);
	check_host(&v);
	check_nics(&v);
	check_macs(&v);
	check_forwards(&v);
	resolve_after(&v);
	check_cycles(&v);
	check_memory(&v, host_memory);
	return v.failed ? -EINVAL : 0;
}

int config_load(const char *file_name, const char *text, size_t len, uint64_t host_memory, struct config *out,
		struct config_errors *errs)
{
	int ret = config_parse(file_name, text, len, out, errs);

	if (config_validate(out, host_memory, errs))
		ret = -EINVAL;
	return ret;
}

/* Kahn's algorithm, always taking the first ready guest in file order, so unrelated guests keep that order. */
unsigned int config_start_order(const struct config *cfg, unsigned int order[CONFIG_MAX_GUESTS])
{
	bool done[CONFIG_MAX_GUESTS] = { false };
	const struct config_guest *g;
	unsigned int n = 0, i, j;
	bool progress = true;

	while (progress && n < cfg->nguests) {
		progress = false;
		for (i = 0; i < cfg->nguests; i++) {
			if (done[i])
				continue;
			g = &cfg->guests[i];
			for (j = 0; j < g->nafter; j++)
				if (g->after[j] != i && g->after[j] < cfg->nguests && !done[g->after[j]])
					break;
			if (j < g->nafter)
				continue;
			done[i] = true;
			order[n++] = i;
			progress = true;
			break;
		}
	}
	return n;
}

unsigned int config_file_refs(const struct config *cfg, struct config_file_ref refs[CONFIG_MAX_FILE_REFS])
{
	const struct config_mgmt *m = &cfg->mgmt;
	unsigned int n = 0, i;

	if (m->cert[0])
		refs[n++] = (struct config_file_ref){ m->cert, m->cert_line, 0 };
	if (m->key[0])
		refs[n++] = (struct config_file_ref){ m->key, m->key_line, 0 };
	if (m->client_ca[0])
		refs[n++] = (struct config_file_ref){ m->client_ca, m->client_ca_line, 0 };
	for (i = 0; i < cfg->nguests; i++)
		if (cfg->guests[i].user_data[0])
			refs[n++] = (struct config_file_ref){ cfg->guests[i].user_data, cfg->guests[i].user_data_line,
							      GUEST_MAX_USER_DATA };
	return n;
}
