/**
 * Fuzz targets for every parser and decoder that reads outside input without
 * a daemon: ORK strings, token strings, `ct_` ciphertext strings, envelopes
 * read back from the store, the configuration, and AdmissionReviews.
 *
 * Beyond "never throws", each asserts what a parser must guarantee: one
 * canonical text per parsed value (so two strings never name the same key or
 * ciphertext), and authenticated decryption that opens nothing but the
 * original.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { review } from '../../k8s-sidecar/admission.js';
import type { MutationConfig } from '../../k8s-sidecar/config.js';
import { ConfigError, isLoopbackHost, loadConfig } from '../../src/config/index.js';
import {
  decodeOrkString,
  encodeOrkString,
  isTokenSyntax,
  newOrkId,
  newToken,
  openCiphertext,
  openRecord,
  orkIdToBytes,
  sealCiphertext,
  sealRecord,
  systemRandom,
  TOKEN_PATTERN,
} from '../../src/crypto/index.js';
import { decodeCiphertext, encodeCiphertext } from '../../src/service/ciphertext-string.js';
import {
  admissionReviews,
  ciphertextStrings,
  configEnvs,
  envelopes,
  orkStrings,
  SECRET_MARK,
  tokenStrings,
} from './generators.js';
import { mutateStringDeep } from './mutations.js';
import type { FuzzTarget } from './target.js';
import { property } from './target.js';

const orkString: FuzzTarget = {
  name: 'ORK strings',
  budget: 2000,
  async prepare() {
    const valid = encodeOrkString({
      tenant: 'demo',
      orkId: newOrkId(systemRandom),
      kekRef: 'local:abcd',
      wrapped: randomBytes(60),
    });
    return {
      property: property(orkStrings(valid), (text) => {
        const parts = decodeOrkString(text);
        if (parts === undefined) return;
        // Whatever parses has exactly one text: re-encoding gives the same string.
        assert.equal(encodeOrkString(parts), text);
      }),
    };
  },
};

const tokenString: FuzzTarget = {
  name: 'token strings',
  budget: 1000,
  async prepare() {
    const valid = Array.from({ length: 4 }, () => newToken(systemRandom));
    return {
      property: property(tokenStrings(valid, ['ct_AAAA', 'sk_ork_AAAA']), (text) => {
        if (isTokenSyntax(text)) assert.match(text, TOKEN_PATTERN);
      }),
    };
  },
};

const fdk = randomBytes(32);
const orkId = newOrkId(systemRandom);
const ciphertextBinding = { tenant: 'demo', field: 'f', tekVersion: 3, orkId, context: 'ctx' };

const ciphertextString: FuzzTarget = {
  name: 'ct_ ciphertext strings',
  budget: 2000,
  async prepare() {
    const plaintext = Buffer.from(`${SECRET_MARK}plaintext`);
    const valid = [
      encodeCiphertext(sealCiphertext(fdk, ciphertextBinding, orkIdToBytes(orkId), plaintext, systemRandom)),
      encodeCiphertext(
        sealCiphertext(fdk, ciphertextBinding, orkIdToBytes(orkId), Buffer.alloc(0), systemRandom),
      ),
    ];
    return {
      property: property(ciphertextStrings(valid), (text) => {
        const decoded = decodeCiphertext(text);
        if (decoded === undefined) return;
        assert.equal(encodeCiphertext(decoded.bytes), text, 'one text per ciphertext');
        const opened = openCiphertext(fdk, ciphertextBinding, decoded.bytes);
        if (valid.includes(text)) assert.ok(opened !== undefined, 'the original opens');
        else assert.equal(opened, undefined, 'an altered ciphertext never opens');
      }),
    };
  },
};

const storedEnvelope: FuzzTarget = {
  name: 'envelopes read from the store',
  budget: 2000,
  async prepare() {
    const binding = { token: newToken(systemRandom), tenant: 'demo', field: 'f', tekVersion: 1, orkId };
    const plaintext = Buffer.from(`${SECRET_MARK}value`);
    const valid = sealRecord(fdk, binding, plaintext, systemRandom);
    return {
      property: property(envelopes(valid), (envelope) => {
        const opened = openRecord(fdk, binding, envelope);
        if (envelope.equals(valid)) assert.deepEqual(opened, plaintext);
        else assert.equal(opened, undefined, 'an altered envelope never opens');
      }),
    };
  },
};

const SETTING = /^[A-Z][A-Z0-9_]*: [^\n]+$/;

const configuration: FuzzTarget = {
  name: 'configuration',
  budget: 500,
  async prepare() {
    const vaultToken = `${SECRET_MARK}vault-token`;
    const valid = {
      SIDEKEY_DATA_DIR: tmpdir(),
      SIDEKEY_HTTP_HOST: '127.0.0.1',
      SIDEKEY_HTTP_PORT: '7600',
      SIDEKEY_LOG_LEVEL: 'info',
      SIDEKEY_TENANTS: 'demo,acme',
      SIDEKEY_KMS: 'vault',
      SIDEKEY_KMS_KEY_ID: 'sidekey',
      VAULT_ADDR: 'https://vault.example:8200',
      VAULT_TOKEN: vaultToken,
    };
    loadConfig(valid, tmpdir()); // the base is valid
    return {
      property: property(configEnvs(valid), (env) => {
        try {
          const config = loadConfig(env, tmpdir());
          assert.ok(isLoopbackHost(config.http.host), `accepted a non-loopback host ${config.http.host}`);
        } catch (err) {
          assert.ok(err instanceof ConfigError, `not a ConfigError: ${(err as Error).stack}`);
          assert.match(err.message, SETTING, 'one line naming the setting');
          assert.ok(!err.message.includes(SECRET_MARK), 'the Vault token in a configuration error');
        }
      }),
    };
  },
};

/** The optional JSON file (SIDEKEY_CONFIG_FILE): its text edited, its values retyped. */
const configurationFile: FuzzTarget = {
  name: 'configuration file',
  budget: 300,
  async prepare() {
    const dir = mkdtempSync(join(tmpdir(), 'sidekey-fuzz-config-'));
    const file = join(dir, 'sidekey.json');
    const valid = {
      SIDEKEY_HTTP_PORT: '7600',
      SIDEKEY_TENANTS: 'demo',
      SIDEKEY_LOG_LEVEL: 'warn',
      SIDEKEY_KMS: 'local',
    };
    const text = JSON.stringify(valid);
    const texts = fc.oneof(
      mutateStringDeep(text),
      fc
        .tuple(fc.constantFrom(...Object.keys(valid)), fc.jsonValue({ maxDepth: 2 }))
        .map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    );
    return {
      property: property(texts, (content) => {
        writeFileSync(file, content);
        try {
          const config = loadConfig({ SIDEKEY_CONFIG_FILE: file, SIDEKEY_DATA_DIR: dir }, dir);
          assert.ok(isLoopbackHost(config.http.host));
        } catch (err) {
          assert.ok(err instanceof ConfigError, `not a ConfigError: ${(err as Error).stack}`);
          assert.match(err.message, SETTING, 'one line naming the setting');
        }
      }),
      teardown: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

const MUTATION_CONFIG: MutationConfig = {
  image: 'registry.example/sidekey:0.1.0',
  imagePullPolicy: 'IfNotPresent',
  mode: 'native',
  excludedNamespaces: ['kube-system'],
  kms: { provider: 'aws', keyId: 'alias/sidekey', region: 'eu-west-1' },
  postgres: { url: 'postgres://sidekey@pg:5432/sidekey', defaultTlsSecret: 'sidekey-postgres-client' },
};

const admissionReview: FuzzTarget = {
  name: 'AdmissionReviews',
  budget: 1000,
  async prepare() {
    const valid = JSON.parse(
      readFileSync(new URL('../k8s/fixtures/admission-review.json', import.meta.url), 'utf8'),
    );
    assert.equal(review(valid, MUTATION_CONFIG).ok, true);
    return {
      property: property(admissionReviews(valid), (body) => {
        const outcome = review(body, MUTATION_CONFIG);
        if (!outcome.ok) {
          assert.ok(outcome.error.length > 0);
          return;
        }
        const response = outcome.review.response;
        // biome-ignore lint/suspicious/noExplicitAny: the mutated request is untyped JSON
        assert.equal(response.uid, (body as any).request.uid, 'answers the request it was asked');
        assert.equal(typeof response.allowed, 'boolean');
        if (!response.allowed) assert.ok((response.status?.message ?? '').length > 0, 'a denial says why');
        if (response.patch !== undefined) {
          const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
          assert.ok(
            Array.isArray(patch) &&
              patch.every((op) => typeof op.op === 'string' && typeof op.path === 'string'),
          );
        }
      }),
    };
  },
};

export const PARSER_TARGETS: readonly FuzzTarget[] = [
  orkString,
  tokenString,
  ciphertextString,
  storedEnvelope,
  configuration,
  configurationFile,
  admissionReview,
];
