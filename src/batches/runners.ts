import { gatewayRunner } from "./gateway";
import { nativeRunner } from "./native";
import type { RunnerRegistry } from "./runner";

/** The runner of each batch mode. */
export const RUNNERS: RunnerRegistry = { native: nativeRunner, gateway: gatewayRunner };
