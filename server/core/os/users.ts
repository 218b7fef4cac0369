// Users and groups for a program's `user:` / `uid:` / `gid:`: names resolved through /etc/passwd
// and /etc/group (read at each use, so an account added later is seen), the primary group as
// the default group, and the user's supplementary groups (as initgroups(3) would give them).
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { RunAs } from "../process/types.js";

/** The credentials a run gets, and the account's home for $HOME. */
export interface Credentials {
  uid: number;
  gid: number;
  /** Supplementary groups: gid first, then the groups of /etc/group that list the user (initgroups(3)). */
  groups: number[];
  /** The account name, when /etc/passwd has the uid. */
  name?: string;
  home?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const PASSWD = "/etc/passwd";
const GROUP = "/etc/group";

function readLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch {
    return [];
  }
}

function passwdEntries(): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of readLines(PASSWD)) {
    const fields = line.split(":");
    if (fields.length < 7 || line.startsWith("#")) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (Number.isSafeInteger(uid) && Number.isSafeInteger(gid)) entries.push({ name: fields[0], uid, gid, home: fields[5] });
  }
  return entries;
}

function groupEntries(): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const line of readLines(GROUP)) {
    const fields = line.split(":");
    if (fields.length < 4 || line.startsWith("#")) continue;
    const gid = Number(fields[2]);
    if (Number.isSafeInteger(gid)) entries.push({ name: fields[0], gid, members: fields[3].split(",").filter(Boolean) });
  }
  return entries;
}

const isNumeric = (text: string) => /^\d+$/.test(text);

/** The credentials of runAs, or why they cannot be had (an unknown name, a uid with no group). */
export function resolveCredentials(runAs: RunAs): { credentials: Credentials } | { problem: { field: "user" | "gid"; value: string; rule: string } } {
  const users = passwdEntries();
  const entry = isNumeric(runAs.user) ? users.find((u) => u.uid === Number(runAs.user)) : users.find((u) => u.name === runAs.user);
  if (!entry && !isNumeric(runAs.user)) {
    return { problem: { field: "user", value: runAs.user, rule: `no such user ${JSON.stringify(runAs.user)} in ${PASSWD}` } };
  }
  const uid = entry?.uid ?? Number(runAs.user);
  const groups = groupEntries();
  let gid: number;
  if (runAs.group === undefined) {
    if (!entry) return { problem: { field: "gid", value: "", rule: `uid ${uid} has no entry in ${PASSWD}, so it has no primary group: give gid` } };
    gid = entry.gid;
  } else if (isNumeric(runAs.group)) {
    gid = Number(runAs.group);
  } else {
    const group = groups.find((g) => g.name === runAs.group);
    if (!group) return { problem: { field: "gid", value: runAs.group, rule: `no such group ${JSON.stringify(runAs.group)} in ${GROUP}` } };
    gid = group.gid;
  }
  // initgroups(3): the run's group, and every group that lists the user by name.
  const supplementary = new Set<number>([gid]);
  if (entry) {
    for (const group of groups) if (group.members.includes(entry.name)) supplementary.add(group.gid);
  }
  return {
    credentials: { uid, gid, groups: [...supplementary], ...(entry ? { name: entry.name, home: entry.home } : {}) },
  };
}

/** Where setpriv(1) is (PATH, then the usual places), or undefined: it sets uid, gid and the supplementary groups before exec. */
export function findSetpriv(path = process.env.PATH ?? ""): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), "/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const candidate = join(dir, "setpriv");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * argv that runs command with these credentials: setpriv sets the groups, gid and uid (in that
 * order, so root can still set them) and execs it; the pid stays the same. Node's own uid/gid
 * options are not used because libuv clears the supplementary groups.
 */
export function runAsArgv(setpriv: string, credentials: Credentials, command: string, args: string[]): { command: string; args: string[] } {
  const groups = credentials.groups.length > 0 ? `--groups=${credentials.groups.join(",")}` : "--clear-groups";
  return { command: setpriv, args: [`--reuid=${credentials.uid}`, `--regid=${credentials.gid}`, groups, "--", command, ...args] };
}

/** $HOME, $USER and $LOGNAME of the account (as login(1) sets them); the program's env still wins. */
export function accountEnv(credentials: Credentials): Record<string, string> {
  if (credentials.name === undefined) return {};
  return { USER: credentials.name, LOGNAME: credentials.name, ...(credentials.home ? { HOME: credentials.home } : {}) };
}
