import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** A child process the benchmark started, stopped by its own pid when the run ends. */
export type Child = { name: string; process: ChildProcess; output: () => string };

const children: Child[] = [];

export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (part: Buffer) => {
    output = (output + part.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const entry = { name, process: child, output: () => output };
  children.push(entry);
  return entry;
}

/** Resolves with the first match of `pattern` in the child's output; rejects if the child exits first or after `timeoutMs`. */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = child.output().match(pattern);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${child.name} exited (${code}) before it was ready:\n${child.output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name} was not ready after ${timeoutMs} ms:\n${child.output()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.process.stdout?.off("data", check);
      child.process.stderr?.off("data", check);
      child.process.off("exit", onExit);
    };
    child.process.stdout?.on("data", check);
    child.process.stderr?.on("data", check);
    child.process.on("exit", onExit);
    check();
  });
}

/** Polls `url` until it answers (any status) or `timeoutMs` passes. */
export async function waitForHttp(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function stopChildren(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.process.exitCode !== null || child.process.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            child.process.kill("SIGKILL");
            resolve();
          }, 5_000);
          child.process.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.process.kill("SIGTERM");
        }),
    ),
  );
}

/** Resident memory (bytes) of `rootPid` and each process below it, summed by command name (Linux only). */
export function descendantRss(rootPid: number): Record<string, number> {
  const { parentOf, nameOf } = processTable();
  const isBelow = (pid: number): boolean => {
    for (let current = parentOf.get(pid); current !== undefined && current > 1; current = parentOf.get(current)) if (current === rootPid) return true;
    return false;
  };
  const out: Record<string, number> = {};
  for (const pid of [rootPid, ...[...parentOf.keys()].filter(isBelow)]) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      const name = nameOf.get(pid) ?? String(pid);
      if (match) out[name] = (out[name] ?? 0) + Number(match[1]) * 1024;
    } catch {
      // Gone.
    }
  }
  return out;
}

function processTable(): { parentOf: Map<number, number>; nameOf: Map<number, string>; cpuTicks: Map<number, number> } {
  const parentOf = new Map<number, number>();
  const nameOf = new Map<number, string>();
  const cpuTicks = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    // Not Linux: no process figures.
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      const pid = Number(entry);
      nameOf.set(pid, stat.slice(stat.indexOf("(") + 1, close));
      parentOf.set(pid, Number(fields[1]));
      // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted from the state field (3) here.
      cpuTicks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process ended while we looked.
    }
  }
  return { parentOf, nameOf, cpuTicks };
}

/** CPU time (user + system, ms) used so far by `pid` and every process below it. Linux only; 0 elsewhere. */
export function treeCpuMs(pid: number): number {
  const { parentOf, cpuTicks } = processTable();
  let ticks = 0;
  for (const [candidate, value] of cpuTicks) {
    let current: number | undefined = candidate;
    while (current !== undefined && current > 1 && current !== pid) current = parentOf.get(current);
    if (current === pid) ticks += value;
  }
  // USER_HZ is 100 on every Linux the benchmark is meant for.
  return ticks * 10;
}

/** Direct children of `pid` with this command name (e.g. the workerd a Miniflare instance of this process started). */
export function childrenNamed(pid: number, name: string): number[] {
  const { parentOf, nameOf } = processTable();
  return [...parentOf].filter(([child, parent]) => parent === pid && nameOf.get(child) === name).map(([child]) => child);
}
