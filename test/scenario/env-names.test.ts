/**
 * The environment variables the shipped scenarios' comments tell a user to set are the ones the
 * code reads: a comment naming another (ONENET_ACCESS_KEY for OTA_SWARM_ONENET_ACCESS_KEY) sends
 * the user to set a variable nothing reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_LUAT_PROJECT_KEY, ENV_ONENET_KEY } from '../../src/engine/target.js';
import { ENV_ADMIN_TOKEN } from '../../src/cli/serve.js';
import { ENV_AIOT_ACCESS_TOKEN, ENV_AIOT_APP_KEY } from '../../src/engine/application.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const READ = new Set([ENV_ONENET_KEY, ENV_LUAT_PROJECT_KEY, ENV_ADMIN_TOKEN, ENV_AIOT_APP_KEY, ENV_AIOT_ACCESS_TOKEN]);

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []));
}

/** Variable names a comment mentions: `{ env: NAME }` and any OTA_SWARM_* word. */
export function envNamesInComments(yaml: string): string[] {
  const names: string[] = [];
  for (const line of yaml.split('\n')) {
    const comment = line.slice(line.indexOf('#') + 1);
    if (!line.includes('#')) continue;
    for (const m of comment.matchAll(/\benv:\s*([A-Za-z_][A-Za-z0-9_]*)/g)) names.push(m[1] as string);
    for (const m of comment.matchAll(/\bOTA_SWARM_[A-Z0-9_]+/g)) names.push(m[0]);
  }
  return names;
}

describe('environment variables named in scenario comments', () => {
  it('finds them', () => {
    expect(envNamesInComments('a: 1  # e.g. accessKey: { env: ONENET_ACCESS_KEY }\n# set OTA_SWARM_ADMIN_TOKEN\nb: { env: X }')).toEqual(['ONENET_ACCESS_KEY', 'OTA_SWARM_ADMIN_TOKEN']);
  });

  it.each(yamlFiles('scenarios'))('%s names only variables the code reads', (file) => {
    const unread = envNamesInComments(readFileSync(join(ROOT, file), 'utf8')).filter((n) => !READ.has(n));
    expect(unread).toEqual([]);
  });
});
