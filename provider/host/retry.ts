// Retries a remote run after transient faults (connection refused or reset before the script
// started, sshd MaxStartups, WinRM 503 and shell quotas) with exponential backoff and jitter,
// inside the operation's deadline. Fatal faults (authentication, host key or certificate,
// access denied, anything the host answered) are never retried.
import { HostError } from "../errors";

/** When the whole operation must be over (epoch ms), and how long one attempt may take at most. */
export interface Deadline {
  atMs: number;
  attemptMs: number;
}

export function deadlineIn(totalSeconds: number, attemptSeconds: number, now = Date.now()): Deadline {
  return { atMs: now + totalSeconds * 1000, attemptMs: attemptSeconds * 1000 };
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** [0, 1): injectable so tests can pin the jitter. */
  random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 4000, random: Math.random };

/** Exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
function backoffMs(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return ceiling / 2 + policy.random() * (ceiling / 2);
}

export async function withRetries<T>(deadline: Deadline, attempt: (attemptDeadlineMs: number) => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let n = 1; ; n++) {
    const started = Date.now();
    try {
      return await attempt(Math.min(deadline.atMs, started + deadline.attemptMs));
    } catch (err) {
      if (!(err instanceof HostError) || !err.transient) throw err;
      const wait = backoffMs(n, policy);
      // No attempt is started that the deadline would cut short, as far as the last one tells: it
      // would only turn the fault the host keeps giving into a timeout.
      const took = Date.now() - started;
      if (n >= policy.maxAttempts || Date.now() + wait + took >= deadline.atMs) {
        // Transient faults come before the script ran: there is no partial reply to carry on.
        throw new HostError(err.kind, err.host, `${err.detail}; gave up after ${n} attempt${n === 1 ? "" : "s"}`, err.advice);
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
