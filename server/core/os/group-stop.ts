// The one two-stage stop of a process group, used by programs, adopted runs, exec tasks, task
// children left by a previous daemon and monitored runs: stop signal to the group, wait, SIGKILL,
// confirm that no live member is left, and say who survived.
import type { RunCgroup } from "./cgroup.js";
import { findByEnvironmentSoon } from "./environ.js";
import { groupExists, isSameProcess, liveMembersOfGroups, readStat } from "./proc.js";

/*
 * Why signalling -pgid never reaches a process that is not ours (the pid-reuse argument, written
 * once, here):
 * 1. Every run is spawned detached: setsid() makes it the leader of a new session and process
 *    group whose id is the leader's pid. A session leader cannot leave its group.
 * 2. Linux does not hand out a pid number while a process, a process group or a session still
 *    uses it. So while any member of our group is left (a zombie too), no new process can get
 *    that number and no other group can have that id.
 * 3. If a process with that pid exists now, it is our leader only if its start time
 *    (/proc/PID/stat field 22) equals the one recorded at spawn; any other start time means
 *    our group is gone and the number was reused: nothing is signalled (ownsGroup).
 *    If no process has that pid, our leader is gone: whatever is left in the group is ours
 *    (by 2), and an empty group makes kill(-pgid) fail with ESRCH, which is no error.
 * 4. A leader that is a child of this daemon and has not been reaped yet (no 'exit' event: Node
 *    emits it in the same callback that reaps it) still holds its pid, alive or a zombie, so the
 *    group is ours without reading its start time (a stop-all of 500 read 500 stat files for it).
 *    A run of the spawner's (os/spawner.ts) is reaped by the spawner, which then tells the
 *    daemon: between the two (a pipe write and its read) the number is free while the daemon
 *    still sees the leader unreaped. Pids are handed out in increasing order, so the number
 *    comes round again only after pid_max others: the window below, not a new one.
 * The window between the check and the kill (the last member exits, the number wraps around and
 * a new process makes itself leader of a group with it, all within microseconds) is accepted.
 * Processes that left the group (setsid, a double fork) are reached through the run's cgroup,
 * whose members are ours by construction, or without one through the marker every process of the
 * run inherited in its environment; each such pid is signalled only while its start time is the
 * one read when it was found.
 */

/** A run's process group, identified by its leader's pid and start time. */
export interface ProcessGroupRef {
  /** The group id: the pid of its leader (see 1 above). */
  pgid: number;
  /** The leader's start time in clock ticks after boot, as read at spawn. */
  leaderStartTicks: number;
  /**
   * Whether the leader has exited. For a child of this daemon: its 'exit' event (Node reaps it
   * then). Unset for a process that is not our child (adopted, or left by a previous daemon):
   * then the leader is one of the group's members like any other.
   */
  leaderExited?: () => boolean;
  /** Settles when the leader exits: wakes the wait at once instead of at the next poll. */
  leaderExit?: PromiseLike<unknown>;
  /**
   * Sends a signal to the group for us, or says false (then process.kill does): the spawner
   * that forked the leader (os/spawner.ts signalGroup), so that the targets' exits run on its
   * core while this one goes on with the other stops.
   */
  sendToGroup?: (signal: NodeJS.Signals) => boolean;
  /** The run's cgroup where the host offers them: its members are the run's, in whatever group or session. */
  cgroup?: RunCgroup;
  /**
   * Without a cgroup: environment pairs every process of the run inherited (CORRAL_RUN_ID and the
   * daemon home). Processes carrying them outside the group are stopped with it.
   */
  marker?: Record<string, string>;
}

export interface StopGroupOptions {
  /** The first signal (the program's stop_signal, SIGINT for monitored runs). */
  signal: NodeJS.Signals;
  /** How long the group gets to empty after the first signal before SIGKILL. */
  timeoutMs: number;
  /** How long SIGKILL gets before the members still there are reported as survivors. */
  killWaitMs?: number;
}

