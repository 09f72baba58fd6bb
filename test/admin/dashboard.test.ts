import { describe, expect, it } from "vitest";
import { gateway } from "../helpers";

describe("/dashboard", () => {
  it("serves the HTML shell and the bundled script (one classic script, no module imports) under a strict CSP", async () => {
    const page = await gateway("/dashboard");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/dashboard/app.js" defer></script>');

    const script = await gateway("/dashboard/app.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("content-security-policy")).toContain("default-src 'none'");
    const source = await script.text();
    // Bundled from src/dashboard/client (TypeScript): an IIFE with every module inlined, types erased.
    expect(source.startsWith('"use strict";(()=>{')).toBe(true);
    expect(source).not.toMatch(/\bimport\s*[{*"']|\bexport\s*[{*]|:\s*HTMLElement\b/);
    expect(source).toContain("/admin/workspaces");
  });
});
