import type { AdminRole } from '../store/admin-tokens';

/** Who is calling, once authenticated. */
export interface Principal {
  kind: 'admin_token' | 'agent';
  /** Admin token id, or agent id. */
  id: string;
  /** The caller's organization; null for the instance administrator. */
  orgId: string | null;
  /** An admin token's role; agents have scopes only. */
  role: AdminRole | null;
  scopes: ReadonlySet<string>;
  /** For a delegated access token: the agents acting for `id`, nearest first (its `act` chain). */
  actors?: readonly string[];
}
