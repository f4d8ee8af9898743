import assert from 'node:assert/strict';
import { register } from 'node:module';

import { compileScenarioToK6 } from '../../../src/harness/k6/compile.js';
import type { K6Plan } from '../../../src/harness/k6/plan.js';
import type { ScenarioSpec } from '../../../src/harness/scenario/types.js';
import { sampleSpec, TEST_KEYS } from '../load/sample-spec.js';

/**
 * Stand-ins for the k6 modules the entry script imports. Each forwards to `globalThis.k6Stub`,
 * which the test sets, so the test records every request body the script sends.
 */
const K6_MODULES: Record<string, string> = {
  k6: ['export const check = () => true;', 'export const sleep = () => undefined;'].join('\n'),
  'k6/http': [
    'export default {',
    '  post: (url, body) => globalThis.k6Stub.post(url, body),',
    '  get: () => ({ status: 404, json: () => null }),',
    '};',
  ].join('\n'),
  'k6/metrics': [
    'class Metric { add() {} }',
    'export class Counter extends Metric {}',
    'export class Rate extends Metric {}',
    'export class Trend extends Metric {}',
  ].join('\n'),
};

/** Module hooks that resolve the k6 module names to the stand-ins above. */
const HOOKS = `
const modules = ${JSON.stringify(K6_MODULES)};
export async function resolve(specifier, context, nextResolve) {
  const source = modules[specifier];
  if (source === undefined) return nextResolve(specifier, context);
  return { url: 'data:text/javascript,' + encodeURIComponent(source), shortCircuit: true };
}
`;

interface K6Globals {
  open?: (path: string) => string;
  __ENV?: Record<string, string>;
  k6Stub?: { post: (url: string, body: string) => { status: number; json: () => null } };
}

const globals = globalThis as K6Globals;
let loaded = 0;

/**
 * Loads a fresh copy of the entry script with `plan`, calls its `task` function `times` times
 * as `tenant`, and returns the request bodies it posted.
 */
async function postedBodies(
  plan: K6Plan,
  tenant: string,
  times: number,
): Promise<Record<string, unknown>[]> {
  const bodies: Record<string, unknown>[] = [];
  globals.open = () => JSON.stringify(plan);
  globals.__ENV = { SCALEGATE_K6_PLAN: 'plan.json', SCALEGATE_TENANT: tenant };
  globals.k6Stub = {
    post: (_url, body) => {
      bodies.push(JSON.parse(body) as Record<string, unknown>);
      return { status: 200, json: () => null };
    },
  };
  // The query makes each load a new module instance, which reads its own plan.
  loaded += 1;
  const entry = (await import(`../../../scenarios/k6/entry.ts?plan=${loaded}`)) as {
    task: () => void;
  };
  for (let i = 0; i < times; i++) entry.task();
  return bodies;
}

/** Compiles `spec` with the output limit of each route in `limits`, keys included. */
function planOf(spec: ScenarioSpec, limits?: Record<string, number>): K6Plan {
  const plan = compileScenarioToK6(
    spec,
    limits === undefined ? {} : { outputLimitOf: (route) => limits[route] },
  );
  plan.workload.keys = TEST_KEYS;
  return plan;
}

/** Returns a spec whose tasks request `outputTokens` on each of `routes`. */
function specWithOutput(outputTokens: number, routes: string[]): ScenarioSpec {
  return sampleSpec({
    routes: routes.map((route) => ({ route, weight: 1 })),
    tasks: {
      source: 'distribution',
      kinds: [
        {
          name: 'long',
          weight: 1,
          inputTokens: { kind: 'constant', value: 100 },
          outputTokens: { kind: 'constant', value: outputTokens },
        },
      ],
    },
  });
}

describe('k6 entry script', () => {
  before(() => {
    register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
  });

  after(() => {
    delete globals.open;
    delete globals.__ENV;
    delete globals.k6Stub;
  });

  it('clamps a drawn length to the limit', async () => {
    const bodies = await postedBodies(
      planOf(specWithOutput(5000, ['chat']), { chat: 4096 }),
      'tenant-alpha',
      3,
    );

    assert.equal(bodies.length, 3);
    for (const body of bodies) {
      assert.equal(body.route, 'chat');
      assert.equal(body.maxOutputTokens, 4096);
      assert.equal(body.inputTokens, 100);
      assert.equal(body.forcedOutputTokens, undefined);
    }
  });

  it('keeps a length below the limit', async () => {
    const bodies = await postedBodies(
      planOf(specWithOutput(300, ['chat']), { chat: 4096 }),
      'tenant-alpha',
      1,
    );

    assert.equal(bodies[0]?.maxOutputTokens, 300);
  });

  it('clamps sampled and forced lengths', async () => {
    const spec = sampleSpec({
      arrival: { kind: 'trace', file: 'unused.csv', speedUp: 1 },
      tasks: { source: 'trace' },
    });
    const traceRows = [{ line: 2, offsetMs: 0, contextTokens: 50, generatedTokens: 9000 }];
    const plan = compileScenarioToK6(spec, {
      traceRows,
      outputLimitOf: (route) => (route === 'chat' ? 4096 : undefined),
    });
    plan.workload.keys = TEST_KEYS;
    const bodies = await postedBodies(plan, 'tenant-alpha', 1);

    assert.equal(bodies[0]?.inputTokens, 50);
    assert.equal(bodies[0]?.maxOutputTokens, 4096);
    assert.equal(bodies[0]?.forcedOutputTokens, 4096);
  });

  it('clamps each route to its own limit', async () => {
    const plan = planOf(specWithOutput(5000, ['chat', 'chat-fast', 'free']), {
      chat: 4096,
      'chat-fast': 2048,
    });
    const bodies = await postedBodies(plan, 'tenant-alpha', 60);
    const lengthsByRoute = new Map<unknown, Set<unknown>>();
    for (const body of bodies) {
      const lengths = lengthsByRoute.get(body.route) ?? new Set();
      lengths.add(body.maxOutputTokens);
      lengthsByRoute.set(body.route, lengths);
    }

    // 60 draws over three equal routes miss one with a chance of about 3 × (2/3)^60, or 1e-10.
    assert.deepEqual(lengthsByRoute.get('chat'), new Set([4096]));
    assert.deepEqual(lengthsByRoute.get('chat-fast'), new Set([2048]));
    assert.deepEqual(lengthsByRoute.get('free'), new Set([5000]));
  });

  it('sends unclamped lengths without limits', async () => {
    const bodies = await postedBodies(planOf(specWithOutput(5000, ['chat'])), 'tenant-alpha', 1);

    assert.equal(bodies[0]?.maxOutputTokens, 5000);
  });

  it("clamps a tenant's own tasks", async () => {
    const spec = specWithOutput(300, ['chat']);
    spec.tenants = [
      { tenantId: 'tenant-alpha', weight: 1 },
      {
        tenantId: 'tenant-beta',
        weight: 1,
        tasks: {
          source: 'distribution',
          kinds: [
            {
              name: 'agent',
              weight: 1,
              inputTokens: { kind: 'constant', value: 100 },
              outputTokens: { kind: 'constant', value: 8000 },
            },
          ],
        },
      },
    ];
    const bodies = await postedBodies(planOf(spec, { chat: 4096 }), 'tenant-beta', 1);

    assert.equal(bodies[0]?.maxOutputTokens, 4096);
  });
});
