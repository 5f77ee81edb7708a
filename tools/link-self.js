// Lets code in this checkout (the examples, and the dynamic provider's run-time
// `require("pulumi-smb-signing/...")`) resolve the package by its name, as it does for users
// who install it from npm. Run by `npm install` / `npm ci` ("prepare").
const fs = require("node:fs");
const path = require("node:path");
const link = path.join(__dirname, "..", "node_modules", "pulumi-smb-signing");
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  if (fs.readlinkSync(link) === "..") process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {
  // not a link yet
}
fs.symlinkSync("..", link, "dir");
