#ifndef SHRIKE_FW_AML_H
#define SHRIKE_FW_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Just enough of an ACPI Machine Language encoder for the DSDT the VMM writes: names, integers, strings,
 * packages, buffers, scopes, devices and one-condition methods (ACPI 6.5, chapter 20). Writes into a fixed
 * buffer; running out of room sets overflow instead of writing past the end, and the caller checks it once.
 */
struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool overflow;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/*
 * A NameString: "PWRB", "_SB_" (four characters each, '_' padded), or a path from the root such as
 * "\\_SB_.PWRB". Names are the VMM's own constants, so a malformed one is a bug and sets overflow.
 */
void aml_name(struct aml *a, const char *path);
/* The shortest encoding of v: Zero, One, or a Byte/Word/DWord/QWord constant. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);

/*
 * Operators with a PkgLength: begin writes the opcode(s) and reserves room for the length, end fills it in once
 * the contents are written. They nest.
 */
size_t aml_begin(struct aml *a, const uint8_t *op, size_t op_len);
void aml_end(struct aml *a, size_t mark);

/* Name(path, ...) opens with aml_name_begin(a, path) and is followed by exactly one data object. */
void aml_name_decl(struct aml *a, const char *path);
size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *path);
size_t aml_method_begin(struct aml *a, const char *path, unsigned int nr_args);
/* Package(n) { ... }: the n elements follow. */
size_t aml_package_begin(struct aml *a, uint8_t n);
/* Buffer() { bytes }: a resource template is a buffer. */
void aml_buffer(struct aml *a, const uint8_t *data, size_t n);
/* If (LEqual(Arg<arg>, value)) { ... } */
size_t aml_if_arg_equals(struct aml *a, unsigned int arg, uint64_t value);
/* Notify(path, value) */
void aml_notify(struct aml *a, const char *path, uint8_t value);

#endif
