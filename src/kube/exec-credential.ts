/**
Kubeconfig exec plugins (client.authentication.k8s.io, as kubectl runs them): EKS `aws eks
get-token`, GKE `gke-gcloud-auth-plugin`, `kubelogin` and the like. The plugin is run without a
terminal, its ExecCredential is cached until its `expirationTimestamp` (or until the API server
answers 401), and both kinds of credential it may return are used: a bearer token, and a client
certificate with its key.
*/
import { spawn } from 'node:child_process';
import { isAbsolute, join } from 'node:path';

export const execApiVersions = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;
const stdoutLimit = 1024 * 1024;
const stderrLimit = 2048;

export interface ExecPluginConfig {
  readonly apiVersion: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly provideClusterInfo: boolean;
  readonly installHint: string | undefined;
}

/** What `provideClusterInfo` hands the plugin in KUBERNETES_EXEC_INFO (ExecCredential spec.cluster). */
export interface ExecClusterInfo {
  readonly server: string;
  readonly 'tls-server-name'?: string;
  readonly 'insecure-skip-tls-verify'?: boolean;
  readonly 'certificate-authority-data'?: string;
  readonly 'proxy-url'?: string;
  readonly 'disable-compression'?: boolean;
  readonly config?: unknown;
}

export interface ExecCredential {
  readonly token: string | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  /** Milliseconds since the epoch; undefined: valid until the server says otherwise (401). */
  readonly expiresAt: number | undefined;
}

/** The plugin could not be run, failed, or printed something that is not a usable ExecCredential. */
export class ExecPluginError extends Error {
  override name = 'ExecPluginError';
}

