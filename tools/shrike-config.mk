# tools/shrike-config, the config partition tool, built for the build machine from the same vmm/config sources the
# appliance reads the partition with: one implementation of the format. tools/image.mk includes this; the tests
# build it on its own:
#   make -f tools/shrike-config.mk TOPDIR=$PWD SHRIKE_CONFIG_TOOL=/tmp/shrike-config /tmp/shrike-config
HOSTCC ?= gcc
SHRIKE_CONFIG_TOOL ?= $(HOST_DIR)/bin/shrike-config
SHRIKE_CONFIG_SRCS := $(addprefix $(TOPDIR)/,tools/shrike-config.c vmm/config/config.c vmm/config/values.c vmm/config/validate.c \
	vmm/config/filename.c vmm/config/partition.c vmm/config/blockdev.c vmm/lib/sha256.c vmm/lib/file.c vmm/lib/size.c \
	vmm/lib/addr.c)
SHRIKE_CONFIG_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Werror -I$(TOPDIR)/vmm

$(SHRIKE_CONFIG_TOOL): $(SHRIKE_CONFIG_SRCS) $(wildcard $(TOPDIR)/vmm/config/*.h) $(TOPDIR)/vmm/lib/sha256.h $(TOPDIR)/vmm/lib/file.h $(TOPDIR)/vmm/lib/size.h \
		$(TOPDIR)/vmm/lib/addr.h $(TOPDIR)/vmm/lib/le.h $(TOPDIR)/tools/shrike-config.mk
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(SHRIKE_CONFIG_CFLAGS) -o $@ $(SHRIKE_CONFIG_SRCS)
