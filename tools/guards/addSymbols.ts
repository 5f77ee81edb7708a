// One-off conversion of tools/guards/guards.json to guards located by declaration: for each guard
// without a `symbol`, finds its `find` (by tokens) in its file, names the innermost declaration
// holding it (locate.ts's kinds: function, class, `Class.member`, const, `object.member`, ...) as
// its `symbol`, and checks the guard then resolves to the same code. `find`, `replace` and `file`
// (kept as a hint) are left as they are. `node dist/tools/guards/addSymbols.js [--write]`.
import * as fs from "node:fs";
import * as path from "node:path";
import { Guard, GUARDS_FILE, REPO_ROOT } from "./guardList";
import { innermostDeclaration, Locator, repoOnDisk } from "./locate";

function main(): number {
  const write = process.argv.includes("--write");
  const listPath = path.join(REPO_ROOT, GUARDS_FILE);
  const list = JSON.parse(fs.readFileSync(listPath, "utf8")) as { guards: Guard[] } & Record<string, unknown>;
  const locator = new Locator(repoOnDisk(REPO_ROOT));
  let added = 0;
  let problems = 0;
  list.guards = list.guards.map((guard) => {
    if (guard.symbol) return guard;
    try {
      const at = locator.locate({ id: guard.id, file: guard.file, find: guard.find });
      // The tokens matched must lie within the text the guard matched exactly before.
      const text = locator.text(at.file);
      const exact = text.indexOf(guard.find);
      if (exact === -1 || at.start < exact || at.end > exact + guard.find.length)
        throw new Error(`guard ${guard.id}: its tokens match elsewhere than its text`);
      const holder = innermostDeclaration(locator, at.file, at.start, at.end);
      if (!holder) {
        console.log(`file only ${guard.id}: ${at.file}:${at.line} is in no named declaration`);
        return guard;
      }
      const again = locator.locate({ id: guard.id, symbol: holder.name, file: guard.file, find: guard.find });
      if (again.file !== at.file || again.start !== at.start)
        throw new Error(`guard ${guard.id}: by ${holder.name} it resolves to ${again.file}:${again.line}`);
      added++;
      console.log(`symbol    ${guard.id}: ${holder.name} (${at.file}:${at.line})`);
      // `symbol` goes before `file`, the rest keeps its order.
      const { id, description, ...rest } = guard;
      return { id, description, symbol: holder.name, ...rest };
    } catch (err) {
      problems++;
      console.log(`PROBLEM   ${(err as Error).message}`);
      return guard;
    }
  });
  console.log(`${added} symbols added, ${problems} problems${write ? "" : " (dry run; --write writes guards.json)"}`);
  if (write && problems === 0) fs.writeFileSync(listPath, `${JSON.stringify(list, null, 2)}\n`);
  return problems > 0 ? 1 : 0;
}

process.exitCode = main();
