/**
 * Keeps a usable Vault token for the vault KEK adapter.
 *
 * Sources, in order of preference:
 * - kubernetes auth (`SIDEKEY_VAULT_K8S_ROLE`): log in with the pod's
 *   service-account JWT (re-read at every login: projected tokens rotate);
 * - a token file (`SIDEKEY_VAULT_TOKEN_FILE`): re-read when the token stops
 *   working (e.g. a Vault agent rewrote it);
 * - a fixed token (`VAULT_TOKEN`).
 *
 * A token with a TTL is renewed (renew-self) at `renewFraction` of its lease;
 * when renewal fails or no longer extends the lease (max TTL reached), a
 * re-loginable source logs in again instead. A call refused with 403 asks
 * for a fresh token once (`refreshAfterDenied`): revoked tokens recover.
 *
 * Tokens never appear in an error, a warning or a log line.
 */
import { readFileSync } from 'node:fs';
import { KmsError } from './port.js';

/** What the auth logic needs from HTTP: Vault paths without `/v1/`, JSON in and out. */
export interface VaultHttp {
  read(path: string, token: string): Promise<unknown>;
  write(path: string, body: unknown, token: string | undefined): Promise<unknown>;
}

export interface VaultAuthOptions {
  readonly token?: string;
  readonly tokenFile?: string;
  readonly k8sRole?: string;
  readonly k8sAuthMount: string;
  readonly k8sTokenPath: string;
  /** Renew at this fraction of the lease (0 < f < 1). */
  readonly renewFraction: number;
  readonly warn: (message: string) => void;
}

interface Session {
  readonly token: string;
  /** ms epoch; undefined: does not expire (or unknown). */
  readonly expiresAt: number | undefined;
  readonly renewable: boolean;
  /** Lease granted at login, seconds: a renewal granting much less means max TTL is near. */
  readonly initialLease: number;
}

/** When a lease of `seconds` granted now runs out (0: does not expire, or unknown). */
function expiryOf(seconds: number): number | undefined {
  return seconds > 0 ? Date.now() + seconds * 1000 : undefined;
}

