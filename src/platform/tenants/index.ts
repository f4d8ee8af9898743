export { hashApiKey, keyFingerprint } from './api-key.js';
export { DEFAULT_DEMO_KEYS_PATH, loadDemoKeys } from './demo-keys.js';
export { isTenantConfigError, TenantConfigError } from './errors.js';
export { DEFAULT_TENANTS_PATH, loadTenants, parseTenants } from './load-tenants.js';
export { TenantRegistry } from './registry.js';
export type { Tenant, TenantLimits } from './tenant.js';
