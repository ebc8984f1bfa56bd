#ifndef SHRIKE_CONFIG_CHECK_H
#define SHRIKE_CONFIG_CHECK_H

/*
 * `shrike check FILE`: parses and validates FILE as the PID 1 would (minus the host memory check) and checks that
 * the payload files it names exist next to it. Prints "configuration OK" on stdout, or every error as
 * "FILE:LINE: message" on stderr. Returns 0 if the file is good, 1 otherwise.
 */
int check_file(const char *path);

#endif
