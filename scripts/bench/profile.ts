import { WebSocket } from "undici";

/**
 * A CPU profile of the Worker, taken through workerd's V8 inspector (`npm start -- --inspector-port N`) over the
 * Chrome DevTools Protocol while `during` runs the load. The profile opens in Chrome DevTools (Performance tab)
 * or speedscope; `summarise` gives self time per function and per package.
 */
type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] };
export type CpuProfile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] };

async function debuggerUrl(inspectorPort: number, workerName: string): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { id: string; title?: string; webSocketDebuggerUrl?: string }[];
  const target = targets.find((t) => t.id.endsWith(`:${workerName}`) || t.title?.includes(workerName)) ?? targets.find((t) => t.id.includes("user"));
  if (!target) throw new Error(`no inspector target for ${workerName} among ${targets.map((t) => t.id).join(", ")}`);
  return target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${inspectorPort}/${target.id}`;
}

/** A Chrome DevTools Protocol session with the Worker's isolate: `send` a method, get its result. */
export async function inspectorSession(inspectorPort: number, workerName: string): Promise<{ send: (method: string, params?: Record<string, unknown>) => Promise<unknown>; close: () => void }> {
  const socket = new WebSocket(await debuggerUrl(inspectorPort, workerName));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve());
    socket.addEventListener("error", () => reject(new Error("inspector connection failed")));
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => socket.close() };
}

export async function profileWorker(inspectorPort: number, workerName: string, during: () => Promise<void>): Promise<CpuProfile> {
  const { send, close } = await inspectorSession(inspectorPort, workerName);
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  await during();
  const { profile } = (await send("Profiler.stop")) as { profile: CpuProfile };
  close();
  return profile;
}

/**
 * The module each line of an esbuild bundle comes from: esbuild (unminified) opens every module with a
 * `// path/to/module.ts` comment, so the last such comment above a line names its source.
 */
function moduleIndex(bundle: string): (line: number) => string {
  const starts: [number, string][] = [];
  for (const [index, text] of bundle.split("\n").entries()) {
    const match = /^\/\/ ((?:src|durable-objects|node_modules)\/\S+)$/.exec(text);
    if (match) starts.push([index, match[1]!]);
  }
  return (line) => {
    let found = "bundle";
    for (const [start, path] of starts) {
      if (start > line) break;
      found = path;
    }
    return found;
  };
}

const originOf = (path: string) => {
  if (path.startsWith("src/") || path.startsWith("durable-objects/")) return path;
  const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return pkg ? pkg[1]! : path;
};

/** Where the samples fall: by function (self time) and by origin (a project module, a package, the runtime). */
export function summarise(profile: CpuProfile, bundle: string, top = 25): { total: number; byFunction: [string, number][]; byOrigin: [string, number][] } {
  const moduleAt = moduleIndex(bundle);
  const self = new Map<number, number>();
  for (const id of profile.samples ?? []) self.set(id, (self.get(id) ?? 0) + 1);
  const total = profile.samples?.length ?? 0;
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = self.get(node.id) ?? 0;
    if (!hits) continue;
    const frame = node.callFrame;
    const module = frame.url ? moduleAt(frame.lineNumber) : undefined;
    const name = `${frame.functionName || "(anonymous)"}${module ? ` (${module})` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    const origin = module ? originOf(module) : frame.functionName.startsWith("(") ? frame.functionName : "runtime built-ins (native)";
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + hits);
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { total, byFunction: sorted(byFunction), byOrigin: sorted(byOrigin) };
}
