/**
 * jose is published as ES modules only. This CommonJS server loads it with import() once,
 * which works the same under Node and under the test runner.
 */
let loading: Promise<typeof import('jose')> | undefined;

export function jose(): Promise<typeof import('jose')> {
  loading ??= import('jose');
  return loading;
}
