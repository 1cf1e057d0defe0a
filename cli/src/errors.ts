import { APIConnectionError, APIError, MandateError } from '@mandate/sdk';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { redactText } from './io/redact.js';

/** A failure the CLI itself detects (a bad flag value, a missing profile), with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.usage,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A usage mistake: exit 2, nothing was sent. */
export const usageError = (message: string, hint?: string): CliError => new CliError(message, ExitCode.usage, hint);

/** What is printed for a failure: the problem document's fields, never its whole body. */
export interface ErrorReport {
  message: string;
  status?: number;
  code?: string;
  title?: string;
  detail?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
  hint?: string;
}

export function exitCodeOf(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof APIError) {
    if (error.status === 401 || error.status === 403) return ExitCode.auth;
    if (error.status === 404) return ExitCode.notFound;
    if (error.status >= 500) return ExitCode.server;
    // Status 0: the SDK refused before sending (an unreadable token file, say).
    if (error.status === 0) return ExitCode.auth;
    return ExitCode.apiError;
  }
  if (error instanceof APIConnectionError) return ExitCode.server;
  if (error instanceof MandateError) return ExitCode.usage;
  return ExitCode.apiError;
}

const stringField = (body: unknown, key: string): string | undefined => {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
};

function fieldErrors(body: unknown): { field: string; message: string }[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const list = (body as Record<string, unknown>).errors;
  if (!Array.isArray(list)) return undefined;
  return list.map((entry: unknown) => ({ field: stringField(entry, 'field') ?? '?', message: stringField(entry, 'message') ?? '' }));
}

/**
 * Every text that reaches the terminal goes through redactText: a server echoing a secret
 * back in a problem's detail must not put it on a CI log.
 */
export function reportOf(error: unknown): ErrorReport {
  if (error instanceof APIError) {
    const { body } = error;
    const report: ErrorReport = {
      message: redactText(error.message),
      status: error.status,
      ...(error.code === undefined ? {} : { code: error.code }),
      ...optional('title', stringField(body, 'title')),
      ...optional('detail', stringField(body, 'detail') ?? stringField(body, 'error_description')),
      ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
    };
    const errors = fieldErrors(body);
    if (errors !== undefined) report.errors = errors.map((e) => ({ field: e.field, message: redactText(e.message) }));
    if (error.status === 401) report.hint = 'Check the token: `mandate login`, MANDATE_API_TOKEN or --token-file.';
    return report;
  }
  if (error instanceof APIConnectionError) {
    return { message: redactText(error.message), hint: 'Is the server running, and is the base URL right (--base-url, MANDATE_BASE_URL or the profile)?' };
  }
  if (error instanceof CliError) return { message: redactText(error.message), ...(error.hint === undefined ? {} : { hint: error.hint }) };
  if (error instanceof Error) return { message: redactText(error.message) };
  return { message: redactText(String(error)) };
}

function optional(key: 'title' | 'detail', value: string | undefined): Partial<ErrorReport> {
  return value === undefined ? {} : { [key]: redactText(value) };
}
