import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { createSimulatorApp } from "./server";

/** Starts every provider simulator on one local port (0 = any free port). */
export async function startSimulators(port = 0, hostname = "127.0.0.1", extraKey?: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const app = createSimulatorApp(extraKey !== undefined ? { extraKey } : {});
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info: AddressInfo) => {
      resolve({
        origin: `http://${hostname}:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
