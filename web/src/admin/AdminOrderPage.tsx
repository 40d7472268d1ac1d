// One order for the admin: lines, address, payment and refunds, the history with who did
// what; the next status (shipping asks for a tracking number) and refunds, full or partial.
import { type FormEvent, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../api";
import type { paths } from "../api/schema";
import { Field, SelectField } from "../components/Field";
import { OrderLines } from "../components/OrderLines";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { formatMoney, minorDigits, parseMoney } from "../lib/money";
import { textOf, useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";
import { STATUS_LABELS } from "../store/OrderPage";
import { describeActor } from "./StockPanel";

type Order = paths["/api/v1/admin/orders/{order_id}"]["get"]["responses"][200]["content"]["application/json"];
type Status = Order["status"];

// The moves an admin makes from here (cancel and refund have their own controls).
const NEXT: Partial<Record<Status, Status[]>> = {
  pending_payment: ["paid"],
  paid: ["processing"],
  processing: ["shipped"],
  shipped: ["delivered"],
};
const REFUNDABLE: Status[] = ["paid", "processing", "shipped", "delivered"];
const CANCELLABLE: Status[] = ["pending_payment", "paid", "processing"];

export function AdminOrderPage() {
  const { id = "" } = useParams();
  const [loaded, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/orders/{order_id}", { params: { path: { order_id: id } } })),
    id,
  );
  const [updated, setUpdated] = useState<Order | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const done = (next: Order, text: string) => {
    setUpdated(next);
    setMessage(text);
  };
  const order = updated?.id === id ? updated : loaded.state === "ready" ? loaded.data : null;
  useTitle(order ? `Order ${order.number}` : "Order");
  if (!order) {
    if (loaded.state === "error") {
      return (
        <>
          <h1>{loaded.error.status === 404 ? "Order not found" : "The order could not be loaded"}</h1>
          <ErrorNotice error={loaded.error} retry={retry} />
        </>
      );
    }
    return <Loading label="Loading the order…" />;
  }
  const address = order.shipping_address;
  return (
    <article className="order">
      <p className="breadcrumb">
        <Link to="/admin/orders">Orders</Link>
      </p>
      <h1>Order {order.number}</h1>
      <p className={`order-status order-status-${order.status}`}>
        Status: <strong>{STATUS_LABELS[order.status]}</strong>
        {order.tracking_number ? <> · Tracking number {order.tracking_number}</> : null}
      </p>
      <p>
        Customer: <a href={`mailto:${order.email}`}>{order.email}</a> · placed{" "}
        <time dateTime={order.created_at}>{new Date(order.created_at).toLocaleString()}</time>
      </p>
      {message ? <Notice kind="success">{message}</Notice> : null}
      <div className="admin-order-actions">
        <StatusForm order={order} onDone={done} onStart={() => setMessage(null)} />
        {REFUNDABLE.includes(order.status) && order.payment.amount_refunded < order.total ? (
          <RefundForm order={order} onDone={done} onStart={() => setMessage(null)} />
        ) : null}
      </div>
      <h2>Products</h2>
      <OrderLines order={order} linkTo={(line) => `/admin/products/${line.product_id}`} showRefunded />
      <h2>Shipping to</h2>
      <address>
        {[address.name, address.line1, address.line2, `${address.postal_code} ${address.city}`, address.country, address.phone]
          .filter(Boolean)
          .map((line) => (
            <span key={line} className="address-line">
              {line}
            </span>
          ))}
      </address>
      <h2>Payment</h2>
      <p>
        {order.payment.provider} · {order.payment.status.replace(/_/g, " ")}
        {order.payment.failure_reason ? ` (${order.payment.failure_reason})` : ""}
      </p>
      {order.payment.refunds.length ? (
        <ul>
          {order.payment.refunds.map((refund) => (
            <li key={refund.id}>
              Refund of {formatMoney(refund.amount, order.currency)}: {refund.status}
              {refund.reason ? ` (${refund.reason})` : ""}
            </li>
          ))}
        </ul>
      ) : null}
      <h2>History</h2>
      <ol className="history">
        {order.history.map((entry, index) => (
          <li key={`${entry.status}-${entry.at}-${index}`}>
            <time dateTime={entry.at}>{new Date(entry.at).toLocaleString()}</time>: {STATUS_LABELS[entry.status]}
            {entry.note ? ` (${entry.note})` : ""} · by {describeActor(entry.actor)}
          </li>
        ))}
      </ol>
    </article>
  );
}

interface FormProps {
  order: Order;
  onDone: (order: Order, message: string) => void;
  onStart: () => void;
}

function StatusForm({ order, onDone, onStart }: FormProps) {
  const choices = [...(NEXT[order.status] ?? []), ...(CANCELLABLE.includes(order.status) ? (["cancelled"] as Status[]) : [])];
  const [target, setTarget] = useState<Status | "">(choices[0] ?? "");
  const action = useAction();
  const formRef = useRef<HTMLFormElement>(null);
  if (!choices.length) return null;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onStart();
    const form = new FormData(event.currentTarget);
    const status = textOf(form, "status") as Status;
    const tracking = textOf(form, "tracking_number");
    const note = textOf(form, "note");
    await action.run(async () => {
      const moved = await unwrap(
        api.POST("/api/v1/admin/orders/{order_id}/status", {
          params: { path: { order_id: order.id } },
          body: {
            status,
            ...(status === "shipped" ? { tracking_number: tracking } : {}),
            ...(note ? { note } : {}),
          },
        }),
      );
      formRef.current?.reset();
      setTarget(NEXT[moved.status]?.[0] ?? "");
      onDone(moved, `The order is now: ${STATUS_LABELS[moved.status]}.`);
    });
  }

  const fields = action.fields;
  return (
    <form ref={formRef} onSubmit={submit} noValidate className="panel" aria-labelledby="status-heading">
      <h2 id="status-heading">Change the status</h2>
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <SelectField
        label="New status"
        name="status"
        value={target}
        onChange={(event) => setTarget(event.target.value as Status)}
        error={fields.status}
      >
        {choices.map((status) => (
          <option key={status} value={status}>
            {STATUS_LABELS[status]}
          </option>
        ))}
      </SelectField>
      {target === "shipped" ? (
        <Field label="Tracking number" name="tracking_number" required error={fields.tracking_number} />
      ) : null}
      <Field label="Note (optional)" name="note" error={fields.note} />
      <button type="submit" disabled={action.busy}>
        {action.busy ? "Saving…" : "Update the status"}
      </button>
    </form>
  );
}

function RefundForm({ order, onDone, onStart }: FormProps) {
  const action = useAction();
  const [local, setLocal] = useState<string | undefined>();
  const left = order.total - order.payment.amount_refunded;
  const formRef = useRef<HTMLFormElement>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onStart();
    const form = new FormData(event.currentTarget);
    const amountText = textOf(form, "amount");
    const amount = amountText ? parseMoney(amountText, order.currency) : null;
    if (amountText && amount === null) {
      setLocal(`Enter an amount like 12.50, at most ${formatMoney(left, order.currency)}.`);
      return;
    }
    setLocal(undefined);
    const reason = textOf(form, "reason");
    await action.run(async () => {
      const refunded = await unwrap(
        api.POST("/api/v1/admin/orders/{order_id}/refund", {
          params: { path: { order_id: order.id } },
          body: { ...(amount !== null ? { amount } : {}), ...(reason ? { reason } : {}) },
        }),
      );
      formRef.current?.reset();
      onDone(
        refunded,
        `Refunded ${formatMoney(amount ?? left, order.currency)}.${
          refunded.status === "refunded" ? " The order is refunded in full." : ""
        }`,
      );
    });
  }

  const fields = action.fields;
  const digits = minorDigits(order.currency);
  return (
    <form ref={formRef} onSubmit={submit} noValidate className="panel" aria-labelledby="refund-heading">
      <h2 id="refund-heading">Refund</h2>
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <Field
        label={`Amount (${order.currency.toUpperCase()}, optional)`}
        name="amount"
        inputMode="decimal"
        placeholder={(left / 10 ** digits).toFixed(digits)}
        hint={`Leave empty to refund the rest: ${formatMoney(left, order.currency)}.`}
        error={local ?? fields.amount}
      />
      <Field label="Reason (optional)" name="reason" error={fields.reason} />
      <button type="submit" className="button-danger" disabled={action.busy}>
        {action.busy ? "Refunding…" : "Refund"}
      </button>
    </form>
  );
}
