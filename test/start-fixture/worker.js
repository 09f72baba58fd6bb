import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  async increment() {
    const value = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", value);
    return value;
  }
}

/** One endpoint per binding kind; `npm run test:start` calls them through the launcher's socket. */
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const tag = url.searchParams.get("tag") ?? "none";
    switch (url.pathname) {
      case "/vars":
        return Response.json({ greeting: env.GREETING, secret: env.FIXTURE_SECRET ?? null, config: env.DEFAULT_WORKSPACE_CONFIG ?? null });
      case "/kv":
        if (request.method === "PUT") await env.KV.put("k", tag);
        return Response.json({ value: await env.KV.get("k") });
      case "/do":
        return Response.json({ value: await env.COUNTER.get(env.COUNTER.idFromName("one")).increment() });
      case "/queue":
        await env.EVENTS.send({ tag });
        return Response.json({ sent: true });
      case "/r2":
        if (request.method === "PUT") await env.BUCKET.put("object", tag);
        return Response.json({ value: (await (await env.BUCKET.get("object"))?.text()) ?? null });
      case "/d1":
        return Response.json((await env.DB.prepare("SELECT body FROM events WHERE body = ?").bind(tag).all()).results);
      default:
        return new Response("not found", { status: 404 });
    }
  },
  async scheduled(controller, env) {
    await env.DB.prepare("INSERT INTO events (body) VALUES (?)").bind(`cron ${controller.cron}`).run();
  },
  async queue(batch, env) {
    for (const message of batch.messages) await env.DB.prepare("INSERT INTO events (body) VALUES (?)").bind(message.body.tag).run();
  },
};
