import * as z from "zod/mini";
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES } from "../../../audit/action-names";
import { ADMIN_ROLES } from "../../../policy/admin-roles";
import { getJson } from "../api";
import { el, errorLine, table } from "../dom";
import { utcTime } from "../format";
import type { View, ViewContext } from "../view";

/**
 * The audit log view: admin writes, newest first, 50 at a time ("Older" pages on with the API's cursor). It shows
 * the selected workspace's entries, or — for tokens not limited to workspaces — everything, gateway-wide entries
 * (admin tokens, master-key rotation) included.
 */

const EntrySchema = z.object({
  id: z.string(),
  time: z.string(),
  actor: z.object({ id: z.string(), name: z.string(), role: z.enum(ADMIN_ROLES) }),
  action: z.enum(AUDIT_ACTIONS),
  target: z.object({ type: z.enum(AUDIT_TARGET_TYPES), id: z.string(), workspaceId: z.nullable(z.string()) }),
  beforeHash: z.nullable(z.string()),
  afterHash: z.nullable(z.string()),
  changedFields: z.array(z.string()),
  clientAddress: z.nullable(z.string()),
});
type Entry = z.infer<typeof EntrySchema>;
const PageSchema = z.object({ data: z.array(EntrySchema), next: z.nullable(z.string()) });

const PAGE_SIZE = 50;
const shortHash = (hash: string | null): string => (hash === null ? "–" : `${hash.slice("sha256:".length, "sha256:".length + 10)}…`);

const rowOf = (entry: Entry) => ({
  dataset: { action: entry.action, actor: entry.actor.id, target: entry.target.id },
  cells: [
    utcTime(Date.parse(entry.time)),
    `${entry.actor.name} (${entry.actor.role})`,
    entry.action,
    entry.target.workspaceId && entry.target.type !== "workspace" ? `${entry.target.type} ${entry.target.id} in ${entry.target.workspaceId}` : `${entry.target.type} ${entry.target.id}`,
    entry.changedFields.join(", ") || "–",
    el("code", { text: `${shortHash(entry.beforeHash)} → ${shortHash(entry.afterHash)}` }),
    entry.clientAddress ?? "–",
  ],
});

async function draw(root: HTMLElement, ctx: ViewContext): Promise<void> {
  const everything = el("select", { attrs: { name: "audit-scope", "aria-label": "Scope" } }, [
    el("option", { text: `Workspace ${ctx.workspace}`, attrs: { value: "workspace" } }),
    ...(ctx.identity.workspaces === null ? [el("option", { text: "Everything", attrs: { value: "all" } })] : []),
  ]);
  const action = el("select", { attrs: { name: "audit-action", "aria-label": "Action" } }, [el("option", { text: "All actions", attrs: { value: "" } }), ...AUDIT_ACTIONS.map((a) => el("option", { text: a, attrs: { value: a } }))]);
  const body = el("div");
  const older = el("button", { className: "secondary", text: "Older", attrs: { type: "button", hidden: "" } });
  const status = errorLine();
  let entries: Entry[] = [];
  let next: string | null = null;

  const load = async (fresh: boolean) => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (everything.value !== "all") params.set("workspace", ctx.workspace);
    if (action.value) params.set("action", action.value);
    if (!fresh && next) params.set("cursor", next);
    const page = await getJson(`/admin/audit?${params}`, PageSchema);
    entries = fresh ? page.data : [...entries, ...page.data];
    next = page.next;
    body.replaceChildren(table(["Time (UTC)", "Who", "Action", "Target", "Changed", "Before → after", "Address"], entries.map(rowOf), "No admin changes recorded."));
    older.hidden = next === null;
  };
  const loadShowingErrors = (fresh: boolean) => {
    status.element.hidden = true;
    load(fresh).catch(status.show);
  };
  everything.addEventListener("change", () => loadShowingErrors(true));
  action.addEventListener("change", () => loadShowingErrors(true));
  older.addEventListener("click", () => loadShowingErrors(false));
  await load(true);
  root.replaceChildren(el("section", { className: "card wide" }, [el("h2", { text: "Audit log" }), el("div", { className: "inline-form" }, [everything, action]), status.element, body, older]));
}

export const auditView: View = {
  id: "audit",
  title: "Audit log",
  uses: { workspace: true, range: false },
  available: () => true,
  render: draw,
};
