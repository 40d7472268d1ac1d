import { type FormEvent, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, guest, unwrap } from "../api";
import type { ApiProblem } from "../api/problem";
import { safeNext } from "../auth/AuthContext";
import { type CartMerge, CartMergeNotice, mergeWasCapped } from "../components/CartMergeNotice";
import { Field } from "../components/Field";
import { ErrorNotice, Notice } from "../components/Status";
import { asProblem, useTitle } from "../lib/useLoad";

export function RegisterPage() {
  useTitle("Create an account");
  const [error, setError] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const [registered, setRegistered] = useState<string | null>(null);
  const [merge, setMerge] = useState<CartMerge | null>(null);
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const loginHref = next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = {
      name: String(form.get("name") ?? ""),
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      // A guest cart moves into the new account (it is there once you log in).
      ...(guest.cartToken() ? { cart_token: guest.cartToken() ?? "" } : {}),
    };
    setBusy(true);
    setError(null);
    try {
      const { user, cart_merge } = await unwrap(api.POST("/api/v1/auth/register", { body }));
      if (cart_merge) guest.forgetCart();
      setMerge(cart_merge ?? null);
      setRegistered(user.email);
    } catch (problem) {
      setError(asProblem(problem));
    } finally {
      setBusy(false);
    }
  }

  if (registered) {
    return (
      <div className="narrow">
        <h1>Check your inbox</h1>
        <Notice kind="success">
          We sent a confirmation link to {registered}. Open it to confirm your address, then{" "}
          <Link to={loginHref}>log in</Link>.
          {merge?.merged ? " The cart you filled is waiting in your new account." : null}
        </Notice>
        {mergeWasCapped(merge) ? <CartMergeNotice merge={merge} /> : null}
      </div>
    );
  }
  const fields = error?.fieldErrors ?? {};
  return (
    <div className="narrow">
      <h1>Create an account</h1>
      {error ? <ErrorNotice error={error} /> : null}
      <form onSubmit={submit} noValidate>
        <Field label="Name" name="name" autoComplete="name" required maxLength={100} error={fields.name} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={fields.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 10 characters, mixing letters with digits or symbols."
          error={fields.password}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to={loginHref}>Log in</Link>
      </p>
    </div>
  );
}
