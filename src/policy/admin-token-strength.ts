/**
 * What makes an ADMIN_TOKEN too weak to guard a gateway outside local development. Pure (no bindings), so the
 * Worker (src/policy/admin-auth.ts) and the launchers (`npm start`, `npm run deploy`) apply the same rule.
 */

/** 32 characters: a random token of that length (base64, hex or alphanumeric) carries at least 128 bits. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** Fewer different characters than this is a repeated pattern, however long. */
const MIN_DISTINCT_CHARACTERS = 8;

/** Tokens printed in this repository (the local default in .dev.vars.example): public, so never a real secret. */
export const KNOWN_ADMIN_TOKENS: readonly string[] = ["dev-admin-token"];

/** Shape of a gateway key (src/policy/keys.ts): an ADMIN_TOKEN like that would be taken for a key on /v1. */
const GATEWAY_KEY_SHAPE = /^sy-[0-9A-Za-z]{32}$/;

/** How to make a good one, for error messages. */
export const STRONG_TOKEN_HINT = "openssl rand -base64 32";

/** Why `token` is too weak for a deployment, or null when it is acceptable. */
export function adminTokenWeakness(token: string): string | null {
  if (KNOWN_ADMIN_TOKENS.includes(token)) return "it is the published local-development default";
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) return `it is shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters`;
  if (new Set(token).size < MIN_DISTINCT_CHARACTERS) return `it uses fewer than ${MIN_DISTINCT_CHARACTERS} different characters`;
  if (GATEWAY_KEY_SHAPE.test(token)) return "it has the shape of a gateway key (sy-…)";
  return null;
}

/** Local development: `npm run dev` sets SWITCHYARD_LOCAL_DEV=true; a deployment and `npm start` never do. */
export const isLocalDevelopment = (env: { SWITCHYARD_LOCAL_DEV?: string | undefined }): boolean => env.SWITCHYARD_LOCAL_DEV === "true";
