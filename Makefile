# Main jobs of scalegate. Every target runs on embedded defaults: set
# REDIS_URL to use BullMQ on Redis, TOXIPROXY_URL to use a real Toxiproxy.
SCALEGATE := node bin/scalegate.js

.PHONY: setup test chaos-drill load-test bench

setup:
	npm ci

test:
	npm test

chaos-drill:
	$(SCALEGATE) drill

load-test:
	$(SCALEGATE) load --platform --scenario conv-replay --duration 60

bench:
	npm run bench
