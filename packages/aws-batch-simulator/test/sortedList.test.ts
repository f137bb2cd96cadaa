import { expect } from 'chai';
import { Rng } from '../src/rng';
import { ChunkedSortedList } from '../src/sortedList';

describe('ChunkedSortedList (the listing index)', () => {
  it('stays equal to a sorted reference through random inserts and removes across many chunks', () => {
    const rng = new Rng(5);
    const list = new ChunkedSortedList<{ k: number }>((a, b) => a.k - b.k);
    let reference: { k: number }[] = [];
    const used = new Set<number>();
    for (let round = 0; round < 20_000; round++) {
      if (reference.length > 0 && rng.chance(0.35)) {
        const victim = reference[rng.int(0, reference.length - 1)];
        expect(list.remove(victim)).to.equal(true);
        reference = reference.filter((x) => x !== victim);
        used.delete(victim.k);
      } else {
        let k = rng.int(0, 1_000_000);
        while (used.has(k)) k++;
        used.add(k);
        const item = { k };
        list.insert(item);
        reference.push(item);
      }
    }
    reference.sort((a, b) => a.k - b.k);
    expect(list.size).to.equal(reference.length);
    expect([...list.ascending()]).to.deep.equal(reference);
    expect(list.remove({ k: -1 })).to.equal(false);
    expect(list.first()).to.equal(reference[0]);
  });

  it('walks descending from any position, with a budget, saying why it stopped', () => {
    const list = new ChunkedSortedList<number>((a, b) => a - b);
    for (let i = 0; i < 5000; i++) list.insert(i);
    const seen: number[] = [];
    const why = list.walkDescending(list.lowerBound((x) => x < 2500), (x) => (seen.push(x), seen.length < 3));
    expect(why).to.equal('stopped');
    expect(seen).to.deep.equal([2499, 2498, 2497]);
    let n = 0;
    expect(list.walkDescending(null, () => (n++, true), 100)).to.equal('budget');
    expect(n).to.equal(100);
    let all = 0;
    expect(list.walkDescending(null, () => (all++, true))).to.equal('end');
    expect(all).to.equal(5000);
  });
});
