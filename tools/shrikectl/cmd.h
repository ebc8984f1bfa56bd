#ifndef SHRIKECTL_CMD_H
#define SHRIKECTL_CMD_H

#include "opts.h"

/* Runs the verb in o->args; returns the exit status: 0 done, 1 refused or failed, 2 usage error. */
int cmd_run(const struct opts *o);

#endif
