import * as z from "zod/mini";
import { DeletedSchema, getJson, listOf, sendJson, workspacePath } from "../api";
import { confirmButton, el, errorLine, secretNotice, table, writeForm } from "../dom";
import { usd } from "../format";
import type { View, ViewContext } from "../view";

/** The keys view: a workspace's gateway keys and their limits; tokens that may write create and revoke keys here. */

const KeySchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  rateLimit: z.optional(z.object({ rpm: z.optional(z.number()), tpm: z.optional(z.number()) })),
  budget: z.optional(z.object({ usd: z.number(), period: z.string() })),
  routes: z.optional(z.array(z.string())),
  expiresAt: z.optional(z.string()),
});
type Key = z.infer<typeof KeySchema>;
const CreatedKeySchema = z.extend(KeySchema, { key: z.string() });

function limits(key: Key): string {
  const parts = [];
  if (key.rateLimit?.rpm !== undefined) parts.push(`${key.rateLimit.rpm} rpm`);
  if (key.rateLimit?.tpm !== undefined) parts.push(`${key.rateLimit.tpm} tpm`);
  if (key.budget) parts.push(`${usd(key.budget.usd)} / ${key.budget.period}`);
  return parts.join(", ") || "none";
}

function createForm(ctx: ViewContext, onCreated: (secret: string) => void, showError: (error: unknown) => void): HTMLElement {
  const name = el("input", { attrs: { name: "key-name", placeholder: "Key name", required: "", maxlength: "200" } });
  return writeForm([name], "Create key", async () => onCreated((await sendJson("POST", workspacePath(ctx.workspace, "/keys"), CreatedKeySchema, { name: name.value.trim() })).key), showError);
}

async function draw(root: HTMLElement, ctx: ViewContext, notice?: HTMLElement): Promise<void> {
  const keys = (await getJson(workspacePath(ctx.workspace, "/keys"), listOf(KeySchema))).data;
  const status = errorLine();
  const redraw = (next?: HTMLElement) => void draw(root, ctx, next).catch(status.show);
  const rows = keys.map((key) => ({
    dataset: { keyId: key.id },
    cells: [
      key.name,
      el("code", { text: key.id }),
      limits(key),
      key.routes?.join(", ") ?? "all",
      key.expiresAt ?? "never",
      key.createdAt.slice(0, 10),
      ...(ctx.canWrite ? [confirmButton("Revoke", () => sendJson("DELETE", workspacePath(ctx.workspace, `/keys/${encodeURIComponent(key.id)}`), DeletedSchema).then(() => redraw(), status.show))] : []),
    ],
  }));
  root.replaceChildren(
    el("section", { className: "card wide" }, [
      el("h2", { text: `Gateway keys of ${ctx.workspace}` }),
      ...(ctx.canWrite ? [createForm(ctx, (secret) => redraw(secretNotice("New gateway key", secret)), status.show)] : []),
      ...(notice ? [notice] : []),
      status.element,
      table(["Name", "Id", "Limits", "Routes", "Expires", "Created", ...(ctx.canWrite ? [""] : [])], rows, "No keys yet."),
    ]),
  );
}

export const keysView: View = {
  id: "keys",
  title: "Keys",
  uses: { workspace: true, range: false },
  available: () => true,
  render: (root, ctx) => draw(root, ctx),
};
