# Main jobs of scalegate. Every target runs on embedded defaults: set
# REDIS_URL to use BullMQ on Redis, TOXIPROXY_URL to use a real Toxiproxy.
SCALEGATE := node bin/scalegate.js

.PHONY: setup test chaos-drill policy-gate load-test bench

# Route policy that policy-gate drills, and the folder that receives its report and runbook.
POLICY ?= policies/default.yaml
GATE_DIR ?= gate

setup:
	npm ci

test:
	npm test

chaos-drill:
	$(SCALEGATE) drill

# Drills POLICY and exits with the drill's code, 0 only when the verdict is passed; the
# committed report and runbook stay as they are.
policy-gate:
	$(SCALEGATE) drill --policy $(POLICY) --reports $(GATE_DIR)/reports --runbook $(GATE_DIR)/scaling_runbook.md

load-test:
	$(SCALEGATE) load --platform --scenario conv-replay --duration 60

bench:
	npm run bench
