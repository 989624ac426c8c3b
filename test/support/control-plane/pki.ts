import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
The certificates a local control plane needs, made with the system's openssl (Node can create keys
but not X.509 certificates). One throwaway CA signs the serving certificate and the client
certificates; a separate RSA key pair signs ServiceAccount tokens.
*/
export interface ControlPlanePki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  readonly admin: ClientCertificate;
}

export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createPki(dir: string): ControlPlanePki {
  openssl(dir, [
    'req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7',
    '-subj', '/O=thalassa-test/CN=thalassa-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  writeFileSync(
    join(dir, 'serving.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      'extendedKeyUsage=serverAuth\n' +
      'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n',
  );
  openssl(dir, ['req', ...ecKey, '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=localhost']);
  openssl(dir, [
    'x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '7', '-extfile', 'serving.ext', '-out', 'apiserver.crt',
  ]);
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
    admin: createClientCertificate(dir, 'admin', ['system:masters']),
  };
}

/** A client certificate for a user: the API server reads CN as the user name and O as its groups. */
export function createClientCertificate(dir: string, user: string, groups: readonly string[]): ClientCertificate {
  const subject = [...groups.map((g) => `/O=${g}`), `/CN=${user}`].join('');
  writeFileSync(
    join(dir, 'client.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  openssl(dir, ['req', ...ecKey, '-keyout', `${user}.key`, '-out', `${user}.csr`, '-subj', subject]);
  openssl(dir, [
    'x509', '-req', '-in', `${user}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '7', '-extfile', 'client.ext', '-out', `${user}.crt`,
  ]);
  return { cert: join(dir, `${user}.crt`), key: join(dir, `${user}.key`) };
}
