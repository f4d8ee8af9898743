import { packagePath } from '../../package-path.js';
import { readObject, readString } from './config-fields.js';
import { failureFor, parseYaml, readConfigText } from './load-tenants.js';

/** Default location of the demo keys file, relative to the working directory. */
export const DEFAULT_DEMO_KEYS_PATH = packagePath('fixtures/demo-keys.yaml');

/**
 * Reads plaintext demo keys, keyed by tenant id, for local drills and tests.
 * @throws TenantConfigError naming the file and the field when it is missing or invalid.
 */
export async function loadDemoKeys(
  path: string = DEFAULT_DEMO_KEYS_PATH,
): Promise<Map<string, string>> {
  const fail = failureFor(path);
  const root = readObject(parseYaml(await readConfigText(path), path), '(root)', fail);
  const keys = readObject(root.keys, 'keys', fail);
  const result = new Map<string, string>();
  for (const [tenantId, key] of Object.entries(keys)) {
    result.set(tenantId, readString(key, `keys.${tenantId}`, fail));
  }
  return result;
}
