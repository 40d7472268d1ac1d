// The email outbox, for support: filter by recipient, kind and status (in the URL), read a
// message, resend it.
import { type FormEvent, useState } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import type { components } from "../api/schema";
import { Pager, pageParam } from "../components/Pager";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";

type Email = components["schemas"]["EmailOut"];
const STATUS_LABELS: Record<Email["status"], string> = { pending: "Waiting to send", sent: "Sent", failed: "Failed" };
// The kinds the shop sends (app/email/templates), in words; the API takes any kind's name.
export const KIND_LABELS: Record<string, string> = {
  verify_email: "Email verification",
  password_reset: "Password reset",
  order_status: "Order status",
  low_stock: "Low stock (admins)",
  refund_failed: "Refund failed (admins)",
  payment_dispute: "Payment dispute (admins)",
};

export function EmailsPage() {
  useTitle("Email outbox");
  const [params, setParams] = useSearchParams();
  const to = params.get("to") ?? "";
  const wanted = params.get("status") ?? "";
  const status = wanted in STATUS_LABELS ? (wanted as Email["status"]) : null;
  const wantedKind = params.get("kind") ?? "";
  const kind = wantedKind in KIND_LABELS ? wantedKind : null;
  const page = pageParam(params);
  const [version, setVersion] = useState(0);
  const [list, retry] = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/admin/emails", {
          params: { query: { page, per_page: 20, ...(to ? { to } : {}), ...(kind ? { kind } : {}), ...(status ? { status } : {}) } },
        }),
      ),
    `${to}:${kind}:${status}:${page}:${version}`,
    true,
  );
  const action = useAction();
  const [done, setDone] = useState<string | null>(null);

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    const text = String(form.get("to") ?? "").trim();
    if (text) next.set("to", text);
    const chosenKind = String(form.get("kind") ?? "");
    if (chosenKind) next.set("kind", chosenKind);
    const chosen = String(form.get("status") ?? "");
    if (chosen) next.set("status", chosen);
    setParams(next);
  }

  async function resend(email: Email) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(api.POST("/api/v1/admin/emails/{email_id}/resend", { params: { path: { email_id: email.id } } }));
    });
    if (ok) {
      setDone(`“${email.subject}” is queued again for ${email.to}.`);
      setVersion((n) => n + 1);
    }
  }

  return (
    <>
      <h1>Email outbox</h1>
      <form role="search" className="toolbar" onSubmit={filter} aria-label="Find emails">
        <div className="field">
          <label htmlFor="email-to">Recipient</label>
          <input id="email-to" type="search" name="to" defaultValue={to} key={to} maxLength={254} />
        </div>
        <div className="field">
          <label htmlFor="email-kind">Kind</label>
          <select id="email-kind" name="kind" defaultValue={kind ?? ""} key={kind ?? ""}>
            <option value="">Any kind</option>
            {Object.entries(KIND_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="email-status">Status</label>
          <select id="email-status" name="status" defaultValue={status ?? ""} key={status ?? ""}>
            <option value="">Any status</option>
            {Object.entries(STATUS_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Show</button>
      </form>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" ? (
        <>
          <p className="result-count">{list.data.total === 1 ? "1 email" : `${list.data.total} emails`}</p>
          {list.data.items.length ? (
            <ul className="outbox">
              {list.data.items.map((email) => (
                <li key={email.id}>
                  <details>
                    <summary>
                      <strong>{email.subject}</strong> to {email.to} · {KIND_LABELS[email.kind] ?? email.kind} ·{" "}
                      {STATUS_LABELS[email.status]}
                      {email.status === "failed" && email.last_error ? ` (${email.last_error})` : ""} ·{" "}
                      <time dateTime={email.created_at}>{new Date(email.created_at).toLocaleString()}</time>
                    </summary>
                    <pre className="email-text">{email.text}</pre>
                  </details>
                  {email.status === "pending" ? null : (
                    <button
                      type="button"
                      className="button-secondary button-small"
                      disabled={action.busy}
                      onClick={() => void resend(email)}
                    >
                      Resend<span className="visually-hidden"> “{email.subject}” to {email.to}</span>
                    </button>
                  )}
                </li>
              ))}
            </ul>
          ) : (
            <p>No emails match.</p>
          )}
          <Pager page={list.data.page} pages={list.data.pages} />
        </>
      ) : null}
    </>
  );
}
