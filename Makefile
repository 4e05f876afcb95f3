# daemontools-node. `make` builds every program into ./bin; `make test` runs
# every test (unit, black-box, compatibility with Debian's daemontools).
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib/daemontools-node
BINDIR ?= $(PREFIX)/bin
UNITDIR ?= /etc/systemd/system
NODE ?= node
TESTS ?= build/test/*.test.js

SOURCES := $(wildcard commands/*.ts lib/*.ts lib/*/*.ts) scripts/build.mjs scripts/launcher.sh

.PHONY: all build check test bench install install-systemd uninstall clean demo

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: node_modules/.package-lock.json $(SOURCES)
	$(NODE) scripts/build.mjs

check: node_modules/.package-lock.json
	npx tsc --noEmit -p .

test: build check
	$(NODE) scripts/build.mjs --tests
	$(NODE) --test --test-concurrency=2 --test-reporter=spec $(TESTS)

bench: build
	$(NODE) scripts/build.mjs --bench
	$(NODE) build/bench.js $(if $(QUICK),--quick,)

demo: build
	sh scripts/demo.sh

install: build
	mkdir -p $(DESTDIR)$(LIBDIR)/dist $(DESTDIR)$(LIBDIR)/node_modules $(DESTDIR)$(BINDIR)
	cp dist/*.js $(DESTDIR)$(LIBDIR)/dist/
	rm -rf $(DESTDIR)$(LIBDIR)/node_modules/koffi
	cp -r node_modules/koffi $(DESTDIR)$(LIBDIR)/node_modules/koffi
	$(NODE) scripts/build.mjs --launchers $(DESTDIR)$(BINDIR) $(LIBDIR)

install-systemd: install
	mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' scripts/svscanboot.service > $(DESTDIR)$(UNITDIR)/svscanboot.service
	@echo "installed $(DESTDIR)$(UNITDIR)/svscanboot.service: systemctl daemon-reload && systemctl enable --now svscanboot"

uninstall:
	rm -rf $(DESTDIR)$(LIBDIR)
	@# the unit only if it starts this BINDIR's svscanboot (UNITDIR is not under PREFIX)
	if grep -qsF 'ExecStart=$(BINDIR)/svscanboot ' $(DESTDIR)$(UNITDIR)/svscanboot.service; then rm -f $(DESTDIR)$(UNITDIR)/svscanboot.service; fi
	cd $(DESTDIR)$(BINDIR) && rm -f envdir envuidgid fghack multilog pgrphack readproctitle setlock setuidgid softlimit supervise svc svok svctl svscan svscanboot svstat svwait svweb tai64n tai64nlocal

clean:
	rm -rf dist bin build
