/**
 * Why an action stops. Its message is printed as the step's error, so it never carries a
 * token: only what Mandate or the runner said, and what to change.
 */
export class ActionFailure extends Error {
  override name = 'ActionFailure';
}

/** The message of anything thrown, on one line. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim();
}
