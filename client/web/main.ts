// The dashboard page: a token form when the daemon asks for one, then four views (#/ programs,
// #/program/NAME, #/tasks, #/fleet) drawn from the live models (live.ts). Buttons and the
// settings editor exist only for roles that may use them; the daemon checks every call anyway.
import { ConnectError } from "@connectrpc/connect";
import { fromJson, toJsonString, type JsonValue } from "@bufbuild/protobuf";
import { timestampMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { LogStream, ProcessState, StartWait, StopWait, type ProcessInfo } from "../../gen/ts/corral/v1/process_manager_pb.js";
import { TaskState } from "../../gen/ts/corral/v1/task_runner_pb.js";
import { apiFor, fetchSession, mayOperate, saveToken, savedToken, type Api, type Session } from "./api.js";
import { formatBytes, formatDuration, h, plot } from "./dom.js";
import { ProgramsModel, STATE_NAMES, StatsModel, TasksModel, type TaskView } from "./live.js";

/** Lines the log view keeps (older ones are dropped from the page, never from the daemon). */
const LOG_LINES = 5_000;
/** Events the program view keeps. */
const EVENT_LINES = 200;

/** States in which a program has a process to sample. */
const LIVE_STATES = new Set([ProcessState.STARTING, ProcessState.RUNNING, ProcessState.STOPPING]);

const SIGNALS = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGKILL", "SIGCONT", "SIGSTOP"];

interface App {
  session: Session;
  api: Api;
  programs: ProgramsModel;
  stats: StatsModel;
  tasks: TasksModel;
  operate: boolean;
}

/** What tests and the bench read: when the first list was drawn, and event-to-page latencies. */
interface Probe {
  readyMs?: number;
  latencies: number[];
  role?: string;
}
const probe: Probe = { latencies: [] };
(window as unknown as { corralDashboard: Probe }).corralDashboard = probe;

const main = document.getElementById("main")!;
const banner = document.getElementById("banner")!;

function showError(message: string | undefined): void {
  banner.textContent = message ?? "";
  banner.hidden = message === undefined;
}

function stateName(state: ProcessState): string {
  return STATE_NAMES[state] ?? String(state);
}

function uptimeOf(process: ProcessInfo): string {
  const live = LIVE_STATES.has(process.state);
  const started = process.run?.startedAt;
  return live && started ? formatDuration(Date.now() - timestampMs(started)) : "";
}

function restartsOf(process: ProcessInfo): string {
  return process.startAttempts > 0 && process.state !== ProcessState.RUNNING ? `${process.restarts} (${process.startAttempts} tries)` : String(process.restarts);
}

/** Runs a button's call; its error goes to the banner (the daemon's own words). */
function act(button: HTMLButtonElement, call: () => Promise<unknown>): void {
  button.disabled = true;
  call()
    .then(() => showError(undefined))
    .catch((error: unknown) => showError(ConnectError.from(error).rawMessage))
    .finally(() => {
      button.disabled = false;
    });
}

function programButtons(app: App, name: string): HTMLElement | undefined {
  if (!app.operate) return undefined;
  const pm = app.api.processManager;
  const button = (action: string, label: string, call: () => Promise<unknown>) => {
    const element = h("button", { "data-action": action, "data-program": name, type: "button" }, label);
    element.addEventListener("click", () => act(element, call));
    return element;
  };
  return h(
    "span",
    { class: "actions" },
    button("start", "Start", () => pm.startProcess({ name, wait: StartWait.NONE })),
    button("stop", "Stop", () => pm.stopProcess({ name, wait: StopWait.NONE })),
    button("restart", "Restart", () => pm.restartProcess({ name, wait: StartWait.NONE })),
  );
}

// ---- #/ : every program ----

function programRow(app: App, process: ProcessInfo, withButtons: boolean, link: boolean): HTMLTableRowElement {
  const state = stateName(process.state);
  const latest = process.remote ? undefined : app.stats.latest(process.name);
  const name = link ? h("a", { href: `#/program/${encodeURIComponent(process.name)}` }, process.name) : process.name;
  return h(
    "tr",
    { "data-program": process.name, "data-state": state },
    h("td", {}, name),
    h("td", { class: `state ${state.toLowerCase()}`, title: process.stateReason }, state),
    h("td", {}, process.ready ? "yes" : ""),
    h("td", { class: "num" }, process.run?.pid && LIVE_STATES.has(process.state) ? String(process.run.pid) : ""),
    h("td", { class: "num uptime" }, uptimeOf(process)),
    h("td", { class: "num", title: "automatic restarts since the last start by a user (failed start attempts in brackets)" }, restartsOf(process)),
    h("td", { class: "num cpu" }, latest?.cpuPercent !== undefined ? `${latest.cpuPercent.toFixed(1)} %` : ""),
    h("td", { class: "num mem" }, latest ? formatBytes(latest.rssBytes) : ""),
    h("td", { class: "reason" }, process.remote ? `on ${process.host}` : process.stateReason),
    withButtons && !process.remote ? h("td", {}, programButtons(app, process.name)) : withButtons ? h("td") : undefined,
  );
}

function programsTable(app: App, model: ProgramsModel, withButtons: boolean, link: boolean): { table: HTMLTableElement; update(name?: string): void } {
  const head = h(
    "tr",
    {},
    ...["Program", "State", "Ready", "PID", "Uptime", "Restarts", "CPU", "Memory", "Why"].map((title) => h("th", {}, title)),
    withButtons ? h("th", {}, "") : undefined,
  );
  const body = h("tbody");
  const table = h("table", { class: "programs" }, h("thead", {}, head), body);
  const rows = new Map<string, HTMLTableRowElement>();
  const update = (name?: string) => {
    if (name === undefined || !rows.has(name)) {
      body.replaceChildren();
      rows.clear();
      for (const program of model.order) {
        const process = model.programs.get(program);
        if (!process) continue;
        const row = programRow(app, process, withButtons, link);
        rows.set(program, row);
        body.append(row);
      }
      return;
    }
    const process = model.programs.get(name);
    if (!process) return;
    const row = programRow(app, process, withButtons, link);
    rows.get(name)!.replaceWith(row);
    rows.set(name, row);
  };
  update();
  return { table, update };
}

function overview(app: App): () => void {
  const { table, update } = programsTable(app, app.programs, app.operate, true);
  main.replaceChildren(h("h2", {}, `Programs on ${app.session.host}`), table);
  const off = [app.programs.onChange(update), app.stats.onChange(() => update())];
  const timer = setInterval(() => {
    // Uptimes count up locally between events (no call).
    for (const cell of table.querySelectorAll<HTMLTableCellElement>("td.uptime")) {
      const name = cell.parentElement?.getAttribute("data-program");
      const process = name ? app.programs.programs.get(name) : undefined;
      if (process) cell.textContent = uptimeOf(process);
    }
  }, 1000);
  return () => {
    for (const unsubscribe of off) unsubscribe();
    clearInterval(timer);
  };
}

// ---- #/program/NAME ----

function programPage(app: App, name: string): () => void {
  const controller = new AbortController();
  const header = h("div", { class: "program-head" });
  const plots = h("div", { class: "plots" });
  const events = h("ol", { class: "events" });
  const search = h("input", { type: "search", placeholder: "search the log", "aria-label": "search the log", id: "log-search" });
  const matches = h("span", { class: "matches" });
  const log = h("div", { class: "log", id: "log" });
  main.replaceChildren(
    h("p", {}, h("a", { href: "#/" }, "← all programs")),
    header,
    h("h3", {}, "CPU and memory (last minutes)"),
    plots,
    h("h3", {}, "Log (stdout and stderr, live)"),
    h("div", { class: "log-tools" }, search, matches),
    log,
    h("h3", {}, "Recent events"),
    events,
  );

  const drawHeader = () => {
    const process = app.programs.programs.get(name);
    if (!process) {
      header.replaceChildren(h("h2", {}, name), h("p", {}, app.programs.loaded ? "no such program" : "loading…"));
      return;
    }
    const state = stateName(process.state);
    const signal = h("select", { "aria-label": "signal" }, ...SIGNALS.map((s) => h("option", { value: s }, s)));
    const send = h("button", { type: "button", "data-action": "signal", "data-program": name }, "Send signal");
    send.addEventListener("click", () => act(send, () => app.api.processManager.signalProcess({ name, signal: signal.value, group: true })));
    const actions = app.operate && !process.remote ? h("div", { class: "actions" }, programButtons(app, name), signal, send) : "";
    header.replaceChildren(
      h("h2", { "data-program": name, "data-state": state }, `${name} `, h("span", { class: `state ${state.toLowerCase()}` }, state)),
      h(
        "p",
        {},
        process.stateReason,
        process.ready ? " · ready" : "",
        process.run?.pid && LIVE_STATES.has(process.state) && !process.stateReason.includes(`pid ${process.run.pid}`) ? ` · pid ${process.run.pid}` : "",
        ` · restarts ${restartsOf(process)}`,
        uptimeOf(process) ? ` · up ${uptimeOf(process)}` : "",
      ),
      h("p", { class: "command" }, (process.spec?.command ?? []).join(" ")),
      actions,
    );
  };
  const drawPlots = () => {
    const points = app.stats.history.get(name) ?? [];
    plots.replaceChildren(
      h("figure", {}, plot(points, (p) => p.cpuPercent, (top) => `${top.toFixed(1)} % CPU`), h("figcaption", {}, "CPU (% of one core)")),
      h("figure", {}, plot(points, (p) => p.rssBytes, (top) => formatBytes(top)), h("figcaption", {}, "Memory (RSS, whole tree)")),
    );
  };
  drawHeader();
  drawPlots();

  // The log: both streams from the last 200 lines on, split into lines per stream.
  const applyFilter = (line: HTMLElement, query: string) => {
    line.hidden = query !== "" && !(line.textContent ?? "").toLowerCase().includes(query);
  };
  const countMatches = () => {
    const query = search.value.trim();
    matches.textContent = query === "" ? "" : `${log.querySelectorAll(".line:not([hidden])").length} matching lines`;
  };
  search.addEventListener("input", () => {
    const query = search.value.trim().toLowerCase();
    for (const line of log.querySelectorAll<HTMLElement>(".line")) applyFilter(line, query);
    countMatches();
  });
  const decoders = new Map<LogStream, { decoder: TextDecoder; pending: string }>();
  void (async () => {
    try {
      for await (const { chunk } of app.api.processManager.followLogs({ name, tailLines: 200 }, { signal: controller.signal })) {
        if (!chunk) continue;
        let state = decoders.get(chunk.stream);
        if (!state) decoders.set(chunk.stream, (state = { decoder: new TextDecoder(), pending: "" }));
        const text = state.pending + state.decoder.decode(chunk.data, { stream: true });
        const lines = text.split("\n");
        state.pending = lines.pop() ?? "";
        const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        const query = search.value.trim().toLowerCase();
        const kind = chunk.stream === LogStream.STDERR ? "stderr" : "stdout";
        if (chunk.gaps.length > 0) log.append(h("div", { class: "line gap" }, "… older output no longer kept …"));
        for (const line of lines) {
          const element = h("div", { class: `line ${kind}` }, line);
          applyFilter(element, query);
          log.append(element);
        }
        while (log.childElementCount > LOG_LINES) log.firstElementChild?.remove();
        if (atBottom) log.scrollTop = log.scrollHeight;
        if (query !== "") countMatches();
      }
    } catch (error) {
      if (!controller.signal.aborted) log.append(h("div", { class: "line gap" }, `log stream ended: ${ConnectError.from(error).rawMessage}`));
    }
  })();

  // Its events: what the journal still holds of this program, then live.
  void (async () => {
    try {
      for await (const item of app.api.processManager.watchEvents({ programs: [name] }, { signal: controller.signal })) {
        if (item.kind.case !== "event") continue;
        const event = item.kind.value;
        const detail = event.detail;
        const text =
          detail.case === "stateChanged"
            ? `${stateName(detail.value.from)} → ${stateName(detail.value.to)} ${detail.value.reason}`
            : detail.case === "processExited"
              ? `exited: ${detail.value.reason}`
              : detail.case === "processStarted"
                ? `started, pid ${detail.value.pid}`
                : detail.case === "spawnFailed"
                  ? `spawn failed: ${detail.value.message}`
                  : detail.case === "probeChanged"
                    ? `${detail.value.probe} probe ${detail.value.ok ? "passing" : "failing"}: ${detail.value.message}`
                    : (detail.case ?? "event");
        const time = event.time ? new Date(timestampMs(event.time)).toLocaleTimeString() : "";
        events.prepend(h("li", {}, h("time", {}, time), ` #${event.seq} ${text}`));
        while (events.childElementCount > EVENT_LINES) events.lastElementChild?.remove();
      }
    } catch (error) {
      if (!controller.signal.aborted) events.prepend(h("li", {}, `event stream ended: ${ConnectError.from(error).rawMessage}`));
    }
  })();

  const off = [app.programs.onChange((changed) => (changed === undefined || changed === name) && drawHeader()), app.stats.onChange(drawPlots)];
  const timer = setInterval(drawHeader, 1000);
  return () => {
    controller.abort();
    clearInterval(timer);
    for (const unsubscribe of off) unsubscribe();
  };
}

// ---- #/tasks ----

const TASK_STATE_NAMES: Record<number, string> = {
  [TaskState.UNSPECIFIED]: "UNSPECIFIED",
  [TaskState.CREATED]: "CREATED",
  [TaskState.RUNNING]: "RUNNING",
  [TaskState.COMPLETED]: "COMPLETED",
  [TaskState.STOPPED]: "STOPPED",
  [TaskState.FAILED]: "FAILED",
  [TaskState.STOPPED_BEFORE_START]: "STOPPED_BEFORE_START",
};

function json(value: Parameters<typeof toJsonString<typeof ValueSchema>>[1] | undefined): string {
  return value ? toJsonString(ValueSchema, value, { prettySpaces: 0 }) : "";
}

function taskRow(app: App, view: TaskView): HTMLTableRowElement {
  const { info } = view;
  const state = TASK_STATE_NAMES[info.state] ?? String(info.state);
  let settings: HTMLElement = h("code", {}, json(info.settings));
  if (app.operate) {
    const editor = h("textarea", { "aria-label": `settings of ${info.name}`, rows: "2", "data-task": info.name }, json(info.settings));
    const apply = h("button", { type: "button", "data-action": "set-settings", "data-task": info.name }, "Apply");
    apply.addEventListener("click", () =>
      act(apply, async () => {
        let parsed: JsonValue;
        try {
          parsed = JSON.parse(editor.value) as JsonValue;
        } catch (error) {
          throw new Error(`settings of ${info.name}: not JSON: ${error instanceof Error ? error.message : String(error)}`);
        }
        await app.api.taskRunner.setSettings({ name: info.name, settings: fromJson(ValueSchema, parsed) });
      }),
    );
    settings = h("div", { class: "settings" }, editor, apply, info.hasPendingSettings ? h("span", { class: "pending" }, "pending") : undefined);
  }
  const lease = view.lockExpiresMs ? `, lease until ${new Date(view.lockExpiresMs).toLocaleTimeString()}` : "";
  const lock = info.locked ? `locked by ${info.lockHolder || "?"}${lease}` : "";
  const signals = view.signals
    .slice(-5)
    .map((signal) => `${signal.time ? new Date(timestampMs(signal.time)).toLocaleTimeString() : ""} ${signal.name}`)
    .join("\n");
  return h(
    "tr",
    { "data-task": info.name, "data-state": state },
    h("td", {}, info.name),
    h("td", {}, info.type),
    h("td", { class: `state ${state.toLowerCase()}` }, state, info.error ? h("div", { class: "reason" }, info.error.message) : undefined),
    h("td", {}, h("code", {}, json(info.status))),
    h("td", {}, settings),
    h("td", { class: "lock" }, lock),
    h("td", { class: "signals" }, h("pre", {}, signals)),
  );
}

function tasksPage(app: App): () => void {
  const body = h("tbody");
  const error = h("p", { class: "reason" });
  main.replaceChildren(
    h("h2", {}, `Tasks on ${app.session.host}`),
    error,
    h("table", { class: "tasks" }, h("thead", {}, h("tr", {}, ...["Task", "Type", "State", "Status", "Settings", "Lock", "Signals"].map((t) => h("th", {}, t)))), body),
  );
  const draw = (changed?: string) => {
    error.textContent = app.tasks.error ?? (app.tasks.tasks.size === 0 ? "no tasks" : "");
    const existing = changed ? body.querySelector<HTMLTableRowElement>(`tr[data-task="${CSS.escape(changed)}"]`) : null;
    const view = changed ? app.tasks.tasks.get(changed) : undefined;
    // An editor being typed in is not redrawn under the user's fingers.
    if (existing && view && !existing.contains(document.activeElement)) return existing.replaceWith(taskRow(app, view));
    if (existing) return;
    body.replaceChildren(...[...app.tasks.tasks.values()].map((v) => taskRow(app, v)));
  };
  draw();
  // The signal stream is open only while this view is: over plain HTTP/1.1 a browser keeps at
  // most 6 connections to the daemon, and every open stream holds one.
  const off = app.tasks.onChange(draw);
  app.tasks.start();
  return () => {
    off();
    app.tasks.close();
  };
}

// ---- #/fleet ----

function fleetPage(app: App): () => void {
  const closers: (() => void)[] = [];
  const sections = app.session.hosts.map((host) => {
    const model = host === app.session.host ? app.programs : new ProgramsModel(apiFor(host, app.session));
    if (model !== app.programs) {
      model.start();
      closers.push(() => model.close());
    }
    const { table, update } = programsTable(app, model, false, host === app.session.host);
    const status = h("p", { class: "reason" });
    const section = h("section", { "data-host": host }, h("h2", {}, host === app.session.host ? `${host} (this daemon)` : host), status, table);
    closers.push(
      model.onChange((name) => {
        status.textContent = model.error ? `unreachable: ${model.error}` : "";
        update(name);
      }),
    );
    return section;
  });
  main.replaceChildren(h("p", { class: "hint" }, "Every host of this daemon's config. Other hosts are read-only here: open their own dashboards to act."), ...sections);
  return () => {
    for (const close of closers) close();
  };
}

// ---- start-up ----

function loginForm(reason: string): Promise<void> {
  return new Promise((resolve) => {
    const input = h("input", { type: "password", id: "token", autocomplete: "current-password", "aria-label": "bearer token", size: "48" });
    const form = h(
      "form",
      { class: "login", id: "login" },
      h("h2", {}, "Sign in"),
      h("p", {}, "This daemon asks for a bearer token (server.auth.tokens). It is kept for this tab only."),
      h("p", { class: "reason" }, reason),
      input,
      h("button", { type: "submit" }, "Sign in"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveToken(input.value.trim() || undefined);
      resolve();
    });
    main.replaceChildren(form);
    input.focus();
  });
}

async function signIn(): Promise<Session> {
  for (;;) {
    try {
      return await fetchSession();
    } catch (error) {
      await loginForm(savedToken() ? `The token was refused: ${error instanceof Error ? error.message : String(error)}` : "");
    }
  }
}

async function start(): Promise<void> {
  const session = await signIn();
  probe.role = session.role;
  const api = apiFor(session.host, session);
  const app: App = {
    session,
    api,
    programs: new ProgramsModel(api),
    stats: new StatsModel(api),
    tasks: new TasksModel(api),
    operate: mayOperate(session.role),
  };
  document.title = `corral · ${session.host}`;
  document.getElementById("host")!.textContent = session.host;
  document.getElementById("who")!.textContent = `${session.identity} (${session.role})`;
  const fleetLink = document.getElementById("fleet-link")!;
  fleetLink.hidden = session.hosts.length < 2;
  const signOut = document.getElementById("sign-out") as HTMLButtonElement;
  signOut.hidden = !session.authRequired;
  signOut.addEventListener("click", () => {
    saveToken(undefined);
    location.reload();
  });

  app.programs.onChange(() => {
    showError(app.programs.error ? `connection to the daemon lost, reconnecting: ${app.programs.error}` : undefined);
    app.stats.watch(
      app.programs.order.filter((name) => {
        const process = app.programs.programs.get(name);
        return process !== undefined && !process.remote && LIVE_STATES.has(process.state) && (process.run?.pid ?? 0) > 0;
      }),
    );
    probe.latencies = app.programs.latencies;
    if (probe.readyMs === undefined && app.programs.loaded) {
      // After this change is drawn: the first list on screen.
      requestAnimationFrame(() => {
        probe.readyMs ??= performance.now();
        document.body.dataset.ready = "true";
      });
    }
  });
  app.programs.start();

  let leave: (() => void) | undefined;
  const route = () => {
    leave?.();
    const hash = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
    for (const link of document.querySelectorAll("nav a")) link.classList.toggle("current", link.getAttribute("href") === `#${hash}`);
    if (hash.startsWith("/program/")) leave = programPage(app, hash.slice("/program/".length));
    else if (hash === "/tasks") leave = tasksPage(app);
    else if (hash === "/fleet") leave = fleetPage(app);
    else leave = overview(app);
  };
  window.addEventListener("hashchange", route);
  route();
}

void start();