export interface GroupStopResult {
  /** Live pids still in the group after SIGKILL and killWaitMs (expected empty). */
  survivors: number[];
  /** Whether SIGKILL was sent: something outlived the first signal by timeoutMs. */
  killed: boolean;
}

/** How long SIGKILL gets before survivors are counted, unless the caller says otherwise. */
export const KILL_WAIT_MS = 2_000;
/** Poll steps while a stop waits (only then): quick at first, since most groups empty at once. */
const POLL_STEPS_MS = [5, 10, 20, 40, 80, 100] as const;

/** Whether signalling -pgid reaches our processes (see 3 above). */
export function ownsGroup(group: ProcessGroupRef): boolean {
  if (group.pgid <= 0) return false;
  if (group.leaderExited !== undefined && !group.leaderExited()) return true; // see 4 above
  const leader = readStat(group.pgid);
  return leader === undefined || leader.startTicks === group.leaderStartTicks;
}

/** Sends signal to the group if it is still ours (owned: ownsGroup, when the caller just asked); a group already gone is no error. */
export function signalOwnGroup(group: ProcessGroupRef, signal: NodeJS.Signals, owned = ownsGroup(group)): void {
  if (!owned || group.sendToGroup?.(signal)) return;
  try {
    process.kill(-group.pgid, signal);
  } catch {
    // ESRCH: the group emptied meanwhile
  }
}

/**
 * Live (non-zombie) members of the group, or [] when it is not ours any more. Zombies never
 * count: they run nothing and hold nothing, and killed grandchildren are reparented to init (or
 * a subreaper), which on some hosts (a container's PID 1) reaps them only every second or so.
 * The cheap kill(-pgid, 0) goes first: a group that is gone has no members, whoever owns its
 * number (and the ownership check would read /proc/PGID/stat of a reaped leader: a failed open
 * and a thrown error per stopped run); /proc is read only when the group still exists and is
 * ours, in one pass shared by every stop that asks in the same turn of the event loop.
 */
export async function liveGroupMembers(group: ProcessGroupRef): Promise<number[]> {
  if (group.pgid <= 0 || !groupExists(group.pgid) || !ownsGroup(group)) return [];
  return scanGroups(group.pgid);
}

/** Processes of the run outside its group, by pid and start time. */
type Escapees = Map<number, number>;

/**
 * The two-stage stop: `signal` to the group (and to the run's other processes: its cgroup's
 * members, or those carrying its marker), up to timeoutMs for the leader to exit and every live
 * process of the run to go, then SIGKILL (cgroup.kill) and up to killWaitMs more; what is still
 * alive then is returned as survivors. Resolves as soon as everything is gone. With a marker, a
 * last look catches processes forked during the stop; they get SIGKILL at once.
 */
export async function stopProcessGroup(group: ProcessGroupRef, options: StopGroupOptions): Promise<GroupStopResult> {
  const killWaitMs = options.killWaitMs ?? KILL_WAIT_MS;
  // The group and the cgroup get the stop signal before anything is awaited: once this function
  // has returned its promise the signal is out (a daemon killed right after still stopped the run).
  sendToRun(group, options.signal);
  const escapees = await findEscapees(group);
  sendToEscapees(escapees, options.signal);
  let killed = false;
  let empty = await waitRunEmpty(group, escapees, performance.now() + options.timeoutMs);
  if (!empty) {
    killed = true;
    sendAll(group, escapees, "SIGKILL");
    empty = await waitRunEmpty(group, escapees, performance.now() + killWaitMs);
  }
  const late = await findEscapees(group);
  if (late.size > 0) {
    killed = true;
    sendAll(group, late, "SIGKILL");
    for (const [pid, ticks] of late) escapees.set(pid, ticks);
    empty = await waitRunEmpty(group, escapees, performance.now() + killWaitMs);
  }
  // Just seen empty (group, cgroup and escapees), with no late escapee: no process of the run is
  // left to have forked one since, so there is nothing to count again (a stop-all of 500 read
  // /proc and each cgroup once more for this).
  if (empty) return { survivors: [], killed };
  const survivors = new Set([...(await liveGroupMembers(group)), ...(group.cgroup?.procs() ?? []), ...liveEscapees(escapees)]);
  return { survivors: [...survivors].sort((a, b) => a - b), killed };
}

