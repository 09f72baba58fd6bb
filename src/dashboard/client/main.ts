import { ApiError, Unauthorized, WorkspaceSchema, forgetToken, getJson, listOf, storeToken, storedToken } from "./api";
import { byId, el } from "./dom";
import type { View } from "./view";
import { usageView } from "./views/usage";

/**
 * The dashboard's entry point (bundled into /dashboard/app.js): sign-in, the header's workspace and range
 * selectors, the tabs, and drawing the current view. `body[data-loaded]` turns "true" once a view has drawn its
 * data, so a browser test can wait for it.
 */

const VIEWS: readonly View[] = [usageView];

const state = { view: VIEWS[0]!, generation: 0 };

function showLogin(message?: string): void {
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

function renderTabs(): void {
  byId("views").replaceChildren(
    ...VIEWS.map((view) => {
      const tab = el("button", { className: view === state.view ? "tab active" : "tab", text: view.title, dataset: { view: view.id }, attrs: { type: "button" } });
      tab.addEventListener("click", () => {
        state.view = view;
        const url = new URL(location.href);
        url.searchParams.set("view", view.id);
        history.replaceState(null, "", url);
        renderTabs();
        void load();
      });
      return tab;
    }),
  );
}

async function load(): Promise<void> {
  const generation = ++state.generation;
  const view = state.view;
  document.body.dataset.loaded = "false";
  byId("load-error").hidden = true;
  byId("range").hidden = !view.usesRange;
  // Drawn off-page and swapped in when done, so a slow answer for an older choice never overwrites a newer one.
  const root = el("div", { dataset: { viewRoot: view.id } });
  try {
    await view.render(root, { workspace: byId<HTMLSelectElement>("workspace").value, rangeDays: Number(byId<HTMLSelectElement>("range").value) });
    if (generation !== state.generation) return;
    byId("view").replaceChildren(root);
    document.body.dataset.loaded = "true";
  } catch (error) {
    if (generation !== state.generation) return;
    if (error instanceof Unauthorized) return signOut(error.message);
    const errorLine = byId("load-error");
    errorLine.hidden = false;
    errorLine.textContent = `Could not load ${view.title.toLowerCase()}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function start(): Promise<void> {
  if (!storedToken()) return showLogin();
  let workspaces;
  try {
    workspaces = (await getJson("/admin/workspaces", listOf(WorkspaceSchema))).data;
  } catch (error) {
    if (error instanceof Unauthorized) return signOut(error.message);
    return showLogin(error instanceof ApiError ? error.message : String(error));
  }
  const select = byId<HTMLSelectElement>("workspace");
  select.replaceChildren(...workspaces.map((w) => el("option", { text: `${w.name} (${w.id})`, attrs: { value: w.id } })));
  const params = new URLSearchParams(location.search);
  const wanted = params.get("workspace");
  if (wanted && workspaces.some((w) => w.id === wanted)) select.value = wanted;
  state.view = VIEWS.find((v) => v.id === params.get("view")) ?? VIEWS[0]!;
  renderTabs();
  byId("login").hidden = true;
  byId("controls").hidden = false;
  byId("dashboard").hidden = false;
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
