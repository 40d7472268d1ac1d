import { describe, expect, it } from "vitest";
import { createApi, unwrap } from "./client";
import { ApiProblem } from "./problem";
import type { LockManagerLike, StorageLike } from "./tokens";

const BASE = "http://shop.test";

function memoryStorage(): StorageLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

/** Web Locks' exclusive mode, as a queue: one holder at a time per name. */
function sharedLocks(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(callback, callback);
      tails.set(name, run.catch(() => undefined));
      return run;
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": type, ...headers },
  });
}

const expired = {
  type: "/problems/token_expired",
  title: "Unauthorized",
  status: 401,
  detail: "The access token has expired.",
  code: "token_expired",
  request_id: "r1",
};

/** A fake shop: one valid access token at a time; refresh rotates both tokens. */
function fakeShop(options: { refuseRefresh?: boolean } = {}) {
  let generation = 1;
  const state = { refreshes: 0, meCalls: 0, bodies: [] as unknown[] };
  async function fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/api/v1/auth/refresh") {
      state.refreshes += 1;
      const body = (await request.json()) as { refresh_token: string };
      await tick(); // the network: concurrent callers really overlap
      if (options.refuseRefresh || body.refresh_token !== `R${generation}`) {
        return json(401, { ...expired, code: "invalid_token", detail: "Log in again." });
      }
      generation += 1;
      return json(200, {
        access_token: `A${generation}`,
        refresh_token: `R${generation}`,
        token_type: "bearer",
        expires_in: 900,
        user: {},
      });
    }
    if (request.headers.get("Authorization") !== `Bearer A${generation}`) {
      return json(401, expired);
    }
    if (path === "/api/v1/users/me") {
      state.meCalls += 1;
      return json(200, { id: "u1", email: "ann@example.com" });
    }
    if (path === "/api/v1/users/me/addresses") {
      state.bodies.push(await request.json());
      return json(201, { id: "a1" });
    }
    return json(404, { ...expired, status: 404, code: "not_found" });
  }
  return { fetch, state };
}

function signedIn(storage: StorageLike, access = "A1", refresh = "R1") {
  storage.setItem(
    "shop.tokens",
    JSON.stringify({ access, refresh, expiresAt: Date.now() + 60_000 }),
  );
}

