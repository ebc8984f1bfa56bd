/* unit-sources: vmm/mgmt/promtext.c vmm/mgmt/proto.c */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mgmt/promtext.h"
#include "mgmt/proto.h"

static union {
	struct proto_guest_list list;
	unsigned char bytes[sizeof(struct proto_guest_list) + 2 * sizeof(struct proto_guest_info)];
} msg;
static char text[256 * 1024];

/* web: running, 2 disks, a NIC, counters; idle: configured, never started. */
static const struct proto_guest_list *two_guests(void)
{
	struct proto_guest_info *web = &msg.list.guests[0], *idle = &msg.list.guests[1];

	memset(&msg, 0, sizeof(msg));
	msg.list.count = 2;
	strcpy(web->name, "web");
	web->state = PROTO_STATE_RUNNING;
	web->vcpus = 2;
	web->memory_mib = 256;
	web->balloon_mib = 192;
	web->uptime_ms = 65432;
	web->restarts = 1;
	web->cpu_ms = 12345;
	web->vmm_memory_kib = 612;
	web->ram_resident_kib = 40960;
	web->has_counters = 1;
	web->balloon_actual_mib = 64;
	web->vmm_console_dropped_bytes = 7;
	web->exits[PROTO_EXIT_IO] = 1000;
	web->exits[PROTO_EXIT_MMIO] = 250;
	web->needs_reset[PROTO_DEVICE_RNG] = 1;
	web->ndisks = 2;
	web->disks[0] = (struct proto_disk_stats){ .read_bytes = 4096, .read_ops = 1 };
	web->disks[1] = (struct proto_disk_stats){ .write_bytes = 1048576, .write_ops = 256, .flushes = 2,
						   .needs_reset = 3 };
	web->nnics = 1;
	web->nics[0] = (struct proto_nic_stats){ .rx_bytes = 1500, .rx_packets = 1, .rx_dropped = 4, .tx_bytes = 60,
						 .tx_packets = 1, .tx_dropped = 5 };
	strcpy(idle->name, "idle");
	idle->vcpus = 1;
	idle->memory_mib = 64;
	return &msg.list;
}

static int render(const struct proto_guest_list *list, size_t size)
{
	struct promtext o = { text, size, 0, 0 };

	promtext_guests(&o, list);
	return o.overflow ? -ENOSPC : (int)o.len;
}

