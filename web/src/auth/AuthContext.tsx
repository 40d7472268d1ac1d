// Who is signed in, for every page: the user behind the stored tokens (GET /users/me), kept
// in step with other tabs (login, logout, a refresh that ended the session).
//
// A session that ends under a page (the refresh token revoked or expired while a form is being
// filled in) does not send anyone away: the page stays as it is, with everything typed into it,
// and a dialog asks to log in again, in place. Only "Log out" (here or in another tab, which
// leaves a marker) signs the page out.
import { createContext, type FormEvent, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from "react";
import { api, guest, tokens, unwrap } from "../api";
import type { ApiProblem } from "../api/problem";
import type { components, paths } from "../api/schema";
import { Field } from "../components/Field";
import { ErrorNotice } from "../components/Status";
import { asProblem } from "../lib/useLoad";

export type User = components["schemas"]["UserOut"];
export type SignedIn = paths["/api/v1/auth/login"]["post"]["responses"][200]["content"]["application/json"];

interface Auth {
  /** null: signed out; undefined: not known yet. */
  user: User | null | undefined;
  /** The session ended under the page; a dialog asks to log in again. */
  expired: boolean;
  /** Signs in; a guest cart (its token kept by the API module) is merged into the account's:
   * the answer's `cart_merge` says how. */
  login(email: string, password: string): Promise<SignedIn>;
  logout(): Promise<void>;
  /** The user as the API has it now (after a profile change). */
  setUser(user: User): void;
}

const AuthContext = createContext<Auth | null>(null);
// Set by "Log out" (any tab) so the others sign out rather than ask to log in again.
const LOGGED_OUT = "shop.logged-out";

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(tokens.get() ? undefined : null);
  const [expired, setExpired] = useState(false);
  const known = useRef<User | null | undefined>(user);
  known.current = user;

  const load = useCallback(async () => {
    if (!tokens.get()) {
      const loggedOut = window.localStorage.getItem(LOGGED_OUT) !== null;
      if (known.current && !loggedOut) {
        setExpired(true); // keep the user and the page; ask to log in again
      } else {
        setExpired(false);
        setUser(null);
      }
      return;
    }
    try {
      const me = await unwrap(api.GET("/api/v1/users/me"));
      setUser(me);
      setExpired(false);
    } catch {
      setUser(tokens.get() ? (current) => current ?? null : null);
    }
  }, []);

  useEffect(() => {
    void load();
    return tokens.subscribe(() => void load());
  }, [load]);

  const login = useCallback(async (email: string, password: string) => {
    const cartToken = guest.cartToken();
    const pair = await unwrap(
      api.POST("/api/v1/auth/login", { body: { email, password, ...(cartToken ? { cart_token: cartToken } : {}) } }),
    );
    // Merged, or found no cart (expired, merged by another tab): the guest cart is done.
    if (pair.cart_merge) guest.forgetCart();
    window.localStorage.removeItem(LOGGED_OUT);
    tokens.set(pair);
    setUser(pair.user);
    setExpired(false);
    return pair;
  }, []);

  const logout = useCallback(async () => {
    const stored = tokens.get();
    window.localStorage.setItem(LOGGED_OUT, "1");
    if (stored) {
      try {
        await api.POST("/api/v1/auth/logout", { body: { refresh_token: stored.refresh } });
      } catch {
        // offline: the tokens are forgotten here all the same
      }
    }
    setExpired(false);
    setUser(null);
    tokens.clear();
  }, []);

  return (
    <AuthContext.Provider value={{ user, expired, login, logout, setUser }}>
      {children}
      {expired && user ? <LoginAgainDialog email={user.email} /> : null}
    </AuthContext.Provider>
  );
}

/** The in-place "log in again": a modal over the page, which keeps its state underneath. */
function LoginAgainDialog({ email }: { email: string }) {
  const { login, logout } = useAuth();
  const [error, setError] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDivElement>(null);
  const opener = useRef<Element | null>(document.activeElement);

  useEffect(() => {
    dialog.current?.querySelector<HTMLInputElement>("input[type=password]")?.focus();
    const back = opener.current;
    return () => {
      if (back instanceof HTMLElement) back.focus();
    };
  }, []);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await login(email, String(form.get("password") ?? ""));
    } catch (problem) {
      setError(asProblem(problem));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="dialog-backdrop">
      <div
        ref={dialog}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="login-again-heading"
        aria-describedby="login-again-text"
        onKeyDown={(event) => {
          // Keep Tab inside the dialog.
          if (event.key !== "Tab" || !dialog.current) return;
          const focusable = dialog.current.querySelectorAll<HTMLElement>("input, button");
          const first = focusable[0];
          const last = focusable[focusable.length - 1];
          if (event.shiftKey && document.activeElement === first) {
            event.preventDefault();
            last?.focus();
          } else if (!event.shiftKey && document.activeElement === last) {
            event.preventDefault();
            first?.focus();
          }
        }}
      >
        <h2 id="login-again-heading">Please log in again</h2>
        <p id="login-again-text">
          Your session has ended. Log in again to carry on: what you typed on this page is kept.
        </p>
        {error ? <ErrorNotice error={error} /> : null}
        <form onSubmit={submit} noValidate>
          <Field label="Email" name="email" type="email" value={email} readOnly autoComplete="username" />
          <Field label="Password" name="password" type="password" autoComplete="current-password" required />
          <div className="address-actions">
            <button type="submit" disabled={busy}>
              {busy ? "Logging in…" : "Log in again"}
            </button>
            <button type="button" className="button-secondary" onClick={() => void logout()}>
              Log out
            </button>
          </div>
        </form>
      </div>
    </div>
  );
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
