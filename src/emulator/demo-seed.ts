/** What the CLI serves when it is given no `--seed`: enough to point the operator at it and go. */
import type { EmulatorSeed } from './seed-schema.ts';

export const demoSeed: EmulatorSeed = {
  organisations: [{ identity: 'org-demo', slug: 'demo', name: 'Demo' }],
  regions: [{ slug: 'nl-01', kms: true }],
  kmsKeys: [{ identity: 'kms-demo', name: 'demo', organisation: 'org-demo', region: 'nl-01' }],
  principals: [
    {
      name: 'operator',
      organisation: 'org-demo',
      permissions: [{ actions: ['read', 'list', 'getSecretValue'] }],
    },
    { name: 'admin', organisation: 'org-demo', permissions: [{ actions: ['*'] }] },
  ],
  personalAccessTokens: [
    { token: 'demo-operator-token', principal: 'operator' },
    { token: 'demo-admin-token', principal: 'admin' },
  ],
};
