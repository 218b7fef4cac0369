// A task's settings, "latest wins": the applied value and at most one pending value, which the
// task applies when it chooses (ctx.updateSettings), or sets itself (ctx.changeSettings); each
// applied value is published as settings_updated, and listeners hear of each pending one.
import type { JsonValue } from "./types.js";

export class TaskSettings {
  private applied: JsonValue;
  private pendingValue: { value: JsonValue } | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly task: string,
    initial: JsonValue,
    /** Publishes settings_updated with the value applied. */
    private readonly published: (applied: JsonValue) => void,
  ) {
    this.applied = initial;
  }

  get current(): JsonValue {
    return this.applied;
  }

  get hasPending(): boolean {
    return this.pendingValue !== undefined;
  }

  get pending(): JsonValue | undefined {
    return this.pendingValue?.value;
  }

  /** The value the next change starts from: the pending one, else the applied one. */
  get latest(): JsonValue {
    return this.pendingValue !== undefined ? this.pendingValue.value : this.applied;
  }

  /** Stores the pending settings (latest wins) and tells the listeners; the value is validated already. */
  setPending(value: JsonValue): void {
    this.pendingValue = { value };
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        console.error(`corral: task "${this.task}": pending-settings listener failed:`, error);
      }
    }
  }

  /** Applies the pending settings; returns whether there were any. */
  applyPending(): boolean {
    if (this.pendingValue === undefined) return false;
    this.applied = this.pendingValue.value;
    this.pendingValue = undefined;
    this.published(this.applied);
    return true;
  }

  /** Applies a value already taken by the task elsewhere (a worker), clearing it if it is still the pending one. */
  applyTaken(value: JsonValue): void {
    this.applied = value;
    if (this.pendingValue !== undefined && JSON.stringify(this.pendingValue.value) === JSON.stringify(value)) this.pendingValue = undefined;
    this.published(this.applied);
  }

  onPending(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
