// OTLP export to https collectors, with certificates made by the openssl CLI at test time. `tollway validate`
// reports bad TLS files with file:line and key path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { testConfig, makeCA, runTollway, tempDir, toYaml } from '../../lib/harness.mjs';

describe('tollway validate and the OTLP TLS files', () => {
  it('a ca_file without certificates and a key of another certificate are errors at their keys', async () => {
    const ca = makeCA({ name: 'validate-ca' });
    const client = ca.clientCert('tollway-client');
    const dir = tempDir('tollway-validate-');
    try {
      const garbage = path.join(dir, 'garbage.pem');
      fs.writeFileSync(garbage, 'not a certificate\n');
      const file = path.join(dir, 'gateway.yaml');
      const cfg = testConfig({ openaiUrl: 'http://127.0.0.1:9' });
      cfg.telemetry = { otlp: { endpoint: 'https://127.0.0.1:4318', ca_file: garbage, client_cert: client.certFile, client_key: ca.keyFile } };
      fs.writeFileSync(file, toYaml(cfg));
      const bad = await runTollway(['validate', file]);
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, new RegExp(`gateway\\.yaml:\\d+: telemetry\\.otlp\\.ca_file: "${garbage.replace(/[.]/g, '\\.')}" is not a PEM file of CA certificates \\(OpenSSL: `));
      cfg.telemetry.otlp.ca_file = ca.caFile;
      fs.writeFileSync(file, toYaml(cfg));
      const mismatch = await runTollway(['validate', file]);
      assert.equal(mismatch.code, 1, mismatch.stderr);
      assert.match(mismatch.stderr, /gateway\.yaml:\d+: telemetry\.otlp\.client_key: ".*server\.key" is not the private key of the certificate in ".*tollway-client\.pem"/);
      cfg.telemetry.otlp.client_key = client.keyFile;
      fs.writeFileSync(file, toYaml(cfg));
      const good = await runTollway(['validate', file]);
      assert.equal(good.code, 0, good.stderr);
    } finally { ca.cleanup(); }
  });
});
