/**
`node bench/shard-keys.ts`: the measurement behind the default shard key (docs/scaling.md). For a
few shapes of cluster, how evenly each key spreads ThalassaSecrets over the members (the smallest
and largest share), and how many version lists the members send to Thalassa per refresh interval
(one per member and poll group that member has resources in: 1 when one member holds a group).
No cluster needed: the ring is the operator's own (src/sharding/ring.ts), the UIDs random. A
second table: the spread by the number of points per member, over 20 rings of random pod names.
*/
import { randomBytes, randomUUID } from 'node:crypto';
import { HashRing } from '../src/sharding/ring.ts';

interface Resource {
  readonly namespace: string;
  readonly uid: string;
  readonly group: string;
}

function resources(namespaces: readonly number[], groupsPerNamespace: number): Resource[] {
  return namespaces.flatMap((count, n) =>
    Array.from({ length: count }, (_, i) => ({ namespace: `ns-${n}`, uid: randomUUID(), group: `ns-${n}/g${i % groupsPerNamespace}` })),
  );
}

function measure(name: string, all: readonly Resource[], members: number): string[] {
  const ring = new HashRing(Array.from({ length: members }, (_, i) => `thalassa-secrets-operator-7d9f8-${i}`));
  return (['uid', 'namespace'] as const).map((key) => {
    const shares = new Map<string, number>();
    const lists = new Set<string>();
    for (const resource of all) {
      const owner = ring.owner(key === 'uid' ? resource.uid : resource.namespace) ?? '';
      shares.set(owner, (shares.get(owner) ?? 0) + 1);
      lists.add(`${owner} ${resource.group}`);
    }
    const counts = [...shares.values(), ...Array<number>(members - shares.size).fill(0)];
    const mean = all.length / members;
    const groups = new Set(all.map((r) => r.group)).size;
    return `| ${name} | ${members} | ${key} | ${Math.min(...counts)}–${Math.max(...counts)} (largest ${Math.round((Math.max(...counts) / mean - 1) * 100)} % over the mean) | ${lists.size} for ${groups} groups |`;
  });
}

const zipf = Array.from({ length: 50 }, (_, i) => Math.round(10_000 / (i + 1) / 4.5));
const lines = [
  '| resources | members | key | share per member | Thalassa lists per interval |',
  '|---|---|---|---|---|',
  ...measure('1,000 in 1 namespace, 6 poll groups', resources([1000], 6), 3),
  ...measure('10,000 in 100 namespaces of 100, 2 groups each', resources(Array<number>(100).fill(100), 2), 3),
  ...measure(`${zipf.reduce((a, b) => a + b, 0)} in 50 namespaces of Zipf sizes (largest ${zipf[0] ?? 0}), 2 groups each`, resources(zipf, 2), 3),
  ...measure('10,000 in 100 namespaces of 100, 2 groups each', resources(Array<number>(100).fill(100), 2), 10),
];

/** The largest share over the mean, on average and at worst, over 20 rings of random pod names. */
function spread(virtualNodes: number, members: number): string {
  const keys = Array.from({ length: 20_000 }, () => randomUUID());
  const overs: number[] = [];
  for (let trial = 0; trial < 20; trial++) {
    const ring = new HashRing(Array.from({ length: members }, () => `tso-${randomBytes(4).toString('hex')}-${randomBytes(3).toString('hex')}`), virtualNodes);
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(ring.owner(key) ?? '', (counts.get(ring.owner(key) ?? '') ?? 0) + 1);
    overs.push(Math.max(...counts.values()) / (keys.length / members) - 1);
  }
  const percent = (x: number) => `${Math.round(x * 100)} %`;
  return `| ${virtualNodes} | ${members} | ${percent(overs.reduce((a, b) => a + b, 0) / overs.length)} | ${percent(Math.max(...overs))} |`;
}

lines.push('', '| points per member | members | largest share over the mean, average | worst |', '|---|---|---|---|');
for (const virtualNodes of [100, 1000]) for (const members of [3, 10]) lines.push(spread(virtualNodes, members));
process.stdout.write(`${lines.join('\n')}\n`);
