import type { TestProject } from 'vitest/node';
import { startCluster } from '../support/cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    clusterMode: string;
    controlPlaneAdminUrl: string;
  }
}

/** One control plane for the whole integration run, stopped at the end (the supervisor also stops it if we die). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startCluster();
  project.provide('kubeconfigPath', cluster.kubeconfigPath);
  project.provide('clusterMode', cluster.mode);
  project.provide('controlPlaneAdminUrl', cluster.adminUrl ?? '');
  return async () => {
    await cluster.stop();
  };
}
