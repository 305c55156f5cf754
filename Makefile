# lexrag -- build, test, install. `make` builds the worker; `make check` runs every test (also
# under ASan+UBSan); `make demo` runs the service on loopback; `make bench` measures it.
CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=

PKGS     := libevent jansson inih
CFLAGS   ?= -O2 -g
WFLAGS   := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -MMD -MP $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lm
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

SHARED_SRCS := $(wildcard shared/*.c)
FCGI_SRCS   := $(wildcard fcgi/*.c)
WORKER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(SHARED_SRCS) $(FCGI_SRCS))
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS   := $(wildcard tests/fcgi/*.c)
TOOL_BINS   := $(patsubst tests/fcgi/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))

.PHONY: all tests check check-plain check-asan demo bench install clean format format-check

all: $(BUILD)/lexrag-fcgi

$(BUILD)/lexrag-fcgi: $(WORKER_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WFLAGS) $(CFLAGS) -c -o $@ $<

# Unit tests #include the .c files they test (so static functions are reachable).
$(BUILD)/tests/test_%: tests/unit/test_%.c $(SHARED_SRCS) $(FCGI_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS) -lcmocka

$(BUILD)/tests/%: tests/fcgi/%.c $(SHARED_SRCS) $(FCGI_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

tests: all $(UNIT_BINS) $(TOOL_BINS)

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

demo: all
	scripts/demo

bench: all
	bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/lexrag $(DESTDIR)/lib/systemd/system \
	    $(DESTDIR)$(PREFIX)/share/lexrag/config
	install -m 0755 $(BUILD)/lexrag-fcgi $(DESTDIR)$(PREFIX)/bin/lexrag-fcgi
	install -m 0644 config/lexrag.conf.example $(DESTDIR)$(PREFIX)/share/lexrag/config/
	install -m 0644 config/lighttpd-lexrag.conf config/apache-lexrag.conf \
	    $(DESTDIR)$(PREFIX)/share/lexrag/config/
	test -e $(DESTDIR)/etc/lexrag/lexrag.conf || \
	    install -m 0640 config/lexrag.conf.example $(DESTDIR)/etc/lexrag/lexrag.conf
	sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/lexrag.service > $(DESTDIR)/lib/systemd/system/lexrag.service
	chmod 0644 $(DESTDIR)/lib/systemd/system/lexrag.service

format:
	clang-format -i $(SHARED_SRCS) $(FCGI_SRCS) shared/*.h fcgi/*.h $(UNIT_SRCS) $(TOOL_SRCS)

format-check:
	clang-format --dry-run -Werror $(SHARED_SRCS) $(FCGI_SRCS) shared/*.h fcgi/*.h $(UNIT_SRCS) $(TOOL_SRCS)

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
