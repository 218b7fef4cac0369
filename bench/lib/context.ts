// What a row's measure function gets: the run's mode (full, --quick, --scale), shared fixtures
// (daemons with N programs, the bare-Node limit worker) made once and stopped at the end, and a
// memo so that rows measured by one interleaved loop (start-all, stop-all, RSS) run it once.
import { startTestDaemon, type TestDaemon, type TestProgram } from "../../test/helpers/daemon.js";
import { LimitWorker } from "./limit.js";

export interface BenchContext {
  /** `--quick`: fewer repetitions and shorter windows (same N, so the goals still apply). */
  readonly quick: boolean;
  /** `--scale`: the scaling table at larger N. */
  readonly scale: boolean;
  /** full when not quick, else quick. */
  pick<T>(full: T, quick: T): T;
  /** Runs fn once per key in this run; later calls get the same promise. */
  memo<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** A daemon whose config has exactly these programs, one per key; made once, stopped at the end. */
  /** config: the config file's other top-level keys (e.g. metrics), beside programs. */
  daemon(key: string, programs: Record<string, TestProgram>, config?: Record<string, unknown>): Promise<TestDaemon>;
  /** A daemon with n `sleep 300` programs p0..p(n-1), labelled bulk=yes, none autostarted. */
  fleet(n: number): Promise<TestDaemon>;
  /** The bare-Node limit process (bench/limit/worker.ts), one per run. */
  limit(): Promise<LimitWorker>;
  /** Runs at the end of the run, last registered first. */
  defer(cleanup: () => Promise<void> | void): void;
  /** A progress line on stderr (the table goes to stdout). */
  progress(message: string): void;
}

export function sleepProgram(labels: Record<string, string> = { bulk: "yes" }): TestProgram {
  return { command: ["sleep", "300"], autostart: false, autorestart: "never", startsecs: 0, stop_timeout: "5s", labels };
}

export function createContext(options: { quick: boolean; scale: boolean }): BenchContext & { close(): Promise<void> } {
  const memos = new Map<string, Promise<unknown>>();
  const cleanups: (() => Promise<void> | void)[] = [];
  const memo = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    let value = memos.get(key) as Promise<T> | undefined;
    if (value === undefined) {
      value = fn();
      memos.set(key, value);
    }
    return value;
  };
  const started = performance.now();
  const context = {
    quick: options.quick,
    scale: options.scale,
    pick: <T>(full: T, quick: T) => (options.quick ? quick : full),
    memo,
    daemon: (key: string, programs: Record<string, TestProgram>, config?: Record<string, unknown>) =>
      memo(`daemon:${key}`, async () => {
        // BENCH_DAEMON_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles every daemon of the run
        // (bench/profile-summary.ts reads the profiles).
        const nodeArgs = process.env.BENCH_DAEMON_NODE_ARGS?.split(" ").filter(Boolean);
        // A daemon of 2000 programs sets up 4000 log files before it answers: more time on a busy host.
        const readyTimeoutMs = 60_000 + Object.keys(programs).length * 60;
        const configYaml = config ? JSON.stringify({ ...config, programs }, null, 2) : undefined;
        const daemon = await startTestDaemon({ programs, configYaml, readyTimeoutMs, nodeArgs });
        cleanups.push(() => daemon.stop().then(() => undefined));
        return daemon;
      }),
    fleet: (n: number) => context.daemon(`fleet:${n}`, Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, sleepProgram()]))),
    limit: () =>
      memo("limit", async () => {
        const worker = await LimitWorker.start();
        cleanups.push(() => worker.close());
        return worker;
      }),
    defer: (cleanup: () => Promise<void> | void) => {
      cleanups.push(cleanup);
    },
    progress: (message: string) => {
      process.stderr.write(`bench [${((performance.now() - started) / 1000).toFixed(0)}s]: ${message}\n`);
    },
    close: async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
  return context;
}
