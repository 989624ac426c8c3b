import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSyncedVersions, syncedVersionsAnnotation } from '../../src/controllers/secret-metadata.ts';
import { defaultOperatorSettings } from '../../src/operator.ts';
import { OperatorHarness, operatorToken } from '../support/operator-harness.ts';
import { readyOf, SecretHistory, waitForAll } from '../support/reliability.ts';

/**
Thalassa answers late (beyond the client's deadline), drops connections before answering, and cuts
answers off half-way (status and headers sent, half the body, then the socket closed), while the
operator syncs and rotates. Every version of every Secret the API server ever held, as a watch saw
it, must be complete and correct: each key holds exactly the value of the version that the Secret's
own synced-versions annotation names. Faults come from the emulator's seeded PRNG, so a failure
reproduces with the same seed.
*/

const canary = 'CANARY-FAULTS-2f64';
const randomSeed = 20_240_611;
const count = 30;
const faults = { latency: { minMs: 0, maxMs: 1200 }, dropRate: 0.1, dropMidResponseRate: 0.2 };

/** Values name their path and version, so any mix-up shows. */
const stringValue = (path: string, version: number) => `${path}#${version}-${canary}`;
const keyValues = (path: string, version: number) => ({ user: `${path}#user#${version}`, pass: `${path}#pass#${version}-${canary}` });
const base = (i: number) => `/faults/r-${String(i).padStart(2, '0')}`;

describe('latency, dropped connections and half-sent answers', () => {
  let h: OperatorHarness;
  let history: SecretHistory;
  const versions = new Map<string, number>();

  function publish(path: string, kind: 'string' | 'keyValue'): void {
    const version = (versions.get(path) ?? 0) + 1;
    versions.set(path, version);
    h.putSecret(path, kind === 'string' ? stringValue(path, version) : keyValues(path, version));
  }

  beforeAll(async () => {
    h = await OperatorHarness.start({
      // The client gives up on an attempt after 1 s: the latency spikes become timeouts.
      operator: { thalassa: { ...defaultOperatorSettings.thalassa, timeoutMs: 1000 } },
      emulator: { randomSeed },
    });
  });

  afterAll(async () => {
    history.stop();
    h.emulator.setFaults({});
    await h.stop();
  });

  it('never writes a partial, empty or mixed Secret, and converges once the faults stop', async () => {
    history = new SecretHistory(h.kc, h.namespace);
    for (let i = 0; i < count; i++) {
      for (const key of ['a', 'b', 'c']) publish(`${base(i)}/${key}`, 'string');
      publish(`${base(i)}/kv`, 'keyValue');
    }
    h.emulator.setFaults(faults);
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        await h.createThalassaSecret(`r-${i}`, {
          refreshInterval: '2s',
          data: ['a', 'b', 'c'].map((key) => ({ key, path: `${base(i)}/${key}` })),
          dataFrom: [{ path: `${base(i)}/kv` }],
        });
      }),
    );
    const isCurrent = (name: string, synced: readonly { path: string; version: number }[] | undefined) => {
      const i = Number(name.slice(2));
      const want = ['a', 'b', 'c', 'kv'].map((k) => `${base(i)}/${k}=${versions.get(`${base(i)}/${k}`) ?? 0}`).sort();
      return JSON.stringify((synced ?? []).map((v) => `${v.path}=${v.version}`).sort()) === JSON.stringify(want);
    };
    await waitForAll(h, count, (r) => readyOf(r).reason === 'Synced' && isCurrent(r.metadata.name, r.status?.syncedVersions), {
      what: 'every resource to sync through the faults',
      timeoutMs: 60_000,
    });

    // New versions while the faults go on: two of the four sources of every other resource.
    for (let i = 0; i < count; i += 2) {
      publish(`${base(i)}/a`, 'string');
      publish(`${base(i)}/kv`, 'keyValue');
    }
    await waitForAll(h, count, (r) => isCurrent(r.metadata.name, r.status?.syncedVersions) || readyOf(r).reason !== 'Synced', {
      what: 'the rotation to be under way',
      timeoutMs: 5_000,
    }).catch(() => undefined);
    h.emulator.setFaults({});
    await waitForAll(h, count, (r) => readyOf(r).current && readyOf(r).reason === 'Synced' && isCurrent(r.metadata.name, r.status?.syncedVersions), {
      what: 'every resource to hold the new versions once the faults stop',
    });

    // The faults did happen, mid-reveal too.
    const counters = h.emulator.counters();
    expect(counters.byOperation.reveal['dropped'] ?? 0).toBeGreaterThan(5);
    const timeouts = (await h.metrics.thalassaRequests.get()).values.filter((v) => v.labels.status === 'error').reduce((a, v) => a + v.value, 0);
    expect(timeouts).toBeGreaterThan(counters.byOperation.reveal['dropped'] ?? 0);

    // Every version of every Secret ever observed is whole and consistent with its own record.
    const observed = history.events.filter((e) => e.name.startsWith('r-'));
    expect(observed.length).toBeGreaterThanOrEqual(count + count / 2);
    expect(observed.filter((e) => e.type === 'DELETED')).toEqual([]);
    const problems: string[] = [];
    for (const event of observed) {
      const recorded = new Map(parseSyncedVersions(event.annotations[syncedVersionsAnnotation]).map((v) => [v.path, v.version]));
      const i = Number(event.name.slice(2));
      const path = (k: string) => `${base(i)}/${k}`;
      const version = (k: string) => recorded.get(path(k)) ?? 0;
      const kv = keyValues(path('kv'), version('kv'));
      const expected = {
        a: stringValue(path('a'), version('a')),
        b: stringValue(path('b'), version('b')),
        c: stringValue(path('c'), version('c')),
        user: kv.user,
        pass: kv.pass,
      };
      if (JSON.stringify(Object.entries(event.data).sort()) !== JSON.stringify(Object.entries(expected).sort())) {
        problems.push(`${event.name}@${event.resourceVersion}: keys ${Object.keys(event.data).sort().join(',')} do not match ${event.annotations[syncedVersionsAnnotation] ?? 'no record'}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('keeps values and the token out of every output', async () => {
    const outputs = await h.outputs();
    expect(outputs).not.toContain(canary);
    expect(outputs).not.toContain(operatorToken);
  });
});
