import { nativeRunner } from "./native";
import type { RunnerRegistry } from "./runner";

/** The runner of each batch mode. `gateway` joins here when the gateway-run mode lands. */
export const RUNNERS: RunnerRegistry = { native: nativeRunner };
