import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Origin of the provider simulators started by test/global-setup.ts. */
    simulatorOrigin: string;
  }
}
