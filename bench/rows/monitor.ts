// Rows for the monitor: one WatchStats tick over 1000 pids (the daemon's CPU per tick, all its
// threads) against one plain /proc pass over the same pids in a bare node process, and the
// daemon's open fds while it samples (pidusage-style samplers keep one fd per pid).
import type { BenchContext } from "../lib/context.js";
import { cpuMs, fdCount, median } from "../lib/proc.js";
import { atMost, type BenchRow } from "../lib/row.js";

interface StatsTicks {
  perTickCpuMs: number[];
  limitCpuMs: number[];
  fdsBefore: number;
  fdsMax: number;
}

function statsTicks(ctx: BenchContext, pids: number): Promise<StatsTicks> {
  return ctx.memo(`stats:${pids}`, async () => {
    const daemon = await ctx.fleet(1);
    const limit = await ctx.limit();
    const spawned = await limit.spawn(pids);
    try {
      const targets = spawned.pids!.map((pid) => ({ target: { case: "pid" as const, value: pid } }));
      const ticks = ctx.pick(15, 6);
      ctx.progress(`WatchStats of ${pids} pids: ${ticks} ticks`);
      const abort = new AbortController();
      const fdsBefore = fdCount(daemon.pid);
      let fdsMax = fdsBefore;
      const perTickCpuMs: number[] = [];
      const limitCpuMs: number[] = [];
      let last: number | undefined;
      let seen = 0;
      try {
        for await (const tick of daemon.client.processMonitor.watchStats({ targets, interval: { seconds: 1n } }, { signal: abort.signal })) {
          if (tick.samples.length !== pids || tick.samples.some((s) => s.error)) throw new Error("a stats sample failed");
          // Between ticks the daemon is idle: its CPU from one tick to the next is one tick's work.
          const now = cpuMs(daemon.pid);
          if (last !== undefined) perTickCpuMs.push(now - last);
          fdsMax = Math.max(fdsMax, fdCount(daemon.pid));
          // The limit's pass runs while the daemon waits for its next tick.
          limitCpuMs.push((await limit.procPass(spawned.pids!)).cpuMs!);
          last = cpuMs(daemon.pid);
          if (++seen > ticks) break;
        }
      } finally {
        abort.abort();
      }
      return { perTickCpuMs, limitCpuMs, fdsBefore, fdsMax };
    } finally {
      await limit.kill();
    }
  });
}

export const statsRows = (pids: number): BenchRow[] => [
  {
    name: `stats of ${pids} pids, daemon CPU per 1 s tick`,
    baseline: "plain /proc pass (stat, status, fd dir)",
    goal: atMost(15, "ms"),
    async measure(ctx) {
      const t = await statsTicks(ctx, pids);
      return {
        corral: median(t.perTickCpuMs),
        baseline: median(t.limitCpuMs),
        unit: "ms",
        detail: `median of ${t.perTickCpuMs.length} ticks (max ${Math.max(...t.perTickCpuMs).toFixed(1)} ms), CPU of all daemon threads incl. encoding and GC`,
      };
    },
  },
  {
    name: `daemon open fds while sampling ${pids} pids`,
    baseline: "before sampling",
    goal: { text: "≤ before + 5", pass: (m) => m.baseline !== undefined && m.corral <= m.baseline + 5 },
    async measure(ctx) {
      const t = await statsTicks(ctx, pids);
      return { corral: t.fdsMax, baseline: t.fdsBefore, unit: "fds", detail: "max over the ticks" };
    },
  },
];
