import type { ToxicBehaviour } from '../stage.js';
import type { ToxicType } from '../toxic-definition.js';
import { bandwidth } from './bandwidth.js';
import { latency } from './latency.js';
import { limitData } from './limit-data.js';
import { resetPeer } from './reset-peer.js';
import { slicer } from './slicer.js';
import { slowClose } from './slow-close.js';
import { timeout } from './timeout.js';

/**
 * Chunks a toxic's stage queues, where Toxiproxy 2.x gives the toxic a buffered input
 * channel: 1024 for latency (`GetBufferSize` in toxics/latency.go), so that the latency
 * does not limit the bandwidth. The other types queue up to `STAGE_BUFFER_BYTES` bytes.
 */
export const TOXIC_QUEUE_CHUNKS: Readonly<Partial<Record<ToxicType, number>>> = {
  latency: 1024,
};

/** The behaviour that implements each toxic type. */
export const TOXIC_BEHAVIOURS: Readonly<Record<ToxicType, ToxicBehaviour>> = {
  latency,
  bandwidth,
  slow_close: slowClose,
  timeout,
  reset_peer: resetPeer,
  slicer,
  limit_data: limitData,
};
