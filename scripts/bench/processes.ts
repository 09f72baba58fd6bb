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

/** Resident memory (bytes) of each process below `rootPid` by command name, read from /proc (Linux only). */
export function descendantRss(rootPid: number): Record<string, number> {
  const parentOf = new Map<number, number>();
  const nameOf = new Map<number, string>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return {};
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      nameOf.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parentOf.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const isBelow = (pid: number): boolean => {
    for (let current = parentOf.get(pid); current !== undefined && current > 1; current = parentOf.get(current)) if (current === rootPid) return true;
    return false;
  };
  const out: Record<string, number> = {};
  for (const pid of [rootPid, ...[...parentOf.keys()].filter(isBelow)]) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) out[nameOf.get(pid) ?? String(pid)] = (out[nameOf.get(pid) ?? String(pid)] ?? 0) + Number(match[1]) * 1024;
    } catch {
      // Gone.
    }
  }
  return out;
}
