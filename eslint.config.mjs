// ESLint's configuration (`npm run lint`): ESLint's and typescript-eslint's recommended rules over
// the TypeScript of provider/, policy/, tools/, test/ and examples/, with the few rules below set
// to what the code already follows.
//
// Not type-aware (typescript-eslint's recommendedTypeChecked): measured on this repository on 2
// cores, it takes about 3.5 times the CPU (30 s against 11 s; 45 s of wall time under load, and
// 1.1 GB of memory) and reports some 600 findings, nearly all the no-unsafe-* rules over values
// that are untyped on purpose (parsed XML and JSON, the SDK's generated protobuf modules) and
// only-throw-error over the PowerShell interpreter's control-flow signals; `tsc` with `strict`
// already checks the types.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    // Build output, the Pulumi CLI's build, test scratch directories, and recorded fixtures
    // (test/fixtures: bytes MIT Kerberos produced, and the scripts that made them).
    ignores: ["dist/", "node_modules/", ".pulumi-cli/", "test/.work*/", "test/fixtures/"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a binding kept only to be left out (`const { reqBodyDer: _, ...req }`).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      // `let server; ... () => server.handle(...) ...; server = new ...`: a handler made before the
      // object it calls, assigned once, is not a const.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // require() is used where import cannot say it: a specifier computed at run time (the
      // serialized provider loads operations.js by the installed package's name), a module
      // resolved from @pulumi/pulumi's own directory, and the SDK's untyped generated protobuf.
      "@typescript-eslint/no-require-imports": "off",
      // Control characters in regular expressions are meant: inputs are refused when they hold
      // any (\x00-\x1f), NUL-separated values are split, terminal colour codes (\x1b) removed.
      "no-control-regex": "off",
      // Walking a chain from `this` (`for (let s: Scope | null = this; s; s = s.parent)`) is not
      // the `const self = this` the rule is for; closures here are arrow functions.
      "@typescript-eslint/no-this-alias": "off",
    },
  },
  {
    // No line of product or tooling code over Prettier's width (.prettierrc.json, printWidth):
    // Prettier breaks code, but not a long string or comment, which must be split by hand.
    files: ["provider/**", "policy/**", "tools/**"],
    rules: { "max-len": ["error", { code: 160, tabWidth: 2 }] },
  },
  {
    // Tests read results whose type they are checking with `as any`; the product writes an
    // explicit `any` only with an eslint-disable comment giving the reason (transport/winrm/soap.ts).
    files: ["test/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // The plugin SDK's class takes the dynamic resource's output declarations by merging with an
    // interface of the same name (provider/sdk.ts, SmbSigningPolicy).
    files: ["provider/sdk.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-declaration-merging": "off",
      "@typescript-eslint/no-empty-object-type": "off",
    },
  },
  {
    // tools/link-self.js is a CommonJS script Node runs before anything is compiled.
    files: ["**/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly", console: "readonly" },
    },
  },
);
