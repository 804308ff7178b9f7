# Cabinet — build, run and test.
#
#   make run     install what is missing, build, start a local PostgreSQL,
#                migrate, seed the demo, serve on http://127.0.0.1:8080
#   make test    the same set-up, then the static checks (layers, clang-format,
#                clang-tidy) and every test suite (ASan+UBSan build)
#   make lint    the static checks alone
#   make security-long  the security tests at length: sqlmap over every
#                route, minute-long slow-client runs (SECURITY_LONG=1)
#   make proof   the long fuzz, security and faults runs, written to
#                tests/proof/RESULTS.md
#   make         build/cabinet (release)
#   make install the binary, sql/ and web/ under PREFIX (/usr/local)

CC       ?= cc
PKGS      = jansson libsodium libpq libcurl
WARN      = -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wcast-qual -Wpointer-arith \
            -Wimplicit-fallthrough -Wvla -fno-common
DEFS      = -D_GNU_SOURCE -Iserver
RELEASE   = -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
SAN       = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Debian's libcivetweb-dev ships no pkg-config file.
LIBS      = -lcivetweb -ljansson -lsodium -lpq -lcurl -lpthread -lm

SRC_ALL   = $(sort $(wildcard server/*.c server/*/*.c))
SRC       = $(SRC_ALL)
# Pure modules: what the unit tests link (no libpq, CivetWeb, libcurl).
SRC_PURE  = $(sort $(wildcard server/domain/*.c)) server/http/router.c
OBJ_REL   = $(SRC:%.c=build/rel/%.o)
OBJ_SAN   = $(SRC:%.c=build/san/%.o)

UNIT_SRC  = $(sort $(wildcard tests/unit/*.c))
# The database tests link the whole server but its main(), and the harness.
DBT_SRC   = $(sort $(wildcard tests/db/*.c)) tests/unit/harness.c

STATE_DIR = $(if $(filter 0,$(shell id -u)),/var/lib/cabinet,$(CURDIR)/var)
LISTEN   ?= 127.0.0.1:8080

.PHONY: all deps deps-test node-deps run test test-unit test-api test-browser test-security security-long proof fuzz bench lint check-layers install clean
.DELETE_ON_ERROR:

all: build/cabinet

deps:
	@bash server/scripts/deps.sh

deps-test:
	@bash server/scripts/deps.sh --test

# playwright-core and axe-core for the browser tests, exactly as locked in
# package-lock.json (from npm's cache when it has them); no browser is
# downloaded: the tests drive Debian's /usr/bin/chromium.
node-deps:
	@PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefer-offline --no-audit --no-fund --loglevel=error

build/cabinet: $(OBJ_REL)
	@echo "LINK    $@"
	@$(CC) $(RELEASE) -pie -o $@ $^ $(LIBS)

build/san/cabinet: $(OBJ_SAN)
	@echo "LINK    $@"
	@$(CC) $(SAN) -o $@ $^ $(LIBS)

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC      $<"
	@$(CC) $(WARN) $(DEFS) $(RELEASE) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC san  $<"
	@$(CC) $(WARN) $(DEFS) $(SAN) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# HTTPS: the stand-in for libssl.so that Debian's libcivetweb needs with
# OpenSSL 3 (server/http/tls/ssl_shim.c), carried inside the executable by
# server/http/server.c.
build/ssl-shim.so: server/http/tls/ssl_shim.c
	@mkdir -p $(dir $@)
	@echo "CC so   $<"
	@$(CC) $(WARN) -O2 -shared -fPIC -Wl,-soname,libssl.so -o $@ $< -lssl

build/rel/server/http/server.o build/san/server/http/server.o: build/ssl-shim.so

# The unit tests link the pure modules, and sec/ for the crypto vectors.
build/unit-tests: $(UNIT_SRC) $(SRC_PURE:%.c=build/san/%.o) build/san/server/sec/sec.o
	@echo "LINK    $@"
	@$(CC) $(WARN) $(DEFS) $(SAN) -Itests/unit -o $@ $^ -lsodium -ljansson

build/db-tests: $(DBT_SRC) $(filter-out build/san/server/main.o,$(OBJ_SAN))
	@echo "LINK    $@"
	@$(CC) $(WARN) $(DEFS) $(SAN) $(PKG_CFLAGS) -Itests/unit -o $@ $^ $(LIBS)

-include $(OBJ_REL:.o=.d) $(OBJ_SAN:.o=.d)

# The release binary against a persistent cluster in $(STATE_DIR).
run: deps
	@$(MAKE) --no-print-directory build/cabinet
	@bash server/scripts/run.sh "$(STATE_DIR)" "$(LISTEN)"

# The release binary is built too (make run and make bench use it): -O2
# finds warnings -O1 does not, and a release build that fails must fail here.
test: deps-test node-deps
	@$(MAKE) --no-print-directory build/san/cabinet build/unit-tests build/db-tests build/cabinet
	@bash tests/run.sh

test-unit: build/unit-tests
	@build/unit-tests

test-api: build/san/cabinet build/db-tests
	@bash tests/run.sh api

# The browser scenarios alone (tests/browser, through tests/api/test_browser.py).
test-browser: deps-test node-deps build/san/cabinet
	@bash tests/run.sh browser

# The security tests alone (tests/security, on the API suite's fixtures);
# security-long runs sqlmap over every route and longer slow-client runs.
test-security: deps-test build/san/cabinet
	@bash tests/run.sh api tests/security

security-long: deps-test build/san/cabinet
	@SECURITY_LONG=1 bash tests/run.sh api tests/security

# The long versions of the fuzz, security and faults suites, recorded in
# tests/proof/RESULTS.md (tests/proof/README.md): about two hours on 2
# cores. PROOF_STAGES picks some of "fuzz security faults";
# PROOF_FUZZ_SECONDS (600) is each fuzz target's time.
PROOF_STAGES ?=
proof: deps-test
	@$(MAKE) --no-print-directory build/san/cabinet build/db-tests
	@bash tests/proof/run.sh $(PROOF_STAGES)

# Longer fuzzing: FUZZ_SECONDS per target, one target at a time (make test
# runs each for 5 s); FUZZ_TARGETS="netaddr cursor" runs only those.
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?=
fuzz: deps-test
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Benchmarks against the release build; each prints ratios to a baseline
# measured in the same run (tests/bench). BENCH_SCALE sets the number of
# changes of scale.py's data set (100000 by default, 1000000 for the real
# run); scale.py writes tests/bench/RESULTS.md.
BENCH_CFLAGS = -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror
bench: deps-test node-deps
	@$(MAKE) --no-print-directory build/cabinet build/bench/bare build/bench/load
	@for b in tests/bench/*.py; do /usr/bin/python3 "$$b" || exit 1; done

# The bare CivetWeb+libpq baseline and the C load generator of scale.py.
build/bench/bare: tests/bench/bare.c
	@mkdir -p $(dir $@)
	@echo "CC      $<"
	@$(CC) $(BENCH_CFLAGS) $(PKG_CFLAGS) -o $@ $< -lcivetweb -lpq -ljansson -lsodium -lpthread

build/bench/load: tests/bench/load.c
	@mkdir -p $(dir $@)
	@echo "CC      $<"
	@$(CC) $(BENCH_CFLAGS) -o $@ $< -lpthread

# domain/ stays pure; each library is used only in its own layer
# (tests/static.sh prints each breach with its file, line and rule).
check-layers:
	@bash tests/static.sh layers

# The layer rules, the pinned clang-format over server/, tests/unit and
# tests/db, and the pinned clang-tidy over server/**/*.c (.clang-tidy).
lint:
	@bash tests/static.sh layers format tidy

# The release binary, the migrations and the web UI under PREFIX (and
# DESTDIR, for packaging): README "Installing".
PREFIX ?= /usr/local
install: build/cabinet
	install -D -m 0755 build/cabinet $(DESTDIR)$(PREFIX)/bin/cabinet
	install -d $(DESTDIR)$(PREFIX)/share/cabinet
	rm -rf $(DESTDIR)$(PREFIX)/share/cabinet/sql $(DESTDIR)$(PREFIX)/share/cabinet/web
	cp -R sql web $(DESTDIR)$(PREFIX)/share/cabinet/

clean:
	rm -rf build
