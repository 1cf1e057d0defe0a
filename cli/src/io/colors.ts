import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colour only for a person at a terminal: never with NO_COLOR (any value, per no-color.org)
 * or --no-color, never into a pipe or file, never for TERM=dumb. FORCE_COLOR turns it on.
 * picocolors' own detection also colours any non-TTY output when CI is set, which would put
 * escape codes into parsed output, so the decision is made here.
 */
export function colorsEnabled(stream: NodeJS.WriteStream, flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag === false || 'NO_COLOR' in env) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  // isTTY is undefined (not false) for a pipe, and createColors(undefined) would guess again.
  return (stream.isTTY as boolean | undefined) === true && env.TERM !== 'dumb';
}

export const makeColors = (enabled: boolean): Colors => pc.createColors(enabled);

/** Status words coloured by what they mean: go, caution, stop. */
export function statusColor(colors: Colors, status: string): string {
  if (['active', 'success', 'approved', 'succeeded', 'delivered', 'enabled', 'true'].includes(status)) return colors.green(status);
  if (['suspended', 'pending', 'expired', 'retrying'].includes(status)) return colors.yellow(status);
  if (['decommissioned', 'revoked', 'failure', 'denied', 'failed', 'disabled', 'false'].includes(status)) return colors.red(status);
  return status;
}
