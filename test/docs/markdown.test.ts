/** The example runner's reading of Markdown: blocks, curl commands, promised answers. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { codeBlocks, curlCommands, keepsPromise } from './markdown.js';

it('finds fenced blocks with their language and heading', () => {
  const blocks = codeBlocks('# A\n\n```sh\necho 1\n```\n\n## B\n```js\nx()\n```\n');
  assert.deepEqual(blocks, [
    { lang: 'sh', code: 'echo 1\n', heading: 'A' },
    { lang: 'js', code: 'x()\n', heading: 'B' },
  ]);
});

it('finds curl commands, joined over continuations, with the comment that follows', () => {
  const code = [
    'X=1',
    'curl -s $SK/a -d \'{"a":"#not"}\'   # {"ok":1}',
    'curl -s $SK/b \\',
    '  -d x',
    '# 400 {"error":…}',
    'grpcurl -plaintext x',
    'curl -s $SK/c',
  ].join('\n');
  assert.deepEqual(curlCommands(code), [
    { command: 'curl -s $SK/a -d \'{"a":"#not"}\'', expected: '{"ok":1}' },
    { command: 'curl -s $SK/b -d x', expected: '400 {"error":…}' },
    { command: 'curl -s $SK/c', expected: undefined },
  ]);
});

it('compares an answer with its promise', () => {
  assert.ok(keepsPromise('{"tokens":["tok_…"]}', 200, '{"tokens":["tok_abc"]}'));
  assert.ok(
    keepsPromise(
      '{"tokens":["tok_uqKENL-mtaPsYVRafxM-9g"]}',
      200,
      '{"tokens":["tok_AAAAAAAAAAAAAAAAAAAAAA"]}',
    ),
  );
  assert.ok(keepsPromise('{"c":["ct_AgAAAAFz…"]}', 200, '{"c":["ct_AgAAAAEL-x_y"]}'));
  assert.ok(keepsPromise('{"status":"ready"} or 503 {"status":"not_ready"}', 503, '{"status":"not_ready"}'));
  assert.ok(keepsPromise('Prometheus text', 200, '# HELP'));
  assert.ok(keepsPromise('200 application/json', 200, '200 application/json'));
  assert.ok(!keepsPromise('{"deleted":1}', 200, '{"deleted":0}'));
  assert.ok(!keepsPromise('{"deleted":1}', 400, '{"deleted":1}'));
  assert.ok(
    !keepsPromise('400 {"error":{"code":"INVALID_ARGUMENT"}}', 400, '{"error":{"code":"NOT_FOUND"}}'),
  );
  assert.ok(!keepsPromise('Prometheus text', 500, ''));
});
