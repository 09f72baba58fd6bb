import * as z from "zod";
import { base64Decode, base64UrlEncode } from "../../lib/crypto";
import { AccessTokenCache, refreshAt, type CachedToken } from "../../lib/access-token-cache";
import { GatewayError } from "../../lib/errors";

/**
 * Google's OAuth 2.0 service-account flow (RFC 7523 JWT bearer grant): sign an RS256 assertion with the key's
 * private key (WebCrypto), exchange it at the token endpoint for an access token, and keep that token in isolate
 * memory until shortly before it expires. Concurrent requests that find no token share one exchange.
 */

export const ServiceAccountKeySchema = z
  .object({
    client_email: z.string().min(1),
    private_key: z.string().min(1),
    private_key_id: z.string().optional(),
    token_uri: z.url().optional(),
    project_id: z.string().optional(),
  })
  .loose();
export type ServiceAccountKey = z.infer<typeof ServiceAccountKeySchema>;

const TokenResponseSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive().optional() });
const TokenErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
export const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
/** Google's assertions may live at most an hour. */
const ASSERTION_LIFETIME_S = 3600;
const tokenCache = new AccessTokenCache();

const configurationError = (providerName: string, message: string) =>
  new GatewayError({ status: 500, type: "configuration_error", code: "invalid_credential", provider: providerName, message: `Provider "${providerName}": ${message}` });

export function parseServiceAccountKey(json: string, providerName: string): ServiceAccountKey {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw configurationError(providerName, "the service account key is not JSON (expected the contents of the key file).");
  }
  const parsed = ServiceAccountKeySchema.safeParse(value);
  if (!parsed.success) throw configurationError(providerName, "the service account key lacks client_email or private_key.");
  return parsed.data;
}

async function importPrivateKey(pem: string, providerName: string): Promise<CryptoKey> {
  const body = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  try {
    return await crypto.subtle.importKey("pkcs8", base64Decode(body), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  } catch {
    throw configurationError(providerName, "the service account's private_key is not a PKCS #8 RSA key.");
  }
}

const encodeJSON = (value: unknown) => base64UrlEncode(new TextEncoder().encode(JSON.stringify(value)));

/** The signed assertion: iss is the service account, aud the token endpoint, valid for an hour from now. */
export async function signServiceAccountJWT(key: ServiceAccountKey, audience: string, scope: string, nowMs: number, providerName: string): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: "RS256", typ: "JWT", ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = { iss: key.client_email, scope, aud: audience, iat, exp: iat + ASSERTION_LIFETIME_S };
  const signingInput = `${encodeJSON(header)}.${encodeJSON(claims)}`;
  const privateKey = await importPrivateKey(key.private_key, providerName);
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, new TextEncoder().encode(signingInput));
  return `${signingInput}.${base64UrlEncode(new Uint8Array(signature))}`;
}

async function exchange(key: ServiceAccountKey, tokenURL: string, options: AccessTokenOptions): Promise<CachedToken> {
  const now = options.now?.() ?? Date.now();
  const assertion = await signServiceAccountJWT(key, tokenURL, CLOUD_PLATFORM_SCOPE, now, options.providerName);
  const failure = (detail: string, status = 502) =>
    new GatewayError({ status, type: "upstream_error", code: "upstream_auth_failed", provider: options.providerName, message: `${options.providerName}: the service account token exchange failed (${detail}).` });
  let response: Response;
  try {
    response = await options.fetch(tokenURL, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
    });
  } catch (error) {
    // The gateway's own refusal (an address this workspace may not reach) stands as it is.
    if (error instanceof GatewayError) throw error;
    throw failure(`token endpoint unreachable: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await response.text().catch(() => "");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = TokenErrorSchema.safeParse(json);
    const detail = error.success ? `${error.data.error}${error.data.error_description ? `: ${error.data.error_description}` : ""}` : `HTTP ${response.status}`;
    throw failure(`HTTP ${response.status}, ${detail}`);
  }
  const token = TokenResponseSchema.safeParse(json);
  if (!token.success) throw failure("the token endpoint's answer has no access_token");
  return { token: token.data.access_token, refreshAt: refreshAt(now, token.data.expires_in ?? ASSERTION_LIFETIME_S) };
}

export type AccessTokenOptions = {
  providerName: string;
  /** Overrides the key's token_uri. */
  tokenURL?: string | undefined;
  fetch: typeof fetch;
  now?: () => number;
};

/** An access token for the service account, from isolate memory when a fresh one is there. */
export async function googleAccessToken(key: ServiceAccountKey, options: AccessTokenOptions): Promise<string> {
  const tokenURL = options.tokenURL ?? key.token_uri ?? DEFAULT_TOKEN_URI;
  const cacheKey = `${key.client_email}|${key.private_key_id ?? key.private_key.slice(-64)}|${tokenURL}`;
  return tokenCache.get(cacheKey, () => exchange(key, tokenURL, options), options.now?.() ?? Date.now());
}
