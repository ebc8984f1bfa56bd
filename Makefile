# Shrike: Buildroot-like driver. `make help` lists the targets.
#
# The .config (from `make <board>_defconfig` or `make menuconfig`) drives everything:
# board, kernels, packages, VMM features and image layout.

TOPDIR := $(CURDIR)
SHELL := /bin/bash
.DEFAULT_GOAL := all

O ?= $(TOPDIR)/output
override O := $(abspath $(O))
# O= on the command line would reach every package's own make through MAKEFLAGS, and
# kbuild-style makefiles (busybox) would then build into our output directory. Sub-makes
# of ours get O explicitly instead.
MAKEOVERRIDES := $(filter-out O=%,$(MAKEOVERRIDES))
# Like Buildroot: .config lives in the tree unless an out-of-tree O= is given.
CONFIG_DIR := $(if $(filter $(TOPDIR)/output,$(O)),$(TOPDIR),$(O))
KCONFIG_CONFIG := $(CONFIG_DIR)/.config
KCONFIG_ENV = KCONFIG_CONFIG=$(KCONFIG_CONFIG) srctree=$(TOPDIR)
KCONFIG_FILES := $(TOPDIR)/Kconfig $(TOPDIR)/vmm/Kconfig

BUILD_DIR  := $(O)/build
HOST_DIR   := $(O)/host
TARGET_DIR := $(O)/target
IMAGES_DIR := $(O)/images
DL_DIR     := $(abspath $(or $(SHRIKE_DL_DIR),$(HOME)/.cache/shrike/dl))
# No CCACHE_BASEDIR: ccache would rewrite absolute paths in the compiler's arguments to
# relative ones, the kernel's -fmacro-prefix-map would no longer match them, and a
# cached build would differ from an uncached one.
export CCACHE_DIR ?= $(HOME)/.cache/shrike/ccache

