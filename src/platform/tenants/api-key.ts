import { createHash } from 'node:crypto';

/** Hex sha256 of an API key, the form the tenants file stores. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Short identifier of an API key for logs and error messages: the first
 * 12 hex digits of its sha256, which do not reveal the key.
 */
export function keyFingerprint(key: string): string {
  return hashApiKey(key).slice(0, 12);
}
