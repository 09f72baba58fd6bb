import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { unstable_startWorker } from "wrangler";
import { TEST_ADMIN_TOKEN, TEST_PROVIDER_KEYS, defaultTestConfig } from "../test/fixtures.ts";
import { startSimulators } from "../test/simulators/node-server.ts";
import { buildDashboard } from "./runtime/dashboard.ts";

/**
 * `npm run test:browser`: the usage dashboard in a real browser. Starts the provider simulators and the gateway
 * (wrangler's startWorker: local Queue, D1 with the migrations applied), seeds two weeks of usage history into
 * D1 and makes real requests through the gateway (they reach D1 through the Queue consumer), then opens
 * /dashboard in Debian's Chromium (playwright-core), signs in with the admin token and checks that every chart
 * draws the API's numbers. Then the roles: the owner creates a key and two admin tokens in the dashboard and sees
 * them in the audit log; a viewer gets no write control and no tokens tab; a workspace admin sees only its
 * workspace and revokes a key. Writes test-results/dashboard.png and test-results/audit.png.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const WORKSPACE = "demo";
const DAY_MS = 86_400_000;

function wrangler(args: string[]): void {
  const result = spawnSync("npx", ["wrangler", ...args], { encoding: "utf8", env: { ...process.env, CI: "1" } });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
}

/** The columns the seed rows fill (migration 0001's, by name, so later migrations' added columns keep their defaults). */
const SEED_COLUMNS = [
  "request_id", "client_request_id", "ts", "day", "workspace_id", "key_id", "route", "operation", "provider", "model", "attempts", "attempt_count",
  "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "usage_estimated", "cost_usd", "cache_status",
  "saved_tokens", "saved_usd", "coalesced", "stream", "ttfb_ms", "total_ms", "overhead_ms", "status", "outcome", "error_type", "rescued", "delivery_attempts",
];

/** Synthetic history for the 13 days before today: spend, errors, rescues and cache hits on several dimensions. */
function historySql(keyIds: string[]): { sql: string; rows: number } {
  const models = [["openai", "gpt-4o-mini", 0.15, 0.6], ["openai", "gpt-4.1", 2, 8], ["anthropic", "claude-sonnet-4-5", 3, 15]] as const;
  const statements: string[] = [];
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  for (let day = 13; day >= 1; day--) {
    const perDay = 3 + ((day * 7) % 5);
    for (let i = 0; i < perDay; i++) {
      const [provider, model, input, output] = models[(day + i) % models.length]!;
      const ts = today - day * DAY_MS + i * 3_600_000;
      const prompt = 800 + ((day * 131 + i * 17) % 1200);
      const completion = 200 + ((day * 71 + i * 29) % 600);
      const failed = (day + i) % 9 === 0;
      const hit = !failed && (day + i) % 6 === 0;
      const rescued = !failed && (day + i) % 7 === 0;
      const cost = failed ? 0 : (prompt * input + completion * output) / 1e6;
      const total = 300 + ((day * 37 + i * 53) % 1700);
      const values = [
        `'hist_${day}_${i}'`, "NULL", ts, `'${new Date(ts).toISOString().slice(0, 10)}'`, `'${WORKSPACE}'`, `'${keyIds[(day + i) % keyIds.length]}'`,
        i % 2 === 0 ? "'smart'" : "NULL", "'chat'", failed ? "NULL" : `'${provider}'`, failed ? "NULL" : `'${model}'`, "'[]'", rescued ? 2 : 1,
        failed ? 0 : prompt, failed ? 0 : completion, 0, 0, 0, 0, hit ? 0 : cost, hit ? "'HIT'" : "'MISS'", hit ? prompt + completion : 0, hit ? cost : "NULL",
        0, 0, 100, total, 2.5, failed ? 502 : 200, failed ? "'error'" : "'success'", failed ? "'upstream_error'" : "NULL", rescued ? 1 : 0, 1,
      ];
      statements.push(`INSERT INTO usage_events (${SEED_COLUMNS.join(", ")}) VALUES (${values.join(", ")});`);
    }
  }
  return { sql: statements.join("\n"), rows: statements.length };
}

