#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "init/bootconf.h"
#include "init/partlabel.h"
#include "init/supervisor_args.h"
#include "lib/log.h"

static int add_arg(struct supervisor_args *a, const char *word)
{
	if (a->argc + 2 > SUPERVISOR_ARGV_MAX)
		return -E2BIG;
	a->argv[a->argc++] = word;
	a->argv[a->argc] = NULL;
	return 0;
}

int supervisor_args_add(struct supervisor_args *a, const char *opt, const char *value)
{
	int ret = add_arg(a, opt);

	return ret ? ret : add_arg(a, value);
}

static bool has_console(const char *cmdline)
{
	const char *p = cmdline;

	for (; (p = strstr(p, "console=")); p++)
		if (p == cmdline || p[-1] == ' ' || p[-1] == '\t')
			return true;
	return false;
}

static const char *ipv4(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
	return buf;
}

static const char *mac_text(const uint8_t *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/*
 * "user,mac=...,net=A.B.C.D/N[,address=...]" and, for the guest's first user NIC, its forwards: the VMM's --net
 * user syntax (docs/vmm.md). Returns 0 or -E2BIG.
 */
static int user_nic(const struct config_guest *c, const struct config_nic *n, bool first, char *buf, size_t size)
{
	char mac[24], net[16], addr[16];
	size_t len;
	unsigned int i;
	int w;

	w = snprintf(buf, size, "user,mac=%s,net=%s/%u", mac_text(n->mac, mac, sizeof(mac)),
		     ipv4(n->net, net, sizeof(net)), n->prefix);
	if (w < 0 || (size_t)w >= size)
		return -E2BIG;
	len = (size_t)w;
	if (n->address_given) {
		w = snprintf(buf + len, size - len, ",address=%s", ipv4(n->address, addr, sizeof(addr)));
		if (w < 0 || (size_t)w >= size - len)
			return -E2BIG;
		len += (size_t)w;
	}
	for (i = 0; first && i < c->nforwards; i++) {
		w = snprintf(buf + len, size - len, ",forward=tcp:%u:%u", c->forwards[i].host_port,
			     c->forwards[i].guest_port);
		if (w < 0 || (size_t)w >= size - len)
			return -E2BIG;
		len += (size_t)w;
	}
	return 0;
}

/*
 * What the metadata service tells the guest about itself. It lives in the user NIC's backend, so only a guest
 * with one gets it; mac and address are that NIC's.
 */
static int metadata(const struct config_guest *c, const struct config_nic *user, struct supervisor_args *a)
{
	char addr[16], mac[24];
	int ret = 0;

	snprintf(a->meta_name, sizeof(a->meta_name), "name=%s", c->name);
	ret |= supervisor_args_add(a, "--metadata", a->meta_name);
	snprintf(a->meta_vcpus, sizeof(a->meta_vcpus), "vcpus=%u", c->vcpus);
	ret |= supervisor_args_add(a, "--metadata", a->meta_vcpus);
	/* Bytes: a number a script can use as it is, unlike the config's "256M". */
	snprintf(a->meta_memory, sizeof(a->meta_memory), "memory=%llu", (unsigned long long)c->memory);
	ret |= supervisor_args_add(a, "--metadata", a->meta_memory);
	snprintf(a->meta_cmdline, sizeof(a->meta_cmdline), "cmdline=%s", c->cmdline);
	ret |= supervisor_args_add(a, "--metadata", a->meta_cmdline);
	snprintf(a->meta_autostart, sizeof(a->meta_autostart), "autostart=%s", c->autostart ? "yes" : "no");
	ret |= supervisor_args_add(a, "--metadata", a->meta_autostart);
	snprintf(a->meta_mac, sizeof(a->meta_mac), "mac=%s", mac_text(user->mac, mac, sizeof(mac)));
	ret |= supervisor_args_add(a, "--metadata", a->meta_mac);
	snprintf(a->meta_address, sizeof(a->meta_address), "address=%s", ipv4(user->address, addr, sizeof(addr)));
	ret |= supervisor_args_add(a, "--metadata", a->meta_address);
	if (c->user_data[0]) {
		snprintf(a->user_data, sizeof(a->user_data), "%s/%s.user-data", SUPERVISOR_CTL_DIR, c->name);
		ret |= supervisor_args_add(a, "--user-data", a->user_data);
	}
	return ret;
}

int supervisor_build_args(const struct config_guest *c, unsigned int index, const char *partlabel_sysfs,
			  struct supervisor_args *a)
{
	const struct config_nic *user = NULL;
	unsigned int i, dup;
	char dev[64];
	int ret = 0;

	memset(a, 0, sizeof(*a));
	ret |= add_arg(a, "shrike");
	ret |= add_arg(a, "run");
	snprintf(a->kernel, sizeof(a->kernel), "%s/%s", BOOTCONF_DATA_DIR, c->kernel);
	ret |= supervisor_args_add(a, "--kernel", a->kernel);
	if (c->initrd[0]) {
		snprintf(a->initrd, sizeof(a->initrd), "%s/%s", BOOTCONF_DATA_DIR, c->initrd);
		ret |= supervisor_args_add(a, "--initrd", a->initrd);
	}
	/* Without a console= the guest says nothing the ring could keep; quiet, since every UART byte is an exit. */
	if (has_console(c->cmdline))
		snprintf(a->cmdline, sizeof(a->cmdline), "%s", c->cmdline);
	else
		snprintf(a->cmdline, sizeof(a->cmdline), "console=%s quiet%s%s",
			 c->console == CONFIG_CONSOLE_VIRTIO ? "hvc0" : "ttyS0", c->cmdline[0] ? " " : "", c->cmdline);
	ret |= supervisor_args_add(a, "--cmdline", a->cmdline);
	snprintf(a->mem, sizeof(a->mem), "%lluM", (unsigned long long)(c->memory >> 20));
	ret |= supervisor_args_add(a, "--mem", a->mem);
	snprintf(a->vcpus, sizeof(a->vcpus), "%u", c->vcpus);
	ret |= supervisor_args_add(a, "--vcpus", a->vcpus);
	ret |= supervisor_args_add(a, "--console", c->console == CONFIG_CONSOLE_VIRTIO ? "virtio" : "serial");
	/* reset is the VMM's default: only the others are passed (a VMM built without the watchdog refuses them). */
	if (c->watchdog != CONFIG_WATCHDOG_RESET)
		ret |= supervisor_args_add(a, "--watchdog-action", c->watchdog == CONFIG_WATCHDOG_NONE ? "none" : "poweroff");
	snprintf(a->control, sizeof(a->control), "%s/%s.ctl", SUPERVISOR_CTL_DIR, c->name);
	ret |= supervisor_args_add(a, "--control", a->control);
	for (i = 0; i < c->ndisks && !ret; i++) {
		const struct config_disk *d = &c->disks[i];

		if (d->kind == CONFIG_DISK_LABEL) {
			ret = partlabel_find(partlabel_sysfs, d->path, dev, sizeof(dev), &dup);
			if (ret < 0) {
				log_error("guest %s: disk label:%s: %s", c->name, d->path,
					  ret == -ENOENT ? "no partition has that label" : strerror(-ret));
				return ret;
			}
			snprintf(a->disks[i], sizeof(a->disks[i]), "%s%s", dev, d->ro ? ",ro" : "");
		} else {
			snprintf(a->disks[i], sizeof(a->disks[i]), "%s/%s%s", BOOTCONF_DATA_DIR, d->path,
				 d->ro ? ",ro" : "");
		}
		ret = supervisor_args_add(a, "--disk", a->disks[i]);
	}
	for (i = 0; i < c->nnics && !ret; i++) {
		const struct config_nic *n = &c->nics[i];

		if (n->kind == CONFIG_NIC_USER) {
			/* The forwards go to the first user NIC (docs/config.md). */
			ret = user_nic(c, n, !user, a->nics[i], sizeof(a->nics[i]));
			if (!user)
				user = n;
		} else {
			/* Interface names are 15 bytes at most: a guest name does not fit, its index does. */
			snprintf(a->nics[i], sizeof(a->nics[i]), "tap=vm%un%u,mac=%02x:%02x:%02x:%02x:%02x:%02x", index,
				 i, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		}
		if (!ret)
			ret = supervisor_args_add(a, "--net", a->nics[i]);
	}
	if (!ret && user)
		ret = metadata(c, user, a);
	if (ret)
		log_error("guest %s: too many arguments for the VMM (at most %d)", c->name, SUPERVISOR_ARGV_MAX - 1);
	return ret ? -E2BIG : 0;
}

