export {
  type Backpressure,
  type BackpressureDecision,
  type BackpressureOptions,
  createBackpressure,
  type QueueGauges,
  type ShedThresholds,
  shedThresholds,
} from './backpressure.js';
export { AdmissionInputError, isAdmissionInputError } from './errors.js';
export { MemoryAdmissionBackend, type MemoryAdmissionOptions } from './memory-backend.js';
export type { AdmissionOptions } from './options.js';
export { RedisAdmissionBackend, type RedisAdmissionOptions } from './redis-backend.js';
export type {
  Admission,
  AdmissionBackend,
  AdmissionRequest,
  AdmissionResult,
  AdmissionTicket,
  LimitDescriptor,
  Rejection,
  RejectionReason,
  RunSpend,
  Settlement,
  TenantUsage,
  TicketOutcome,
  UsageTenant,
} from './types.js';