export class KubeconfigFieldError extends Error {
  override name = 'KubeconfigFieldError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
Reads `user.exec` of a kubeconfig, refusing what the operator cannot do. `field` names it in
errors (e.g. `users[eks].user.exec`); `base` is the folder of the kubeconfig that defined it, for a
relative command.
*/
export function parseExecConfig(exec: unknown, field: string, base: string): ExecPluginConfig {
  if (!isRecord(exec)) throw new KubeconfigFieldError(`${field} must be a mapping`);
  const apiVersion = exec['apiVersion'];
  if (typeof apiVersion !== 'string' || !(execApiVersions as readonly string[]).includes(apiVersion)) {
    throw new KubeconfigFieldError(`${field}.apiVersion ${JSON.stringify(apiVersion ?? '')} is not supported; use ${execApiVersions.join(' or ')}`);
  }
  const command = exec['command'];
  if (typeof command !== 'string' || command === '') throw new KubeconfigFieldError(`${field}.command is missing`);
  if (exec['interactiveMode'] === 'Always') {
    throw new KubeconfigFieldError(`${field}.interactiveMode Always: the plugin needs a terminal, and the operator has none; use a plugin that runs unattended`);
  }
  const args = exec['args'] ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new KubeconfigFieldError(`${field}.args must be a list of strings`);
  const env = exec['env'] ?? [];
  if (!Array.isArray(env) || !env.every((e) => isRecord(e) && typeof e['name'] === 'string' && typeof e['value'] === 'string')) {
    throw new KubeconfigFieldError(`${field}.env must be a list of {name, value} strings`);
  }
  return {
    apiVersion,
    // As client-go: a command with a slash but not absolute is relative to the kubeconfig's folder; a bare name is looked up on PATH.
    command: command.includes('/') && !isAbsolute(command) ? join(base, command) : command,
    args: args,
    env: env as { name: string; value: string }[],
    provideClusterInfo: exec['provideClusterInfo'] === true,
    installHint: typeof exec['installHint'] === 'string' ? exec['installHint'] : undefined,
  };
}

/** Runs the plugin once, and reads its ExecCredential. */
export async function runExecPlugin(config: ExecPluginConfig, cluster: ExecClusterInfo | undefined, timeoutMs: number): Promise<ExecCredential> {
  const info = { apiVersion: config.apiVersion, kind: 'ExecCredential', spec: { interactive: false, ...(config.provideClusterInfo && cluster ? { cluster } : {}) } };
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const { name, value } of config.env) env[name] = value;
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve, reject) => {
    const child = spawn(config.command, [...config.args], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    let outLength = 0;
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      outLength += chunk.length;
      if (outLength <= stdoutLimit) out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < stderrLimit) err += chunk.toString('utf8');
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'ENOENT' && config.installHint ? `; ${config.installHint.trim()}` : '';
      reject(new ExecPluginError(`exec plugin ${config.command} could not be run: ${error.message}${hint}`));
    });
    child.on('close', (exitCode, signal) => {
      if (signal === 'SIGKILL') reject(new ExecPluginError(`exec plugin ${config.command} did not finish within ${timeoutMs} ms`));
      else resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: err, code: exitCode });
    });
  });
  const detail = stderr.trim().slice(0, 300);
  if (code !== 0) throw new ExecPluginError(`exec plugin ${config.command} exited with code ${String(code)}${detail ? `: ${detail}` : ''}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new ExecPluginError(`exec plugin ${config.command} printed no ExecCredential JSON`);
  }
  return credentialFrom(parsed, config);
}

function credentialFrom(parsed: unknown, config: ExecPluginConfig): ExecCredential {
  const what = `exec plugin ${config.command}`;
  if (!isRecord(parsed) || parsed['kind'] !== 'ExecCredential') throw new ExecPluginError(`${what} printed something other than an ExecCredential`);
  if (parsed['apiVersion'] !== config.apiVersion) {
    throw new ExecPluginError(`${what} answered apiVersion ${JSON.stringify(parsed['apiVersion'] ?? '')}, not the ${config.apiVersion} asked for`);
  }
  const status = parsed['status'];
  if (!isRecord(status)) throw new ExecPluginError(`${what} returned an ExecCredential without status`);
  const text = (key: string): string | undefined => (typeof status[key] === 'string' && status[key] !== '' ? status[key] : undefined);
  const token = text('token');
  const cert = text('clientCertificateData');
  const key = text('clientKeyData');
  if ((cert === undefined) !== (key === undefined)) throw new ExecPluginError(`${what} returned ${cert ? 'clientCertificateData without clientKeyData' : 'clientKeyData without clientCertificateData'}`);
  if (token === undefined && cert === undefined) throw new ExecPluginError(`${what} returned neither a token nor a client certificate`);
  const expiry = text('expirationTimestamp');
  const expiresAt = expiry === undefined ? undefined : Date.parse(expiry);
  if (expiresAt !== undefined && Number.isNaN(expiresAt)) throw new ExecPluginError(`${what} returned an unreadable expirationTimestamp`);
  return { token, cert: cert === undefined ? undefined : Buffer.from(cert), key: key === undefined ? undefined : Buffer.from(key), expiresAt };
}

/** One plugin's credential, cached until it expires or is invalidated; concurrent callers share one run. */
export class ExecCredentialSource {
  readonly #config: ExecPluginConfig;
  readonly #cluster: ExecClusterInfo | undefined;
  readonly #timeoutMs: number;
  #current: ExecCredential | undefined;
  #running: Promise<ExecCredential> | undefined;

  constructor(config: ExecPluginConfig, cluster: ExecClusterInfo | undefined, timeoutMs = 60_000) {
    this.#config = config;
    this.#cluster = cluster;
    this.#timeoutMs = timeoutMs;
  }

  async get(): Promise<ExecCredential> {
    const current = this.#current;
    if (current && (current.expiresAt === undefined || current.expiresAt > Date.now())) return current;
    this.#running ??= runExecPlugin(this.#config, this.#cluster, this.#timeoutMs).then(
      (credential) => {
        this.#current = credential;
        this.#running = undefined;
        return credential;
      },
      (error: unknown) => {
        this.#running = undefined;
        throw error;
      },
    );
    return await this.#running;
  }

  /** The server refused the credential (401): the next request runs the plugin again. */
  invalidate(): void {
    this.#current = undefined;
  }
}
