import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FULL_SCOPE,
  ORK_OPERATIONS,
  parseAllow,
  parseReveal,
  refusal,
  ScopeError,
  scopeOf,
} from './ork-scope.js';

describe('ORK scopes', () => {
  it('--allow: a comma list of known operations, in canonical order, duplicates once', () => {
    assert.deepEqual(parseAllow('detokenize,tokenize'), ['tokenize', 'detokenize']);
    assert.deepEqual(parseAllow('forget'), ['forget']);
    assert.deepEqual(parseAllow('delete, delete,encrypt'), ['encrypt', 'delete']);
    assert.deepEqual(parseAllow(ORK_OPERATIONS.join(',')), [...ORK_OPERATIONS]);
  });

  it('--allow and --reveal refuse unknown names with a one-line reason', () => {
    for (const bad of ['', 'tokenise', 'tokenize,', 'TOKENIZE', 'tokenize,,delete', 'read']) {
      assert.throws(
        () => parseAllow(bad),
        (e: unknown) => e instanceof ScopeError && !e.message.includes('\n'),
        bad,
      );
    }
    assert.equal(parseReveal('masked'), 'masked');
    for (const bad of ['', 'Full', 'partial', 'masked,none'])
      assert.throws(() => parseReveal(bad), ScopeError, bad);
  });

  it('refusal: operations outside the list, and reveals with --reveal none', () => {
    const ingest = { allow: parseAllow('tokenize'), reveal: 'none' as const };
    assert.equal(refusal(ingest, 'tokenize'), undefined);
    assert.equal(refusal(ingest, 'detokenize'), 'allow');
    const noReveal = { allow: ORK_OPERATIONS, reveal: 'none' as const };
    assert.equal(refusal(noReveal, 'detokenize'), 'reveal');
    assert.equal(refusal(noReveal, 'decrypt'), 'reveal');
    assert.equal(refusal(noReveal, 'encrypt'), undefined);
    const masked = { allow: ORK_OPERATIONS, reveal: 'masked' as const };
    assert.equal(refusal(masked, 'detokenize'), undefined);
    for (const op of ORK_OPERATIONS) assert.equal(refusal(FULL_SCOPE, op), undefined);
  });

  it('refusal: the ingest keys need tokenize or encrypt (what sealed values are for)', () => {
    const scope = (allow: string) => ({ allow: parseAllow(allow), reveal: 'none' as const });
    assert.equal(refusal(scope('tokenize'), 'ingest-keys'), undefined);
    assert.equal(refusal(scope('encrypt'), 'ingest-keys'), undefined);
    assert.equal(refusal(scope('detokenize,decrypt,delete,forget'), 'ingest-keys'), 'allow');
    assert.equal(refusal(FULL_SCOPE, 'ingest-keys'), undefined);
  });

  it('a stored scope: absent = full (v1 rows); unknown names are dropped, an unknown reveal is none', () => {
    assert.deepEqual(scopeOf(undefined, undefined), FULL_SCOPE);
    assert.deepEqual(scopeOf(['delete', 'future-op', 'tokenize'], 'masked'), {
      allow: ['tokenize', 'delete'],
      reveal: 'masked',
    });
    assert.equal(scopeOf(['detokenize'], 'everything').reveal, 'none');
  });
});
