/**
 * The layer rule (docs/architecture.md, "Layers"): a module imports only its own layer and the layers below it,
 * and no import cycle exists, `import type` included. `npm run lint` runs this over src/ and durable-objects/;
 * `npm run test:lint` proves it fails on test/lint/fixture/, which breaks each rule once.
 */

/**
 * The files that define the config document: config/schema.ts, the parts it is assembled from, and the pure
 * helpers those parts validate with (guardrails' deny lists and detectors).
 */
const CONFIG_DOCUMENT = [
  "src/config/schema\\.ts",
  "src/config/validate\\.ts",
  "src/config/json-schema\\.ts",
  "src/routing/schema\\.ts",
  "src/cache/options\\.ts",
  "src/policy/limit-schemas\\.ts",
  "src/usage/pricing\\.ts",
  "src/providers/openai-compatible/presets\\.ts",
  "src/files/options\\.ts",
  "src/guardrails/(schema|deny|deny-pattern)\\.ts",
  "src/guardrails/detectors/[^/]+\\.ts",
];
/** The values handed to every step: the request's record and the Hono context type (AppEnv). */
const REQUEST_CONTEXT = ["src/settle/record\\.ts", "src/types\\.ts"];
/** A Durable Object sits in the layer of what it runs: the batch and fine-tuning drivers run batches and jobs. */
const BATCH_DRIVER = "^durable-objects/(batch|fine-tuning)-driver\\.ts$";

const anyOf = (patterns) => `^(${patterns.join("|")})$`;

/** Bottom to top. `paths` match a layer's files (each file in exactly one layer); `not` carves out files owned by a lower one. */
const LAYERS = [
  { name: "lib", paths: ["^src/lib/"] },
  { name: "schema", paths: ["^src/schema/"] },
  { name: "config-document", paths: [anyOf(CONFIG_DOCUMENT)] },
  { name: "routing", paths: ["^src/routing/"], not: [anyOf(CONFIG_DOCUMENT)], pure: true },
  { name: "providers", paths: ["^src/providers/"], not: [anyOf(CONFIG_DOCUMENT)], pure: true },
  { name: "dialects", paths: ["^src/dialects/"], pure: true },
  {
    name: "features",
    paths: ["^src/(cache|policy|usage|config|guardrails|files|audit|responses|limits|settle)/", "^durable-objects/", anyOf(REQUEST_CONTEXT)],
    not: [anyOf(CONFIG_DOCUMENT), BATCH_DRIVER],
  },
  { name: "pipeline", paths: ["^src/(pipeline|batches|fine-tuning)/", BATCH_DRIVER], not: [anyOf(REQUEST_CONTEXT)] },
  { name: "surface", paths: ["^src/(api|dashboard)/"] },
  { name: "entry", paths: ["^src/(app|index)\\.ts$"] },
];

/** Tests may compose layers (a translation test builds its input with a dialect parser); cycles still count. */
const TESTS = "\\.test\\.ts$";
const selector = (layer, { from = false } = {}) => ({ path: layer.paths, pathNot: [...(layer.not ?? []), ...(from ? [TESTS] : [])] });

/** Pure layers (routing, providers, dialects) sit side by side: none imports another. */
const PURE = LAYERS.filter((layer) => layer.pure);

const layerRules = LAYERS.flatMap((layer, index) => {
  const above = LAYERS.slice(index + 1);
  const siblings = layer.pure ? PURE.filter((other) => other !== layer) : [];
  return [...above, ...siblings].map((other) => ({
    name: `layer-${layer.name}-imports-no-${other.name}`,
    comment: `${layer.name} sits ${LAYERS.indexOf(other) > index ? "below" : "beside"} ${other.name} (docs/architecture.md, "Layers").`,
    severity: "error",
    from: selector(layer, { from: true }),
    to: selector(other),
  }));
});

/** A new folder has to be placed in the map: a module outside every layer may import nothing. */
const unlayered = {
  name: "every-module-in-a-layer",
  comment: "Add the module's folder to a layer here and in docs/architecture.md.",
  severity: "error",
  from: { path: "^(src|durable-objects)/", pathNot: [...LAYERS.flatMap((layer) => layer.paths), TESTS] },
  to: {},
};

module.exports = {
  forbidden: [
    unlayered,
    {
      name: "no-circular",
      comment: "No import cycles, `import type` included: a cycle makes two modules one concern.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...layerRules,
  ],
  options: {
    // Counts `import type` as a dependency, so type-only cycles and type-only layer breaks are found too.
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|worker-configuration\\.d\\.ts)" },
  },
};
