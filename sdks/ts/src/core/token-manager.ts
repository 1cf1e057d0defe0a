export interface IssuedToken {
  accessToken: string;
  /** Lifetime in seconds, as the token endpoint reported it. */
  expiresIn: number;
  /** `Bearer`, or `DPoP` for a token bound to the client's DPoP key. */
  tokenType: string;
}

/** A cached access token and how it must be presented. */
export interface ManagedToken {
  value: string;
  /** `DPoP` (any case) when it is bound to the client's DPoP key; otherwise a bearer token. */
  type: string;
}

/** Refresh this long before expiry (or at half the lifetime, for short-lived tokens). */
const REFRESH_MARGIN_MS = 60_000;

/**
 * Caches an agent's access token. Concurrent callers share one in-flight token request;
 * the token is replaced ahead of its expiry, or at once after the API refused it.
 */
export class TokenManager {
  private current: { token: ManagedToken; refreshAt: number } | undefined;
  private inFlight: Promise<ManagedToken> | undefined;

  constructor(
    private readonly issue: () => Promise<IssuedToken>,
    private readonly now: () => number,
  ) {}

  token(): Promise<ManagedToken> {
    if (this.current !== undefined && this.now() < this.current.refreshAt) return Promise.resolve(this.current.token);
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Forgets `token` if it is still the cached one (a 401 said it is no longer good). */
  invalidate(token: string): void {
    if (this.current?.token.value === token) this.current = undefined;
  }

  private async refresh(): Promise<ManagedToken> {
    const issuedAt = this.now();
    const { accessToken, expiresIn, tokenType } = await this.issue();
    const lifetime = Math.max(0, expiresIn) * 1000;
    const token = { value: accessToken, type: tokenType };
    this.current = { token, refreshAt: issuedAt + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2) };
    return token;
  }
}
