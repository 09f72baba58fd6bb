import * as z from "zod/mini";
import { ADMIN_ROLES } from "../../../policy/admin-roles";
import { DeletedSchema, getJson, listOf, sendJson } from "../api";
import { confirmButton, el, secretNotice, table } from "../dom";
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

function createForm(onCreated: (secret: string) => void, showError: (message: string) => void): HTMLElement {
  const name = el("input", { attrs: { name: "token-name", placeholder: "Token name", required: "", maxlength: "200" } });
  const role = el("select", { attrs: { name: "token-role", "aria-label": "Role" } }, ADMIN_ROLES.map((r) => el("option", { text: r, attrs: { value: r } })));
  const workspaces = el("input", { attrs: { name: "token-workspaces", placeholder: "Workspaces (comma-separated; empty: all)" } });
  const form = el("form", { className: "inline-form", dataset: { write: "" } }, [name, role, workspaces, el("button", { text: "Create token", attrs: { type: "submit" } })]);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const list = workspaces.value.split(",").map((w) => w.trim()).filter((w) => w !== "");
    sendJson("POST", "/admin/tokens", CreatedTokenSchema, { name: name.value.trim(), role: role.value, ...(list.length ? { workspaces: list } : {}) })
      .then((created) => onCreated(created.token))
      .catch((error: unknown) => showError(error instanceof Error ? error.message : String(error)));
  });
  return form;
}

async function draw(root: HTMLElement, ctx: ViewContext, notice?: HTMLElement): Promise<void> {
  const tokens = (await getJson("/admin/tokens", listOf(TokenSchema))).data;
  const status = el("p", { className: "error", attrs: { hidden: "" } });
  const showError = (message: string) => {
    status.hidden = false;
    status.textContent = message;
  };
  const redraw = (next?: HTMLElement) => void draw(root, ctx, next).catch((error: unknown) => showError(String(error)));
  const rows = tokens.map((token) => ({
    dataset: { tokenId: token.id, role: token.role },
    cells: [
      token.name,
      el("code", { text: token.id }),
      token.role,
      token.workspaces?.join(", ") ?? "all",
      token.expiresAt ?? "never",
      `${token.createdAt.slice(0, 10)} by ${token.createdBy}`,
      confirmButton("Revoke", () => sendJson("DELETE", `/admin/tokens/${encodeURIComponent(token.id)}`, DeletedSchema).then(() => redraw()).catch((error: unknown) => showError(String(error)))),
    ],
  }));
  root.replaceChildren(
    el("section", { className: "card wide" }, [
      el("h2", { text: "Admin tokens" }),
      el("p", { className: "sub", text: "owner: everything · workspace_admin: keys, config, credentials and usage of its workspaces · viewer: read-only. The ADMIN_TOKEN secret is an owner and is not listed." }),
      createForm((secret) => redraw(secretNotice("New admin token", secret)), showError),
      ...(notice ? [notice] : []),
      status,
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