/**
 * fetch, once more when a kept-alive socket turned out to be closed by the local server while the script was busy
 * seeding (nothing was sent on it, so a retry is safe).
 */
async function fetchFresh(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
    if (cause?.code !== "UND_ERR_SOCKET") throw error;
    return fetch(url, init);
  }
}

type Report = { totals: { requests: number; costUsd: number | null; unpricedRequests: number }; groups: { key: string; costUsd: number | null; requests: number }[] };

async function main(): Promise<void> {
  await buildDashboard();
  const simulators = await startSimulators();
  const persist = mkdtempSync(join(tmpdir(), "switchyard-browser-"));
  const cleanups: (() => Promise<unknown> | void)[] = [() => simulators.close(), () => rmSync(persist, { recursive: true, force: true })];
  try {
    wrangler(["d1", "migrations", "apply", "switchyard-usage", "--local", "--persist-to", persist]);
    const plain = (value: string) => ({ type: "plain_text" as const, value });
    const worker = await unstable_startWorker({
      config: "wrangler.toml",
      bindings: {
        ADMIN_TOKEN: plain(TEST_ADMIN_TOKEN),
        OPENAI_API_KEY: plain(TEST_PROVIDER_KEYS.OPENAI_API_KEY),
        ANTHROPIC_API_KEY: plain(TEST_PROVIDER_KEYS.ANTHROPIC_API_KEY),
        DEFAULT_WORKSPACE_CONFIG: plain(JSON.stringify(defaultTestConfig(simulators.origin))),
        // The demo workspace's config names Worker secrets and the simulators on 127.0.0.1: the operator allows both.
        WORKSPACE_ENV_SECRETS: plain(`${WORKSPACE}=OPENAI_API_KEY,ANTHROPIC_API_KEY`),
        ALLOW_PRIVATE_UPSTREAMS: plain(WORKSPACE),
      },
      dev: { persist, server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false, logLevel: (process.env.WRANGLER_LOG ?? "warn") as "warn" },
    });
    cleanups.unshift(() => worker.dispose());
    const origin = (await worker.url).origin;
    const adminCall = async (path: string, init: RequestInit = {}) => {
      const res = await fetchFresh(`${origin}/admin${path}`, { ...init, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" } });
      if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<unknown>;
    };

    // A workspace with two keys, its providers at the simulators.
    const scenario = `browser-${Date.now()}`;
    await adminCall("/workspaces", { method: "POST", body: JSON.stringify({ id: WORKSPACE, name: "Demo" }) });
    await adminCall(`/workspaces/${WORKSPACE}/config`, {
      method: "PUT",
      body: JSON.stringify({
        providers: {
          openai: { type: "openai", baseURL: `${simulators.origin}/s/${scenario}/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
          anthropic: { type: "anthropic", baseURL: `${simulators.origin}/s/${scenario}/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } },
        },
        routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
        guardrails: {
          policies: {
            standard: {
              input: [
                { name: "weather-watch", deny: { words: ["weather"] }, action: "flag" },
                { name: "no-cards", detect: ["card"], action: "block" },
              ],
            },
          },
          default: "standard",
        },
      }),
    });
    const keys = [] as { id: string; key: string }[];
    for (const name of ["backend", "batch-jobs"]) keys.push((await adminCall(`/workspaces/${WORKSPACE}/keys`, { method: "POST", body: JSON.stringify({ name }) })) as { id: string; key: string });

    const history = historySql(keys.map((k) => k.id));
    const seedFile = join(persist, "seed.sql");
    writeFileSync(seedFile, history.sql);
    wrangler(["d1", "execute", "switchyard-usage", "--local", "--persist-to", persist, "--file", seedFile]);

    // Today's requests, through the gateway for real.
    const chat = (key: string, model: string, content: string) =>
      fetchFresh(`${origin}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model, messages: [{ role: "user", content }] }) }).then((r) => r.text());
    for (let i = 0; i < 6; i++) await chat(keys[0]!.key, "smart", `question number ${i} about the weather`);
    for (let i = 0; i < 3; i++) await chat(keys[1]!.key, "anthropic/claude-sonnet-4-5", `summarise document ${i}`);
    await chat(keys[1]!.key, "openai/sim-house-model", "an unpriced model");
    await fetchFresh(`${simulators.origin}/_control/scenarios/${scenario}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ faults: [{ status: 503 }] }) });
    await chat(keys[0]!.key, "smart", "this one fails upstream");
    await chat(keys[0]!.key, "smart", "charge card 4111 1111 1111 1111");
    const expected = history.rows + 12;

    let totals: Report["totals"] | undefined;
    for (let waited = 0; waited < 30_000; waited += 250) {
      totals = ((await adminCall(`/workspaces/${WORKSPACE}/usage`)) as Report).totals;
      if (totals.requests >= expected) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(totals?.requests, expected, "every request's usage event reached D1 through the Queue");
    const byModel = (await adminCall(`/workspaces/${WORKSPACE}/usage?groupBy=model`)) as Report;

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    cleanups.unshift(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().includes("401")) problems.push(`console: ${message.text()}`);
    });

    await page.goto(`${origin}/dashboard?workspace=${WORKSPACE}`);
    await signIn(page, "not-the-token");
    await page.waitForSelector("#login-error:not([hidden])");
    assert.match(await page.textContent("#login-error") ?? "", /not accepted/);

    await signIn(page, TEST_ADMIN_TOKEN);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 15_000 });
    await checkCharts(page, { requests: expected, totalCost: totals!.costUsd ?? 0, keyIds: keys.map((k) => k.id), models: byModel.groups });

    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });
    await checkRoles(page, keys.map((k) => k.id));
    assert.deepEqual(problems, [], "no script errors or CSP violations");
    console.log(`test:browser passed — ${expected} requests drawn; roles checked; screenshots test-results/dashboard.png, test-results/audit.png`);
  } finally {
    for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => undefined);
  }
}

