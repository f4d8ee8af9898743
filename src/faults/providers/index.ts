export { DEFAULT_OUTPUT_TOKENS, type CompletionPlan, planCompletion } from './completion-plan.js';
export { INPUT_TOKENS_HEADER, OUTPUT_TOKENS_HEADER } from './completion-handler.js';
export { FAULTS_PATH } from './control-routes.js';
export { assertLoopbackHost, isNonLoopbackHostError, NonLoopbackHostError } from '../loopback.js';
export {
  FaultConfigError,
  isFaultConfigError,
  isProviderProfileError,
  ProviderProfileError,
} from './errors.js';
export {
  type FaultConfig,
  type FaultSettings,
  parseFaultConfig,
  resolveFaults,
} from './fault-config.js';
export {
  type MockProvider,
  type MockProviderEvents,
  type MockProviderOptions,
  startMockProvider,
} from './mock-provider.js';
export {
  DEFAULT_PROVIDER_DIR,
  type LognormalSpec,
  loadProviderCatalog,
  loadProviderProfile,
  type ModelProfile,
  parseProviderProfile,
  type ProviderFormat,
  type ProviderProfile,
} from './profile.js';
