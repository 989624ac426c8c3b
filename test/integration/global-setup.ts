import type { TestProject } from 'vitest/node';
import { startCluster } from '../support/cluster.ts';
import { applyCrds } from '../support/crds.ts';
import { loadKubeConfig } from '../support/kube.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    clusterMode: string;
    controlPlaneAdminUrl: string;
  }
}

/** One control plane for the whole integration run, with the CRDs applied; stopped at the end (the supervisor also stops it if we die). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startCluster();
  // Installed once, early: kube-controller-manager's garbage collector picks up new resource types
  // only on its 30 s discovery resync.
  try {
    await applyCrds(loadKubeConfig(cluster.kubeconfigPath));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  project.provide('kubeconfigPath', cluster.kubeconfigPath);
  project.provide('clusterMode', cluster.mode);
  project.provide('controlPlaneAdminUrl', cluster.adminUrl ?? '');
  return async () => {
    await cluster.stop();
  };
}
