// Tasks across daemon restarts: tasks created with `restore` are saved (definition, last applied
// settings, whether they were running, the child process groups they started) in
// <home>/state/tasks.json, and a new daemon re-creates them and starts the ones that were running.
// A TS task cannot outlive the daemon (its run() lived in the daemon's memory), so it starts over;
// an `exec` task's child cannot be re-adopted either (see stopLeftoverChildren), so it is stopped
// and the task starts a fresh one.
import { join } from "node:path";
import type { EventJournal } from "../process/journal.js";
import { currentBootId, isRecord, readDocument, writeFileAtomic } from "../store/state-store.js";
import { ownsGroup, stopProcessGroup } from "../os/group-stop.js";
import { groupMembers } from "../os/proc.js";
import type { TaskRunner } from "./runner.js";
import type { Task, TaskChild } from "./task.js";
import type { JsonValue } from "./types.js";

/** A leftover child group gets this long after SIGTERM before SIGKILL. */
const LEFTOVER_STOP_TIMEOUT_MS = 3_000;

export interface SavedTask {
  name: string;
  type: string;
  args: JsonValue;
  /** The last applied settings (pending ones were never taken by the task, so they are not kept). */
  settings: JsonValue;
  /** Running (and not asked to stop) when saved: the next daemon starts it. */
  running: boolean;
  /** Child groups of the running task (exec): stopped by the next daemon if still alive. */
  children: TaskChild[];
}

export interface SavedTasks {
  version: 1;
  savedAt: string;
  bootId: string;
  tasks: SavedTask[];
}

function validTask(value: unknown): value is SavedTask {
  return (
    isRecord(value) &&
    typeof value.name === "string" &&
    typeof value.type === "string" &&
    "args" in value &&
    "settings" in value &&
    typeof value.running === "boolean" &&
    Array.isArray(value.children) &&
    value.children.every((c) => isRecord(c) && Number.isSafeInteger(c.pid) && (c.pid as number) > 0 && Number.isSafeInteger(c.startTicks))
  );
}

export function parseSavedTasks(text: string): SavedTasks {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc) || doc.version !== 1 || typeof doc.bootId !== "string" || !Array.isArray(doc.tasks)) {
    throw new Error("not a corral tasks document (version 1)");
  }
  doc.tasks.forEach((task, i) => {
    if (!validTask(task)) throw new Error(`malformed task record #${i}`);
  });
  return doc as unknown as SavedTasks;
}

export class TaskPersistence {
  readonly path: string;
  private saveScheduled = false;
  private frozen = false;
  private readonly bootId = currentBootId();
  /** Saved tasks this daemon could not re-create: kept in the file for a daemon that can. */
  private readonly kept: SavedTask[] = [];

  constructor(
    stateDir: string,
    private readonly runner: TaskRunner,
    private readonly journal: EventJournal,
  ) {
    this.path = join(stateDir, "tasks.json");
  }

  /**
   * Re-creates the saved tasks (call once, before clients can act), stops leftover children of
   * the previous daemon's tasks, starts the tasks that were running, and from then on keeps the
   * file current.
   */
  restore(): void {
    const saved = this.load();
    if (saved) {
      const sameBoot = saved.bootId !== "" && saved.bootId === this.bootId;
      for (const task of saved.tasks) {
        if (sameBoot) this.stopLeftoverChildren(task);
        this.restoreOne(task);
      }
    }
    this.runner.onTaskChange = (_task, urgent) => (urgent ? this.saveNow() : this.saveSoon());
    this.saveSoon();
  }

