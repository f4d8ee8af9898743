export { hashApiKey, keyFingerprint } from './api-key.js';
export { DEFAULT_DEMO_KEYS_PATH, loadDemoKeys } from './demo-keys.js';
export { isTenantConfigError, TenantConfigError } from './errors.js';
export {
  type CheckedTenants,
  checkTenantsFile,
  DEFAULT_TENANTS_PATH,
  type LocatedTenantWarning,
  loadTenants,
  parseTenants,
  readTenantsFile,
  type TenantsFile,
} from './load-tenants.js';
export { TenantRegistry } from './registry.js';
export { BUDGET_PERIODS, type BudgetPeriod, type Tenant, type TenantLimits } from './tenant.js';
export { type TenantWarning, tenantWarnings } from './tenant-warnings.js';