/** Opens a tab and waits until its view has drawn its data. */
async function openView(page: Page, view: string): Promise<void> {
  await page.click(`#views .tab[data-view=${view}]`);
  await page.waitForSelector(`body[data-loaded=true] [data-view-root=${view}]`, { timeout: 15_000 });
}

const tabsOf = (page: Page) => page.$$eval("#views .tab", (tabs) => tabs.map((t) => t.getAttribute("data-view")));
const workspaceOptions = (page: Page) => page.$$eval("#workspace option", (options) => options.map((o) => (o as HTMLOptionElement).value));
const rowsWith = (page: Page, attribute: string) => page.$$eval(`[data-view-root] tr[${attribute}]`, (rows, name) => rows.map((r) => r.getAttribute(name)), attribute);
const writeControls = (page: Page) => page.$$eval("[data-view-root] [data-write]", (elements) => elements.length);

async function createInForm(page: Page, fields: Record<string, string>, submit: string): Promise<string> {
  for (const [name, value] of Object.entries(fields)) {
    if (name === "token-role") await page.selectOption(`[name=${name}]`, value);
    else await page.fill(`[name=${name}]`, value);
  }
  await page.click(`button:has-text("${submit}")`);
  const secret = await page.waitForSelector("[data-new-secret] code", { timeout: 15_000 });
  return (await secret.textContent()) ?? "";
}

async function signOutAndIn(page: Page, token: string): Promise<void> {
  await page.click("#logout");
  await signIn(page, token);
  await page.waitForSelector("body[data-loaded=true]", { timeout: 15_000 });
}