DEFAULT_BOARD := qemu_x86_64
BOARDS := $(notdir $(patsubst %/defconfig,%,$(wildcard board/*/defconfig)))

PARALLEL_JOBS := $(shell echo $$(( $$(nproc) + 1 )))
Q := $(if $(V),,@)
banner = echo ">>> $(1)"
qstrip = $(strip $(subst ",,$(1)))
KCONFIGLIB := python3 /usr/lib/python3/dist-packages

# Reproducible builds: every timestamp and name that ends up in an image is fixed.
export SOURCE_DATE_EPOCH := $(shell git -C $(TOPDIR) log -1 --format=%ct 2>/dev/null || echo 1763683200)
export KBUILD_BUILD_TIMESTAMP := $(shell date -u -d @$(SOURCE_DATE_EPOCH) '+%Y-%m-%d %H:%M:%S UTC')
export KBUILD_BUILD_USER := shrike
export KBUILD_BUILD_HOST := shrike
# The "#N" build counter would otherwise count relinks in an output directory.
export KBUILD_BUILD_VERSION := 1
export USER := shrike
export HOST := shrike
export TZ := UTC
export LC_ALL := C
export SHRIKE_VERSION := $(shell cat $(TOPDIR)/VERSION)$(shell git -C $(TOPDIR) rev-parse --short=10 HEAD 2>/dev/null | sed 's/^/-g/')

# Targets that work without a .config.
NOCONFIG_TARGETS := menuconfig savedefconfig olddefconfig %_defconfig help clean distclean host-setup

ifeq ($(filter-out $(NOCONFIG_TARGETS),$(or $(MAKECMDGOALS),all)),)
  NEED_CONFIG :=
else
  NEED_CONFIG := y
endif

# The configuration tools come from Debian: a fresh machine gets them before the first parse.
ifeq ($(wildcard /usr/lib/python3/dist-packages/kconfiglib.py),)
$(info >>> python3-kconfiglib is missing: running package/host-setup)
$(shell $(TOPDIR)/package/host-setup >&2)
endif

ifeq ($(NEED_CONFIG),y)
ifeq ($(wildcard $(KCONFIG_CONFIG)),)
$(info >>> No $(KCONFIG_CONFIG): using the default board, $(DEFAULT_BOARD)_defconfig)
$(shell mkdir -p $(CONFIG_DIR) && $(KCONFIG_ENV) $(KCONFIGLIB)/defconfig.py --kconfig $(TOPDIR)/Kconfig $(TOPDIR)/board/$(DEFAULT_BOARD)/defconfig >&2)
endif
include $(KCONFIG_CONFIG)
endif

# A Kconfig that gained symbols since .config was written: give them their defaults
# (make then re-reads the updated .config), as Buildroot's syncconfig does.
$(KCONFIG_CONFIG): $(KCONFIG_FILES)
	$(Q)$(KCONFIG_ENV) $(KCONFIGLIB)/olddefconfig.py $(TOPDIR)/Kconfig >/dev/null
	$(Q)touch $@

BOARD := $(call qstrip,$(CONFIG_BOARD))
BOARD_DIR := $(TOPDIR)/board/$(BOARD)

HOST_SETUP_STAMP := $(HOST_DIR)/.stamp_host_setup

# The musl toolchain (package/musl) and the flags for the packages built with it; every
# link for the appliance is static (musl is built without shared libraries).
SYSROOT := $(HOST_DIR)/x86_64-shrike-linux-musl
TARGET_CC := $(SYSROOT)/bin/musl-gcc
TARGET_CFLAGS := -Os -pipe -ffile-prefix-map=$(O)=. -ffile-prefix-map=$(TOPDIR)=.

.PHONY: all world run test bench stress clean distclean help host-setup \
	menuconfig savedefconfig olddefconfig source FORCE

# `all` times the whole build; `world` is the build itself.
all:
	@start=$$(date +%s%N); \
	$(MAKE) --no-print-directory O=$(O) world && \
	end=$$(date +%s%N) && \
	echo ">>> Build finished in $$(( (end - start) / 1000000000 )).$$(( (end - start) / 100000000 % 10 )) s: images in $(IMAGES_DIR)"

host-setup: $(HOST_SETUP_STAMP)
$(HOST_SETUP_STAMP): $(TOPDIR)/package/host-setup
	@$(call banner,host-setup Checking host packages and deb-src entries)
	$(Q)$(TOPDIR)/package/host-setup
	$(Q)mkdir -p $(@D) && touch $@

include $(TOPDIR)/package/pkg-generic.mk
# Dependencies are expanded when a package is defined: the toolchain comes first.
TOOLCHAIN_MKS := $(TOPDIR)/package/linux/linux.mk $(TOPDIR)/package/musl/musl.mk
include $(TOOLCHAIN_MKS) $(filter-out $(TOOLCHAIN_MKS),$(sort $(wildcard $(TOPDIR)/package/*/*.mk)))
include $(TOPDIR)/vmm/shrike.mk
include $(TOPDIR)/initramfs/initramfs.mk
include $(TOPDIR)/tools/image.mk
include $(TOPDIR)/tools/shrikectl.mk

source: $(foreach p,$(PACKAGES),$(p)-source)

# legal-info: what the firmware contains and under which license, with the exact
# sources, so they can be handed over with the image as the GPL asks.
LEGAL_INFO_DIR := $(O)/legal-info
.PHONY: legal-info
legal-info: $(foreach p,$(PACKAGES),$(p)-source)
	$(Q)rm -rf $(LEGAL_INFO_DIR) && mkdir -p $(LEGAL_INFO_DIR)/sources
	$(Q)echo "package,version,debian source,license" > $(LEGAL_INFO_DIR)/manifest.csv
	$(Q)$(foreach p,$(PACKAGES),\
		echo '$(p),$($(call UPPERCASE,$(p))_VERSION),$($(call UPPERCASE,$(p))_SOURCE_PACKAGE)=$($(call UPPERCASE,$(p))_DEB_VERSION),"$($(call UPPERCASE,$(p))_LICENSE)"' >> $(LEGAL_INFO_DIR)/manifest.csv; \
		mkdir -p $(LEGAL_INFO_DIR)/sources/$(p) && cp $($(call UPPERCASE,$(p))_DL_FILES) $(LEGAL_INFO_DIR)/sources/$(p)/;)
	@echo "Wrote $(LEGAL_INFO_DIR)/manifest.csv and sources/"

