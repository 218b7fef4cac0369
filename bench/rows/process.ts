// Rows for the fleet of N `sleep` programs: start-all, stop-all (checked in /proc), daemon RSS
// with N running and over start/stop cycles, idle CPU. One interleaved loop measures them all:
// each cycle starts corral's N and the limit's N, reads both RSS, stops both; the last cycle
// also holds both idle for the CPU window. Start-all and stop-all ask for the slim reply
// (PROCESS_VIEW_BASIC), as `corral start/stop` do.
import { ProcessState, ProcessView, StartWait, StopWait } from "../../client/ts/index.js";
import { sleep } from "../../test/helpers/wait.js";
import { sleepProgram, type BenchContext } from "../lib/context.js";
import { alive, perlChildrenRssMb, cpuMs, median, rssMb } from "../lib/proc.js";
import { atMost, informational, ratioAtMost, type BenchRow, type Goal } from "../lib/row.js";

export interface FleetCycles {
  n: number;
  startMs: number[];
  stopMs: number[];
  limitStartMs: number[];
  limitStopMs: number[];
  rssMb: number[];
  /** The daemon's own children (its perl spawner and helper; the runs are the spawner's). */
  helpersRssMb: number[];
  limitRssMb: number[];
  idleCpuPct: number;
  limitIdleCpuPct: number;
  idleSeconds: number;
}

const selector = { matchLabels: { bulk: "yes" } };

/** Cycles of start-all / stop-all of n programs, interleaved with the limit doing the same. */
export function fleetCycles(ctx: BenchContext, n: number, cycles: number): Promise<FleetCycles> {
  return ctx.memo(`fleet-cycles:${n}`, async () => {
    const daemon = await ctx.fleet(n);
    const limit = await ctx.limit();
    const pm = daemon.client.processManager;
    const result: FleetCycles = {
      n,
      startMs: [],
      stopMs: [],
      limitStartMs: [],
      limitStopMs: [],
      rssMb: [],
      helpersRssMb: [],
      limitRssMb: [],
      idleCpuPct: 0,
      limitIdleCpuPct: 0,
      idleSeconds: ctx.pick(60, 10),
    };
    for (let cycle = 0; cycle < cycles; cycle++) {
      ctx.progress(`${n} programs: start/stop cycle ${cycle + 1}/${cycles}`);
      const t0 = performance.now();
      const started = await pm.startAll({ selector, wait: StartWait.RUNNING, timeout: { seconds: 300n }, view: ProcessView.BASIC });
      result.startMs.push(performance.now() - t0);
      const running = started.results.filter((r) => r.ok && r.process?.state === ProcessState.RUNNING);
      if (running.length !== n) throw new Error(`only ${running.length}/${n} RUNNING after StartAll`);
      const pids = running.map((r) => r.process!.run!.pid);

      result.limitStartMs.push((await limit.spawn(n)).ms);
      // Both hold n children now; what start-up allocated has had a moment to be collected.
      await sleep(500);
      result.rssMb.push(rssMb(daemon.pid));
      result.helpersRssMb.push(perlChildrenRssMb(daemon.pid));
      result.limitRssMb.push(rssMb(limit.pid));

      if (cycle === cycles - 1) {
        ctx.progress(`${n} programs: idle CPU over ${result.idleSeconds} s`);
        await sleep(2000);
        const c0 = cpuMs(daemon.pid);
        const l0 = cpuMs(limit.pid);
        const w0 = performance.now();
        await sleep(result.idleSeconds * 1000);
        const wall = performance.now() - w0;
        result.idleCpuPct = ((cpuMs(daemon.pid) - c0) / wall) * 100;
        result.limitIdleCpuPct = ((cpuMs(limit.pid) - l0) / wall) * 100;
      }

      const t1 = performance.now();
      await pm.stopAll({ selector, wait: StopWait.STOPPED, view: ProcessView.BASIC });
      while (pids.some(alive)) await sleep(2);
      result.stopMs.push(performance.now() - t1);
      result.limitStopMs.push((await limit.kill()).ms);
    }
    return result;
  });
}

const spread = (values: number[], digits = 0) => values.map((v) => v.toFixed(digits)).join(", ");

