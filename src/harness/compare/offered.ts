/**
 * Offered rate: the requests whose scheduled send time fell inside the send window, per
 * minute of it. These are the requests sent plus the sends dropped at the in-flight cap,
 * so a load generator that dropped sends still shows the load it was asked to offer. A
 * completed throughput well below it means the target, or the generator's cap, did not
 * keep up.
 */
import type { LoadResult } from '../load/result.js';
import type { Report, TopologyResult } from '../report/types.js';
import { reportSendWindow, type WindowThroughput } from './succeeded.js';

function perMinute(count: number, windowS: number): number {
  return windowS > 0 ? (count * 60) / windowS : 0;
}

/** Returns the offered rate of a load result, or the reason it has none. */
export function offeredRateOfLoad(result: LoadResult): WindowThroughput {
  const { throughput, requests } = result;
  if (throughput === undefined) {
    return { rpm: null, reason: 'the output records no send window' };
  }
  return { rpm: perMinute(requests.sent + requests.dropped, throughput.windowSec) };
}

/** Returns the offered rate of a drill report's topology, or the reason it has none. */
export function offeredRateOfReport(report: Report, topology: TopologyResult): WindowThroughput {
  const windowS = reportSendWindow(report, topology);
  if (typeof windowS !== 'number') return windowS;
  return { rpm: perMinute(topology.requests + topology.harness.droppedSends, windowS) };
}