async function checkRoles(page: Page, keyIds: string[]): Promise<void> {
  // The owner (ADMIN_TOKEN): every tab; creates a key and two admin tokens here, and finds them in the audit log.
  assert.match((await page.textContent("#identity")) ?? "", /owner/);
  assert.deepEqual(await tabsOf(page), ["usage", "keys", "audit", "tokens"], "the owner gets every tab");
  await openView(page, "keys");
  assert.deepEqual((await rowsWith(page, "data-key-id")).sort(), [...keyIds].sort(), "the workspace's keys are listed");
  const uiKey = await createInForm(page, { "key-name": "ui-made" }, "Create key");
  assert.match(uiKey, /^sy-[0-9A-Za-z]{32}$/, "a key made in the dashboard is shown once");
  assert.equal((await rowsWith(page, "data-key-id")).length, keyIds.length + 1);

  await openView(page, "tokens");
  const viewerToken = await createInForm(page, { "token-name": "finance", "token-role": "viewer", "token-workspaces": "" }, "Create token");
  await openView(page, "tokens");
  const adminToken = await createInForm(page, { "token-name": "demo-admin", "token-role": "workspace_admin", "token-workspaces": WORKSPACE }, "Create token");
  assert.match(viewerToken, /^sya-/);
  assert.deepEqual((await rowsWith(page, "data-role")).sort(), ["viewer", "workspace_admin"], "both tokens are listed with their roles");

  await openView(page, "audit");
  await page.selectOption("[name=audit-scope]", "all");
  await page.waitForSelector("[data-view-root] tr[data-action='admin_token.create']");
  const actions = await rowsWith(page, "data-action");
  assert.ok(actions.includes("key.create") && actions.filter((a) => a === "admin_token.create").length === 2, `the owner's writes are in the audit log: ${actions.join(", ")}`);
  await page.screenshot({ path: "test-results/audit.png", fullPage: true });

  // A viewer: read-only, every workspace, no tokens tab and no write control anywhere.
  await signOutAndIn(page, viewerToken);
  assert.match((await page.textContent("#identity")) ?? "", /finance · viewer/);
  assert.deepEqual(await tabsOf(page), ["usage", "keys", "audit"], "a viewer gets no tokens tab");
  assert.deepEqual((await workspaceOptions(page)).sort(), ["default", WORKSPACE].sort());
  await openView(page, "keys");
  assert.equal((await rowsWith(page, "data-key-id")).length, keyIds.length + 1, "a viewer sees the keys");
  assert.equal(await writeControls(page), 0, "a viewer gets no create or revoke control");
  await openView(page, "audit");
  assert.ok((await rowsWith(page, "data-action")).includes("key.create"), "a viewer reads the audit log");

  // A workspace admin: only its workspace; it may write there.
  await signOutAndIn(page, adminToken);
  assert.deepEqual(await workspaceOptions(page), [WORKSPACE], "a workspace admin sees only its workspace");
  assert.deepEqual(await tabsOf(page), ["usage", "keys", "audit"]);
  await openView(page, "keys");
  assert.ok((await writeControls(page)) > 0, "a workspace admin gets write controls in its workspace");
  const uiKeyRow = `[data-view-root] tr:has-text("ui-made")`;
  await page.click(`${uiKeyRow} button:has-text("Revoke")`);
  await page.click(`${uiKeyRow} button:has-text("Confirm revoke")`);
  await page.waitForFunction((n) => document.querySelectorAll("[data-view-root] tr[data-key-id]").length === n, keyIds.length);
  await openView(page, "audit");
  assert.equal(await page.$$eval("[name=audit-scope] option", (o) => o.length), 1, "a scoped token cannot ask for the whole log");
  const revoked = await page.$$eval("[data-view-root] tr[data-action='key.revoke']", (rows) => rows.map((r) => ({ actor: r.getAttribute("data-actor"), who: r.children[1]?.textContent })));
  assert.equal(revoked.length, 1);
  assert.match(revoked[0]!.actor ?? "", /^adm_/, "the revocation is recorded under the workspace admin's token");
  assert.match(revoked[0]!.who ?? "", /demo-admin \(workspace_admin\)/);
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.waitForSelector("#login:not([hidden])");
  await page.fill("#token", token);
  await page.click("#login button[type=submit]");
}

