// Small DOM helpers for the page (no framework: the page is a few tables kept current), and
// the inline SVG plot of a program's CPU and memory.
import type { StatPoint } from "./live.js";

type Child = Node | string | undefined | false;

/** h("td", {class: "x"}, "text", child): an element with attributes and children (strings become text, never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child !== undefined && child !== false) element.append(child);
  return element;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(seconds / 86400);
  const hh = Math.floor((seconds % 86400) / 3600);
  const mm = Math.floor((seconds % 3600) / 60);
  const ss = seconds % 60;
  if (d > 0) return `${d}d ${hh}h`;
  if (hh > 0) return `${hh}h ${mm}m`;
  if (mm > 0) return `${mm}m ${ss}s`;
  return `${ss}s`;
}

const SVG = "http://www.w3.org/2000/svg";

/** A line plot of one series over the points' time span (width x height px), its scale's top labelled. */
export function plot(points: StatPoint[], value: (point: StatPoint) => number | undefined, label: (top: number) => string, width = 480, height = 90): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("class", "plot");
  const known = points.filter((point) => value(point) !== undefined);
  const top = Math.max(1e-9, ...known.map((point) => value(point)!)) * 1.1;
  const first = known[0]?.timeMs ?? 0;
  const span = Math.max(1, (known[known.length - 1]?.timeMs ?? 1) - first);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute(
    "points",
    known.map((point) => `${(((point.timeMs - first) / span) * (width - 2) + 1).toFixed(1)},${(height - 1 - (value(point)! / top) * (height - 16)).toFixed(1)}`).join(" "),
  );
  const text = document.createElementNS(SVG, "text");
  text.setAttribute("x", "4");
  text.setAttribute("y", "12");
  text.textContent = known.length > 0 ? `max ${label(top / 1.1)}` : "no samples yet";
  svg.append(line, text);
  return svg;
}