export const DEFAULT_K8S_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export class VaultAuth {
  private session: Session | undefined;
  private pending: Promise<Session> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly http: VaultHttp,
    private readonly options: VaultAuthOptions,
  ) {
    if (options.k8sRole === undefined && options.tokenFile === undefined && options.token === undefined) {
      throw new Error(
        'vault: no credentials: set VAULT_TOKEN, SIDEKEY_VAULT_TOKEN_FILE or SIDEKEY_VAULT_K8S_ROLE',
      );
    }
  }

  /** A token to use now (logging in first when needed). */
  async token(): Promise<string> {
    const s = this.session;
    if (s !== undefined && (s.expiresAt === undefined || Date.now() < s.expiresAt || !this.canReacquire())) {
      return s.token;
    }
    return (await this.acquire()).token;
  }

  /**
   * A call made with `usedToken` got 403. Returns true when a different
   * token is now available (worth one retry).
   */
  async refreshAfterDenied(usedToken: string): Promise<boolean> {
    if (this.session !== undefined && this.session.token !== usedToken) return true;
    if (!this.canReacquire()) return false;
    const fresh = await this.acquire();
    return fresh.token !== usedToken;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const s = this.session;
    this.session = undefined;
    // A token we logged in for is ours to revoke; a configured one is not.
    if (s !== undefined && this.options.k8sRole !== undefined) {
      await this.http.write('auth/token/revoke-self', {}, s.token).catch(() => {});
    }
  }

  private canReacquire(): boolean {
    return this.options.k8sRole !== undefined || this.options.tokenFile !== undefined;
  }

  /** One acquisition at a time; concurrent callers share it. */
  private acquire(): Promise<Session> {
    this.pending ??= this.login().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async login(): Promise<Session> {
    let session: Session;
    if (this.options.k8sRole !== undefined) {
      session = await this.kubernetesLogin(this.options.k8sRole);
    } else {
      const token =
        this.options.tokenFile !== undefined
          ? this.readTokenFile(this.options.tokenFile)
          : this.options.token!;
      session = await this.lookup(token);
    }
    if (this.closed) return session;
    this.session = session;
    this.schedule(session);
    return session;
  }

  private async kubernetesLogin(role: string): Promise<Session> {
    let jwt: string;
    try {
      jwt = readFileSync(this.options.k8sTokenPath, 'utf8').trim();
    } catch (err) {
      throw new KmsError(
        'denied',
        `vault: cannot read the service-account token ${this.options.k8sTokenPath} for kubernetes auth (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    const out = (await this.http.write(
      `auth/${this.options.k8sAuthMount}/login`,
      { role, jwt },
      undefined,
    )) as {
      auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown };
    };
    const token = out.auth?.client_token;
    if (typeof token !== 'string' || token === '') {
      throw new KmsError('denied', `vault: kubernetes login for role ${role} returned no token`);
    }
    const lease = typeof out.auth?.lease_duration === 'number' ? out.auth.lease_duration : 0;
    return {
      token,
      expiresAt: expiryOf(lease),
      renewable: out.auth?.renewable === true,
      initialLease: lease,
    };
  }

  /** Learns TTL and renewability of a given token; a token that cannot look itself up is used as is. */
  private async lookup(token: string): Promise<Session> {
    try {
      const out = (await this.http.read('auth/token/lookup-self', token)) as {
        data?: { ttl?: unknown; renewable?: unknown };
      };
      const ttl = typeof out.data?.ttl === 'number' ? out.data.ttl : 0;
      return {
        token,
        expiresAt: expiryOf(ttl),
        renewable: out.data?.renewable === true,
        initialLease: ttl,
      };
    } catch (err) {
      // Unreachable Vault is the caller's problem to report; a token that may
      // not look itself up is still worth trying on the transit paths.
      if (err instanceof KmsError && err.kind === 'unavailable') throw err;
      return { token, expiresAt: undefined, renewable: false, initialLease: 0 };
    }
  }

  private readTokenFile(path: string): string {
    try {
      const token = readFileSync(path, 'utf8').trim();
      if (token === '') throw new KmsError('denied', `vault: token file ${path} is empty`);
      return token;
    } catch (err) {
      if (err instanceof KmsError) throw err;
      throw new KmsError(
        'denied',
        `vault: cannot read token file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }

  private schedule(session: Session): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (session.expiresAt === undefined || this.closed) return;
    const remaining = session.expiresAt - Date.now();
    const renewable = session.renewable;
    const nearMax =
      session.initialLease > 0 && remaining < session.initialLease * 1000 * (1 - this.options.renewFraction);
    if (!renewable && !this.canReacquire()) return;
    const delay = Math.max(50, remaining * this.options.renewFraction);
    this.timer = setTimeout(() => {
      void this.refresh(session, renewable && !(nearMax && this.canReacquire()));
    }, delay);
    this.timer.unref();
  }

  private async refresh(session: Session, renew: boolean): Promise<void> {
    if (this.closed || this.session !== session) return;
    if (renew) {
      try {
        const out = (await this.http.write('auth/token/renew-self', {}, session.token)) as {
          auth?: { lease_duration?: unknown; renewable?: unknown };
        };
        const lease = typeof out.auth?.lease_duration === 'number' ? out.auth.lease_duration : 0;
        if (this.closed || this.session !== session) return;
        // A renewal that no longer extends the lease (max TTL reached; Vault then grants what
        // is left, down to 0) must not end the schedule: a re-loginable source logs in now.
        const extended =
          lease > 0 &&
          (session.expiresAt === undefined || Date.now() + lease * 1000 > session.expiresAt + 1000);
        if (!extended && this.canReacquire()) return await this.reacquire();
        const renewed: Session = {
          token: session.token,
          expiresAt: expiryOf(lease),
          renewable: out.auth?.renewable !== false && lease > 0,
          initialLease: session.initialLease,
        };
        this.session = renewed;
        this.schedule(renewed);
        return;
      } catch (err) {
        if (!this.canReacquire()) {
          this.options.warn(
            `vault: renewing the Vault token failed (${describe(err)}); will retry until it expires`,
          );
          const remaining = (session.expiresAt ?? Date.now()) - Date.now();
          if (remaining > 100) {
            this.timer = setTimeout(() => void this.refresh(session, true), Math.min(5000, remaining / 2));
            this.timer.unref();
          }
          return;
        }
      }
    }
    await this.reacquire();
  }

  private async reacquire(): Promise<void> {
    try {
      await this.acquire();
    } catch (err) {
      this.options.warn(
        `vault: getting a new Vault token failed (${describe(err)}); will retry on the next call`,
      );
    }
  }
}

function describe(err: unknown): string {
  return err instanceof KmsError ? err.message : 'unexpected error';
}
