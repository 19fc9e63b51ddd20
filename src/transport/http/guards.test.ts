import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedHost, allowedHostSet, bearerMatches, fromBrowser, tokenDigest } from './guards.js';

describe('allowedHost', () => {
  const hosts = allowedHostSet('127.0.0.2');
  const ok = [
    '127.0.0.1',
    '127.0.0.1:7600',
    'localhost',
    'LOCALHOST:80',
    '[::1]',
    '[::1]:7600',
    '127.0.0.2:1',
  ];
  const refused = [
    undefined,
    '',
    'evil.example',
    'localhost.evil.example',
    '127.0.0.3',
    '127.0.0.1.nip.io',
    '127.0.0.1:',
    '127.0.0.1:port',
    '127.0.0.1:7600:1',
    '[::1',
    '[::2]',
    '::1',
    'localhost:123456',
    '0.0.0.0',
  ];
  for (const h of ok) it(`accepts ${h}`, () => assert.equal(allowedHost(h, hosts), true));
  for (const h of refused)
    it(`refuses ${JSON.stringify(h)}`, () => assert.equal(allowedHost(h, hosts), false));
});

describe('fromBrowser', () => {
  it('flags any Origin and cross-site fetches only', () => {
    assert.equal(fromBrowser('null', undefined), true);
    assert.equal(fromBrowser(undefined, 'cross-site'), true);
    assert.equal(fromBrowser(undefined, 'Cross-Site'), true);
    assert.equal(fromBrowser(undefined, 'same-origin'), false);
    assert.equal(fromBrowser(undefined, undefined), false);
  });
});

describe('bearerMatches', () => {
  const digest = tokenDigest('s3cret');
  it('accepts only the exact token', () => {
    assert.equal(bearerMatches('Bearer s3cret', digest), true);
    assert.equal(bearerMatches('bearer s3cret', digest), true);
    assert.equal(bearerMatches('Bearer s3cret2', digest), false);
    assert.equal(bearerMatches('Bearer ', digest), false);
    assert.equal(bearerMatches('Basic s3cret', digest), false);
    assert.equal(bearerMatches(undefined, digest), false);
  });
});
