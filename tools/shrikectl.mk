# tools/shrikectl, the management client (docs/shrikectl.md), built twice from the same sources:
#   output/host/bin/shrikectl  for the build machine, against mbedTLS 3.6 compiled here with the host compiler
#                              from the extracted package/mbedtls sources and the appliance's configuration header
#                              (the musl-built libraries do not link with glibc, and Debian 12's libmbedtls-dev
#                              is 2.28);
#   output/images/shrikectl    static with musl: one file to copy onto any x86-64 Linux machine.
# The tests build the host one on its own from an extracted mbedTLS:
#   make -f tools/shrikectl.mk TOPDIR=$PWD MBEDTLS_DIR=$PWD/output/build/mbedtls-3.6.6 \
#       SHRIKECTL_HOST_BUILD=/tmp/b SHRIKECTL_HOST=/tmp/b/shrikectl /tmp/b/shrikectl
HOSTCC ?= gcc
SHRIKECTL_HOST ?= $(HOST_DIR)/bin/shrikectl
SHRIKECTL_HOST_BUILD ?= $(BUILD_DIR)/shrikectl-host
SHRIKECTL_IMAGE := $(if $(IMAGES_DIR),$(IMAGES_DIR)/shrikectl)

# `config check` runs the appliance's own parser and validation (like `shrike check`): one implementation. So do
# the JSON reader and the TLS socket callbacks, and the entropy source (getrandom) is the management server's too.
SHRIKECTL_SRCS := $(addprefix $(TOPDIR)/tools/shrikectl/,main.c opts.c conn.c http.c json.c api.c cmd.c console.c) \
	$(addprefix $(TOPDIR)/vmm/,config/check.c config/config.c config/values.c config/validate.c config/filename.c lib/file.c \
	lib/size.c lib/sha256.c lib/utf8.c lib/addr.c mgmt/entropy.c mgmt/jsonread.c mgmt/tlsbio.c)
SHRIKECTL_DEPS := $(SHRIKECTL_SRCS) $(wildcard $(TOPDIR)/tools/shrikectl/*.h $(TOPDIR)/vmm/config/*.h \
	$(TOPDIR)/vmm/lib/*.h) $(TOPDIR)/vmm/mgmt/jsonread.h $(TOPDIR)/vmm/mgmt/tlsbio.h $(TOPDIR)/tools/shrikectl.mk
SHRIKECTL_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-qual -Werror -I$(TOPDIR)/vmm -ffunction-sections -fdata-sections \
	'-DSHRIKECTL_VERSION="$(or $(SHRIKE_VERSION),unknown)"'
SHRIKECTL_LDFLAGS := -Wl,--gc-sections

# By absolute path: the musl build copies the header into the mbedTLS tree too, and that copy may be older.
SHRIKECTL_MBEDTLS_CONFIG := '-DMBEDTLS_USER_CONFIG_FILE="$(TOPDIR)/package/mbedtls/shrike_mbedtls_config.h"'
SHRIKECTL_MBEDTLS_HOST := $(SHRIKECTL_HOST_BUILD)/libmbedtls-host.a

# All of library/*.c in one archive (what the configuration leaves out compiles to nothing); the link keeps what
# the client calls.
$(SHRIKECTL_MBEDTLS_HOST): $(MBEDTLS_DIR)/.stamp_extracted $(TOPDIR)/package/mbedtls/shrike_mbedtls_config.h \
		$(TOPDIR)/tools/shrikectl.mk
	@$(if $(banner),$(call banner,shrikectl Building mbedTLS for the build machine))
	$(Q)rm -rf $(@D)/mbedtls && mkdir -p $(@D)/mbedtls
	$(Q)cd $(@D)/mbedtls && ls $(MBEDTLS_DIR)/library/*.c | xargs -P$(or $(PARALLEL_JOBS),2) -n 12 \
		$(HOSTCC) -std=c99 -O2 -ffunction-sections -fdata-sections -ffile-prefix-map=$(MBEDTLS_DIR)=mbedtls \
		-I$(MBEDTLS_DIR)/include -I$(MBEDTLS_DIR)/library $(SHRIKECTL_MBEDTLS_CONFIG) -c
	$(Q)rm -f $@ && ar rcs $@ $(@D)/mbedtls/*.o

$(SHRIKECTL_HOST): $(SHRIKECTL_DEPS) $(SHRIKECTL_MBEDTLS_HOST)
	@$(if $(banner),$(call banner,shrikectl Building the host client))
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(SHRIKECTL_CFLAGS) -O2 -I$(MBEDTLS_DIR)/include $(SHRIKECTL_MBEDTLS_CONFIG) $(SHRIKECTL_LDFLAGS) \
		-o $@ $(SHRIKECTL_SRCS) $(SHRIKECTL_MBEDTLS_HOST)

ifneq ($(SHRIKECTL_IMAGE),)
# The sysroot's mbedtls_config.h already includes the project configuration (package/mbedtls/mbedtls.mk).
$(SHRIKECTL_IMAGE): $(SHRIKECTL_DEPS) $(MBEDTLS_DIR)/.stamp_installed
	@$(call banner,shrikectl Building the static client)
	$(Q)mkdir -p $(@D)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $(SHRIKECTL_CFLAGS) -static -s $(SHRIKECTL_LDFLAGS) -o $@ $(SHRIKECTL_SRCS) \
		-lmbedtls -lmbedx509 -lmbedcrypto

.PHONY: shrikectl
shrikectl: $(SHRIKECTL_HOST) $(SHRIKECTL_IMAGE)
ifeq ($(CONFIG_PACKAGE_MBEDTLS),y)
IMAGES += $(SHRIKECTL_HOST) $(SHRIKECTL_IMAGE)
endif
endif
