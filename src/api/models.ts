import { Hono } from "hono";
import { targetsOf } from "../config/schema";
import type { AppEnv } from "../types";

/** GET /v1/models: routes and configured provider models, in OpenAI's list shape. */
export const modelsApi = new Hono<AppEnv>().get("/", (c) => {
  const config = c.get("config");
  const ids = new Map<string, string>();
  for (const name of Object.keys(config.routes)) ids.set(name, "switchyard");
  for (const route of Object.values(config.routes)) for (const target of targetsOf(route)) ids.set(`${target.provider}/${target.model}`, target.provider);
  for (const [provider, settings] of Object.entries(config.providers)) for (const model of settings.models ?? []) ids.set(`${provider}/${model}`, provider);
  // A key limited to some routes sees only those.
  const allowed = c.get("key").routes;
  if (allowed) for (const id of [...ids.keys()]) if (!allowed.includes(id)) ids.delete(id);
  return c.json({ object: "list", data: [...ids].map(([id, owner]) => ({ id, object: "model", created: 0, owned_by: owner })) });
});
