import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  const valid: [string, number][] = [
    ['0', 0],
    ['1', 1],
    ['25m', 0.025],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['1.', 1],
    ['+2', 2],
    ['-1', -1],
    ['64Mi', 64 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1Ki', 1024],
    ['2Ti', 2 * 2 ** 40],
    ['128M', 128e6],
    ['1k', 1000],
    ['1e3', 1000],
    ['12E-3', 0.012],
    ['1E', 1e18],
  ];
  for (const [text, value] of valid) {
    it(`reads ${text}`, () => {
      const q = parseQuantity(text);
      assert.ok(q, text);
      assert.ok(Math.abs(q.value - value) <= Math.abs(value) * 1e-12, `${text}: ${q.value} != ${value}`);
      assert.equal(q.text, text);
    });
  }
  for (const text of [
    '',
    ' 1',
    '1 ',
    'abc',
    '1.5 cores',
    '64MB',
    '1mi',
    '1KI',
    '1K',
    'Mi',
    '1..2',
    '0x10',
    '1e',
    '1e1.5',
    '--1',
  ]) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseQuantity(text), undefined));
  }
});
