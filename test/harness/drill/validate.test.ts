import assert from 'node:assert/strict';

import { providerOutageDrill } from '../../../chaos/provider-outage.js';
import { workerLossDrill } from '../../../chaos/worker-loss.js';
import { isDrillSpecError } from '../../../src/harness/drill/errors.js';
import { validateDrillSpec } from '../../../src/harness/drill/validate.js';

function messageOf(spec: unknown): string {
  try {
    validateDrillSpec(spec);
  } catch (error) {
    assert.ok(isDrillSpecError(error));
    return error.message;
  }
  assert.fail('expected a DrillSpecError');
}

function fieldOf(spec: unknown): string {
  try {
    validateDrillSpec(spec);
  } catch (error) {
    assert.ok(isDrillSpecError(error));
    return error.field;
  }
  assert.fail('expected a DrillSpecError');
}

function withFault(index: number, patch: Record<string, unknown>): unknown {
  const faults = providerOutageDrill.faults.map((step, at) =>
    at === index ? { ...step, ...patch } : step,
  );
  return { ...providerOutageDrill, faults };
}

/** Returns the drill with its first fault only, changed by `patch`. */
function withOnlyFirstFault(patch: Record<string, unknown>): unknown {
  return { ...providerOutageDrill, faults: [{ ...providerOutageDrill.faults[0], ...patch }] };
}

const { steadyState } = providerOutageDrill;

