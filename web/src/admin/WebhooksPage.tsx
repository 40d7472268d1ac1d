// Outgoing webhooks: register a receiver (its secret shown once), see each endpoint's
// delivery log, redeliver an event, switch an endpoint off and on, remove it.
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../api";
import type { components, paths } from "../api/schema";
import { Field } from "../components/Field";
import { ErrorNotice, Loading, Notice, TableWrap } from "../components/Status";
import { textOf, useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";

type Endpoint = components["schemas"]["WebhookOut"];
type EventType = paths["/api/v1/admin/webhooks"]["post"]["requestBody"]["content"]["application/json"]["events"][number];
type Delivery = components["schemas"]["DeliveryOut"];

export const EVENT_LABELS: Record<EventType, string> = {
  "order.created": "Order placed",
  "order.paid": "Order paid",
  "order.status_changed": "Order status changed",
  "order.cancelled": "Order cancelled",
  "order.refunded": "Order refunded",
  "product.stock_low": "Product low on stock",
  "product.out_of_stock": "Product out of stock",
};
const DELIVERY_LABELS: Record<Delivery["status"], string> = {
  pending: "Waiting",
  delivered: "Delivered",
  failed: "Failed",
};

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const [version, setVersion] = useState(0);
  const [log, retry] = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/admin/webhooks/{endpoint_id}/deliveries", {
          params: { path: { endpoint_id: endpoint.id }, query: { per_page: 20 } },
        }),
      ),
    `${endpoint.id}:${version}`,
    true,
  );
  const action = useAction();
  const [done, setDone] = useState<string | null>(null);

  async function redeliver(delivery: Delivery) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(
        api.POST("/api/v1/admin/webhook-deliveries/{delivery_id}/redeliver", {
          params: { path: { delivery_id: delivery.id } },
        }),
      );
    });
    if (ok) {
      setDone(`${delivery.event_type} is queued again.`);
      setVersion((n) => n + 1);
    }
  }

  if (log.state === "loading") return <Loading />;
  if (log.state === "error") return <ErrorNotice error={log.error} retry={retry} />;
  if (log.data.items.length === 0) return <p>No deliveries yet.</p>;
  return (
    <>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <TableWrap label={`Deliveries to ${endpoint.url}`}>
        <table>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">Next try</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {log.data.items.map((delivery) => (
              <tr key={delivery.id}>
                <th scope="row">
                  {delivery.event_type}{" "}
                  <time dateTime={delivery.created_at}>{new Date(delivery.created_at).toLocaleString()}</time>
                </th>
                <td>{DELIVERY_LABELS[delivery.status]}</td>
                <td>{delivery.attempts}</td>
                <td>
                  {delivery.last_status_code ?? delivery.last_error ?? "–"}
                  {delivery.last_duration_ms !== null ? ` (${delivery.last_duration_ms} ms)` : ""}
                </td>
                <td>{delivery.next_attempt_at ? new Date(delivery.next_attempt_at).toLocaleString() : "–"}</td>
                <td>
                  {delivery.status === "pending" ? null : (
                    <button type="button" onClick={() => redeliver(delivery)} disabled={action.busy}>
                      Redeliver<span className="visually-hidden"> {delivery.event_type}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}

export function WebhooksPage() {
  useTitle("Webhooks");
  const [version, setVersion] = useState(0);
  const [list, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/webhooks", { params: { query: { per_page: 50 } } })),
    `webhooks:${version}`,
    true,
  );
  const create = useAction();
  const change = useAction();
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function register(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const target = event.currentTarget;
    const events = form.getAll("events").map(String) as EventType[];
    setSecret(null);
    setDone(null);
    const ok = await create.run(async () => {
      const made = await unwrap(
        api.POST("/api/v1/admin/webhooks", {
          body: { url: textOf(form, "url"), events, ...(textOf(form, "description") ? { description: textOf(form, "description") } : {}) },
        }),
      );
      setSecret({ url: made.url, secret: made.secret });
    });
    if (ok) {
      target.reset();
      setVersion((n) => n + 1);
    }
  }

  async function toggle(endpoint: Endpoint) {
    setDone(null);
    const ok = await change.run(async () => {
      await unwrap(
        api.PATCH("/api/v1/admin/webhooks/{endpoint_id}", {
          params: { path: { endpoint_id: endpoint.id } },
          body: { enabled: !endpoint.enabled },
        }),
      );
    });
    if (ok) {
      setDone(`${endpoint.url} is ${endpoint.enabled ? "switched off" : "switched on again"}.`);
      setVersion((n) => n + 1);
    }
  }

  async function remove(endpoint: Endpoint) {
    setDone(null);
    const ok = await change.run(async () => {
      await unwrap(api.DELETE("/api/v1/admin/webhooks/{endpoint_id}", { params: { path: { endpoint_id: endpoint.id } } }));
    });
    if (ok) {
      setDone(`${endpoint.url} is removed.`);
      setVersion((n) => n + 1);
    }
  }

  return (
    <>
      <h1>Webhooks</h1>
      <p>
        The shop POSTs each event you choose to your receiver, signed per Standard Webhooks (headers{" "}
        <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>), and retries until it
        answers 2xx.
      </p>
      <form className="panel" onSubmit={register} aria-label="Add a webhook endpoint" noValidate>
        <h2>Add an endpoint</h2>
        <Field label="URL" name="url" type="url" required maxLength={2048} error={create.fields.url} hint="https:// in production" />
        <fieldset>
          <legend>Events</legend>
          {Object.entries(EVENT_LABELS).map(([value, label]) => (
            <label key={value} className="checkbox">
              <input type="checkbox" name="events" value={value} /> {label} (<code>{value}</code>)
            </label>
          ))}
          {create.fields.events ? <p className="field-error">{create.fields.events}</p> : null}
        </fieldset>
        <Field label="Description (optional)" name="description" maxLength={500} error={create.fields.description} />
        {create.error && !Object.keys(create.fields).length ? <ErrorNotice error={create.error} /> : null}
        <button type="submit" disabled={create.busy}>
          Add the endpoint
        </button>
      </form>
      {secret ? (
        <Notice kind="success">
          {secret.url} is added. Its signing secret, shown this once: <code className="secret">{secret.secret}</code>
        </Notice>
      ) : null}
      {done ? <Notice kind="success">{done}</Notice> : null}
      {change.error ? <ErrorNotice error={change.error} /> : null}
      <h2>Endpoints</h2>
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" && list.data.items.length === 0 ? <p>No endpoints yet.</p> : null}
      {list.state === "ready" ? (
        <ul className="webhooks">
          {list.data.items.map((endpoint) => (
            <li key={endpoint.id}>
              <h3>{endpoint.url}</h3>
              <p>
                {endpoint.enabled ? "On" : `Off${endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ""}`} ·{" "}
                {endpoint.events.map((event) => EVENT_LABELS[event]).join(", ")}
                {endpoint.description ? ` · ${endpoint.description}` : ""}
              </p>
              <p>
                <button type="button" onClick={() => toggle(endpoint)} disabled={change.busy}>
                  {endpoint.enabled ? "Switch off" : "Switch on"}
                  <span className="visually-hidden"> {endpoint.url}</span>
                </button>{" "}
                <button type="button" onClick={() => remove(endpoint)} disabled={change.busy}>
                  Remove<span className="visually-hidden"> {endpoint.url}</span>
                </button>
              </p>
              <details>
                <summary>Delivery log of {endpoint.url}</summary>
                <Deliveries endpoint={endpoint} />
              </details>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