/** Live processes carrying the run's marker (none without a marker or with a cgroup, which holds them all). */
async function findEscapees(group: ProcessGroupRef): Promise<Escapees> {
  const escapees: Escapees = new Map();
  if (!group.marker || group.cgroup) return escapees;
  for (const pid of await findByEnvironmentSoon(group.marker)) {
    const stat = readStat(pid);
    if (stat && stat.state !== "Z" && stat.pgrp !== group.pgid) escapees.set(pid, stat.startTicks);
  }
  return escapees;
}

function liveEscapees(escapees: Escapees): number[] {
  return [...escapees].filter(([pid, ticks]) => isSameProcess(pid, ticks)).map(([pid]) => pid);
}

function sendAll(group: ProcessGroupRef, escapees: Escapees, signal: NodeJS.Signals): void {
  sendToRun(group, signal);
  sendToEscapees(escapees, signal);
}

/**
 * The signal to the run's process group and to its cgroup's members outside the group (once
 * each: a program that traps the stop signal must see it once, not once per route).
 */
function sendToRun(group: ProcessGroupRef, signal: NodeJS.Signals): void {
  const owned = ownsGroup(group);
  signalOwnGroup(group, signal, owned);
  if (signal === "SIGKILL") {
    group.cgroup?.kill();
    return;
  }
  for (const pid of group.cgroup?.procs() ?? []) {
    // The leader is in its group for good (see 1 above): no /proc read to learn it.
    if (owned && (pid === group.pgid || readStat(pid)?.pgrp === group.pgid)) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}

/** The signal to the run's processes that left its group (found by their environment marker). */
function sendToEscapees(escapees: Escapees, signal: NodeJS.Signals): void {
  for (const pid of liveEscapees(escapees)) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}

/** Polls (growing steps, woken by the leader's exit) until the group is empty or the deadline passes. */
export function waitGroupEmpty(group: ProcessGroupRef, deadline: number): Promise<boolean> {
  return waitRunEmpty(group, new Map(), deadline);
}

async function waitRunEmpty(group: ProcessGroupRef, escapees: Escapees, deadline: number): Promise<boolean> {
  for (let i = 0; ; i++) {
    const leaderGone = group.leaderExited?.() ?? true;
    const empty = leaderGone && (await liveGroupMembers(group)).length === 0 && (group.cgroup?.procs().length ?? 0) === 0;
    if (empty && liveEscapees(escapees).length === 0) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await pause(Math.min(POLL_STEPS_MS[Math.min(i, POLL_STEPS_MS.length - 1)], left), leaderGone ? undefined : group.leaderExit);
  }
}

/** Waits ms, or less if wake settles first; leaves no timer behind. */
function pause(ms: number, wake: PromiseLike<unknown> | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake?.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => undefined,
    );
  });
}

let pendingScan: { pgids: Set<number>; members: Promise<Map<number, number[]>> } | undefined;

/** Live members of pgid, read in one /proc pass with every other group asked for in this turn. */
function scanGroups(pgid: number): Promise<number[]> {
  if (!pendingScan) {
    const pgids = new Set<number>();
    const members = new Promise<Map<number, number[]>>((resolve) => {
      setImmediate(() => {
        pendingScan = undefined;
        resolve(liveMembersOfGroups(pgids));
      });
    });
    pendingScan = { pgids, members };
  }
  pendingScan.pgids.add(pgid);
  return pendingScan.members.then((byGroup) => byGroup.get(pgid) ?? []);
}
