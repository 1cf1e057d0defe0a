import type { AdminRole } from '../store/admin-tokens';

/** Who is calling, once authenticated. */
export interface Principal {
  /** Admin token id. */
  id: string;
  /** The token's organization; null for the instance administrator. */
  orgId: string | null;
  role: AdminRole;
  scopes: ReadonlySet<string>;
}
