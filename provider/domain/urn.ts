// Pulumi URNs as the engine forms them: "urn:pulumi:<stack>::<project>::<qualified type>::<name>",
// the qualified type being the parent's type chain and the resource's own, joined by "$". The
// dynamic resource builds its own (the resourceUrn input); the plugin reads the owner from one.

/** The parts of a URN. */
export interface UrnParts {
  stack: string;
  project: string;
  /** The qualified type: "parentType$type", or the type alone at the stack's top. */
  type: string;
  /** The resource's name (which may itself contain "::"). */
  name: string;
}

/** The URN the engine gives a resource of this type and name directly under the stack (no parent). */
export function topLevelUrn(stack: string, project: string, type: string, name: string): string {
  return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

/** A URN's stack, project, qualified type and name. */
export function urnParts(urn: string): UrnParts {
  const [stack, project, type, ...name] = urn.replace(/^urn:pulumi:/, "").split("::");
  return { stack, project, type, name: name.join("::") };
}
