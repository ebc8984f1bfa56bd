#ifndef SHRIKE_INIT_PARTLABEL_H
#define SHRIKE_INIT_PARTLABEL_H

#include <stddef.h>

#define PARTLABEL_SYSFS	"/sys/class/block"

/*
 * Finds the block device of the GPT partition labelled label, by the PARTNAME= line the kernel puts in each
 * partition's uevent file under sysfs_dir (PARTLABEL_SYSFS; a directory of fakes in tests). Writes "/dev/NAME"
 * into dev. Returns 0, -ENOENT when no partition has that label, -ENAMETOOLONG, or another -errno. With two
 * partitions of the same label (a stick flashed with the same image) the first in directory order is taken and
 * *duplicates counts the others, so the caller can warn.
 */
int partlabel_find(const char *sysfs_dir, const char *label, char *dev, size_t size, unsigned int *duplicates);

#endif
