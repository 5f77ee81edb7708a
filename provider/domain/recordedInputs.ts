// The inputs part of what state records (PolicyOutputs): the keys the schema declares, taken from
// outputs to re-validate at refresh and to report as the inputs a refresh found.
import type { PolicyOutputs } from "./policy";
import { INPUT_KEYS, type InputKey } from "./schema";

/** The inputs part of recorded outputs: what the program declared, and what its front end set. */
export type RecordedInputs = Pick<PolicyOutputs, InputKey>;

/** The inputs among recorded outputs (every key of the schema that has a value), nothing the provider observed. */
export function pickInputs(p: Partial<PolicyOutputs>): RecordedInputs {
  const out: Partial<Record<InputKey, unknown>> = {};
  for (const key of INPUT_KEYS) if (p[key] !== undefined) out[key] = p[key];
  return out as RecordedInputs;
}