type Bar = { key: string | null; series: string | null; value: string | null };
const barsOf = (page: Page, chart: string): Promise<Bar[]> =>
  page.$$eval(`[data-chart=${chart}] svg rect.bar`, (rects) => rects.map((r) => ({ key: r.getAttribute("data-key"), series: r.getAttribute("data-series"), value: r.getAttribute("data-value") })));

async function checkCharts(page: Page, expected: { requests: number; totalCost: number; keyIds: string[]; models: Report["groups"] }): Promise<void> {
  const requestsKpi = await page.textContent("[data-kpi=requests] .value");
  assert.equal(requestsKpi?.replace(/,/g, ""), String(expected.requests), "the requests KPI");

  const spend = await barsOf(page, "spend-over-time");
  assert.equal(spend.length, 30, "one spend column per day of the 30-day range");
  const drawnSpend = spend.reduce((sum, bar) => sum + Number(bar.value), 0);
  assert.ok(Math.abs(drawnSpend - expected.totalCost) < 1e-9, `spend columns add up to the total (${drawnSpend} vs ${expected.totalCost})`);
  assert.ok(spend.filter((bar) => Number(bar.value) > 0).length >= 14, "two weeks of spend are drawn");

  const perDay = await barsOf(page, "requests-over-time");
  const drawnRequests = perDay.filter((bar) => bar.series === "requests").reduce((sum, bar) => sum + Number(bar.value), 0);
  assert.equal(drawnRequests, expected.requests, "request columns add up to the total");
  assert.ok(perDay.some((bar) => bar.series === "errors" && Number(bar.value) > 0), "errors are drawn");
  assert.ok(perDay.some((bar) => bar.series === "rescued" && Number(bar.value) > 0), "rescues are drawn");

  const keys = await barsOf(page, "keys");
  assert.deepEqual(keys.map((bar) => bar.key).sort(), [...expected.keyIds].sort(), "one bar per key");
  const keyLabels = await page.textContent("[data-chart=keys]");
  assert.ok(keyLabels?.includes("backend") && keyLabels.includes("batch-jobs"), "keys are labelled by name");
  const routes = await barsOf(page, "routes");
  assert.deepEqual(routes.map((bar) => bar.key).sort(), ["(direct)", "smart"]);
  const providers = await barsOf(page, "providers");
  assert.ok(["openai", "anthropic"].every((p) => providers.some((bar) => bar.key === p)), "providers drawn");

  const models = await barsOf(page, "models");
  for (const group of expected.models.slice(0, 8)) {
    const bar = models.find((b) => b.key === group.key);
    assert.ok(bar, `model ${group.key} drawn`);
    if (group.costUsd === null) assert.equal(bar.value, "unpriced", `${group.key} shown as unpriced, not $0`);
    else assert.ok(Math.abs(Number(bar.value) - group.costUsd) < 1e-12, `${group.key} bar is its cost`);
  }
  assert.match(await page.textContent("[data-chart=models]") ?? "", /unpriced/);

  const rates = await barsOf(page, "rates");
  assert.deepEqual(rates.map((bar) => bar.key), ["errors", "rescued", "cache"]);
  assert.ok(rates.every((bar) => Number(bar.value) > 0), "error, rescue and cache-hit rates are non-zero with this data");

  const guardrails = Object.fromEntries((await barsOf(page, "guardrails")).map((bar) => [`${bar.key}/${bar.series}`, Number(bar.value)]));
  assert.equal(guardrails["weather-watch/flagged"], 6, "the flag rule's matches are drawn");
  assert.equal(guardrails["no-cards/blocked"], 1, "the block rule's refusal is drawn");
  assert.match((await page.textContent("[data-kpi=guardrails] .value")) ?? "", /^1$/);

  const latency = await barsOf(page, "latency");
  assert.ok(latency.filter((bar) => bar.key === "all").length === 3, "p50, p95 and p99 for all requests");
  const all = Object.fromEntries(latency.filter((bar) => bar.key === "all").map((bar) => [bar.series, Number(bar.value)]));
  assert.ok(all.p50! > 0 && all.p50! <= all.p95! && all.p95! <= all.p99!, "percentiles are ordered");
}

await main();
