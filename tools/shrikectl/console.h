#ifndef SHRIKECTL_CONSOLE_H
#define SHRIKECTL_CONSOLE_H

#include "opts.h"

/*
 * `console NAME`: the guest's recent console output, then (follow) what it writes next until the server ends the
 * stream or the user quits. On a terminal, stdin goes raw and what is typed is sent to the guest; ctrl-] quits.
 * Returns the exit status.
 */
int console_run(const struct opts *o, const char *name, int follow);

#endif
