#!/usr/bin/env bash
# Makes the certificate, key, PKCS#12 and JWK fixtures that tools/template-vectors/cases.yaml uses.
# Run once; the outputs are committed (keys are random, so a re-run changes every vector that uses
# them: run `npm run template-vectors` afterwards). Nothing here is a secret: test keys only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
days=36500
ext=$(mktemp) && trap 'rm -f "$ext"' EXIT
cat > "$ext" <<'CONF'
[root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[intermediate]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:app.example.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CONF

# Root CA (EC P-256), intermediate (RSA 2048), leaves: RSA (PKCS#8 and PKCS#1), EC (SEC 1), Ed25519.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out root-ca.key
openssl req -x509 -new -key root-ca.key -subj "/CN=Template Vectors Root CA" -days $days \
  -extensions root -config <(cat /etc/ssl/openssl.cnf "$ext") -out root-ca.crt
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out intermediate-ca.key
openssl req -new -key intermediate-ca.key -subj "/CN=Template Vectors Intermediate CA" -out intermediate-ca.csr
openssl x509 -req -in intermediate-ca.csr -CA root-ca.crt -CAkey root-ca.key -set_serial 2 -days $days \
  -extfile "$ext" -extensions intermediate -out intermediate-ca.crt
leaf() { # name, key file
  openssl req -new -key "$2" -subj "/CN=app.example.test" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA intermediate-ca.crt -CAkey intermediate-ca.key -set_serial "$3" -days $days \
    -extfile "$ext" -extensions leaf -out "$1.crt"
  rm -f "$1.csr"
}
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out leaf-rsa.key
openssl pkey -in leaf-rsa.key -traditional -out leaf-rsa-pkcs1.key
leaf leaf-rsa leaf-rsa.key 10
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl ec -out leaf-ec.key
leaf leaf-ec leaf-ec.key 11
openssl genpkey -algorithm ED25519 -out leaf-ed25519.key
leaf leaf-ed25519 leaf-ed25519.key 12
rm -f intermediate-ca.csr root-ca.srl intermediate-ca.srl

cat leaf-rsa.crt intermediate-ca.crt root-ca.crt > chain-rsa.pem
cat leaf-ec.crt intermediate-ca.crt > chain-ec.pem
# A bundle with a key, text and certificates, for filterPEM.
{ echo "subject=app.example.test"; cat leaf-rsa.crt; cat leaf-rsa.key; echo "comment"; cat intermediate-ca.crt; } > bundle.pem

# PKCS#12: OpenSSL 3 defaults (PBES2 AES-256-CBC, HMAC-SHA256 MAC), with and without a password,
# the legacy 3DES/SHA-1 form, the chain out of order, and an EC key.
openssl pkcs12 -export -inkey leaf-rsa.key -in leaf-rsa.crt -certfile <(cat intermediate-ca.crt root-ca.crt) -passout pass: -out leaf-rsa-nopass.p12
openssl pkcs12 -export -inkey leaf-rsa.key -in leaf-rsa.crt -certfile <(cat intermediate-ca.crt root-ca.crt) -passout pass:1234 -out leaf-rsa-1234.p12
openssl pkcs12 -export -inkey leaf-rsa.key -in leaf-rsa.crt -certfile intermediate-ca.crt -passout pass:s3cret \
  -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -out leaf-rsa-3des.p12
openssl pkcs12 -export -inkey leaf-rsa.key -in leaf-rsa.crt -certfile <(cat root-ca.crt intermediate-ca.crt) -passout pass: -out leaf-rsa-unordered.p12
openssl pkcs12 -export -inkey leaf-ec.key -in leaf-ec.crt -certfile intermediate-ca.crt -passout pass:pw -out leaf-ec-pw.p12

# JWKs of the same keys, public and private.
node --input-type=module -e '
import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
for (const name of ["leaf-rsa", "leaf-ec", "leaf-ed25519"]) {
  const key = createPrivateKey(readFileSync(`${name}.key`));
  writeFileSync(`${name}.private.jwk`, JSON.stringify(key.export({ format: "jwk" })));
  writeFileSync(`${name}.public.jwk`, JSON.stringify(createPublicKey(key).export({ format: "jwk" })));
}'