  private restoreOne(saved: SavedTask): void {
    try {
      this.runner.create(saved.name, saved.type, saved.args, saved.settings, { restore: true, restored: true });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      // A module left out of the config by mistake must not cost the task: keep its record
      // (a task created under its name replaces it).
      this.kept.push({ ...saved, children: [] });
      this.journal.append("", 0, {
        kind: "server",
        message: `task "${saved.name}" (type ${saved.type}) saved with restore could not be re-created: ${why}; its record is kept for a later daemon`,
      });
      return;
    }
    let started = false;
    let why = "it was not running";
    if (saved.running) {
      try {
        this.runner.start(saved.name);
        started = true;
      } catch (error) {
        why = `starting it failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    const message = started
      ? `task "${saved.name}" re-created with its last applied settings and started again (it was running; a task's run() starts over after a daemon restart)`
      : `task "${saved.name}" re-created with its last applied settings, not started (${why})`;
    this.journal.append("", 0, { kind: "taskRestored", task: saved.name, type: saved.type, started, message });
  }

  /**
   * An exec task's child talked to the dead daemon over pipes only that daemon held: nobody can
   * reconnect to them, so the child cannot be re-adopted honestly (no settings, no stop, no
   * status would reach it). Left alone it would be an orphan; stop its group (pid + start ticks
   * checked, so a reused pid is never signalled).
   */
  private stopLeftoverChildren(task: SavedTask): void {
    for (const child of task.children) {
      const group = { pgid: child.pid, leaderStartTicks: child.startTicks };
      // The leader may be gone while members of its group live on (os/group-stop.ts says why those are ours).
      if (!ownsGroup(group) || groupMembers(child.pid).length === 0) continue;
      this.journal.append("", 0, {
        kind: "server",
        message: `task "${task.name}": stopping process group ${child.pid} left by the previous daemon (an exec task's child cannot be re-adopted: its stdio pipes died with that daemon)`,
      });
      void stopProcessGroup(group, { signal: "SIGTERM", timeoutMs: LEFTOVER_STOP_TIMEOUT_MS }).then(({ survivors }) => {
        if (survivors.length > 0)
          this.journal.append("", 0, {
            kind: "server",
            message: `task "${task.name}": ${survivors.length} process(es) of group ${child.pid} survived SIGKILL: ${survivors.join(", ")}`,
          });
      });
    }
  }

  private load(): SavedTasks | undefined {
    const read = readDocument(this.path, parseSavedTasks);
    if (read.kind === "unreadable")
      this.journal.append("", 0, { kind: "server", message: `tasks file ${this.path} could not be read (${read.why}); no task restored` });
    // If the move failed, the next save replaces the file.
    if (read.kind === "unusable")
      this.journal.append("", 0, { kind: "server", message: `tasks file ${this.path} is unusable (${read.why}); moved to ${read.aside}; no task restored` });
    return read.kind === "read" ? read.doc : undefined;
  }

  private snapshot(): SavedTasks {
    const entries = this.runner.entries();
    const live = new Set(entries.map((task) => task.name));
    // A task created under a kept record's name replaces that record for good.
    for (let i = this.kept.length - 1; i >= 0; i--) if (live.has(this.kept[i]!.name)) this.kept.splice(i, 1);
    const tasks = [...entries.filter((task) => task.restore).map((task) => savedOf(task)), ...this.kept];
    return { version: 1, savedAt: new Date().toISOString(), bootId: this.bootId, tasks };
  }

  private saveSoon(): void {
    if (this.saveScheduled || this.frozen) return;
    this.saveScheduled = true;
    setImmediate(() => {
      this.saveScheduled = false;
      if (!this.frozen) this.saveNow();
    });
  }

  private saveNow(): void {
    if (this.frozen) return;
    try {
      writeFileAtomic(this.path, JSON.stringify(this.snapshot()));
    } catch (error) {
      process.emitWarning(`corral: saving tasks to ${this.path} failed: ${(error as Error).message}`);
    }
  }

  /**
   * Shutdown begins: save once more and stop saving, so the stops the daemon sends its tasks
   * now do not count as the user's: the next daemon starts again what was running.
   */
  freeze(): void {
    this.saveNow();
    this.frozen = true;
    this.runner.onTaskChange = undefined;
  }
}

function savedOf(task: Task): SavedTask {
  const snapshot = task.snapshot();
  const running = snapshot.state === "running" && !snapshot.stopRequested;
  return {
    name: task.name,
    type: task.type.name,
    args: task.args,
    settings: snapshot.settings,
    running,
    // A stop was asked but not done yet: its children may still be alive.
    children: snapshot.state === "running" ? task.children : [],
  };
}
