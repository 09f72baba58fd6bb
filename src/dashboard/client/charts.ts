/**
 * SVG charts, drawn without a charting library. Every bar carries `data-key` / `data-value` (and `data-series`)
 * so a browser test can check that what is drawn is the data.
 */

const SVG_NS = "http://www.w3.org/2000/svg";

export const COLORS = { accent: "#3b6df6", warn: "#e0613a", ok: "#1f9d6b", alt: "#9b6bf2", grey: "#c5cad3" } as const;

type Attrs = Record<string, string | number | undefined>;

function svgEl<K extends keyof SVGElementTagNameMap>(name: K, attrs: Attrs, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function titled<E extends SVGElement>(element: E, text: string): E {
  element.appendChild(svgEl("title", {}, text));
  return element;
}

/** The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `max`: the top of an axis. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

export type Series = { name: string; color: string; values: number[] };
export type Category = { key: string; label: string };

function legend(svg: SVGSVGElement, series: Series[], right: number): void {
  let x = right;
  for (const s of [...series].reverse()) {
    x -= 12 + s.name.length * 6.5 + 14;
    svg.appendChild(svgEl("rect", { x, y: 2, width: 10, height: 10, rx: 2, fill: s.color }));
    svg.appendChild(svgEl("text", { x: x + 14, y: 11 }, s.name));
  }
}

function showEmpty(container: Element): void {
  const p = document.createElement("p");
  p.className = "empty";
  p.textContent = "No requests in this period.";
  container.replaceChildren(p);
}

/** Grouped columns: categories along x, one column per series; the y axis starts at 0. */
export function columns(
  container: Element,
  categories: Category[],
  series: Series[],
  options: { format: (value: number) => string; label: string; width?: number; height?: number },
): void {
  if (categories.length === 0) return showEmpty(container);
  const width = options.width ?? 1200;
  const height = options.height ?? 240;
  const [left, right, top, bottom] = [64, 8, 22, 28];
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": options.label });
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  for (let g = 0; g <= 4; g++) {
    const gy = top + plotH - (plotH * g) / 4;
    svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: gy, y2: gy, stroke: "#e4e7ec" }));
    svg.appendChild(svgEl("text", { x: left - 6, y: gy + 4, "text-anchor": "end" }, options.format((max * g) / 4)));
  }
  const slot = plotW / categories.length;
  const barW = Math.max(2, Math.min(48, (slot * 0.8) / series.length));
  const labelEvery = Math.ceil(categories.length / 12);
  categories.forEach((category, i) => {
    const x0 = left + i * slot + (slot - barW * series.length) / 2;
    series.forEach((s, j) => {
      const value = s.values[i] ?? 0;
      const h = (plotH * value) / max;
      const rect = svgEl("rect", {
        x: x0 + j * barW,
        y: top + plotH - h,
        width: barW - 1,
        height: Math.max(0, h),
        fill: s.color,
        rx: 1,
        "data-key": category.key,
        "data-series": s.name,
        "data-value": value,
        class: "bar",
      });
      svg.appendChild(titled(rect, `${category.label} · ${s.name}: ${options.format(value)}`));
    });
    if (i % labelEvery === 0) svg.appendChild(svgEl("text", { x: left + i * slot + slot / 2, y: height - 10, "text-anchor": "middle", class: "label" }, category.label));
  });
  if (series.length > 1) legend(svg, series, width - right);
  container.replaceChildren(svg);
}

/** One horizontal bar; `value: null` is drawn as "unpriced", not as zero. */
export type BarItem = { key: string; label: string; value: number | null; display: string; color?: string };

/** Horizontal bars, in the order given (callers pass largest first). */
export function hbars(container: Element, items: BarItem[], options: { label: string; limit?: number; max?: number }): void {
  if (items.length === 0) return showEmpty(container);
  const shown = items.slice(0, options.limit ?? 8);
  const [width, row, labelW, valueW] = [420, 24, 120, 175];
  const height = shown.length * row + 4;
  const max = options.max ?? niceMax(Math.max(...shown.map((item) => item.value ?? 0)));
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": options.label });
  shown.forEach((item, i) => {
    const y = i * row + 2;
    const label = item.label.length > 17 ? `${item.label.slice(0, 16)}…` : item.label;
    svg.appendChild(titled(svgEl("text", { x: 0, y: y + 16, class: "label" }, label), item.label));
    const barMax = width - labelW - valueW;
    svg.appendChild(svgEl("rect", { x: labelW, y: y + 4, width: barMax, height: row - 10, fill: "#f0f2f5", rx: 3 }));
    const w = item.value === null ? 0 : (barMax * item.value) / max;
    const rect = svgEl("rect", {
      x: labelW,
      y: y + 4,
      width: Math.max(item.value ? 2 : 0, w),
      height: row - 10,
      rx: 3,
      fill: item.value === null ? COLORS.grey : (item.color ?? COLORS.accent),
      class: "bar",
      "data-key": item.key,
      "data-value": item.value === null ? "unpriced" : item.value,
    });
    svg.appendChild(titled(rect, `${item.label}: ${item.display}`));
    svg.appendChild(svgEl("text", { x: width - 4, y: y + 16, "text-anchor": "end", class: "label" }, item.display));
  });
  container.replaceChildren(svg);
}
