// Renders the PKCS#12 vectors with the TypeScript engine (tools/template-vectors/run.sh hands them to
// ESO's pkcs12key and pkcs12cert): prints [{ name, output }] with the output in base64.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { renderTemplate } from '../../src/template/index.ts';

const [vectorsPath] = process.argv.slice(2);
if (vectorsPath === undefined) throw new Error('usage: node ts-outputs.js VECTORS.json');
const { vectors } = JSON.parse(readFileSync(vectorsPath, 'utf8'));
const outputs = vectors
  .filter((v) => v.check?.kind === 'pkcs12')
  .map((v) => {
    const data = new Map(Object.entries(v.data).map(([key, b64]) => [key, Buffer.from(b64, 'base64')]));
    return { name: v.name, output: renderTemplate(v.key, v.template, data).toString('base64') };
  });
process.stdout.write(JSON.stringify(outputs));
