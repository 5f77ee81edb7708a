// The checkout's root, for tests and tools that read its files: compiled to dist/tools/repoRoot.js,
// two levels below it.
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
