# The two commands: `make test` (the kernel regression run) and `make check`
# (the project's own tests). Both install what they need, idempotently.

PYTHON   ?= /usr/bin/python3
VENV     := .venv
HARNESS  := $(VENV)/bin/harness
PYTEST   := $(VENV)/bin/python -m pytest
KERNEL   ?=
KNOWN    ?=
RETRIES  ?=
BASELINE ?=
# VMs at once in make test. JOBS= is its old name, still accepted; -j/--jobs
# means make -j (the kernel build) everywhere else.
PARALLEL ?= $(or $(JOBS),$(shell nproc))

# Debian packages: QEMU, the default kernel source (and 6.1 LTS, which make check
# tests the fragments against), the kernel build toolchain,
# the guest image builder, and the peers the benchmarks measure against.
APT_PACKAGES := qemu-system-x86 qemu-utils linux-source-6.12 linux-source-6.1 build-essential flex bison bc \
	libelf-dev libssl-dev ccache cpio xz-utils kmod debootstrap e2fsprogs xfsprogs \
	python3-venv openssh-client git patch stress-ng
# The browser the results-page test renders pages in: installed for `make check` only.
CHECK_APT_PACKAGES := chromium

.PHONY: deps venv guest test check bench clean-results

deps:
	@missing=""; for p in $(APT_PACKAGES) $(if $(filter check,$(MAKECMDGOALS)),$(CHECK_APT_PACKAGES)); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[kcidb]'
	@touch $@

venv: deps $(VENV)/.installed

guest: deps
	$(MAKE) -s -C guest

PLAN     ?=
# Counts are checked while the makefile is read, in one line, before deps run.
ifneq ($(filter test,$(MAKECMDGOALS)),)
$(foreach v,RUNS PARALLEL,$(if $($(v)),$(if $(shell echo '$($(v))' | grep -xE '[1-9][0-9]*'),,\
	$(error $(v)=$($(v)): expected a positive integer))))
endif
# The main job: the kernel regression suite (tests/kernel) as pytest items, one
# VM each, PARALLEL at a time. -s lets every VM's progress reach the terminal.
test: venv guest
	$(PYTEST) tests/kernel -s -p no:cacheprovider -n $(PARALLEL) \
		$(if $(KERNEL),--kernel=$(KERNEL)) $(if $(PLAN),--plan=$(PLAN)) $(if $(RUNS),--runs=$(RUNS)) \
		$(foreach k,$(KNOWN),--known=$(k)) $(if $(RETRIES),--retries=$(RETRIES)) $(if $(BASELINE),--baseline=$(BASELINE))

# The project's own tests: unit tests, then the end-to-end tests that build and boot.
# -s on the end-to-end half: a cold kernel build takes many minutes and its
# progress lines must reach the terminal.
check: venv guest
	$(PYTEST) -q -p no:cacheprovider tests/unit -n 2
	$(PYTEST) -q -s -p no:cacheprovider tests/e2e -x

bench: venv guest
	$(VENV)/bin/pip install -q -e '.[bench,kcidb]'
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

# Baseline vs patched, with statistics: make verify KERNEL=<tree> PATCH="<file> [<file> ...]"
.PHONY: verify
verify: venv guest
	$(if $(PATCH),,$(error verify needs PATCH=<file>: a diff or git format-patch mail))
	$(HARNESS) verify $(if $(KERNEL),--kernel $(KERNEL)) $(foreach p,$(PATCH),--patch $(p))

# Find the commit that introduced a failure (flake-aware; the tree is left untouched):
#   make bisect KERNEL=<git tree> GOOD=<rev> BAD=<rev> SCENARIO=<name> [RUNS=n] [DURATION=s]
# Checked when the makefile is read, so a missing argument stops before deps run.
ifneq ($(filter bisect,$(MAKECMDGOALS)),)
ifeq ($(and $(KERNEL),$(GOOD),$(BAD),$(SCENARIO)),)
$(error usage: make bisect KERNEL=<git tree> GOOD=<rev> BAD=<rev> SCENARIO=<name> [RUNS=n] [DURATION=s])
endif
endif
.PHONY: bisect
bisect: venv guest
	$(HARNESS) bisect --kernel $(KERNEL) --good $(GOOD) --bad $(BAD) --scenario $(SCENARIO) $(if $(RUNS),--runs $(RUNS)) $(if $(DURATION),--duration $(DURATION))

# The bug corpus: build each bugged kernel, show its scenario catches it, and the clean kernel does not.
validate: venv guest
	$(HARNESS) validate $(if $(BUG),--bug $(BUG)) $(if $(RUNS),--runs $(RUNS))