describe('validateDrillSpec', () => {
  it('accepts the provider-outage drill', () => {
    assert.equal(validateDrillSpec(providerOutageDrill).name, 'provider-outage');
  });

  it('names a missing top-level field', () => {
    const { scenario: _scenario, ...rest } = providerOutageDrill;
    assert.equal(fieldOf(rest), 'scenario');
  });

  it('names a negative fault offset', () => {
    assert.equal(fieldOf(withFault(1, { atS: -1 })), 'faults[1].atS');
  });

  it('names an unknown fault kind', () => {
    assert.equal(fieldOf(withFault(2, { kind: 'meteor' })), 'faults[2].kind');
  });

  it('names an invalid provider fault field', () => {
    assert.equal(fieldOf(withFault(0, { faults: { errorRate: 2 } })), 'faults[0].faults.errorRate');
  });

  it('names an unknown toxic type', () => {
    const toxic = { type: 'meteor', attributes: {} };
    assert.equal(fieldOf(withFault(1, { toxic })), 'faults[1].toxic.type');
  });

  it('names an unknown toxic attribute', () => {
    const toxic = { type: 'latency', attributes: { delay: 1500 } };
    assert.equal(
      messageOf(withFault(1, { toxic })),
      'invalid drill spec: faults[1].toxic.attributes.delay is not an attribute of a ' +
        'latency toxic; its attributes are latency (milliseconds), jitter (milliseconds)',
    );
  });

  it('rejects an inherited property as attribute', () => {
    const toxic = { type: 'latency', attributes: { constructor: 5 } };
    assert.equal(
      messageOf(withFault(1, { toxic })),
      'invalid drill spec: faults[1].toxic.attributes.constructor is not an attribute of a ' +
        'latency toxic; its attributes are latency (milliseconds), jitter (milliseconds)',
    );
  });

  it('suggests a near toxic attribute', () => {
    const toxic = { type: 'bandwidth', attributes: { rates: 10 } };
    assert.equal(
      messageOf(withFault(1, { toxic })),
      'invalid drill spec: faults[1].toxic.attributes.rates is not an attribute of a ' +
        'bandwidth toxic; did you mean rate? Its attributes are rate (KB/s)',
    );
  });

  it('rejects a fractional toxic attribute', () => {
    const toxic = { type: 'latency', attributes: { latency: 1.5 } };
    assert.equal(
      messageOf(withFault(1, { toxic })),
      'invalid drill spec: faults[1].toxic.attributes.latency is 1.5, but a latency toxic ' +
        'takes latency as an integer from 0 to 2147483647 (milliseconds); write a whole ' +
        'number of milliseconds',
    );
  });

  it('names a fault that outlasts the drill', () => {
    const spec = withFault(2, { durationS: 500 });
    assert.equal(fieldOf(spec), 'faults[2].durationS');
    assert.equal(
      messageOf(spec),
      'invalid drill spec: faults[2].durationS is 500 s, so the fault ends at 565 s, after ' +
        "the drill's durationS of 120 s; shorten it to at most 55 s or raise the drill's " +
        'durationS to 565 s',
    );
  });

  it('blames atS past the end', () => {
    const spec = withFault(2, { atS: 130 });
    assert.equal(fieldOf(spec), 'faults[2].atS');
    assert.equal(
      messageOf(spec),
      "invalid drill spec: faults[2].atS is 130 s, at or after the drill's end at durationS " +
        '120 s; start the fault before 120 s or raise durationS',
    );
  });

  it('lists the choices and the value', () => {
    const toxic = { type: 'meteor', attributes: {} };
    assert.equal(
      messageOf(withFault(1, { toxic })),
      'invalid drill spec: faults[1].toxic.type must be one of latency, timeout, reset_peer, ' +
        'bandwidth, slow_close, slicer, limit_data, got "meteor"',
    );
  });

  it('shows the value of a type error', () => {
    assert.equal(
      messageOf(withFault(0, { atS: 'soon' })),
      'invalid drill spec: faults[0].atS must be number, got "soon"',
    );
  });

  it('shows an unknown fault kind', () => {
    assert.equal(
      messageOf(withFault(2, { kind: 'meteor' })),
      'invalid drill spec: faults[2].kind must be toxic, provider-fault, tenant-burst or ' +
        'worker-pause, got "meteor"',
    );
  });

  it('names a repeated fault id', () => {
    assert.equal(fieldOf(withFault(1, { id: 'primary-outage' })), 'faults[1].id');
  });

  it('names an unknown series measure', () => {
    const probes = [{ ...providerOutageDrill.steadyState.probes[0], measure: 'vibes' }];
    const spec = { ...providerOutageDrill, steadyState: { settleS: 1, probes } };
    assert.equal(fieldOf(spec), 'steadyState.probes[0].measure');
  });

  it('rejects a fallback equal to its provider', () => {
    const spec = withFault(0, { failover: { fallback: 'provider-a' } });
    assert.equal(fieldOf(spec), 'faults[0].failover.fallback');
    assert.equal(
      messageOf(spec),
      'invalid drill spec: faults[0].failover.fallback is provider-a, the provider this step ' +
        'fails; name the provider that takes over its traffic, or drop failover',
    );
  });

  it('names a misnamed fault field', () => {
    const { durationS: _durationS, ...step } = providerOutageDrill.faults[1] ?? {};
    assert.equal(
      messageOf({ ...providerOutageDrill, faults: [{ ...step, duration: 15 }] }),
      'invalid drill spec: faults[0].durationS is required; the object has the unknown ' +
        'field duration set to 15, so rename it to durationS',
    );
  });

  it('names an unlike misnamed field', () => {
    const { atS: _atS, ...step } = providerOutageDrill.faults[1] ?? {};
    assert.equal(
      messageOf({ ...providerOutageDrill, faults: [{ ...step, startS: 30 }] }),
      'invalid drill spec: faults[0].atS is required; the object has the unknown field ' +
        'startS set to 30, so rename it to atS',
    );
  });

  it('asks to add a missing field', () => {
    const { atS: _atS, ...step } = providerOutageDrill.faults[1] ?? {};
    assert.equal(
      messageOf({ ...providerOutageDrill, faults: [step] }),
      'invalid drill spec: faults[0].atS is required; add atS',
    );
  });

  it('suggests a near fault setting', () => {
    assert.equal(
      messageOf(withOnlyFirstFault({ faults: { streamCutAfterToken: 20 } })),
      'invalid drill spec: faults[0].faults.streamCutAfterToken is not a known field ' +
        '(set to 20); did you mean streamCutAfterTokens? Rename it',
    );
  });

  it('lists the fields of a probe', () => {
    const probes = [{ ...steadyState.probes[0], limit: 1 }];
    assert.equal(
      messageOf({ ...providerOutageDrill, steadyState: { ...steadyState, probes } }),
      'invalid drill spec: steadyState.probes[0].limit is not a known field (set to 1); the ' +
        'known fields are name, source, measure, comparator, threshold, tolerance, ' +
        'duringTolerance, checkDuring, so rename or remove it',
    );
  });

  it('names an abort rule field', () => {
    const abortRules = [{ ...providerOutageDrill.abortRules[0], forS: 0 }];
    assert.equal(fieldOf({ ...providerOutageDrill, abortRules }), 'abortRules[0].forS');
  });

  describe('overlapping faults', () => {
    const outage = providerOutageDrill.faults[0];
    assert.ok(outage?.kind === 'provider-fault');

    function withSecond(patch: Record<string, unknown>): unknown {
      const second = { ...outage, id: 'second-outage', ...patch };
      return { ...providerOutageDrill, faults: [...providerOutageDrill.faults, second] };
    }

    it('rejects two faults on one provider', () => {
      const spec = withSecond({ atS: 40, durationS: 20, faults: { firstTokenDelayMs: 500 } });
      assert.equal(fieldOf(spec), 'faults[3]');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: faults[3] (second-outage, 40 s to 60 s) overlaps faults[0] ' +
          '(primary-outage, 20 s to 50 s) on provider provider-a. Ending either one clears ' +
          'every fault on the provider, so start second-outage at 50 s or later, or merge ' +
          'the two into one step',
      );
    });

    it('rejects a fault inside another', () => {
      assert.equal(fieldOf(withSecond({ atS: 25, durationS: 5 })), 'faults[3]');
    });

    it('accepts back-to-back faults on one provider', () => {
      const spec = validateDrillSpec(withSecond({ atS: 50, durationS: 10 }));
      assert.equal(spec.faults.length, 4);
    });

    it('accepts overlapping faults on two providers', () => {
      const spec = validateDrillSpec(withSecond({ provider: 'provider-c', atS: 25 }));
      assert.equal(spec.faults.length, 4);
    });

    it('accepts overlapping toxics on one proxy', () => {
      const toxic = providerOutageDrill.faults[1];
      assert.ok(toxic !== undefined);
      const second = { ...toxic, id: 'more-latency', atS: 35 };
      const spec = { ...providerOutageDrill, faults: [...providerOutageDrill.faults, second] };
      assert.equal(validateDrillSpec(spec).faults.length, 4);
    });

    it('accepts a toxic and fault together', () => {
      const spec = validateDrillSpec(
        withSecond({ provider: 'provider-b', atS: 30, failover: { fallback: 'provider-c' } }),
      );
      assert.equal(spec.faults.length, 4);
    });
  });

  describe('phase windows', () => {
    it('rejects a fault at the start', () => {
      const spec = withFault(0, { atS: 0 });
      assert.equal(fieldOf(spec), 'faults[0].atS');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: faults[0].atS is 0 s, so the before window from 0 s to 0 s ' +
          'contains no whole second and the steady state is never checked before the ' +
          'faults; start the first fault at 1 s or later',
      );
    });

    it('rejects a before window under a second', () => {
      assert.equal(fieldOf(withFault(1, { atS: 0.5, durationS: 1 })), 'faults[1].atS');
    });

    it('rejects a during window under a second', () => {
      const spec = withOnlyFirstFault({ atS: 30, durationS: 0.5 });
      assert.equal(fieldOf(spec), 'faults[0].durationS');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: faults[0].durationS is 0.5 s, so the faults run from 30 s to ' +
          '30.5 s, a window that contains no whole second, and the steady state during the ' +
          'faults always fails for lack of data; let the faults last until 31 s or later',
      );
    });

    it('rejects a during window across no whole second', () => {
      // From 30.5 s to 31.4 s: the second from 31 s ends after the window.
      const spec = withOnlyFirstFault({ atS: 30.5, durationS: 0.9 });
      assert.equal(fieldOf(spec), 'faults[0].durationS');
    });

    it('accepts a one-second during window', () => {
      const spec = withOnlyFirstFault({ atS: 30.5, durationS: 1.5 });
      assert.equal(validateDrillSpec(spec).faults[0]?.durationS, 1.5);
    });

    it('accepts a one-second before window', () => {
      assert.equal(validateDrillSpec(withFault(0, { atS: 1 })).faults[0]?.atS, 1);
    });

    it('rejects an after window past the end', () => {
      // The burst ends at 80 s, and 80 + 40 reaches durationS 120.
      const spec = { ...providerOutageDrill, steadyState: { ...steadyState, settleS: 40 } };
      assert.equal(fieldOf(spec), 'steadyState.settleS');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: steadyState.settleS is 40 s, so the after window opens at 120 s ' +
          '(the last fault ends at 80 s) and contains no whole second before durationS ' +
          '120 s; the steady state is never checked after the faults. Lower settleS to at ' +
          'most 39 s or raise durationS to at least 121 s',
      );
    });

    it('rejects an after window under a second', () => {
      const spec = { ...providerOutageDrill, steadyState: { ...steadyState, settleS: 39.5 } };
      assert.match(messageOf(spec), /opens at 119\.5 s .* raise durationS to at least 121 s$/);
    });

    it('offers durationS when faults end late', () => {
      const spec = withFault(2, { atS: 105, durationS: 15 });
      assert.match(
        messageOf(spec),
        /never checked after the faults\. Raise durationS to at least 131 s$/,
      );
    });

    it('accepts a one-second after window', () => {
      const spec = { ...providerOutageDrill, steadyState: { ...steadyState, settleS: 39 } };
      assert.equal(validateDrillSpec(spec).steadyState.settleS, 39);
    });

    it('rejects a later during window under a second', () => {
      // The burst runs alone from 65 s to 65.8 s, apart from the outage that ends at 50 s.
      const spec = withFault(2, { durationS: 0.8 });
      assert.equal(fieldOf(spec), 'faults[2].durationS');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: faults[2].durationS is 0.8 s, so the faults run from 65 s to ' +
          '65.8 s, a window that contains no whole second, and the steady state during the ' +
          'faults always fails for lack of data; let the faults last until 66 s or later',
      );
    });

    it('accepts a short fault inside another', () => {
      const spec = withFault(1, { atS: 30.2, durationS: 0.5 });
      assert.equal(validateDrillSpec(spec).faults[1]?.durationS, 0.5);
    });

    it('accepts a drill without faults', () => {
      const spec = { ...providerOutageDrill, faults: [] };
      assert.deepEqual(validateDrillSpec(spec).faults, []);
    });
  });

  describe('thresholds', () => {
    function withProbe(index: number, patch: Record<string, unknown>): unknown {
      const probes = steadyState.probes.map((probe, at) =>
        at === index ? { ...probe, ...patch } : probe,
      );
      return { ...providerOutageDrill, steadyState: { ...steadyState, probes } };
    }

    function withAbortThreshold(threshold: number): unknown {
      const abortRules = providerOutageDrill.abortRules.map((rule) => ({ ...rule, threshold }));
      return { ...providerOutageDrill, abortRules };
    }

    it('rejects a success rate as a percentage', () => {
      const spec = withProbe(0, { threshold: 99 });
      assert.equal(fieldOf(spec), 'steadyState.probes[0].threshold');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: steadyState.probes[0].threshold is 99, outside 0 to 1 for the ' +
          'rate successRate; write 0.99 for 99%',
      );
    });

    it('rejects a success-rate tolerance as a percentage', () => {
      const spec = withProbe(0, { tolerance: 5 });
      assert.equal(fieldOf(spec), 'steadyState.probes[0].tolerance');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: steadyState.probes[0].tolerance is 5, outside 0 to 1 for the ' +
          'rate successRate; write 0.05 for 5%',
      );
    });

    it('rejects a success-rate during tolerance over 1', () => {
      const spec = withProbe(0, { duringTolerance: 10 });
      assert.equal(fieldOf(spec), 'steadyState.probes[0].duringTolerance');
    });

    it('accepts a latency tolerance above 1', () => {
      const spec = validateDrillSpec(withProbe(1, { tolerance: 500 }));
      assert.equal(spec.steadyState.probes[1]?.tolerance, 500);
    });

    it('accepts a failover rate above 1', () => {
      // A request may fail over more than once, so failovers per request can exceed 1.
      const spec = withProbe(2, { threshold: 1.5 });
      assert.equal(validateDrillSpec(spec).steadyState.probes[2]?.threshold, 1.5);
    });

    it('rejects a probe that can never fail', () => {
      // 0.99 - 0.99 admits every success rate in every window.
      const spec = withProbe(0, { tolerance: 0.99, duringTolerance: 0.99 });
      assert.equal(fieldOf(spec), 'steadyState.probes[0].tolerance');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: steadyState.probes[0].tolerance is 0.99, so success-rate can ' +
          'fail in no window of the drill (the tolerance admits every value: successRate ' +
          'runs from 0 to 1, and no value is below the limit 0); lower the tolerance below ' +
          '0.99, or remove the probe',
      );
    });

    it('rejects a success max of 1', () => {
      const spec = withProbe(0, { comparator: 'max', threshold: 1, tolerance: 0 });
      assert.match(messageOf(spec), /; lower the threshold below 1, or remove the probe$/);
    });

    it('rejects a probe skipped during that never fails', () => {
      const spec = withProbe(0, {
        tolerance: 1,
        duringTolerance: undefined,
        checkDuring: false,
      });
      assert.equal(fieldOf(spec), 'steadyState.probes[0].tolerance');
    });

    it('accepts a probe that can fail before and after', () => {
      const spec = validateDrillSpec(withProbe(0, { duringTolerance: 0.99 }));
      assert.equal(spec.steadyState.probes[0]?.duringTolerance, 0.99);
    });

    it('accepts a probe that can fail only during', () => {
      const spec = validateDrillSpec(withProbe(0, { tolerance: 0.99, duringTolerance: 0.1 }));
      assert.equal(spec.steadyState.probes[0]?.tolerance, 0.99);
    });

    it('rejects a never-failing probe without faults', () => {
      const spec = { ...(withProbe(0, { tolerance: 0.99 }) as object), faults: [] };
      assert.equal(fieldOf(spec), 'steadyState.probes[0].tolerance');
    });

    it('rejects duringTolerance with checkDuring false', () => {
      const spec = withProbe(0, { checkDuring: false });
      assert.equal(fieldOf(spec), 'steadyState.probes[0].duringTolerance');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: steadyState.probes[0].duringTolerance is 0.05, but checkDuring ' +
          'is false, so no window uses it; remove duringTolerance or checkDuring',
      );
    });

    it('names a checkDuring that is no boolean', () => {
      const spec = withProbe(2, { checkDuring: 'no' });
      assert.equal(fieldOf(spec), 'steadyState.probes[2].checkDuring');
    });

    it('rejects an abort rule percentage', () => {
      const spec = withAbortThreshold(50);
      assert.equal(fieldOf(spec), 'abortRules[0].threshold');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: abortRules[0].threshold is 50, outside 0 to 1 for the rate ' +
          'successRate; write 0.5 for 50%',
      );
    });

    it('rejects a rate over 100', () => {
      assert.match(messageOf(withAbortThreshold(150)), /; a rate runs from 0 to 1$/);
    });

    it('rejects a negative probe threshold', () => {
      const spec = withProbe(1, { threshold: -1 });
      assert.equal(fieldOf(spec), 'steadyState.probes[1].threshold');
      assert.equal(
        messageOf(spec),
        'invalid drill spec: steadyState.probes[1].threshold must be >= 0, got -1',
      );
    });

    it('rejects a negative abort threshold', () => {
      assert.equal(fieldOf(withAbortThreshold(-0.5)), 'abortRules[0].threshold');
    });

    it('accepts a rate of exactly 1', () => {
      const spec = validateDrillSpec(withProbe(0, { threshold: 1 }));
      assert.equal(spec.steadyState.probes[0]?.threshold, 1);
    });

    it('accepts a latency above 1', () => {
      const spec = validateDrillSpec(withProbe(1, { threshold: 30 }));
      assert.equal(spec.steadyState.probes[1]?.threshold, 30);
    });

    it('accepts a metrics probe above 1', () => {
      const metrics = { source: 'metrics', measure: 'scalegate_requests_total', threshold: 500 };
      const spec = validateDrillSpec(withProbe(0, metrics));
      assert.equal(spec.steadyState.probes[0]?.threshold, 500);
    });
  });
});

