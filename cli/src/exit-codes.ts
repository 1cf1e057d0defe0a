/**
 * The process's exit status, one meaning each, so that scripts can branch on it without
 * parsing messages. Documented in README.md; every code has a test.
 */
export const ExitCode = {
  /** Done. */
  ok: 0,
  /** The API refused the request (a 4xx other than the three below: 400, 409, 422, 429…). */
  apiError: 1,
  /** The command line or the configuration is wrong; nothing was sent. */
  usage: 2,
  /** No credential, a credential the server refuses (401), or one without the right (403). */
  auth: 3,
  /** The thing named does not exist (404). */
  notFound: 4,
  /** The server failed (5xx) or could not be reached (connection refused, timeout). */
  server: 5,
  /** The command ran to its end but found failures: rows an import could not create, an audit chain or a token that does not verify. */
  failures: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
