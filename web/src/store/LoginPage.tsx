import { type FormEvent, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import type { ApiProblem } from "../api/problem";
import { safeNext, useAuth } from "../auth/AuthContext";
import { type CartMerge, CartMergeNotice, mergeWasCapped } from "../components/CartMergeNotice";
import { Field } from "../components/Field";
import { ErrorNotice } from "../components/Status";
import { asProblem, useTitle } from "../lib/useLoad";

export function LoginPage() {
  useTitle("Log in");
  const { login } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [error, setError] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const [capped, setCapped] = useState<CartMerge | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const signedIn = await login(String(form.get("email") ?? ""), String(form.get("password") ?? ""));
      // Lines of the guest cart that did not fit: say so before going on.
      if (mergeWasCapped(signedIn.cart_merge)) setCapped(signedIn.cart_merge);
      else navigate(next, { replace: true });
    } catch (problem) {
      setError(asProblem(problem));
    } finally {
      setBusy(false);
    }
  }

  if (capped) {
    return (
      <div className="narrow">
        <h1>You are logged in</h1>
        <CartMergeNotice merge={capped} />
        <p>
          <Link to="/cart">View your cart</Link> or <Link to={next}>continue</Link>.
        </p>
      </div>
    );
  }

  const fields = error?.fieldErrors ?? {};
  return (
    <div className="narrow">
      <h1>Log in</h1>
      {error ? <ErrorNotice error={error} /> : null}
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required error={fields.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={fields.password}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to={`/register${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>Create an account</Link>
      </p>
    </div>
  );
}