describe("token refresh", () => {
  it("sends the access token", async () => {
    const shop = fakeShop();
    const storage = memoryStorage();
    signedIn(storage);
    const { api } = createApi({ baseUrl: BASE, fetch: shop.fetch, storage });
    const { data } = await api.GET("/api/v1/users/me");
    expect(data?.email).toBe("ann@example.com");
    expect(shop.state.refreshes).toBe(0);
  });

  it("refreshes once for many concurrent 401s, and retries each call once", async () => {
    const shop = fakeShop();
    const storage = memoryStorage();
    signedIn(storage, "A0"); // an access token the shop no longer takes; R1 is still good
    const { api, tokens } = createApi({ baseUrl: BASE, fetch: shop.fetch, storage });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => api.GET("/api/v1/users/me")),
    );
    expect(results.map((r) => r.response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(shop.state.refreshes).toBe(1);
    expect(shop.state.meCalls).toBe(5);
    expect(tokens.get()?.access).toBe("A2");
    expect(tokens.get()?.refresh).toBe("R2");
  });

  it("resends the same body after a refresh", async () => {
    const shop = fakeShop();
    const storage = memoryStorage();
    signedIn(storage, "A0");
    const { api } = createApi({ baseUrl: BASE, fetch: shop.fetch, storage });
    const address = { line1: "1 Main St", city: "Springfield", postal_code: "12345", country: "US" };
    const { response } = await api.POST("/api/v1/users/me/addresses", { body: address });
    expect(response.status).toBe(201);
    expect(shop.state.bodies).toEqual([address]);
    expect(shop.state.refreshes).toBe(1);
  });

  it("shares one refresh between tabs: the waiting tab uses the other's new token", async () => {
    const shop = fakeShop();
    const storage = memoryStorage(); // localStorage is shared by the tabs of an origin
    signedIn(storage, "A0");
    const locks = sharedLocks();
    const tabA = createApi({ baseUrl: BASE, fetch: shop.fetch, storage, locks });
    const tabB = createApi({ baseUrl: BASE, fetch: shop.fetch, storage, locks });
    const results = await Promise.all([
      tabA.api.GET("/api/v1/users/me"),
      tabB.api.GET("/api/v1/users/me"),
      tabA.api.GET("/api/v1/users/me"),
      tabB.api.GET("/api/v1/users/me"),
    ]);
    expect(results.map((r) => r.response.status)).toEqual([200, 200, 200, 200]);
    // Without the lock, tab B would spend R1 a second time: the API then revokes the login.
    expect(shop.state.refreshes).toBe(1);
  });

  it("ends the login when the refresh is refused, and answers the original 401", async () => {
    const shop = fakeShop({ refuseRefresh: true });
    const storage = memoryStorage();
    signedIn(storage, "A0");
    const { api, tokens } = createApi({ baseUrl: BASE, fetch: shop.fetch, storage });
    let changes = 0;
    tokens.subscribe(() => (changes += 1));
    const results = await Promise.all([api.GET("/api/v1/users/me"), api.GET("/api/v1/users/me")]);
    expect(results.map((r) => r.response.status)).toEqual([401, 401]);
    expect(shop.state.refreshes).toBe(1);
    expect(tokens.get()).toBeNull();
    expect(changes).toBe(1);
  });

  it("does not refresh for a call made without a login, nor for the login itself", async () => {
    const shop = fakeShop();
    const storage = memoryStorage();
    const { api } = createApi({ baseUrl: BASE, fetch: shop.fetch, storage });
    const { response } = await api.GET("/api/v1/users/me");
    expect(response.status).toBe(401);
    signedIn(storage, "A0");
    const login = await api.POST("/api/v1/auth/login", {
      body: { email: "ann@example.com", password: "wrong" },
    });
    expect(login.response.status).toBe(401);
    expect(shop.state.refreshes).toBe(0);
  });
});

describe("unwrap", () => {
  it("turns a 429 into words with its wait", async () => {
    const fetch = async () =>
      json(429, { ...expired, status: 429, code: "rate_limited" }, { "Retry-After": "42" });
    const { api } = createApi({ baseUrl: BASE, fetch, storage: memoryStorage() });
    const error = await unwrap(
      api.POST("/api/v1/auth/login", { body: { email: "a@b.co", password: "x" } }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiProblem);
    expect((error as ApiProblem).retryAfter).toBe(42);
    expect((error as ApiProblem).message).toBe("Too many attempts. Please wait 42 seconds and try again.");
  });

  it("turns no answer at all into a connection message", async () => {
    const fetch = async (): Promise<Response> => {
      throw new TypeError("fetch failed");
    };
    const { api } = createApi({ baseUrl: BASE, fetch, storage: memoryStorage() });
    const error = (await unwrap(api.GET("/api/v1/categories")).catch((e: unknown) => e)) as ApiProblem;
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/cannot be reached/);
  });
});

describe("query strings", () => {
  it("sends option filters as parameters of their own, as the document says (form, exploded)", async () => {
    const urls: string[] = [];
    const fetch = async (request: Request) => {
      urls.push(request.url);
      return json(200, { items: [], page: 1, per_page: 12, total: 0, pages: 0, facets: null });
    };
    const { api } = createApi({ baseUrl: BASE, fetch, storage: memoryStorage() });
    await api.GET("/api/v1/products", {
      params: { query: { size: "M", option_filters: { material: "linen & silk", strap: "long" } } },
    });
    expect(urls).toEqual([`${BASE}/api/v1/products?size=M&material=linen%20%26%20silk&strap=long`]);
  });
});
