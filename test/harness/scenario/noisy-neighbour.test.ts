import assert from 'node:assert/strict';

import { SCENARIOS } from '../../../scenarios/index.js';
import { buildSchedule } from '../../../src/harness/load/schedule.js';
import type { ScenarioSpec } from '../../../src/harness/scenario/types.js';
import { loadTenants } from '../../../src/platform/tenants/index.js';
import type { Tenant } from '../../../src/platform/tenants/tenant.js';

const QUIET = ['tenant-alpha', 'tenant-beta'];

function scenario(name: string): ScenarioSpec {
  return SCENARIOS[name] ?? assert.fail(`scenario ${name} is not registered`);
}

/** Requests per minute the scenario sends as `tenantId`. */
function tenantRpm(spec: ScenarioSpec, tenantId: string): number {
  assert.ok(spec.arrival.kind === 'constant');
  const total = spec.tenants.reduce((sum, share) => sum + share.weight, 0);
  const share = spec.tenants.find((candidate) => candidate.tenantId === tenantId);
  return ((spec.arrival.ratePerSec * (share?.weight ?? 0)) / total) * 60;
}

async function tenant(id: string): Promise<Tenant> {
  return (await loadTenants()).get(id) ?? assert.fail(`tenant ${id} missing from the fixture`);
}

describe('noisy-neighbour scenarios', () => {
  for (const name of ['noisy-flood', 'noisy-hold']) {
    it(`${name} floods tenant-noisy only`, async () => {
      const spec = scenario(name);
      const noisy = await tenant('tenant-noisy');
      assert.ok(tenantRpm(spec, 'tenant-noisy') >= 10 * noisy.requestsPerMinute);
      for (const id of QUIET) {
        const limits = await tenant(id);
        assert.ok(tenantRpm(spec, id) <= limits.requestsPerMinute / 2, `${id} near its quota`);
      }
    });

    it(`${name} judges the quiet tenants only`, () => {
      const { slo } = scenario(name);
      assert.equal(slo.successRate, undefined);
      assert.equal(slo.p95LatencyMs, undefined);
      assert.deepEqual(Object.keys(slo.perTenant ?? {}).sort(), QUIET);
    });
  }

  it('noisy-flood asks for more than its tokens per minute', async () => {
    const spec = scenario('noisy-flood');
    const noisy = await tenant('tenant-noisy');
    const schedule = await buildSchedule(spec, { seed: 1, durationSec: spec.durationSec });
    const requests = schedule.filter((request) => request.tenantId === 'tenant-noisy');
    const tokens = requests.map((request) => request.inputTokens + request.maxOutputTokens);
    const meanTokens = tokens.reduce((sum, value) => sum + value, 0) / tokens.length;
    // At the rate its request quota admits, the mean request needs more tokens than refill.
    assert.ok(meanTokens * noisy.requestsPerMinute > noisy.tokensPerMinute, `mean ${meanTokens}`);
    assert.ok(Math.max(...tokens) <= noisy.tokensPerMinute, 'a request larger than the bucket');
  });

  it('noisy-hold fills its running cap and in-flight cap', async () => {
    const spec = scenario('noisy-hold');
    const noisy = await tenant('tenant-noisy');
    const schedule = await buildSchedule(spec, { seed: 1, durationSec: spec.durationSec });
    const requests = schedule.filter((request) => request.tenantId === 'tenant-noisy');
    assert.ok(requests.every((request) => request.mode === 'async'));
    const maxRunning = noisy.maxRunning ?? assert.fail('tenant-noisy has no maxRunning');
    // Tool waits alone keep more tasks busy, at one admitted request a second, than it may run.
    const toolWaitSec = Math.min(
      ...requests.map((request) => ((request.steps ?? 1) * (request.toolWaitMs ?? 0)) / 1000),
    );
    assert.ok((toolWaitSec * noisy.requestsPerMinute) / 60 > maxRunning, `${toolWaitSec} s`);
    assert.ok(noisy.maxInFlight > maxRunning);
    const quiet = schedule.filter((request) => request.tenantId !== 'tenant-noisy');
    assert.ok(quiet.some((request) => request.mode === 'async'));
  });
});
