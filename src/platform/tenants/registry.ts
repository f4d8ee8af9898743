import { timingSafeEqual } from 'node:crypto';
import { hashApiKey } from './api-key.js';
import type { Tenant } from './tenant.js';

/** The configured tenants, looked up by id or by API key. */
export class TenantRegistry {
  readonly #tenants: readonly Tenant[];
  readonly #hashes: readonly Buffer[];

  constructor(tenants: readonly Tenant[]) {
    this.#tenants = tenants;
    this.#hashes = tenants.map((tenant) => Buffer.from(tenant.keySha256, 'hex'));
  }

  get tenants(): readonly Tenant[] {
    return this.#tenants;
  }

  get(id: string): Tenant | undefined {
    return this.#tenants.find((tenant) => tenant.id === id);
  }

  /**
   * Returns the tenant whose key hash matches `bearerKey`, or undefined.
   * Every stored hash is compared with `timingSafeEqual`, with no early exit,
   * so the time taken does not depend on which tenant matched or on how many
   * leading bytes agree.
   */
  authenticate(bearerKey: string): Tenant | undefined {
    const candidate = Buffer.from(hashApiKey(bearerKey), 'hex');
    let match: Tenant | undefined;
    this.#hashes.forEach((hash, index) => {
      if (timingSafeEqual(hash, candidate) && match === undefined) {
        match = this.#tenants[index];
      }
    });
    return match;
  }
}
