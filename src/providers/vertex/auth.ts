import type { UpstreamTarget } from "../types";
import type { VertexConfig } from "./chat";
import { googleAccessToken, parseServiceAccountKey } from "./google-auth";

/** The Authorization header of a Vertex AI (or Cloud Storage) call: the service account's OAuth access token. */
export async function vertexAuthorization(target: UpstreamTarget<VertexConfig>): Promise<Record<string, string>> {
  const key = parseServiceAccountKey(await target.secret(target.config.serviceAccount), target.providerName);
  target.sensitive(key.private_key);
  const token = await googleAccessToken(key, { providerName: target.providerName, tokenURL: target.config.tokenURL, fetch: target.fetch });
  target.sensitive(token);
  return { authorization: `Bearer ${token}` };
}