world: $(IMAGES)

# The default config's web guest forwards the appliance's port 8080 to its HTTP server.
RUN_WEB_PORT ?= 8080
run: all
	$(TOPDIR)/tools/shrike-qemu --images $(IMAGES_DIR) --forward $(RUN_WEB_PORT):8080 $(RUN_ARGS)

test: all
	$(TOPDIR)/tests/run --images $(IMAGES_DIR)

bench: all
	$(TOPDIR)/tests/bench/run --images $(IMAGES_DIR)

# Not part of `test`: hundreds of nested guest boots (tests/stress/run --help; STRESS_ARGS="--guests 20").
stress: all
	$(TOPDIR)/tests/stress/run --images $(IMAGES_DIR) $(STRESS_ARGS)

%_defconfig: $(TOPDIR)/board/%/defconfig
	$(Q)mkdir -p $(CONFIG_DIR)
	$(Q)$(KCONFIG_ENV) $(KCONFIGLIB)/defconfig.py --kconfig $(TOPDIR)/Kconfig $<

menuconfig:
	$(Q)mkdir -p $(CONFIG_DIR)
	$(Q)cd $(CONFIG_DIR) && $(KCONFIG_ENV) MENUCONFIG_STYLE=aquatic $(KCONFIGLIB)/menuconfig.py $(TOPDIR)/Kconfig

olddefconfig:
	$(Q)$(KCONFIG_ENV) $(KCONFIGLIB)/olddefconfig.py $(TOPDIR)/Kconfig

# Writes $(CONFIG_DIR)/defconfig; copy it to board/<board>/defconfig to keep it.
savedefconfig:
	$(Q)$(KCONFIG_ENV) $(KCONFIGLIB)/savedefconfig.py --kconfig $(TOPDIR)/Kconfig --out $(CONFIG_DIR)/defconfig
	@echo "Wrote $(CONFIG_DIR)/defconfig"

clean:
	rm -rf $(BUILD_DIR) $(HOST_DIR) $(TARGET_DIR) $(IMAGES_DIR)

distclean: clean
	rm -rf $(O) $(KCONFIG_CONFIG) $(KCONFIG_CONFIG).old $(CONFIG_DIR)/defconfig

help:
	@echo 'Configuration:'
	@$(foreach b,$(BOARDS),echo '  $(b)_defconfig$(if $(filter $(b),$(DEFAULT_BOARD)), (default))';)
	@echo '  menuconfig         - change the configuration in a terminal menu'
	@echo '  olddefconfig       - update .config, new symbols get their defaults'
	@echo '  savedefconfig      - write a minimal defconfig'
	@echo 'Build:'
	@echo '  all                - build every image into output/images (default)'
	@echo '  source             - download every pinned source into the cache'
	@echo '  legal-info         - list packages, versions and licenses, with their sources'
	@echo '  <pkg>, <pkg>-source, <pkg>-extract, <pkg>-dirclean'
	@echo '  linux-host, linux-guest, shrike, rootfs, guest-initrd, disk-image'
	@echo 'Run and test:'
	@echo '  run                - boot the image in QEMU (RUN_ARGS="--disk" boots disk.img under OVMF)'
	@echo '  test               - build, then run the unit, kvm and image tests'
	@echo '  bench              - build, then benchmark the VMM, the user network, the management port and the build'
	@echo '  stress             - build, then boot 200 demo guests and 20 Debian kernels nested, 2 at a time, and'
	@echo '                       report crashes and hangs (STRESS_ARGS="--guests N --debian M --flood K")'
	@echo 'Cleaning:'
	@echo '  clean              - remove output/ builds and images (keeps .config and downloads)'
	@echo '  distclean          - also remove .config'
	@echo 'Variables: O=<output dir>  SHRIKE_DL_DIR=<download cache>  V=1 (verbose)'
