// The resource's customTimeouts option as the inputs carry it: Go durations ("90s", "5m",
// "1h30m") read as whole seconds per operation, since the dynamic-provider runtime does not pass
// the option to the provider.

/** Seconds in a Go duration as `customTimeouts` takes it ("90s", "5m", "1h30m"); undefined if absent or unreadable. */
export function durationSeconds(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ms|h|m|s)/g, (_, n: string, unit: string) => {
    total += Number(n) * units[unit];
    return "";
  });
  return rest === "" && total > 0 ? Math.max(1, Math.round(total)) : undefined;
}

/** The operations customTimeouts names (Pulumi's CustomTimeouts, whose values are Go durations). */
export interface CustomTimeoutDurations {
  create?: string;
  update?: string;
  delete?: string;
}

/** The customTimeouts input: seconds per operation whose duration reads; undefined when none does. */
export function customTimeoutSeconds(t: CustomTimeoutDurations | undefined): Record<string, number> | undefined {
  if (!t) return undefined;
  const out: Record<string, number> = {};
  for (const op of ["create", "update", "delete"] as const) {
    const seconds = durationSeconds(t[op]);
    if (seconds !== undefined) out[op] = seconds;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
