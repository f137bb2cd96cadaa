/** A binary min-heap of (time, value) entries: the simulator's event queue. */
export class TimeHeap<T> {
  private times: number[] = [];
  private values: T[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times.length ? this.times[0] : Infinity;
  }

  push(time: number, value: T): void {
    const times = this.times;
    const values = this.values;
    let i = times.length;
    times.push(time);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= time) break;
      times[i] = times[parent];
      values[i] = values[parent];
      i = parent;
    }
    times[i] = time;
    values[i] = value;
  }

  pop(): T | undefined {
    const times = this.times;
    const values = this.values;
    if (times.length === 0) return undefined;
    const top = values[0];
    const lastTime = times.pop() as number;
    const lastValue = values.pop() as T;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r] < times[l] ? r : l;
        if (times[c] >= lastTime) break;
        times[i] = times[c];
        values[i] = values[c];
        i = c;
      }
      times[i] = lastTime;
      values[i] = lastValue;
    }
    return top;
  }
}
