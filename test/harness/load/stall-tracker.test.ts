import assert from 'node:assert/strict';
import { StallTracker } from '../../../src/harness/load/stall-tracker.js';

describe('StallTracker', () => {
  it('ignores sends within the lag limit', () => {
    const tracker = new StallTracker(50);
    tracker.record(100, 50);
    tracker.record(200, 10);
    assert.deepEqual(tracker.summary(), {
      lagLimitMs: 50,
      behindMs: 0,
      longestStallMs: 0,
      stalls: 0,
    });
  });

  it('merges overlapping late sends into one stall', () => {
    const tracker = new StallTracker(50);
    // Scheduled at 0, 10 and 20, all sent at 130 after one pause: behind from 50 to 130.
    tracker.record(130, 130);
    tracker.record(130, 120);
    tracker.record(130, 110);
    // Scheduled at 70, sent at 135: behind from 120, so the stall extends to 135.
    tracker.record(135, 65);
    const summary = tracker.summary();
    assert.equal(summary.stalls, 1);
    assert.equal(summary.behindMs, 85);
    assert.equal(summary.longestStallMs, 85);
  });

  it('starts a new stall after the engine caught up', () => {
    const tracker = new StallTracker(50);
    tracker.record(130, 130);
    // Scheduled at 100, sent at 160: behind from 150, after being on time from 130.
    tracker.record(160, 60);
    const summary = tracker.summary();
    assert.equal(summary.stalls, 2);
    assert.equal(summary.behindMs, 80 + 10);
    assert.equal(summary.longestStallMs, 80);
  });

  it('counts separate stalls and keeps the longest', () => {
    const tracker = new StallTracker(50);
    tracker.record(100, 80);
    tracker.record(1000, 150);
    const summary = tracker.summary();
    assert.equal(summary.stalls, 2);
    assert.equal(summary.behindMs, 30 + 100);
    assert.equal(summary.longestStallMs, 100);
  });
});
