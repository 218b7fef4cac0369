// Prometheus metrics whose series are computed when scraped, from that scrape's snapshot: no
// polling loop, and a series disappears with what it describes (a removed program, a finished run).
import { Counter, Gauge } from "prom-client";

export type Values = { labels: Record<string, string | number>; value: number }[];

/** A gauge whose series are computed at scrape time from that scrape's snapshot. */
export class ScrapedGauge extends Gauge<string> {
  constructor(
    name: string,
    help: string,
    private readonly compute: () => Values,
  ) {
    super({ name, help, registers: [] });
  }

  override async get(): ReturnType<Gauge<string>["get"]> {
    return { ...(await super.get()), values: this.compute() };
  }
}

/** Like ScrapedGauge, for values that only grow (CPU seconds of a run, signals published). */
export class ScrapedCounter extends Counter<string> {
  constructor(
    name: string,
    help: string,
    private readonly compute: () => Values,
  ) {
    super({ name, help, registers: [] });
  }

  override async get(): ReturnType<Counter<string>["get"]> {
    return { ...(await super.get()), values: this.compute() };
  }
}
