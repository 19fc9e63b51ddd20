import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { maskValue, REDACTED } from './mask.js';
import { MASK_RULES } from './policy.js';

describe('mask rules', () => {
  it('the examples of the contract', () => {
    assert.equal(maskValue('last4', '4111-1111-1111-1111'), '****-****-****-1111');
    assert.equal(maskValue('first6last4', '4111-1111-1111-1111'), '4111-11**-****-1111');
    assert.equal(maskValue('email', 'alice@example.com'), 'a***@example.com');
    assert.equal(maskValue('redact', 'anything at all'), '***');
  });

  it('last4 and first6last4 mask letters and digits only; other characters stay', () => {
    assert.equal(maskValue('last4', '+41 79 123 45 67'), '+** ** *** 45 67');
    assert.equal(maskValue('last4', 'AB-12 cd/34'), '**-** cd/34');
    assert.equal(maskValue('first6last4', '4111111111111111'), '411111******1111');
  });

  it('a value with no more letters and digits than the rule keeps is masked whole', () => {
    assert.equal(maskValue('last4', '1234'), '****');
    assert.equal(maskValue('last4', '12-3'), '**-*');
    assert.equal(maskValue('first6last4', '0123456789'), '**********');
    assert.equal(maskValue('last4', ''), '');
    assert.equal(maskValue('last4', '----'), '----');
  });

  it('Unicode: letters and digits of every script, by code point, never splitting a surrogate pair', () => {
    assert.equal(maskValue('last4', 'Zürich-Straße 12'), '******-****ße 12');
    assert.equal(maskValue('last4', '東京都港区六本木'), '****区六本木');
    assert.equal(maskValue('last4', '١٢٣٤٥٦'), '**٣٤٥٦'); // Arabic-Indic digits
    // 𝐀 (U+1D400) is a letter outside the BMP: one `*`, not two.
    assert.equal(maskValue('last4', '𝐀𝐀1234'), '**1234');
    // Emoji are not letters: they stay, whole.
    assert.equal(maskValue('last4', '🙂 123456'), '🙂 **3456');
    assert.equal(maskValue('email', '😀bob@example.com'), '😀***@example.com');
  });

  it('a combining mark goes with its letter (dropped when the letter is masked)', () => {
    const decomposed = 'Cafe\u0301 1234'; // "Café" with a combining acute accent
    assert.equal(maskValue('last4', decomposed), '**** 1234');
    assert.equal(maskValue('last4', 'x 12e\u03013'), '* 12e\u03013');
  });

  it('email: the local part is its first character and ***; the domain stays; no @ is redacted', () => {
    assert.equal(maskValue('email', 'a@b.c'), 'a***@b.c');
    assert.equal(maskValue('email', '@example.com'), '***@example.com');
    assert.equal(maskValue('email', '"a@b"@example.com'), '"***@example.com');
    assert.equal(maskValue('email', 'not an email'), REDACTED);
  });

  it('no rule ever shows more than its kept characters (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MASK_RULES),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        (rule, v) => {
          const masked = maskValue(rule, v);
          assert.ok(masked.isWellFormed());
          const shown = Array.from(masked).filter((c) => /[\p{L}\p{N}]/u.test(c)).length;
          const limit = { last4: 4, first6last4: 10, email: Number.POSITIVE_INFINITY, redact: 0 }[rule];
          assert.ok(shown <= limit, `${rule} showed ${shown} letters or digits`);
          if (rule === 'redact') assert.equal(masked, REDACTED);
        },
      ),
    );
  });
});