static int has_line(const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

/*
 * The text format, strictly: every sample belongs to the family whose HELP and TYPE came just before it (each
 * once), counters end in _total, names and labels are well formed, values are numbers, no series twice.
 */
static const char *strict_parse(void)
{
	static char seen[2048][160];
	char family[128] = "", type[16] = "", help_for[128] = "", *copy, *line, *save, *end;
	unsigned int nseen = 0, i;
	const char *why = NULL;

	copy = strdup(text);
	CHECK(copy != NULL);
	for (line = strtok_r(copy, "\n", &save); line && !why; line = strtok_r(NULL, "\n", &save)) {
		char name[128], labels[160] = "";
		size_t len;

		if (!strncmp(line, "# HELP ", 7)) {
			if (sscanf(line + 7, "%127s", help_for) != 1 || strlen(line + 7) <= strlen(help_for) + 1)
				why = "a HELP line without text";
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			if (sscanf(line + 7, "%127s %15s", family, type) != 2 || strcmp(family, help_for))
				why = "a TYPE line not right after its HELP";
			else if (strcmp(type, "counter") && strcmp(type, "gauge"))
				why = "a type other than counter or gauge";
			else if (!strcmp(type, "counter") && (strlen(family) < 6 ||
							       strcmp(family + strlen(family) - 6, "_total")))
				why = "a counter whose name does not end in _total";
			for (i = 0; i < nseen && !why; i++)
				if (seen[i][0] == '#' && !strcmp(seen[i] + 1, family))
					why = "a family declared twice";
			if (!why && nseen < 2048)
				snprintf(seen[nseen++], sizeof(seen[0]), "#%s", family);
			continue;
		}
		len = strspn(line, "abcdefghijklmnopqrstuvwxyz_0123456789");
		if (!len || len >= sizeof(name)) {
			why = "a sample without a metric name";
			break;
		}
		memcpy(name, line, len);
		name[len] = '\0';
		if (strcmp(name, family)) {
			why = "a sample outside its family";
			break;
		}
		line += len;
		if (*line == '{') {
			end = strchr(line, '}');
			if (!end || (size_t)(end - line) >= sizeof(labels)) {
				why = "unterminated labels";
				break;
			}
			memcpy(labels, line, (size_t)(end - line + 1));
			labels[end - line + 1] = '\0';
			line = end + 1;
		}
		if (*line != ' ' || strtod(line + 1, &end) < 0 || *end || end == line + 1) {
			why = "a value that is not a non-negative number";
			break;
		}
		snprintf(name + len, sizeof(name) - len, "%.*s", (int)(sizeof(name) - len - 1), labels);
		for (i = 0; i < nseen && !why; i++)
			if (!strcmp(seen[i], name))
				why = "a series twice";
		if (!why && nseen < 2048)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
	}
	free(copy);
	return why;
}

static const char *test_values_and_labels(void)
{
	const char *why;

	CHECK(render(two_guests(), sizeof(text)) > 0);
	CHECK(has_line("shrike_guest_cpu_seconds_total{guest=\"web\"} 12.345"));
	CHECK(has_line("shrike_guest_uptime_seconds{guest=\"web\"} 65.432"));
	CHECK(has_line("shrike_guest_restarts_total{guest=\"web\"} 1"));
	CHECK(has_line("shrike_guest_memory_bytes{guest=\"web\"} 268435456"));
	CHECK(has_line("shrike_guest_balloon_target_bytes{guest=\"web\"} 201326592"));
	CHECK(has_line("shrike_guest_balloon_actual_bytes{guest=\"web\"} 67108864"));
	CHECK(has_line("shrike_guest_vmm_memory_bytes{guest=\"web\"} 626688"));
	CHECK(has_line("shrike_guest_ram_resident_bytes{guest=\"web\"} 41943040"));
	CHECK(has_line("shrike_guest_vcpu_exits_total{guest=\"web\",reason=\"io\"} 1000"));
	CHECK(has_line("shrike_guest_vcpu_exits_total{guest=\"web\",reason=\"mmio\"} 250"));
	CHECK(has_line("shrike_guest_vcpu_exits_total{guest=\"web\",reason=\"other\"} 0"));
	CHECK(has_line("shrike_guest_disk_read_bytes_total{guest=\"web\",disk=\"vda\"} 4096"));
	CHECK(has_line("shrike_guest_disk_reads_completed_total{guest=\"web\",disk=\"vda\"} 1"));
	CHECK(has_line("shrike_guest_disk_written_bytes_total{guest=\"web\",disk=\"vdb\"} 1048576"));
	CHECK(has_line("shrike_guest_disk_writes_completed_total{guest=\"web\",disk=\"vdb\"} 256"));
	CHECK(has_line("shrike_guest_disk_flush_requests_total{guest=\"web\",disk=\"vdb\"} 2"));
	CHECK(has_line("shrike_guest_net_receive_bytes_total{guest=\"web\",nic=\"eth0\"} 1500"));
	CHECK(has_line("shrike_guest_net_receive_drop_total{guest=\"web\",nic=\"eth0\"} 4"));
	CHECK(has_line("shrike_guest_net_transmit_packets_total{guest=\"web\",nic=\"eth0\"} 1"));
	CHECK(has_line("shrike_guest_net_transmit_drop_total{guest=\"web\",nic=\"eth0\"} 5"));
	CHECK(has_line("shrike_guest_virtio_needs_reset_total{guest=\"web\",device=\"vdb\"} 3"));
	CHECK(has_line("shrike_guest_virtio_needs_reset_total{guest=\"web\",device=\"rng\"} 1"));
	CHECK(has_line("shrike_guest_vmm_console_dropped_bytes_total{guest=\"web\"} 7"));
	CHECK(has_line("# TYPE shrike_guest_cpu_seconds_total counter"));
	CHECK(has_line("# TYPE shrike_guest_ram_resident_bytes gauge"));
	why = strict_parse();
	if (why)
		return check_fail(__FILE__, __LINE__, "not strict Prometheus text: %s", why);
	return NULL;
}

/* A guest whose VMM never ran has its state and sizes, and no VMM counter at all rather than flat zeros. */
static const char *test_no_counters_no_series(void)
{
	CHECK(render(two_guests(), sizeof(text)) > 0);
	CHECK(has_line("shrike_guest_state{guest=\"idle\",state=\"stopped\"} 1"));
	CHECK(has_line("shrike_guest_cpu_seconds_total{guest=\"idle\"} 0.000"));
	CHECK(has_line("shrike_guest_memory_bytes{guest=\"idle\"} 67108864"));
	CHECK(!strstr(text, "{guest=\"idle\",reason="));
	CHECK(!strstr(text, "{guest=\"idle\",disk="));
	CHECK(!strstr(text, "{guest=\"idle\",nic="));
	CHECK(!strstr(text, "{guest=\"idle\",device="));
	CHECK(!strstr(text, "shrike_guest_vmm_console_dropped_bytes_total{guest=\"idle\"}"));
	CHECK(!strstr(text, "shrike_guest_balloon_actual_bytes{guest=\"idle\"}"));
	/* and with no guest at all, the families are still declared and the text still parses */
	msg.list.count = 0;
	CHECK(render(&msg.list, sizeof(text)) > 0);
	CHECK(has_line("# TYPE shrike_guest_vcpu_exits_total counter"));
	CHECK(strict_parse() == NULL);
	return NULL;
}

/* Too small a buffer says so rather than serving half a scrape. */
static const char *test_overflow(void)
{
	int full = render(two_guests(), sizeof(text));

	CHECK(full > 0);
	CHECK_INT(render(two_guests(), (size_t)full), -ENOSPC);
	CHECK_INT(render(two_guests(), (size_t)full + 1), full);
	return NULL;
}

/* What PID 1 sends is checked before mgmt renders it: counts beyond the arrays are refused. */
static const char *test_proto_bounds(void)
{
	static union {
		struct {
			struct proto_hdr hdr;
			struct proto_guest_list list;
		} m;
		unsigned char bytes[sizeof(struct proto_hdr) + sizeof(struct proto_guest_list) +
				    2 * sizeof(struct proto_guest_info)];
	} u;
	size_t n = sizeof(u.bytes);

	two_guests();
	memset(&u, 0, sizeof(u));
	u.m.hdr = (struct proto_hdr){ .type = PROTO_GUEST_LIST | PROTO_REPLY, .len = (uint32_t)n };
	memcpy(&u.m.list, &msg, sizeof(msg));
	CHECK_INT(proto_check(u.bytes, n, 1), 0);
	u.m.list.guests[0].ndisks = PROTO_MAX_DISKS + 1;
	CHECK_INT(proto_check(u.bytes, n, 1), -EBADMSG);
	u.m.list.guests[0].ndisks = PROTO_MAX_DISKS;
	u.m.list.guests[0].nnics = PROTO_MAX_NICS + 1;
	CHECK_INT(proto_check(u.bytes, n, 1), -EBADMSG);
	u.m.list.guests[0].nnics = 1;
	u.m.list.guests[1].has_counters = 2;
	CHECK_INT(proto_check(u.bytes, n, 1), -EBADMSG);
	u.m.list.guests[1].has_counters = 0;
	u.m.list.guests[1].reserved = 1;
	CHECK_INT(proto_check(u.bytes, n, 1), -EBADMSG);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "metrics-values-and-labels", test_values_and_labels },
		{ "metrics-no-counters-no-series", test_no_counters_no_series },
		{ "metrics-overflow", test_overflow },
		{ "metrics-proto-bounds", test_proto_bounds },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
