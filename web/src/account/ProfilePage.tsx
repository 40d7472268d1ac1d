// The profile: name and phone (the email address is the login and stays as it is).
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../api";
import { useAuth } from "../auth/AuthContext";
import { Field } from "../components/Field";
import { ErrorNotice, Notice } from "../components/Status";
import { textOf, useAction } from "../lib/useAction";
import { useTitle } from "../lib/useLoad";

export function ProfilePage() {
  useTitle("Your profile");
  const { user, setUser } = useAuth();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  if (!user) return null;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    const form = new FormData(event.currentTarget);
    const phone = textOf(form, "phone");
    await action.run(async () => {
      setUser(await unwrap(api.PATCH("/api/v1/users/me", { body: { name: textOf(form, "name"), phone: phone || null } })));
      setSaved(true);
    });
  }

  return (
    <div className="narrow">
      <h1>Your profile</h1>
      <p>
        Signed in as <strong>{user.email}</strong>
        {user.email_verified ? " (confirmed)" : " (not confirmed yet)"}.
      </p>
      {saved ? <Notice kind="success">Your profile is saved.</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <form onSubmit={submit} noValidate>
        <Field label="Name" name="name" autoComplete="name" required defaultValue={user.name} error={action.fields.name} />
        <Field
          label="Phone (optional)"
          name="phone"
          type="tel"
          autoComplete="tel"
          defaultValue={user.phone ?? ""}
          error={action.fields.phone}
        />
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Saving…" : "Save"}
        </button>
      </form>
    </div>
  );
}
