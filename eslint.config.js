// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * ESLint for the code's own rules; import layers and cycles are dependency-cruiser's (.dependency-cruiser.cjs).
 * Both run in `npm run lint`. Everything gets typescript-eslint's recommended rules; the Worker's own code
 * (src/, durable-objects/) also gets the type-aware ones (floating promises, unsafe `any` flows, ...), which
 * need the type checker and so stay off the tests and scripts to keep the run short.
 */
export default tseslint.config(
  // Generated or local-only (as in .gitignore), plus the fixtures that break rules on purpose.
  { ignores: ["node_modules/", "dist/", ".wrangler/", ".switchyard/", "test-results/", "bench-results/", "worker-configuration.d.ts", "test/start-fixture/", "test/lint/fixture/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    files: ["src/**/*.ts", "durable-objects/**/*.ts"],
    ignores: ["**/*.test.ts"],
    extends: [tseslint.configs.recommendedTypeCheckedOnly],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    // The dashboard's browser script has its own compiler options (DOM, no Workers types).
    files: ["src/dashboard/client/**/*.ts"],
    languageOptions: { parserOptions: { projectService: false, project: ["./tsconfig.dashboard.json"], tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
);
