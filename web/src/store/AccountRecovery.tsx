// The pages the emails link to (FRONTEND_URL defaults to this app): confirming an address,
// asking for a new confirmation or reset link, and setting a new password.
import { type FormEvent, useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import type { ApiProblem } from "../api/problem";
import { Field } from "../components/Field";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { asProblem, useTitle } from "../lib/useLoad";

/** A form that posts once and then shows what happened. */
function useSubmit<T>(send: (form: FormData) => Promise<T>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiProblem | null>(null);
  const [done, setDone] = useState<T | null>(null);
  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      setDone(await send(form));
    } catch (problem) {
      setError(asProblem(problem));
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, done, onSubmit };
}

function ResendVerification() {
  const { busy, error, done, onSubmit } = useSubmit(async (form) => {
    const email = String(form.get("email") ?? "");
    await unwrap(api.POST("/api/v1/auth/resend-verification", { body: { email } }));
    return email;
  });
  if (done !== null) {
    return (
      <Notice kind="success">
        If {done} has an account waiting for confirmation, a new link is on its way.
      </Notice>
    );
  }
  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby="resend-heading">
      <h2 id="resend-heading">Send a new confirmation link</h2>
      {error ? <ErrorNotice error={error} /> : null}
      <Field label="Email" name="email" type="email" autoComplete="email" required error={error?.fieldErrors.email} />
      <button type="submit" disabled={busy}>
        {busy ? "Sending…" : "Send a new link"}
      </button>
    </form>
  );
}

export function VerifyEmailPage() {
  useTitle("Confirm your email address");
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [state, setState] = useState<"working" | "done" | ApiProblem>("working");
  const sent = useRef<string | null>(null);
  useEffect(() => {
    if (!token || sent.current === token) return; // a token is spent once
    sent.current = token;
    unwrap(api.POST("/api/v1/auth/verify-email", { body: { token } })).then(
      () => setState("done"),
      (problem: unknown) => setState(asProblem(problem)),
    );
  }, [token]);

  return (
    <div className="narrow">
      <h1>Confirm your email address</h1>
      {!token ? <p>This link has no token. Open the link from the email as it is, or ask for a new one.</p> : null}
      {token && state === "working" ? <Loading label="Confirming…" /> : null}
      {state === "done" ? (
        <Notice kind="success">
          Your email address is confirmed. <Link to="/login">Log in</Link> or{" "}
          <Link to="/">go shopping</Link>.
        </Notice>
      ) : null}
      {typeof state === "object" ? <ErrorNotice error={state} /> : null}
      {!token || typeof state === "object" ? <ResendVerification /> : null}
    </div>
  );
}

export function ForgotPasswordPage() {
  useTitle("Forgot your password");
  const { busy, error, done, onSubmit } = useSubmit(async (form) => {
    const email = String(form.get("email") ?? "");
    await unwrap(api.POST("/api/v1/auth/forgot-password", { body: { email } }));
    return email;
  });
  return (
    <div className="narrow">
      <h1>Forgot your password</h1>
      {done !== null ? (
        <Notice kind="success">
          If an account exists for {done}, we sent it a link to choose a new password. The link
          works for one hour.
        </Notice>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <p>Give your account's email address and we will send you a link to choose a new password.</p>
          {error ? <ErrorNotice error={error} /> : null}
          <Field label="Email" name="email" type="email" autoComplete="email" required error={error?.fieldErrors.email} />
          <button type="submit" disabled={busy}>
            {busy ? "Sending…" : "Send the link"}
          </button>
        </form>
      )}
    </div>
  );
}

export function ResetPasswordPage() {
  useTitle("Choose a new password");
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { busy, error, done, onSubmit } = useSubmit(async (form) => {
    const password = String(form.get("password") ?? "");
    await unwrap(api.POST("/api/v1/auth/reset-password", { body: { token, password } }));
    return true;
  });
  const fields = error?.fieldErrors ?? {};
  return (
    <div className="narrow">
      <h1>Choose a new password</h1>
      {done ? (
        <Notice kind="success">
          Your password is changed, and every other session is signed out.{" "}
          <Link to="/login">Log in</Link> with the new password.
        </Notice>
      ) : !token ? (
        <p>
          This link has no token. <Link to="/forgot-password">Ask for a new link</Link>.
        </p>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          {error ? <ErrorNotice error={error} /> : null}
          {error && (fields.token || error.code === "invalid_token") ? (
            <p>
              <Link to="/forgot-password">Ask for a new link</Link>
            </p>
          ) : null}
          <Field
            label="New password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            hint="At least 10 characters, mixing letters with digits or symbols."
            error={fields.password}
          />
          <button type="submit" disabled={busy}>
            {busy ? "Saving…" : "Save the new password"}
          </button>
        </form>
      )}
    </div>
  );
}
