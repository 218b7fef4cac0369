// Two small disciplines of a log file (log-file.ts): the changes that move its bytes (rotation,
// the total cap's drops) take turns in arrival order, and trouble is reported once per kind.

/** One at a time, first come first served: a waiter is never overtaken by later arrivals. */
export class Turns {
  /** The turn in progress or last queued (settles when it ends), undefined when none is. */
  current?: Promise<void>;
  /** The turn running now. */
  private running?: Promise<void>;

  /** Someone waits for the turn running now to end (a long turn may then end early: rotateIfDue). */
  get contended(): boolean {
    return this.current !== undefined && this.current !== this.running;
  }

  async take<T>(fn: () => Promise<T>): Promise<T> {
    // With a fast writer a rotation is asked for every 100 ms, and a drop of the total cap
    // queued behind them must not wait for the writer to stop (it did when each released turn
    // went to the next rotation: the cap stopped for every program).
    const before = this.current;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.current = mine;
    if (before) await before;
    this.running = mine;
    try {
      return await fn();
    } finally {
      this.running = undefined;
      if (this.current === mine) this.current = undefined;
      done();
    }
  }
}

/** Says a trouble once until it is over (then says that once): a journal event per change, not per retry. */
export class OncePerTrouble {
  private last?: string;

  constructor(private readonly say: (message: string) => void) {}

  report(message: string): void {
    if (message === this.last) return;
    this.last = message;
    this.say(message);
  }

  over(message: string): void {
    if (this.last === undefined) return;
    this.last = undefined;
    this.say(message);
  }
}
