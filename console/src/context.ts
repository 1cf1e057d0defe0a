import type { Mandate } from '@mandate/sdk';
import { createContext, useContext } from 'react';
import type { Principal } from './session';

export interface ConsoleState {
  client: Mandate;
  principal: Principal;
  /** The organization calls act in: the principal's own, or the one an instance admin picked. */
  orgId: string | null;
  chooseOrg: (orgId: string | null) => void;
}

export const ConsoleContext = createContext<ConsoleState | null>(null);

export function useConsole(): ConsoleState {
  const state = useContext(ConsoleContext);
  if (state === null) throw new Error('useConsole() outside a signed-in console');
  return state;
}

/** Readers see everything and change nothing; the server enforces it, the console says it early. */
export function canWrite(principal: Principal): boolean {
  return principal.role !== 'reader';
}
