import * as core from '@actions/core';
import { ActionFailure } from './failure.js';

/** An input's trimmed value, or undefined when it is empty or not given. */
export function optionalInput(name: string): string | undefined {
  const value = core.getInput(name);
  return value === '' ? undefined : value;
}

export function requiredInput(name: string, what: string): string {
  const value = optionalInput(name);
  if (value === undefined) throw new ActionFailure(`The input ${name} is required: ${what}.`);
  return value;
}

/** Mandate's base URL, without trailing slashes; http or https only. */
export function baseUrlInput(): string {
  const value = requiredInput('base-url', 'the URL of the Mandate server, such as https://mandate.example.com');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ActionFailure(`The input base-url is not a URL: ${value}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ActionFailure(`The input base-url must be an http or https URL, not ${url.protocol}.`);
  if (url.search !== '' || url.hash !== '') throw new ActionFailure('The input base-url must have no query or fragment.');
  return value.replace(/\/+$/, '');
}

/** Scopes given as a list separated by spaces, commas or new lines, without repeats. */
export function scopesInput(name: string): string[] | undefined {
  const value = optionalInput(name);
  if (value === undefined) return undefined;
  return [...new Set(value.split(/[\s,]+/).filter((scope) => scope !== ''))];
}

/** The runner owns these: a step cannot set them, or must not (NODE_OPTIONS runs code in later steps). */
const RESERVED_ENV = /^(GITHUB_|RUNNER_|ACTIONS_)|^(CI|HOME|PATH|NODE_OPTIONS)$/i;

/** The name of an environment variable to export a value to, if any. */
export function envNameInput(name: string): string | undefined {
  const value = optionalInput(name);
  if (value === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new ActionFailure(`The input ${name} must be an environment variable name (letters, digits and _), not "${value.slice(0, 100)}".`);
  if (RESERVED_ENV.test(value)) throw new ActionFailure(`The input ${name} may not name ${value}, which the runner reserves; choose a name such as MANDATE_ACCESS_TOKEN.`);
  return value;
}
