// Who is signed in, for every page: the user behind the stored tokens (GET /users/me), kept
// in step with other tabs (login, logout, a refresh that ended the session).
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import { api, tokens, unwrap } from "../api";
import type { components } from "../api/schema";

export type User = components["schemas"]["UserOut"];

interface Auth {
  /** null: signed out; undefined: not known yet. */
  user: User | null | undefined;
  login(email: string, password: string): Promise<User>;
  logout(): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(tokens.get() ? undefined : null);

  const load = useCallback(async () => {
    if (!tokens.get()) {
      setUser(null);
      return;
    }
    try {
      setUser(await unwrap(api.GET("/api/v1/users/me")));
    } catch {
      setUser(tokens.get() ? (current) => current ?? null : null);
    }
  }, []);

  useEffect(() => {
    void load();
    return tokens.subscribe(() => void load());
  }, [load]);

  const login = useCallback(async (email: string, password: string) => {
    const pair = await unwrap(api.POST("/api/v1/auth/login", { body: { email, password } }));
    tokens.set(pair);
    setUser(pair.user);
    return pair.user;
  }, []);

  const logout = useCallback(async () => {
    const stored = tokens.get();
    if (stored) {
      try {
        await api.POST("/api/v1/auth/logout", { body: { refresh_token: stored.refresh } });
      } catch {
        // offline: the tokens are forgotten here all the same
      }
    }
    tokens.clear();
  }, []);

  return <AuthContext.Provider value={{ user, login, logout }}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}

/** An internal path to return to after login (never another origin). */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
