// The one module that owns the tokens. They live in localStorage, so every tab shares them;
// a refresh happens once at a time across tabs (the Web Locks API where the browser has it),
// and a tab that waited for another tab's refresh uses that result instead of refreshing
// again. That matters: the API rotates refresh tokens, and reusing a spent one revokes the
// whole login.

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

export interface StoredTokens {
  access: string;
  refresh: string;
  /** Epoch milliseconds after which the access token is expired. */
  expiresAt: number;
}

/** What a refresh attempt came to: new tokens, a refusal (the login is over), or a failure
 * to reach the server (keep the tokens, the next attempt may work). */
export type RefreshOutcome = { ok: TokenPair } | "rejected" | "unreachable";

/** The part of `navigator.locks` used here (also easy to fake in tests). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The part of `Storage` used here. */
export type StorageLike = Pick<Storage, "getItem" | "setItem" | "removeItem">;

export interface TokenManagerOptions {
  storage: StorageLike;
  refresh: (refreshToken: string) => Promise<RefreshOutcome>;
  locks?: LockManagerLike | undefined;
  now?: () => number;
  key?: string;
}

const LOCK_NAME = "shop-token-refresh";
const DEFAULT_KEY = "shop.tokens";

export class TokenManager {
  private readonly storage: StorageLike;
  private readonly doRefresh: TokenManagerOptions["refresh"];
  private readonly locks: LockManagerLike | undefined;
  private readonly now: () => number;
  readonly key: string;
  private inFlight: Promise<string | null> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(options: TokenManagerOptions) {
    this.storage = options.storage;
    this.doRefresh = options.refresh;
    this.locks = options.locks;
    this.now = options.now ?? Date.now;
    this.key = options.key ?? DEFAULT_KEY;
  }

  get(): StoredTokens | null {
    const raw = this.storage.getItem(this.key);
    if (!raw) return null;
    try {
      const value = JSON.parse(raw) as Partial<StoredTokens>;
      if (typeof value.access === "string" && typeof value.refresh === "string") {
        return { access: value.access, refresh: value.refresh, expiresAt: value.expiresAt ?? 0 };
      }
    } catch {
      // a damaged entry is as good as none
    }
    return null;
  }

  set(pair: TokenPair): void {
    const stored: StoredTokens = {
      access: pair.access_token,
      refresh: pair.refresh_token,
      expiresAt: this.now() + pair.expires_in * 1000,
    };
    this.storage.setItem(this.key, JSON.stringify(stored));
    this.notify();
  }

  clear(): void {
    this.storage.removeItem(this.key);
    this.notify();
  }

  /** Called when the tokens change here, or (via `storageChanged`) in another tab. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Wire to the window's `storage` event: another tab logged in, out, or refreshed. */
  storageChanged(key: string | null): void {
    if (key === null || key === this.key) this.notify();
  }

  /**
   * The access token `rejected` came back 401: get a fresh one. Concurrent callers (in this tab
   * and, with Web Locks, in other tabs) share one refresh. Returns the new access token, or
   * null when the login is over (then the tokens are cleared) or the server is unreachable.
   */
  refreshAfter401(rejected: string): Promise<string | null> {
    if (!this.inFlight) {
      const run = () => this.refreshUnderLock(rejected);
      const attempt = this.locks ? this.locks.request(LOCK_NAME, run) : run();
      this.inFlight = attempt.finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private async refreshUnderLock(rejected: string): Promise<string | null> {
    const current = this.get();
    if (!current) return null;
    // Another tab (or an earlier refresh here) has replaced the token that failed: use it.
    if (current.access !== rejected) return current.access;
    const outcome = await this.doRefresh(current.refresh);
    if (outcome === "unreachable") return null;
    if (outcome === "rejected") {
      // Only if nobody replaced the tokens meanwhile (a login in another tab, say).
      if (this.get()?.refresh === current.refresh) this.clear();
      return null;
    }
    this.set(outcome.ok);
    return outcome.ok.access_token;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
