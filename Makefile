# Main jobs of scalegate. Every target runs on embedded defaults: set
# REDIS_URL to use BullMQ on Redis, TOXIPROXY_URL to use a real Toxiproxy.
SCALEGATE := node bin/scalegate.js

.PHONY: setup test chaos-drill policy-check policy-gate tenants-check load-test bench

# Drill that chaos-drill runs: provider-outage or worker-loss (chaos/index.ts lists them).
# worker-loss pauses the async workers, which on Redis run in worker processes that the
# pause cannot reach, so with REDIS_URL set it exits 2 before its load starts.
DRILL ?= provider-outage

# Route policy that policy-check checks and policy-gate drills, and the folder that receives
# the gate's reports, runbook and pull-request comment.
POLICY ?= policies/default.yaml
GATE_DIR ?= gate
# Tenants file that tenants-check checks.
TENANTS ?= fixtures/tenants.yaml
# Policy that POLICY changes, such as the base branch copy of policies/default.yaml. When set,
# policy-gate drills it first with the same drill and seed, compares the two runs, and lists the
# changes and those the drill did not exercise.
BASE_POLICY ?=
# Simulated seconds per wall second of chaos-drill and policy-gate, from 0.1 to 20; left
# empty, the drill's own setting applies, 1 (real time). A run that fell behind its schedule
# on a busy machine can be rerun below 1.
TIME_SCALE ?=

setup:
	npm ci

test:
	npm test

chaos-drill:
	$(if $(strip $(DRILL)),,$(error $(EMPTY_DRILL_ERROR)))
	$(SCALEGATE) drill --drill $(call shell_quote,$(DRILL))$(time_scale_option)

# The --time-scale option when TIME_SCALE is set, with its leading space.
time_scale_option = $(if $(strip $(TIME_SCALE)), --time-scale $(call shell_quote,$(TIME_SCALE)))

# Wraps $(1) in single quotes for the shell, so a path with spaces stays one argument.
shell_quote = '$(subst ','\'',$(1))'

# Variables, because the commas of a message written inside $(if ...) would split it.
EMPTY_DRILL_ERROR := DRILL is empty; pass DRILL=worker-loss, or leave DRILL out to run provider-outage
EMPTY_POLICY_ERROR := POLICY is empty; pass POLICY=path/to/policy.yaml, or leave POLICY out to drill policies/default.yaml
EMPTY_POLICY_CHECK_ERROR := POLICY is empty; pass POLICY=path/to/policy.yaml, or leave POLICY out to check policies/default.yaml
EMPTY_TENANTS_ERROR := TENANTS is empty; pass TENANTS=path/to/tenants.yaml, or leave TENANTS out to check fixtures/tenants.yaml
EMPTY_GATE_DIR_ERROR := GATE_DIR is empty; pass GATE_DIR=path/to/folder, or leave GATE_DIR out to write to gate/

# Checks POLICY as the platform loads it, without starting the platform. The command exits 1
# for an invalid policy and 2 for an unreadable file, and make then exits 2 in either case.
policy-check:
	$(if $(strip $(POLICY)),,$(error $(EMPTY_POLICY_CHECK_ERROR)))
	$(SCALEGATE) policy check $(call shell_quote,$(POLICY))

# Checks TENANTS as the platform loads it, without starting the platform. The command exits 1
# for an invalid file and 2 for an unreadable one, and make then exits 2 in either case.
tenants-check:
	$(if $(strip $(TENANTS)),,$(error $(EMPTY_TENANTS_ERROR)))
	$(SCALEGATE) tenants check $(call shell_quote,$(TENANTS))

# Drills BASE_POLICY, when set, then POLICY, and exits with the POLICY drill's code, 0 only
# when its verdict is passed; the committed report and runbook stay as they are.
policy-gate:
	$(if $(strip $(POLICY)),,$(error $(EMPTY_POLICY_ERROR)))
	$(if $(strip $(GATE_DIR)),,$(error $(EMPTY_GATE_DIR_ERROR)))
	$(SCALEGATE) gate --policy $(call shell_quote,$(POLICY)) \
		--gate-dir $(call shell_quote,$(GATE_DIR)) \
		$(if $(strip $(BASE_POLICY)),--base-policy $(call shell_quote,$(BASE_POLICY)))$(time_scale_option)

load-test:
	$(SCALEGATE) load --platform --scenario conv-replay --duration 60

bench:
	npm run bench
