// When recurring persons (staff, regulars, members) next come in: a min-heap of their visit times.

/** A min-heap of (time, person index), ties by index: the schedule of recurring persons' visits. */
export class Schedule {
  private readonly times: number[] = [];
  private readonly ids: number[] = [];

  peekMs(): number {
    return this.times.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY;
  }

  private less(i: number, j: number): boolean {
    const ti = this.times[i]!;
    const tj = this.times[j]!;
    return ti < tj || (ti === tj && this.ids[i]! < this.ids[j]!);
  }

  private swap(i: number, j: number): void {
    const t = this.times[i]!;
    this.times[i] = this.times[j]!;
    this.times[j] = t;
    const id = this.ids[i]!;
    this.ids[i] = this.ids[j]!;
    this.ids[j] = id;
  }

  push(atMs: number, id: number): void {
    this.times.push(atMs);
    this.ids.push(id);
    let i = this.times.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the earliest entry and returns its person index. */
  pop(): number {
    const top = this.ids[0]!;
    const lastT = this.times.pop()!;
    const lastId = this.ids.pop()!;
    if (this.times.length > 0) {
      this.times[0] = lastT;
      this.ids[0] = lastId;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.times.length && this.less(l, m)) m = l;
        if (r < this.times.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
