import { Hono } from "hono";
import { DASHBOARD_HTML } from "../dashboard/page";
// Built from src/dashboard/client by scripts/runtime/dashboard.ts (every run and deploy command builds it first).
import DASHBOARD_SCRIPT from "../dashboard/generated/app.js.txt";
import type { AppEnv } from "../types";

/** Only this page's own script, inline styles, and calls back to this origin (the admin API). */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const pageHeaders = (contentType: string) => ({
  "content-type": contentType,
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
});

/**
 * /dashboard: the dashboard. The page and its script are public and hold no data; everything shown comes from the
 * admin API, called with the admin token the user types in (see src/dashboard/page.ts and src/dashboard/client).
 */
export const dashboardApi = new Hono<AppEnv>()
  .get("/", (c) => c.body(DASHBOARD_HTML, 200, pageHeaders("text/html; charset=utf-8")))
  .get("/app.js", (c) => c.body(DASHBOARD_SCRIPT, 200, pageHeaders("text/javascript; charset=utf-8")));
