// An example task-type module (list its compiled JS in the config: tasks.modules). It defines
// a plain task and a loop task; ListTaskTypes shows both with their signals and methods.
//   tasks:
//     modules: ["dist/examples/tasks/counter.js"]
import { LoopTask } from "../../server/core/task/loop.js";
import type { JsonValue, TaskContext } from "../../server/core/task/types.js";

/** Counts by settings.step every second until stopped; `corral task call NAME reset` resets it. */
export class ExampleCounter {
  static taskType = "example_counter";
  static description = "counts by settings.step every second";
  static signals = ["tick"];
  static methods = ["reset"];
  static defaultSettings: JsonValue = { step: 1 };
  static validateSettings(value: JsonValue): JsonValue {
    const step = typeof value === "object" && value !== null && !Array.isArray(value) ? value.step : undefined;
    if (typeof step !== "number" || step <= 0) throw Object.assign(new Error("must be a number > 0"), { field: "step" });
    return { step };
  }

  private count = 0;

  async run(ctx: TaskContext): Promise<void> {
    while (!ctx.stopRequested) {
      ctx.updateSettings();
      this.count += (ctx.settings as { step: number }).step;
      ctx.setStatus({ count: this.count });
      ctx.publish("tick", this.count);
      await ctx.sleep(1000); // ends at once on StopTask
    }
  }

  reset(): JsonValue {
    const previous = this.count;
    this.count = 0;
    return { previous };
  }
}

/** A loop task: one "sample" signal per period (args: {period_ms, policy: IMMEDIATE|SKIP|TERMINATE}). */
export class ExampleSampler extends LoopTask {
  static taskType = "example_sampler";
  static description = "publishes a sample every period";
  static signals = ["sample"];
  private samples = 0;

  override loopIteration(): void {
    this.samples++;
  }
  override loopStatus(): JsonValue {
    return { samples: this.samples };
  }
  override loopSignals(ctx: TaskContext): void {
    ctx.publish("sample", { n: this.samples, value: Math.sin(this.samples / 10) });
  }
}
