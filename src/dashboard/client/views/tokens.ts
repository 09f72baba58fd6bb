import * as z from "zod/mini";
import { ADMIN_ROLES } from "../../../policy/admin-roles";
import { DeletedSchema, getJson, listOf, sendJson } from "../api";
import { confirmButton, el, errorLine, secretNotice, table, writeForm } from "../dom";
import type { View, ViewContext } from "../view";

/** The admin tokens view (owners only): who may use the admin API and the dashboard, with which role. */

const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ADMIN_ROLES),
  workspaces: z.optional(z.array(z.string())),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.optional(z.string()),
});
const CreatedTokenSchema = z.extend(TokenSchema, { token: z.string() });

function createForm(onCreated: (secret: string) => void, showError: (error: unknown) => void): HTMLElement {
  const name = el("input", { attrs: { name: "token-name", placeholder: "Token name", required: "", maxlength: "200" } });
  const role = el("select", { attrs: { name: "token-role", "aria-label": "Role" } }, ADMIN_ROLES.map((r) => el("option", { text: r, attrs: { value: r } })));
  const workspaces = el("input", { attrs: { name: "token-workspaces", placeholder: "Workspaces (comma-separated; empty: all)" } });
  return writeForm([name, role, workspaces], "Create token", async () => {
    const list = workspaces.value.split(",").map((w) => w.trim()).filter((w) => w !== "");
    onCreated((await sendJson("POST", "/admin/tokens", CreatedTokenSchema, { name: name.value.trim(), role: role.value, ...(list.length ? { workspaces: list } : {}) })).token);
  }, showError);
}

async function draw(root: HTMLElement, ctx: ViewContext, notice?: HTMLElement): Promise<void> {
  const tokens = (await getJson("/admin/tokens", listOf(TokenSchema))).data;
  const status = errorLine();
  const redraw = (next?: HTMLElement) => void draw(root, ctx, next).catch(status.show);
  const rows = tokens.map((token) => ({
    dataset: { tokenId: token.id, role: token.role },
    cells: [
      token.name,
      el("code", { text: token.id }),
      token.role,
      token.workspaces?.join(", ") ?? "all",
      token.expiresAt ?? "never",
      `${token.createdAt.slice(0, 10)} by ${token.createdBy}`,
      confirmButton("Revoke", () => sendJson("DELETE", `/admin/tokens/${encodeURIComponent(token.id)}`, DeletedSchema).then(() => redraw(), status.show)),
    ],
  }));
  root.replaceChildren(
    el("section", { className: "card wide" }, [
      el("h2", { text: "Admin tokens" }),
      el("p", { className: "sub", text: "owner: everything · workspace_admin: keys, config, credentials and usage of its workspaces · viewer: read-only. The ADMIN_TOKEN secret is an owner and is not listed." }),
      createForm((secret) => redraw(secretNotice("New admin token", secret)), status.show),
      ...(notice ? [notice] : []),
      status.element,
      table(["Name", "Id", "Role", "Workspaces", "Expires", "Created", ""], rows, "No admin tokens yet: only the ADMIN_TOKEN secret."),
    ]),
  );
}

export const tokensView: View = {
  id: "tokens",
  title: "Admin tokens",
  uses: { workspace: false, range: false },
  available: (identity) => identity.role === "owner",
  render: (root, ctx) => draw(root, ctx),
};
