import { GatewayError, badRequest } from "../lib/errors";
import { isWorkspaceId } from "./workspaces";

/**
 * Lets the admin token make test requests on /v1/* as a workspace (locally, without minting a key). With a
 * gateway key the header may only repeat the key's own workspace.
 */
export const WORKSPACE_HEADER = "x-switchyard-workspace";

/**
 * The workspace a request's host names: `<workspace>.<GATEWAY_DOMAIN>`. Undefined on the bare domain, on other
 * hosts (workers.dev, localhost) and when GATEWAY_DOMAIN is empty: then the key alone decides.
 */
export function workspaceFromHost(gatewayDomain: string, url: string): string | undefined {
  const domain = gatewayDomain.trim().toLowerCase().replace(/^\.+|\.+$/g, "");
  if (domain === "") return undefined;
  const host = new URL(url).hostname.toLowerCase();
  const suffix = `.${domain}`;
  if (!host.endsWith(suffix)) return undefined;
  const label = host.slice(0, -suffix.length);
  if (label === "") return undefined;
  if (!isWorkspaceId(label)) throw badRequest(`The host ${host} names no workspace: subdomains of ${domain} are workspace ids.`, "host", "invalid_workspace");
  return label;
}

/** The workspace the x-switchyard-workspace header names, refused (400) unless it is a workspace id at all. */
export function workspaceFromHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isWorkspaceId(value)) throw badRequest(`The ${WORKSPACE_HEADER} header must name a workspace id (lowercase letters, digits and '-', at most 63 characters).`, WORKSPACE_HEADER, "invalid_workspace");
  return value;
}

export const wrongWorkspace = (selected: string, how: string) =>
  new GatewayError({
    status: 403,
    type: "permission_error",
    code: "workspace_mismatch",
    message: `This gateway key does not belong to workspace "${selected}" (selected by ${how}); use a key of that workspace.`,
  });
