import { FetchFailed, type FetchLimits, fetchJson } from '../../net/fetch-json';
import type { AllowList } from '../../net/ssrf';

/** Where an issuer's public keys are: found by OIDC discovery, or a JWK Set URI given outright. */
export type KeySource = { issuer: string } | { jwksUri: string };

export interface PublicJwk {
  kty: string;
  kid?: string;
  use?: string;
  alg?: string;
  [member: string]: unknown;
}

interface KeySet {
  keys: PublicJwk[];
  fetchedAt: number;
}

/** A key set is used this long before it is fetched again (issuers rotate with overlap). */
const FRESH_MS = 10 * 60_000;
/** An unknown `kid` fetches the set again, but at most this often per issuer. */
const REFRESH_MIN_INTERVAL_MS = 30_000;
/** A stale set still serves while the issuer cannot be reached, for this long. */
const STALE_LIMIT_MS = 24 * 60 * 60_000;
const MAX_SETS = 1000;
const LIMITS: FetchLimits = { timeoutMs: 5000, maxBytes: 256 * 1024 };

const sourceKey = (source: KeySource): string => ('issuer' in source ? `issuer ${source.issuer}` : `jwks ${source.jwksUri}`);

/**
 * The public keys of external issuers, fetched behind the SSRF guard and cached per
 * instance. An unknown key id fetches the set again (the issuer may have rotated), at most
 * every 30 s so that tokens with made-up `kid`s cannot make the server hammer the issuer;
 * concurrent fetches of one set share one request.
 */
export class IssuerKeys {
  private readonly sets = new Map<string, KeySet>();
  private readonly inFlight = new Map<string, Promise<KeySet>>();

  constructor(
    private readonly allow: AllowList,
    private readonly limits: FetchLimits = LIMITS,
    private readonly options: { refreshMinIntervalMs: number } = { refreshMinIntervalMs: REFRESH_MIN_INTERVAL_MS },
  ) {}

  /**
   * The keys that may have signed a token with this `kid` (every key when it names none).
   * Throws FetchFailed when the keys cannot be had.
   */
  async candidates(source: KeySource, kid: string | undefined): Promise<PublicJwk[]> {
    const matching = (set: KeySet): PublicJwk[] => set.keys.filter((key) => key.use !== 'enc' && (kid === undefined || key.kid === kid));
    const set = await this.current(source);
    const found = matching(set);
    if (found.length > 0 || Date.now() - set.fetchedAt < this.options.refreshMinIntervalMs) return found;
    return matching(await this.fetch(source, set));
  }

  private async current(source: KeySource): Promise<KeySet> {
    const cached = this.sets.get(sourceKey(source));
    if (cached !== undefined && Date.now() - cached.fetchedAt < FRESH_MS) return cached;
    return this.fetch(source, cached);
  }

  private fetch(source: KeySource, stale: KeySet | undefined): Promise<KeySet> {
    const key = sourceKey(source);
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.download(source)
        .then((set) => {
          if (this.sets.size >= MAX_SETS) this.sets.clear();
          this.sets.set(key, set);
          return set;
        })
        .catch((error: unknown) => {
          if (stale !== undefined && Date.now() - stale.fetchedAt < STALE_LIMIT_MS) return stale;
          throw error;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async download(source: KeySource): Promise<KeySet> {
    let jwksUri: string;
    if ('issuer' in source) {
      // OpenID Connect Discovery 1.0 §4: the document must name exactly this issuer.
      const discovery = await fetchJson(`${source.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, this.allow, this.limits);
      if (discovery.issuer !== source.issuer) throw new FetchFailed(`the discovery document of ${source.issuer} names another issuer (${String(discovery.issuer).slice(0, 200)})`);
      if (typeof discovery.jwks_uri !== 'string') throw new FetchFailed(`the discovery document of ${source.issuer} has no jwks_uri`);
      jwksUri = discovery.jwks_uri;
    } else {
      jwksUri = source.jwksUri;
    }
    const document = await fetchJson(jwksUri, this.allow, this.limits);
    if (!Array.isArray(document.keys)) throw new FetchFailed(`${jwksUri} is not a JWK Set (no keys array)`);
    const keys = document.keys.filter((key): key is PublicJwk => typeof key === 'object' && key !== null && typeof (key as PublicJwk).kty === 'string');
    return { keys, fetchedAt: Date.now() };
  }
}
