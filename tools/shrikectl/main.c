/*
 * shrikectl: the management client of a Shrike appliance, virsh-like verbs over its mutual-TLS REST API
 * (docs/api.md, docs/shrikectl.md).
 */
#include "cmd.h"
#include "opts.h"

int main(int argc, char **argv)
{
	struct opts o;
	int rc = opts_parse(argc, argv, &o);

	return rc ? rc : cmd_run(&o);
}
