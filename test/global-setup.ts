import type { TestProject } from "vitest/node";
import { startSimulators } from "./simulators/node-server";

/** Starts the provider simulators once for the whole run; tests find them through `inject("simulatorOrigin")`. */
export default async function setup(project: TestProject) {
  const simulators = await startSimulators();
  project.provide("simulatorOrigin", simulators.origin);
  return async () => simulators.close();
}