/** The process rows for n programs (the rows at 500; the scale table's at 2000). */
export function processRows(n: number, options: { scale?: boolean; goals?: boolean } = {}): BenchRow[] {
  const goals = options.goals ?? true;
  const goal = (g: Goal) => (goals ? g : informational);
  const cycles = (ctx: BenchContext) => fleetCycles(ctx, n, options.scale ? ctx.pick(3, 1) : ctx.pick(5, 2));
  const perProgram = (ms: number) => `${((ms / n) * 1000).toFixed(0)} µs/program`;
  return [
    {
      name: `start-all ${n} sleep → all RUNNING`,
      baseline: "bare node spawns them",
      goal: goal(ratioAtMost(1.2)),
      scale: options.scale,
      async measure(ctx) {
        const c = await cycles(ctx);
        return {
          corral: median(c.startMs),
          baseline: median(c.limitStartMs),
          unit: "ms",
          detail: `median of ${c.startMs.length}: [${spread(c.startMs)}] vs [${spread(c.limitStartMs)}]; ${perProgram(median(c.startMs))}`,
        };
      },
    },
    {
      name: `stop-all ${n} → all gone (/proc checked)`,
      baseline: "bare node kills them",
      goal: goal(atMost(200, "ms")),
      scale: options.scale,
      async measure(ctx) {
        const c = await cycles(ctx);
        return {
          corral: median(c.stopMs),
          baseline: median(c.limitStopMs),
          unit: "ms",
          detail: `median of ${c.stopMs.length}: [${spread(c.stopMs)}] vs [${spread(c.limitStopMs)}]; ${perProgram(median(c.stopMs))}`,
        };
      },
    },
    {
      name: `daemon RSS, ${n} running`,
      baseline: `bare node holding ${n} children`,
      goal: goal(atMost(70, "MB")),
      scale: options.scale,
      async measure(ctx) {
        const c = await cycles(ctx);
        const last = c.rssMb[c.rssMb.length - 1]!;
        return {
          corral: last,
          baseline: c.limitRssMb[c.limitRssMb.length - 1],
          unit: "MB",
          detail:
            `after cycle ${c.rssMb.length}; per cycle [${spread(c.rssMb, 1)}]; ${(((last - c.limitRssMb[0]!) * 1024) / n).toFixed(1)} KiB/program above the limit; ` +
            `the daemon's perl children (spawner, fallocate helper) ${c.helpersRssMb[c.helpersRssMb.length - 1]!.toFixed(1)} MB more`,
        };
      },
    },
    ...(options.scale
      ? []
      : [
          {
            // Work per event that grows with N (every program's snapshot per event, as metrics'
            // event counts once did) makes this row N times the one above.
            name: `stop-all ${n} with metrics on`,
            baseline: "stop-all with metrics off (row above)",
            goal: goal(ratioAtMost(1.2)),
            async measure(ctx: BenchContext) {
              const off = await cycles(ctx);
              const programs = Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, sleepProgram()]));
              const daemon = await ctx.daemon(`fleet-metrics:${n}`, programs, { metrics: { listen: "127.0.0.1:0" } });
              const pm = daemon.client.processManager;
              const stopMs: number[] = [];
              for (let cycle = 0; cycle < ctx.pick(3, 1); cycle++) {
                ctx.progress(`${n} programs, metrics on: start/stop cycle ${cycle + 1}`);
                const started = await pm.startAll({ selector, wait: StartWait.RUNNING, timeout: { seconds: 300n }, view: ProcessView.BASIC });
                const pids = started.results.map((r) => r.process?.run?.pid ?? 0).filter((pid) => pid > 0);
                await sleep(1500);
                const t0 = performance.now();
                await pm.stopAll({ selector, wait: StopWait.STOPPED, view: ProcessView.BASIC });
                while (pids.some(alive)) await sleep(2);
                stopMs.push(performance.now() - t0);
              }
              return {
                corral: median(stopMs),
                baseline: median(off.stopMs),
                unit: "ms" as const,
                detail: `median of ${stopMs.length}: [${spread(stopMs)}]; metrics listening on loopback, not scraped`,
              };
            },
          },
          {
            name: `daemon RSS growth over start/stop cycles, ${n} running`,
            baseline: "first cycle",
            goal: goal({ text: "≤ 1.1× first cycle", pass: (m) => m.baseline !== undefined && m.corral <= 1.1 * m.baseline }),
            async measure(ctx: BenchContext) {
              const c = await cycles(ctx);
              return {
                corral: c.rssMb[c.rssMb.length - 1]!,
                baseline: c.rssMb[0],
                unit: "MB" as const,
                detail: `${c.rssMb.length} cycles: [${spread(c.rssMb, 1)}]`,
              };
            },
          },
        ]),
    {
      name: `daemon idle CPU, ${n} running`,
      baseline: `bare node holding ${n} children`,
      goal: goal(atMost(0.05, "%")),
      scale: options.scale,
      async measure(ctx) {
        const c = await cycles(ctx);
        return { corral: c.idleCpuPct, baseline: c.limitIdleCpuPct, unit: "%", detail: `over ${c.idleSeconds} s, all threads (schedstat)` };
      },
    },
  ];
}
