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
LDLIBS += -lz -lpthread -lm
# The sandbox's system-call filter (core/sandbox.c): Debian's libseccomp.
LDLIBS += $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)

# Every source under src/ except the programs' mains goes into one library.
MAINS := src/cli/main.c src/cli/cputest_main.c
LIB_SRCS := $(filter-out $(MAINS),$(shell find src -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libtwoostwo.a

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

PROGRAMS := $(BUILD)/twoostwo $(BUILD)/twoostwo-cputest

.PHONY: all clean check check-unit check-cpu check-guest check-asan format
all: $(PROGRAMS) $(UNIT_BINS)

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

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

check-unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

check-cpu: $(BUILD)/twoostwo-cputest
	tests/run-cputests.sh $(BUILD)/twoostwo-cputest

check-guest: $(PROGRAMS)
	TWOOSTWO=$(BUILD)/twoostwo tests/guest/run-all.sh

check: all
	$(MAKE) check-unit
	$(MAKE) check-cpu
	$(MAKE) check-guest

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
