import { ApiError, IdentitySchema, Unauthorized, WorkspaceSchema, canWrite, forgetToken, getJson, listOf, storeToken, storedToken, type Identity } from "./api";
import { byId, el } from "./dom";
import type { View } from "./view";
import { auditView } from "./views/audit";
import { keysView } from "./views/keys";
import { tokensView } from "./views/tokens";
import { usageView } from "./views/usage";

/**
 * The dashboard's entry point (bundled into /dashboard/app.js): sign-in with any admin token, the header (who is
 * signed in, workspace and range selectors), the tabs the token's role gets, and drawing the current view.
 * `body[data-loaded]` turns "true" once a view has drawn its data, so a browser test can wait for it.
 */

const VIEWS: readonly View[] = [usageView, keysView, auditView, tokensView];

type Session = { identity: Identity; views: View[]; view: View };
let session: Session | undefined;
let generation = 0;

function showLogin(message?: string): void {
  session = undefined;
  document.body.dataset.loaded = "false";
  byId("dashboard").hidden = true;
  byId("controls").hidden = true;
  byId("login").hidden = false;
  const error = byId("login-error");
  error.hidden = !message;
  error.textContent = message ?? "";
}

function signOut(message?: string): void {
  forgetToken();
  showLogin(message);
}

function select(view: View): void {
  if (!session) return;
  session.view = view;
  const url = new URL(location.href);
  url.searchParams.set("view", view.id);
  history.replaceState(null, "", url);
  renderTabs();
  void load();
}

function renderTabs(): void {
  if (!session) return;
  const current = session.view;
  byId("views").replaceChildren(
    ...session.views.map((view) => {
      const tab = el("button", { className: view === current ? "tab active" : "tab", text: view.title, dataset: { view: view.id }, attrs: { type: "button" } });
      tab.addEventListener("click", () => select(view));
      return tab;
    }),
  );
}

async function load(): Promise<void> {
  if (!session) return;
  const mine = ++generation;
  const { view, identity } = session;
  document.body.dataset.loaded = "false";
  byId("load-error").hidden = true;
  byId("workspace").hidden = !view.uses.workspace;
  byId("range").hidden = !view.uses.range;
  const workspace = byId<HTMLSelectElement>("workspace").value;
  // Drawn off-page and swapped in when done, so a slow answer for an older choice never overwrites a newer one.
  const root = el("div", { dataset: { viewRoot: view.id } });
  try {
    await view.render(root, { identity, workspace, rangeDays: Number(byId<HTMLSelectElement>("range").value), canWrite: canWrite(identity, workspace), reload: () => void load() });
    if (mine !== generation) return;
    byId("view").replaceChildren(root);
    document.body.dataset.loaded = "true";
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof Unauthorized) return signOut(error.message);
    const line = byId("load-error");
    line.hidden = false;
    line.textContent = `Could not load ${view.title.toLowerCase()}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function start(): Promise<void> {
  if (!storedToken()) return showLogin();
  let identity: Identity;
  let workspaces;
  try {
    identity = await getJson("/admin/me", IdentitySchema);
    workspaces = (await getJson("/admin/workspaces", listOf(WorkspaceSchema))).data;
  } catch (error) {
    if (error instanceof Unauthorized) return signOut(error.message);
    return showLogin(error instanceof ApiError ? error.message : String(error));
  }
  const picker = byId<HTMLSelectElement>("workspace");
  picker.replaceChildren(...workspaces.map((w) => el("option", { text: `${w.name} (${w.id})`, attrs: { value: w.id } })));
  const params = new URLSearchParams(location.search);
  const wanted = params.get("workspace");
  if (wanted && workspaces.some((w) => w.id === wanted)) picker.value = wanted;

  const views = VIEWS.filter((view) => view.available(identity));
  session = { identity, views, view: views.find((v) => v.id === params.get("view")) ?? views[0]! };
  byId("identity").textContent = `${identity.name} · ${identity.role.replace("_", " ")}`;
  byId("identity").dataset.role = identity.role;
  renderTabs();
  byId("login").hidden = true;
  byId("controls").hidden = false;
  byId("dashboard").hidden = false;
  if (workspaces.length === 0) {
    byId("load-error").hidden = false;
    byId("load-error").textContent = "This token may not see any workspace.";
    return;
  }
  await load();
}

byId("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>("token");
  storeToken(input.value.trim());
  input.value = "";
  void start();
});
byId("logout").addEventListener("click", () => signOut());
byId("workspace").addEventListener("change", () => void load());
byId("range").addEventListener("change", () => void load());
void start();
