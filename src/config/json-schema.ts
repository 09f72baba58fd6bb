import * as z from "zod";
import { GatewayConfigSchema } from "./schema";

/** The config document's JSON Schema, generated from the zod schema (what a user writes: defaults optional). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(GatewayConfigSchema, { io: "input", target: "draft-2020-12", unrepresentable: "any" }),
    $id: "https://switchyard.dev/schema/config.json",
    title: "Switchyard gateway configuration",
  };
}