describe('validateDrillSpec worker pause', () => {
  const pause = workerLossDrill.faults[0];

  it('accepts the worker-loss drill', () => {
    assert.equal(validateDrillSpec(workerLossDrill).faults[0]?.kind, 'worker-pause');
  });

  it('rejects a field a pause does not take', () => {
    const spec = { ...workerLossDrill, faults: [{ ...pause, workers: 3 }] };
    assert.equal(
      messageOf(spec),
      'invalid drill spec: faults[0].workers is not a known field (set to 3); the known ' +
        'fields are kind, id, atS, durationS, so rename or remove it',
    );
  });

  it('rejects overlapping pauses', () => {
    const second = { kind: 'worker-pause', id: 'again', atS: 60, durationS: 10 };
    assert.equal(
      messageOf({ ...workerLossDrill, faults: [pause, second] }),
      'invalid drill spec: faults[1] (again) overlaps the worker pause faults[0] (workers-lost, ' +
        'which ends at 65 s). Ending either one resumes every worker, so start again at 65 s ' +
        'or later, or merge the two into one step',
    );
  });

  it('accepts pauses end to end', () => {
    const second = { kind: 'worker-pause', id: 'again', atS: 65, durationS: 10 };
    const spec = {
      ...workerLossDrill,
      steadyState: { ...workerLossDrill.steadyState, settleS: 10 },
      faults: [pause, second],
    };
    assert.equal(validateDrillSpec(spec).faults.length, 2);
  });

  it('accepts a queue abort rule', () => {
    assert.equal(validateDrillSpec(workerLossDrill).abortRules[0]?.measure, 'queueOldestAgeS');
  });

  it('rejects a queue probe that can never fail', () => {
    const probes = [
      {
        name: 'depth',
        source: 'series',
        measure: 'queueDepth',
        comparator: 'min',
        threshold: 0,
        tolerance: 0,
      },
    ];
    assert.equal(
      fieldOf({ ...workerLossDrill, steadyState: { settleS: 20, probes } }),
      'steadyState.probes[0].tolerance',
    );
  });
});
