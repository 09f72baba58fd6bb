import { connect } from "node:net";
import { parseConfig } from "../../src/config/validate.ts";
import { startSimulators } from "../../test/simulators/node-server.ts";

/**
 * The provider simulators for local runs. The quickstart config (switchyard.config.json) points its providers at
 * http://127.0.0.1:8790, where `npm run simulators` listens; `npm run dev` and `npm start` start the simulators
 * themselves when the config points there and nothing listens yet, so `npm ci` and `npm run dev` are enough. A
 * config for real providers starts nothing.
 */

/** Where the simulators listen: SIMULATOR_PORT, else 8790 (`npm run simulators` uses the same). */
export const simulatorPort = (): number => Number(process.env.SIMULATOR_PORT ?? 8790);
const SIMULATOR_HOST = "127.0.0.1";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The provider URLs of a validated config document that point at the local simulators' port. */
export function simulatorURLs(document: string, port = simulatorPort()): string[] {
  const parsed = parseConfig(document);
  if (!parsed.ok) return [];
  const urls = Object.values(parsed.config.providers).flatMap((provider) => [provider.baseURL, "tokenURL" in provider ? provider.tokenURL : undefined]);
  return urls.filter((url): url is string => {
    if (url === undefined) return false;
    const { hostname, port: urlPort } = new URL(url);
    return LOOPBACK.has(hostname) && Number(urlPort) === port;
  });
}

/** Whether something accepts connections on the port (the simulators, or anything else: it is then left alone). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: SIMULATOR_HOST, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export type LocalSimulators = { origin: string; close: () => Promise<void> };

/**
 * Starts the simulators in this process when the config's providers point at them and nothing listens there,
 * and says so. Undefined when nothing was started (no provider points there, or they are already running).
 */
export async function simulatorsFor(document: string): Promise<LocalSimulators | undefined> {
  const port = simulatorPort();
  if (simulatorURLs(document, port).length === 0) return undefined;
  if (await listening(port)) {
    console.log(`switchyard: the config's providers point at http://${SIMULATOR_HOST}:${port}, where something already listens (npm run simulators?); using it`);
    return undefined;
  }
  const simulators = await startSimulators(port, SIMULATOR_HOST);
  console.log(`switchyard: started the provider simulators on ${simulators.origin} (the config's providers point there; they accept any key starting with sk-sim)`);
  return simulators;
}
