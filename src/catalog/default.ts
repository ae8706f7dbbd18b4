/**
 * The built-in catalog: what `ota-swarm serve` knows with no `--catalog`, and what the default
 * scenarios in `scenarios/` expect. The access key here is a demo key for the loopback reference
 * server only; real keys come from the environment or a file.
 */
import type { Catalog } from './schema.js';
import { DEFAULT_HAWKBIT_CATALOG } from './hawkbit.js';

export const DEFAULT_ONENET_PRODUCT = '198290';
/** Demo key of the embedded server (base64 of 32 fixed bytes); not a secret anywhere else. */
export const DEFAULT_ONENET_ACCESS_KEY = 'b3RhLXN3YXJtLWRlbW8ta2V5LW5vdC1hLXNlY3JldCE=';
export const DEFAULT_LUAT_PROJECT_KEY = 'dHfCNSiXXZtnHzZAohcHIJkWM5vZBNZc';
export const DEFAULT_LUAT_FIRMWARE = 'luat_IoT_SERVER_UPDATE_Luat_RDA8910_TTS_NOVOLTE_FLOAT';

export const DEFAULT_CATALOG: Catalog = {
  seed: 1,
  onenet: {
    products: [
      {
        id: DEFAULT_ONENET_PRODUCT,
        name: 'ota-swarm demo product',
        accessKey: DEFAULT_ONENET_ACCESS_KEY,
        packages: [
          { id: 'app-v2-full', version: 'V2.0', size: 192 * 1024, seed: 11, kind: 'full', fileName: 'app_V2.0.bin' },
          { id: 'app-v2-diff', version: 'V2.0', size: 48 * 1024, seed: 12, kind: 'diff', from: ['V1.5'], fileName: 'app_V1.5_V2.0.diff' },
          { id: 'module-b2', version: 'BC28B2', size: 256 * 1024, seed: 13, kind: 'full', fileName: 'BC28_B2.bin' },
        ],
        devices: [
          // Application (SOTA) fleet on ESP32, at V1.0: the default rollout.
          { ids: '522700000..522799999', manuf: '101', model: '10101', sVersion: 'V1.0' },
          // Application fleet at V1.5, upgraded by a diff package.
          { ids: '522800000..522809999', manuf: '101', model: '10101', sVersion: 'V1.5' },
          // Module (FOTA) fleet: Quectel BC28, gets its task by auto-add.
          { ids: '522900000..522909999', manuf: '014', model: '01401', fVersion: 'BC28B1' },
        ],
        tasks: [
          { devices: '522700000..522799999', package: 'app-v2-full', type: 2, signal: 5, power: 20, retry: 3, interval: 60, manuf: '101', model: '10101' },
          { devices: '522800000..522809999', package: 'app-v2-diff', type: 2, signal: 5, power: 20, retry: 3, interval: 60, manuf: '101', model: '10101' },
        ],
        autoAdd: [
          { devices: '522900000..522909999', fromVersions: ['BC28B1'], package: 'module-b2', type: 1, signal: 5, power: 30, retry: 2, interval: 120, manuf: '014', model: '01401' },
        ],
      },
    ],
  },
  luat: {
    banLimitPerDay: 10,
    banCountsWaits: true,
    diffBuildMs: { min: 60_000, max: 180_000 },
    projects: [
      {
        key: DEFAULT_LUAT_PROJECT_KEY,
        account: 'demo',
        firmware: [
          {
            name: DEFAULT_LUAT_FIRMWARE,
            version: '1.3.2',
            size: 128 * 1024,
            seed: 21,
            cores: ['3030', '3032'],
            forbiddenJumps: [],
            diff: true,
            enabled: true,
          },
        ],
        devices: [{ imeis: '86671404{0000000..0099999}', upgradeList: true }],
        barred: [],
      },
      {
        // Another account's project: its devices asking with the demo key get 17.
        key: 'otherAccountProjectKey00000000000',
        account: 'other',
        firmware: [],
        devices: [{ imeis: '86671405{0000000..0000999}', upgradeList: true }],
        barred: [],
      },
    ],
  },
  hawkbit: DEFAULT_HAWKBIT_CATALOG,
};
