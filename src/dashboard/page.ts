/**
 * The dashboard's HTML shell. It holds no data and no secret: the script (bundled from ./client, served as
 * /dashboard/app.js) asks for an admin token, keeps it in sessionStorage (gone when the tab closes), sends it as a
 * bearer token to the admin API and draws each view into #view.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard</title>
<link rel="icon" href="data:,">
<style>
  :root { --ink: #1d2433; --muted: #667085; --line: #e4e7ec; --bg: #f6f7f9; --card: #fff; --accent: #3b6df6; --warn: #e0613a; --ok: #1f9d6b; --alt: #9b6bf2; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 16px; margin: 0 auto 0 0; }
  main { padding: 20px 24px; max-width: 1280px; margin: 0 auto; }
  select, input, button { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
  button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
  button.secondary { background: #fff; color: var(--ink); border-color: var(--line); }
  #login { max-width: 380px; margin: 80px auto; background: var(--card); padding: 24px; border-radius: 10px; border: 1px solid var(--line); }
  #login label { display: block; margin-bottom: 8px; }
  #login input { width: 100%; margin-bottom: 12px; }
  .kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin-bottom: 16px; }
  .kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
  .kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .kpi .value { font-size: 22px; font-weight: 600; margin-top: 4px; }
  .kpi .sub { color: var(--muted); font-size: 12px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 16px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
  .card.wide { grid-column: 1 / -1; }
  .card h2 { font-size: 13px; margin: 0 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
  svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
  svg .label { fill: var(--ink); }
  .error { color: var(--warn); margin: 12px 0; }
  .empty { color: var(--muted); padding: 24px 0; text-align: center; }
  nav#views { display: flex; gap: 4px; margin-bottom: 16px; border-bottom: 1px solid var(--line); }
  nav#views .tab { background: none; color: var(--muted); border: none; border-bottom: 2px solid transparent; border-radius: 0; padding: 8px 12px; }
  nav#views .tab.active { color: var(--ink); border-bottom-color: var(--accent); }
  #identity { color: var(--muted); font-size: 13px; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 500; }
  code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
  .inline-form { display: flex; gap: 8px; flex-wrap: wrap; margin: 4px 0 12px; }
  .notice { background: #eef7f1; border: 1px solid #b9e2c9; border-radius: 6px; padding: 8px 10px; margin: 8px 0; word-break: break-all; }
  button.danger { color: var(--warn); border-color: var(--warn); }
  .sub { color: var(--muted); font-size: 12px; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1>Switchyard</h1>
  <span id="controls" hidden>
    <span id="identity"></span>
    <select id="workspace" aria-label="Workspace"></select>
    <select id="range" aria-label="Time range"><option value="7">Last 7 days</option><option value="30" selected>Last 30 days</option><option value="90">Last 90 days</option></select>
    <button id="logout" class="secondary" type="button">Sign out</button>
  </span>
</header>
<form id="login" hidden>
  <label for="token">Admin token</label>
  <input id="token" type="password" autocomplete="current-password" required>
  <button type="submit">Open dashboard</button>
  <p class="sub">ADMIN_TOKEN or an admin token made through the API; what you see follows its role. Kept in this tab only (sessionStorage) and sent as a bearer token to the admin API.</p>
  <p id="login-error" class="error" hidden></p>
</form>
<main id="dashboard" hidden>
  <nav id="views" aria-label="Views"></nav>
  <p id="load-error" class="error" hidden></p>
  <div id="view"></div>
</main>
<script src="/dashboard/app.js" defer></script>
</body>
</html>`;
