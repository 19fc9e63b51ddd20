/**
 * The audit export format, pinned (docs/formats.md §21): the worked example
 * of §13's chain exported, byte for byte, and the same text in the doc.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ChainHead } from './chain.js';
import { eventText } from './event.js';
import { chainLine, endLine, eventLine, headerLine, parseLine } from './export-format.js';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x60 + i));
const CHAIN_ID = '00112233445566778899aabbccddeeff';
const EVENT = eventText({
  time: '2025-01-01T00:00:00.000Z',
  operation: 'tokenize',
  outcome: 'ok',
  tenant: 'acme',
  fields: ['email'],
  orkId: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
  tekVersions: [1],
  count: 1,
  caller: 'http',
  requestId: 'req-1',
  latencyMs: 0.5,
});

const PINNED = `{"type":"sidekey-audit-export","version":1,"exportId":"ffeeddccbbaa99887766554433221100","until":"2025-01-02T00:00:00.000Z","createdAt":"2025-01-02T00:05:00.000Z"}
{"type":"chain","chainId":"00112233445566778899aabbccddeeff","host":"pod-a","startedAt":"2025-01-01T00:00:00.000Z","kekRef":"local:0011223344556677","wrappedKey":"d3JhcHBlZCBjaGFpbiBrZXk=","afterSeq":0,"prevHash":"0000000000000000000000000000000000000000000000000000000000000000"}
{"type":"event","chainId":"00112233445566778899aabbccddeeff","seq":1,"prevHash":"0000000000000000000000000000000000000000000000000000000000000000","hash":"e2fd7694a8af05064954f35fffc37475b627abcd8beb7c27060875cee66a797c","event":"{\\"time\\":\\"2025-01-01T00:00:00.000Z\\",\\"operation\\":\\"tokenize\\",\\"outcome\\":\\"ok\\",\\"tenant\\":\\"acme\\",\\"fields\\":[\\"email\\"],\\"orkId\\":\\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\\",\\"tekVersions\\":[1],\\"count\\":1,\\"caller\\":\\"http\\",\\"requestId\\":\\"req-1\\",\\"latencyMs\\":0.5}"}
{"type":"event","chainId":"00112233445566778899aabbccddeeff","seq":2,"prevHash":"e2fd7694a8af05064954f35fffc37475b627abcd8beb7c27060875cee66a797c","hash":"35754db98b8cba57a007c742b6aaf64dae4446704e7ba7b102479da49bd191fd","event":"{\\"time\\":\\"2025-01-01T00:00:00.000Z\\",\\"operation\\":\\"tokenize\\",\\"outcome\\":\\"ok\\",\\"tenant\\":\\"acme\\",\\"fields\\":[\\"email\\"],\\"orkId\\":\\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\\",\\"tekVersions\\":[1],\\"count\\":1,\\"caller\\":\\"http\\",\\"requestId\\":\\"req-1\\",\\"latencyMs\\":0.5}"}
{"type":"end","chains":1,"events":2}
`;
const PINNED_SHA256 = '720af1419e8a830f1292bcee1dc7e456f5d9e5bd9d0717e1b4cb257f36ac498d';

function example(): string {
  const head = new ChainHead(Buffer.from(KEY), CHAIN_ID);
  const first = head.append(EVENT);
  const second = head.append(EVENT);
  return (
    headerLine({
      exportId: 'ffeeddccbbaa99887766554433221100',
      until: new Date('2025-01-02T00:00:00Z'),
      createdAt: new Date('2025-01-02T00:05:00Z'),
    }) +
    chainLine({
      chain: {
        chainId: CHAIN_ID,
        kekRef: 'local:0011223344556677',
        wrappedKey: Buffer.from('wrapped chain key'),
        host: 'pod-a',
        startedAt: new Date('2025-01-01T00:00:00Z'),
      },
      afterSeq: 0,
      prevHash: Buffer.alloc(32),
    }) +
    eventLine({ chainId: CHAIN_ID, ...first, event: EVENT }) +
    eventLine({ chainId: CHAIN_ID, ...second, event: EVENT }) +
    endLine(1, 2)
  );
}

describe('audit export format (docs/formats.md §21)', () => {
  it('pinned: the worked example, byte for byte, and its SHA-256', () => {
    const text = example();
    assert.equal(text, PINNED);
    assert.equal(createHash('sha256').update(text).digest('hex'), PINNED_SHA256);
  });

  it('docs/formats.md §21 shows the same lines and digest', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'formats.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## 21.'));
    assert.ok(section.length > 0);
    for (const line of PINNED.trimEnd().split('\n')) assert.ok(section.includes(line), line.slice(0, 60));
    assert.ok(section.includes(PINNED_SHA256));
  });

  it('every line parses back to what was written; the stored event text is kept exactly', () => {
    const lines = PINNED.trimEnd().split('\n').map(parseLine);
    assert.deepEqual(
      lines.map((l) => ('error' in l ? l.error : l.type)),
      ['header', 'chain', 'event', 'event', 'end'],
    );
    const ev = lines[2]!;
    assert.ok(!('error' in ev) && ev.type === 'event');
    assert.equal(ev.row.event, EVENT);
    assert.equal(
      ev.row.hash.toString('hex'),
      'e2fd7694a8af05064954f35fffc37475b627abcd8beb7c27060875cee66a797c',
    );
    const chain = lines[1]!;
    assert.ok(!('error' in chain) && chain.type === 'chain');
    assert.equal(chain.wrappedKey.toString(), 'wrapped chain key');
  });

  it('malformed lines are named, never thrown', () => {
    const bad: [string, RegExp][] = [
      ['{', /not JSON/],
      ['[]', /not a JSON object/],
      ['{"type":"event","chainId":"x","seq":0,"prevHash":"00","hash":"00","event":"{}"}', /malformed event/],
      [
        '{"type":"chain","chainId":"nothex","kekRef":"k","wrappedKey":"AA==","afterSeq":0,"prevHash":"00"}',
        /malformed chain/,
      ],
      ['{"type":"end","chains":-1,"events":0}', /malformed end/],
      ['{"type":"sidekey-audit-export","version":2,"exportId":"x","until":"t"}', /not a version 1/],
      ['{"type":"other"}', /unknown record type/],
    ];
    for (const [text, message] of bad) {
      const r = parseLine(text);
      assert.ok('error' in r, text);
      assert.match(r.error, message);
    }
  });
});
