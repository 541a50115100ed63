# twoostwo build. `make` builds everything; `make check` runs every test;
# `make check-asan` runs the same suite with AddressSanitizer + UBSan.

BUILD ?= build
CC ?= cc
OPT ?= -O2
SAN ?=
CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Wmissing-prototypes -Wstrict-prototypes -fno-strict-aliasing \
	-D_GNU_SOURCE -Isrc -g
CFLAGS += $(CFLAGS_BASE) $(OPT) $(SAN) -MMD -MP
LDFLAGS += $(SAN)
# libslirp (NAT) and libvdeplug (VDE switches). pkg-config is not used:
# Debian 12's slirp.pc requires glib-2.0's .pc, which only the unneeded
# libglib2.0-dev has, and libvdeplug-dev ships no .pc file.
LDLIBS += $(shell pkg-config --libs libvncserver) -lpng -lz -lpthread -lm \
	-lslirp -lvdeplug -lzstd -linih -larchive
# The sandbox's system-call filter (core/sandbox.c): Debian's libseccomp.
LDLIBS += $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)

# Every source under src/ except the programs' mains goes into one library.
MAINS := src/cli/main.c src/cli/cputest_main.c src/cli/hostdiff_main.c
LIB_SRCS := $(filter-out $(MAINS),$(shell find src -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libtwoostwo.a

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

# A VNC viewer on libvncclient for the guest tests (tests/guest/linux_display.py).
TEST_TOOLS := $(BUILD)/tests/vncclient

PROGRAMS := $(BUILD)/twoostwo $(BUILD)/twoostwo-cputest $(BUILD)/twoostwo-hostdiff

.PHONY: all clean check check-unit check-cpu check-hostdiff check-guest check-asan format
all: $(PROGRAMS) $(UNIT_BINS) $(TEST_TOOLS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/twoostwo: $(BUILD)/src/cli/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/twoostwo-cputest: $(BUILD)/src/cli/cputest_main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/vncclient: tests/vncclient.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs libvncclient)

# The VNC test drives the server with a real client library.
$(BUILD)/tests/unit/test_vnc: LDLIBS += $(shell pkg-config --libs libvncclient)

$(BUILD)/twoostwo-hostdiff: $(BUILD)/src/cli/hostdiff_main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

check-unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

check-cpu: $(BUILD)/twoostwo-cputest $(BUILD)/twoostwo
	tests/run-cputests.sh $(BUILD)/twoostwo-cputest
	tests/run-test386.sh $(BUILD)/twoostwo

# The host processor as the oracle (src/cputest/hostdiff.c): bounded CI
# runs of about 10 s, in 32-bit and in 64-bit code; x86-64 hosts only.
check-hostdiff: $(BUILD)/twoostwo-hostdiff
	$(BUILD)/twoostwo-hostdiff --sequences 20000 --length 24
	$(BUILD)/twoostwo-hostdiff --mode64 --sequences 20000 --length 24

check-guest: $(PROGRAMS)
	TWOOSTWO=$(BUILD)/twoostwo tests/guest/run-all.sh

check: all
	$(MAKE) check-unit
	$(MAKE) check-cpu
	$(MAKE) check-hostdiff
	$(MAKE) check-guest

# -O1: at -O2 (15-20 % faster guest boots) GCC 12's UBSan reported bool
# loads of 127 and null stores in code that is clean at -O1 (test_cpu_vme,
# test_net, test_terminal: to be understood before switching).
check-asan:
	$(MAKE) BUILD=build-asan OPT=-O1 \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		check

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- ACPI: the DSDT ---------------------------------------------------------
# src/machine/dsdt.asl is compiled by iasl (Debian acpica-tools), warnings
# as errors, into a C array that src/machine/acpi.c includes. Generated
# files stay under $(BUILD)/gen.
$(BUILD)/gen/dsdt.aml: src/machine/dsdt.asl
	@mkdir -p $(dir $@)
	iasl -vs -we -p $(basename $@) $<

$(BUILD)/gen/dsdt_aml.h: $(BUILD)/gen/dsdt.aml
	{ echo '/* Generated from src/machine/dsdt.asl: do not edit. */'; \
	  echo 'static const unsigned char dsdt_aml[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1, /g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/src/machine/acpi.o: $(BUILD)/gen/dsdt_aml.h
$(BUILD)/src/machine/acpi.o: CFLAGS += -I$(BUILD)/gen
