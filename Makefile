# lexrag -- build, test, install. `make` builds the worker; `make check` runs every test (also
# under ASan+UBSan); `make demo` runs the service on loopback; `make bench` measures it.
CC      ?= cc
CXX     ?= c++
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=

PKGS     := libevent libevent_pthreads jansson inih hiredis libpq libcurl xapian-core uuid libcrypto
CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
WFLAGS   := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CXXWFLAGS := -std=c++17 -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -MMD -MP $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lstdc++ -lpthread -lm
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

# shared/ (C and the C++ shims over Xapian and hnswlib) is one static library: the worker,
# the tools and the unit tests take from it only what they use.
SHARED_SRCS := $(wildcard shared/*.c)
SHARED_CXX  := $(wildcard shared/*.cc)
SHARED_LIB  := $(BUILD)/liblexrag.a
SHARED_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(SHARED_SRCS)) \
               $(patsubst %.cc,$(BUILD)/obj/%.o,$(SHARED_CXX))
FCGI_SRCS   := $(wildcard fcgi/*.c)
WORKER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(FCGI_SRCS))
TOOLS       := $(BUILD)/lexrag-ingest $(BUILD)/lexrag-keys
BENCH_BINS  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS   := $(wildcard tests/fcgi/*.c) $(wildcard tests/fakes/*.c)
TOOL_BINS   := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TOOL_SRCS)))
# libFuzzer targets (clang only), built with the plain build; tests/fuzz/test_fuzz.sh runs them.
FUZZ_CC     ?= clang
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

FORMAT_FILES = $(SHARED_SRCS) $(SHARED_CXX) $(FCGI_SRCS) shared/*.h fcgi/*.h $(UNIT_SRCS) \
               $(TOOL_SRCS) $(FUZZ_SRCS) $(wildcard tools/*.c tools/*.h bench/*.c)

.PHONY: all tests fuzz bench-bins bench-quality bench-soak check check-plain check-asan demo bench install clean format format-check

all: $(BUILD)/lexrag-fcgi $(TOOLS)

$(SHARED_LIB): $(SHARED_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/lexrag-fcgi: $(WORKER_OBJS) $(SHARED_LIB)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

# lexrag-ingest: its phases are tools/ingest_*.c; the SQL migrations are compiled in.
INGEST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,tools/lexrag-ingest.c $(wildcard tools/ingest_*.c))
MIGRATIONS  := $(sort $(wildcard sql/[0-9]*_*.sql))

$(BUILD)/gen/migrations.h: $(MIGRATIONS) tools/gen-migrations.sh
	@mkdir -p $(@D)
	sh tools/gen-migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/tools/ingest_db.o: $(BUILD)/gen/migrations.h
$(BUILD)/obj/tools/%.o: CPPFLAGS += -I$(BUILD)/gen

# lexrag-keys: API keys (auth.enabled), one file.
$(BUILD)/lexrag-keys: $(BUILD)/obj/tools/lexrag-keys.o $(SHARED_LIB)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

$(BUILD)/lexrag-ingest: $(INGEST_OBJS) $(SHARED_LIB)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXWFLAGS) $(CXXFLAGS) -c -o $@ $<

# Unit tests #include the .c files they test (so static functions are reachable).
$(BUILD)/tests/test_%: tests/unit/test_%.c $(SHARED_LIB) $(FCGI_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SHARED_LIB) $(LDLIBS) -lcmocka

$(BUILD)/tests/%: tests/fcgi/%.c $(SHARED_LIB) $(FCGI_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SHARED_LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/fakes/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# Each fuzz target #includes the .c files it fuzzes, so they are instrumented with it.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(SHARED_SRCS) $(FCGI_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(WFLAGS) $(FUZZ_FLAGS) -o $@ $< $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(SHARED_LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SHARED_LIB) $(LDLIBS)

tests: all $(UNIT_BINS) $(TOOL_BINS) $(if $(filter 1,$(SAN)),,$(FUZZ_BINS))

fuzz: $(FUZZ_BINS)

bench-bins: all $(BENCH_BINS)

# The whole suite, with the plain build and again under ASan+UBSan; one summary line at the end.
check:
	$(MAKE) tests
	$(MAKE) tests BUILD=build-asan SAN=1
	tests/run build build-asan

check-plain: tests
	tests/run $(BUILD)

check-asan:
	$(MAKE) tests BUILD=build-asan SAN=1
	tests/run build-asan

# scripts/demo installs what is missing and builds by itself.
demo:
	scripts/demo

bench: bench-bins
	LX_BUILD=$(abspath $(BUILD)) bench/run

bench-quality: all
	bench/quality.sh

# 10 minutes of mixed search and chat at 100 clients with the embedder failing 10% of calls.
bench-soak: all tests
	bench/soak.sh

# Installs the worker and the ingest tool, the config example, the web-server snippets (serving
# the chat page, www/, from PREFIX/share/lexrag/www) and the systemd unit.
# /etc/lexrag/lexrag.conf is written only if absent; it is group lexrag when that group exists
# (systemd-sysusers creates it from the installed sysusers file).
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/lexrag $(DESTDIR)/lib/systemd/system \
	    $(DESTDIR)$(PREFIX)/share/lexrag/config $(DESTDIR)/usr/lib/sysusers.d
	install -m 0755 $(BUILD)/lexrag-fcgi $(BUILD)/lexrag-ingest $(BUILD)/lexrag-keys \
	    $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 config/lexrag.conf.example config/lighttpd-lexrag.conf \
	    config/apache-lexrag.conf config/spawn-fcgi.example $(DESTDIR)$(PREFIX)/share/lexrag/config/
	install -d $(DESTDIR)$(PREFIX)/share/lexrag/www
	install -m 0644 $(wildcard www/*) $(DESTDIR)$(PREFIX)/share/lexrag/www/
	sed -i 's|/usr/local/share/lexrag/www|$(PREFIX)/share/lexrag/www|g' \
	    $(DESTDIR)$(PREFIX)/share/lexrag/config/lighttpd-lexrag.conf \
	    $(DESTDIR)$(PREFIX)/share/lexrag/config/apache-lexrag.conf
	install -m 0644 systemd/lexrag.sysusers $(DESTDIR)/usr/lib/sysusers.d/lexrag.conf
	test -e $(DESTDIR)/etc/lexrag/lexrag.conf || \
	    install -m 0640 config/lexrag.conf.example $(DESTDIR)/etc/lexrag/lexrag.conf
	if getent group lexrag >/dev/null; then chgrp lexrag $(DESTDIR)/etc/lexrag/lexrag.conf; fi
	sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/lexrag.service > $(DESTDIR)/lib/systemd/system/lexrag.service
	chmod 0644 $(DESTDIR)/lib/systemd/system/lexrag.service

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
