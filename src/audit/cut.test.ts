import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCut } from './cut.js';

const NOW = new Date('2026-12-02T00:00:00.000Z');

describe('parseCut (--until)', () => {
  it('an age counts back from now; an RFC 3339 time is taken as it is', () => {
    assert.deepEqual(parseCut('30d', NOW), { until: new Date('2026-11-02T00:00:00.000Z') });
    assert.deepEqual(parseCut('12h', NOW), { until: new Date('2026-12-01T12:00:00.000Z') });
    assert.deepEqual(parseCut('2026-11-30T10:00:00Z', NOW), { until: new Date('2026-11-30T10:00:00.000Z') });
    assert.deepEqual(parseCut('2026-11-30T10:00:00.5+01:00', NOW), {
      until: new Date('2026-11-30T09:00:00.500Z'),
    });
    assert.deepEqual(parseCut('2026-12-02T00:00:00Z', NOW), { until: NOW }, 'now itself is not the future');
  });

  it('refuses the future, malformed and impossible times in one line', () => {
    const cases: [string, RegExp][] = [
      ['2026-12-02T00:00:01Z', /is in the future/],
      ['2030-01-01T00:00:00Z', /is in the future/],
      ['yesterday', /neither an RFC 3339 time nor an age/],
      ['30', /neither/],
      ['-30d', /neither/],
      ['2026-11-30', /neither/],
      ['2026-11-30T10:00:00', /neither/],
      ['2026-13-40T10:00:00Z', /not a valid time/],
      ['', /neither/],
    ];
    for (const [text, message] of cases) {
      const r = parseCut(text, NOW);
      assert.ok('error' in r, text);
      assert.match(r.error, message, text);
      assert.doesNotMatch(r.error, /\n/);
    }
  });
});
