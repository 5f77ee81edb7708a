// Reads the doc comments of a TypeScript source's interfaces and classes with the TypeScript
// compiler: what an IDE shows a user. The package schema of the provider plugin takes its
// descriptions from them (generate.ts), and test/unit/docComments.test.ts holds them to the
// settings table.
import * as fs from "node:fs";
import ts from "typescript";

/** Doc comments of the members of each interface and class in a source file, and of the declarations themselves. */
export function docComments(file: string): Map<string, { doc: string; members: Map<string, string> }> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const docOf = (node: ts.Node) =>
    ts
      .getJSDocCommentsAndTags(node)
      .map((d) => (typeof d.comment === "string" ? d.comment : (ts.getTextOfJSDocComment(d.comment) ?? "")))
      .join("\n")
      .replace(/\s+/g, " ")
      .trim();
  const found = new Map<string, { doc: string; members: Map<string, string> }>();
  source.forEachChild((node) => {
    if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name) {
      const members = new Map<string, string>();
      for (const m of node.members) {
        if ((ts.isPropertySignature(m) || ts.isPropertyDeclaration(m)) && m.name && ts.isIdentifier(m.name)) members.set(m.name.text, docOf(m));
      }
      found.set(node.name.text, { doc: docOf(node), members });
    }
  });
  return found;
}
