import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planPrune } from './prune.js';

const h = (n: number) => Buffer.alloc(32, n);
const range = (chainId: string, fromSeq: number, toSeq: number) => ({
  chainId,
  fromSeq,
  toSeq,
  toHash: h(toSeq),
});
const exp = (exportId: string, chainId: string, fromSeq: number, toSeq: number) => ({
  ...range(chainId, fromSeq, toSeq),
  exportId,
});

describe('planPrune', () => {
  it('anchors each chain at the end of its run before the cut, never past what an export holds', () => {
    const plan = planPrune(
      [range('a', 1, 10), range('b', 5, 8), range('c', 1, 3), range('d', 4, 9)],
      [
        exp('e1', 'a', 1, 12), // holds more than the run: anchor at the run's end
        exp('e1', 'b', 5, 6), // holds less: anchor at the export's end
        exp('e2', 'b', 1, 7), // another export reaching further: the best one counts
        exp('e1', 'd', 6, 9), // starts after the first event to remove: does not cover
      ],
    );
    assert.deepEqual(plan.anchors, [
      { chainId: 'a', seq: 10, hash: h(10), exportId: 'e1' },
      { chainId: 'b', seq: 7, exportHash: h(7), exportId: 'e2' },
    ]);
    assert.deepEqual(plan.uncovered, ['c', 'd']);
  });

  it('an export ending exactly at the run’s end is checked against the stored hash', () => {
    const plan = planPrune([range('a', 3, 10)], [exp('e', 'a', 1, 10)]);
    assert.deepEqual(plan.anchors, [
      { chainId: 'a', seq: 10, hash: h(10), exportId: 'e', exportHash: h(10) },
    ]);
  });

  it('--force (no exports consulted): the runs before the cut', () => {
    const plan = planPrune([range('a', 1, 10), range('c', 1, 3)], undefined);
    assert.deepEqual(
      plan.anchors.map((a) => [a.chainId, a.seq]),
      [
        ['a', 10],
        ['c', 3],
      ],
    );
    assert.deepEqual(plan.uncovered, []);
  });
});
