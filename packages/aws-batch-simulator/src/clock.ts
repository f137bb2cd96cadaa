/**
 * Simulated time. The manual clock moves only when told (tests); the real clock
 * follows the wall clock at `speed` simulated ms per real ms, plus any explicit
 * advance.
 */
export class SimClock {
  private readonly startedAtReal = performance.now();
  private offset = 0;

  constructor(
    readonly mode: 'real' | 'manual',
    readonly speed: number,
    private readonly origin: number,
  ) {}

  now(): number {
    const real = this.mode === 'real' ? (performance.now() - this.startedAtReal) * this.speed : 0;
    return Math.floor(this.origin + real + this.offset);
  }

  advance(ms: number): void {
    this.offset += ms;
  }
}
