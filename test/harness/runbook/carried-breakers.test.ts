import assert from 'node:assert/strict';

import type { FaultRecord, Report } from '../../../src/harness/report/types.js';
import { carriedBreakersText } from '../../../src/harness/runbook/carried-breakers.js';
import { renderRunbook } from '../../../src/harness/runbook/render.js';
import { sampleReport } from '../report/sample-report.js';

/** Returns the sample report's fault `id`. */
function faultOf(report: Report, id: string): FaultRecord {
  const fault = report.drill?.faults.find((entry) => entry.id === id);
  assert.ok(fault, `the sample report has no fault ${id}`);
  return fault;
}

/** Returns the sample report with the provider-b latency toxic applied at `atS`. */
function latencyAt(atS: number): { report: Report; fault: FaultRecord } {
  const report = sampleReport();
  const fault = faultOf(report, 'fallback-latency');
  fault.appliedAtS = atS;
  return { report, fault };
}

// The sample's provider-a/gpt-4o breaker opens at 21.4 s, turns half-open at 36.4 s, opens
// again at 36.9 s, turns half-open at 51.9 s and closes at 52.3 s.
describe('carriedBreakersText', () => {
  it('names a breaker an earlier fault left open', () => {
    const { report, fault } = latencyAt(30);
    assert.equal(
      carriedBreakersText(report, fault),
      'Breakers not closed when this fault started at 30.00 s: provider-a `gpt-4o` open since ' +
        '21.40 s, closed at 52.30 s. The router sends no calls to a target whose breaker is ' +
        'open and only probes while it is half-open, so tasks had fewer candidates to fail ' +
        'over to.',
    );
  });

  it('names a half-open breaker as half-open', () => {
    const { report, fault } = latencyAt(36.5);
    assert.match(
      carriedBreakersText(report, fault) ?? '',
      /provider-a `gpt-4o` half-open since 36\.40 s, closed at 52\.30 s\./,
    );
  });

  it('says nothing when every breaker was closed', () => {
    const report = sampleReport();
    assert.equal(carriedBreakersText(report, faultOf(report, 'primary-outage')), undefined);
  });

  it('says nothing after the breaker closed', () => {
    const { report, fault } = latencyAt(52.3);
    assert.equal(carriedBreakersText(report, fault), undefined);
  });

  it('names a breaker still open at the drill end', () => {
    const { report, fault } = latencyAt(30);
    const gpt = report.drill?.breakers?.targets[0];
    assert.ok(gpt);
    gpt.transitions = gpt.transitions.filter((entry) => entry.atS < 40);
    gpt.endState = 'open';
    assert.match(
      carriedBreakersText(report, fault) ?? '',
      /open since 21\.40 s, not closed by the drill end at 90\.00 s\./,
    );
  });

  it('names a breaker open from the load start', () => {
    const { report, fault } = latencyAt(30);
    const sonnet = report.drill?.breakers?.targets.find((entry) => entry.model === 'claude-sonnet');
    assert.ok(sonnet);
    sonnet.startState = 'open';
    assert.match(
      carriedBreakersText(report, fault) ?? '',
      /provider-b `claude-sonnet` open since the load start, not closed by the drill end/,
    );
  });

  it('says nothing for a report without breaker records', () => {
    const { report, fault } = latencyAt(30);
    if (report.drill) report.drill.breakers = null;
    assert.equal(carriedBreakersText(report, fault), undefined);
  });

  it("adds the line to the toxic incident's system actions", () => {
    const { report } = latencyAt(30);
    const markdown = renderRunbook([report]);
    const start = markdown.indexOf('\n## Latency spike on provider-b\n');
    assert.notEqual(start, -1, markdown);
    const section = markdown.slice(start, markdown.indexOf('\n## ', start + 1));
    assert.match(section, /\n- Breakers not closed when this fault started at 30\.00 s: /);
  });
});
