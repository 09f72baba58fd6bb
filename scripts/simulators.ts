import { startSimulators } from "../test/simulators/node-server.ts";

/**
 * `npm run simulators [-- --port N]`: the provider simulators on http://127.0.0.1:8790, so the gateway answers
 * without any provider account. They accept any API key that starts with `sk-sim`.
 */
const portFlag = process.argv.indexOf("--port");
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : Number(process.env.SIMULATOR_PORT ?? 8790);
const { origin } = await startSimulators(port);
console.log(`switchyard simulators listening on ${origin}`);
console.log(`  OpenAI:    ${origin}/openai/v1`);
console.log(`  Anthropic: ${origin}/anthropic`);
console.log(`  Gemini:    ${origin}/gemini`);
console.log(`  Vertex AI: ${origin}/vertex (token endpoint ${origin}/vertex/token)`);
