import assert from 'node:assert/strict';

import { convertK6Summary } from '../../../src/harness/k6/convert.js';
import { isLoadOutputValidationError } from '../../../src/harness/load/errors.js';
import { validateLoadOutput } from '../../../src/harness/load/validate-output.js';
import { sampleLoadOutput } from './sample-output.js';

/** Asserts that `value` fails validation at `path`, and that the message names the path. */
function assertInvalidAt(value: unknown, path: string, message: RegExp): void {
  assert.throws(
    () => validateLoadOutput(value),
    (error: unknown) => {
      assert.ok(isLoadOutputValidationError(error), String(error));
      assert.equal(error.instancePath, path);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('validateLoadOutput', () => {
  it('accepts a platform run', () => {
    const output = sampleLoadOutput();
    assert.equal(validateLoadOutput(output), output);
  });

  it('accepts a --target run', () => {
    const output = sampleLoadOutput();
    output.settings.platform = null;
    delete output.platform;
    assert.equal(validateLoadOutput(output), output);
  });

  it('accepts a k6 result', () => {
    const output = sampleLoadOutput();
    output.settings.engine = 'k6';
    output.result = convertK6Summary(
      {
        state: { testRunDurationMs: 5000 },
        metrics: {
          iterations: { values: { count: 10 } },
          scalegate_success: { values: { passes: 9, fails: 1 } },
        },
      },
      { scenario: 'conv-replay', target: 'http://127.0.0.1:40000', durationSec: 5 },
    );
    assert.equal(validateLoadOutput(output), output);
  });

  it('accepts succeeded throughput', () => {
    const output = sampleLoadOutput();
    assert.ok(output.result.throughput !== undefined);
    output.result.throughput.succeededInWindow = 42;
    output.result.throughput.succeededRpm = 504;
    assert.equal(validateLoadOutput(output), output);
  });

  it('rejects a fractional succeeded count', () => {
    const output = sampleLoadOutput();
    assert.ok(output.result.throughput !== undefined);
    output.result.throughput.succeededInWindow = 4.5;
    assertInvalidAt(output, '/result/throughput/succeededInWindow', /integer/);
  });

  it('accepts an interrupted run', () => {
    const output = sampleLoadOutput();
    output.interrupted = { signal: 'SIGINT' };
    assert.equal(validateLoadOutput(output), output);
  });

  it('names a missing schemaVersion', () => {
    const { schemaVersion: _, ...output } = sampleLoadOutput();
    assertInvalidAt(
      output,
      '',
      /^invalid load output at \(root\): required rule failed .*schemaVersion/,
    );
  });

  it('names a seed of the wrong type', () => {
    const output = sampleLoadOutput() as unknown as { settings: { seed: unknown } };
    output.settings.seed = '1';
    assertInvalidAt(
      output,
      '/settings/seed',
      /^invalid load output at \/settings\/seed: type rule failed \(must be integer, got "1"\)$/,
    );
  });

  it('names a success rate above 1', () => {
    const output = sampleLoadOutput();
    output.result.successRate = 99.5;
    assertInvalidAt(
      output,
      '/result/successRate',
      /^invalid load output at \/result\/successRate: maximum rule failed \(must be <= 1, got 99\.5\); expected share of ended requests that succeeded, a fraction from 0 to 1 \(0\.95 for 95%\)$/,
    );
  });

  it('accepts rejections per tenant', () => {
    const output = sampleLoadOutput();
    output.result.rejectionsByTenant = { 'tenant-noisy': { requests_per_minute: 470 } };
    assert.equal(validateLoadOutput(output), output);
  });

  it('names a rejection count below 1', () => {
    const output = sampleLoadOutput();
    output.result.rejectionsByTenant = { 'tenant-noisy': { max_in_flight: 0 } };
    assertInvalidAt(
      output,
      '/result/rejectionsByTenant/tenant-noisy/max_in_flight',
      /minimum rule failed/,
    );
  });

  it('names a policy hash that is not sha256', () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.policyHash = 'abc';
    assertInvalidAt(output, '/settings/platform/policyHash', /pattern rule failed/);
  });

  it('rejects a field the schema lacks', () => {
    const output = { ...sampleLoadOutput(), extra: true };
    assertInvalidAt(output, '', /additionalProperties rule failed/);
  });

  it('names the field the schema lacks', () => {
    const output = sampleLoadOutput();
    Object.assign(output.settings, { colour: 'red' });
    assertInvalidAt(
      output,
      '/settings',
      /^invalid load output at \/settings: additionalProperties rule failed \(must NOT have additional properties, got property "colour"\)$/,
    );
  });
});
