import type { ToxicBehaviour } from '../stage.js';
import type { ToxicType } from '../toxic-definition.js';
import { bandwidth } from './bandwidth.js';
import { latency } from './latency.js';
import { limitData } from './limit-data.js';
import { resetPeer } from './reset-peer.js';
import { slicer } from './slicer.js';
import { slowClose } from './slow-close.js';
import { timeout } from './timeout.js';

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
