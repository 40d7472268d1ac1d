// The one API client: openapi-fetch typed by the schema generated from the app's own OpenAPI
// document (npm run gen), with the auth middleware: the bearer token on every call, and on a
// 401 one transparent refresh (shared by concurrent calls and tabs) and one retry.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import { GuestTokens, guestHeader } from "./guest";
import { ApiProblem, problemFromResponse } from "./problem";
import type { paths } from "./schema";
import {
  type LockManagerLike,
  type RefreshOutcome,
  type StorageLike,
  TokenManager,
} from "./tokens";

export type ApiClient = Client<paths>;

export interface ApiOptions {
  baseUrl?: string;
  fetch?: (request: Request) => Promise<Response>;
  storage: StorageLike;
  locks?: LockManagerLike | undefined;
  now?: () => number;
}

// Calls that never carry the access token (and whose 401 means what it says).
const TOKENLESS = new Set([
  "/api/v1/auth/login",
  "/api/v1/auth/register",
  "/api/v1/auth/refresh",
  "/api/v1/auth/forgot-password",
  "/api/v1/auth/reset-password",
  "/api/v1/auth/verify-email",
  "/api/v1/auth/resend-verification",
]);

// The document's one object query parameter, the product lists' `option_filters`, is
// `style: form, explode: true` (each entry a parameter of its own: `?material=linen`), not
// openapi-fetch's default deepObject (`?option_filters[material]=linen`).
const QUERY_SERIALIZER = { object: { style: "form", explode: true } } as const;

export function createApi(options: ApiOptions): { api: ApiClient; tokens: TokenManager; guest: GuestTokens } {
  const fetchImpl = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const baseUrl = options.baseUrl ?? "";
  // The refresh call goes through a client without the middleware: no recursion.
  const bare = createClient<paths>({ baseUrl, fetch: fetchImpl });

  async function refresh(refreshToken: string): Promise<RefreshOutcome> {
    try {
      const { data, response } = await bare.POST("/api/v1/auth/refresh", {
        body: { refresh_token: refreshToken },
      });
      if (data) return { ok: data };
      return response.status === 401 || response.status === 422 ? "rejected" : "unreachable";
    } catch {
      return "unreachable";
    }
  }

  const tokens = new TokenManager({
    storage: options.storage,
    refresh,
    locks: options.locks,
    ...(options.now ? { now: options.now } : {}),
  });

  const guest = new GuestTokens(options.storage);

  // The request as it was before fetch consumed its body, for the one retry.
  const unsent = new WeakMap<Request, Request>();

  const auth: Middleware = {
    onRequest({ request, schemaPath }) {
      const stored = tokens.get();
      if (stored && !TOKENLESS.has(schemaPath) && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${stored.access}`);
      }
      const header = guestHeader(guest, schemaPath, request.url, request.headers.has("Authorization"));
      if (header && !request.headers.has(header[0])) request.headers.set(header[0], header[1]);
      unsent.set(request, request.clone());
      return request;
    },
    async onResponse({ request, response }) {
      if (response.status !== 401) return response;
      const sent = request.headers.get("Authorization")?.replace(/^Bearer /, "");
      const original = unsent.get(request);
      if (!sent || !original) return response;
      const fresh = await tokens.refreshAfter401(sent);
      if (!fresh) return response;
      const retry = original.clone();
      retry.headers.set("Authorization", `Bearer ${fresh}`);
      return fetchImpl(retry);
    },
  };

  const api = createClient<paths>({ baseUrl, fetch: fetchImpl, querySerializer: QUERY_SERIALIZER });
  api.use(auth);
  return { api, tokens, guest };
}

/**
 * The data of an openapi-fetch call, or an ApiProblem in words (thrown). A call that got no
 * answer at all (offline, server down) is a problem with status 0.
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiProblem(0, null, null);
  }
  if (result.response.ok) return result.data as T;
  throw await problemFromResponse(result.response, result.error);
}
