// One order: its state, lines, address and history; payment while it awaits one (the dev
// gateway takes Stripe's test cards; with Stripe, its Payment Element and the order's
// client_secret), and cancellation while that is allowed. A guest's order opens with its
// token: from checkout, or the confirmation email's link (?token=…), kept in localStorage and
// sent as Order-Token by the API module; the link's token is then taken out of the address bar.
import { type FormEvent, useEffect, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, guest, unwrap } from "../api";
import { useAuth } from "../auth/AuthContext";
import type { ApiProblem } from "../api/problem";
import type { paths } from "../api/schema";
import { OrderLines } from "../components/OrderLines";
import { StripePayment } from "../payments/StripePayment";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { formatMoney } from "../lib/money";
import { asProblem, useLoad, useTitle } from "../lib/useLoad";

type Order = paths["/api/v1/orders/{order_id}"]["get"]["responses"][200]["content"]["application/json"];

export const STATUS_LABELS: Record<Order["status"], string> = {
  pending_payment: "Awaiting payment",
  paid: "Paid",
  processing: "Being prepared",
  shipped: "Shipped",
  delivered: "Delivered",
  cancelled: "Cancelled",
  refunded: "Refunded",
};

// Stripe's test payment methods, which the dev gateway answers as Stripe does.
const TEST_CARDS = [
  { id: "pm_card_visa", label: "Visa ending 4242 (test card that succeeds)" },
  { id: "pm_card_chargeDeclined", label: "Card that is declined (test)" },
  { id: "pm_card_chargeDeclinedInsufficientFunds", label: "Card with insufficient funds (test)" },
] as const;

const CANCELLABLE: Order["status"][] = ["pending_payment", "paid", "processing"];

function PaymentForm({ order, onPaid }: { order: Order; onPaid: (order: Order) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiProblem | null>(null);
  async function pay(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const method = String(new FormData(event.currentTarget).get("payment_method") ?? "");
    setBusy(true);
    setError(null);
    try {
      onPaid(
        await unwrap(
          api.POST("/api/v1/orders/{order_id}/pay", {
            params: { path: { order_id: order.id }, header: { "Idempotency-Key": crypto.randomUUID() } },
            body: { payment_method: method },
          }),
        ),
      );
    } catch (problem) {
      setError(asProblem(problem));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={pay} className="payment">
      <fieldset>
        <legend>Pay {formatMoney(order.total, order.currency)}</legend>
        {TEST_CARDS.map((card, index) => (
          <div className="field field-check" key={card.id}>
            <input type="radio" id={card.id} name="payment_method" value={card.id} defaultChecked={index === 0} />
            <label htmlFor={card.id}>{card.label}</label>
          </div>
        ))}
      </fieldset>
      {error ? <ErrorNotice error={error} /> : null}
      <button type="submit" disabled={busy}>
        {busy ? "Paying…" : `Pay ${formatMoney(order.total, order.currency)}`}
      </button>
    </form>
  );
}

export function OrderPage() {
  const { id = "" } = useParams();
  const [params] = useSearchParams();
  const linkToken = params.get("token");
  // Before the first load: the email link's token is what opens a guest's order.
  useState(() => guest.setOrderToken(id, linkToken));
  const navigate = useNavigate();
  useEffect(() => {
    if (linkToken) navigate(`/orders/${id}`, { replace: true });
  }, [id, linkToken, navigate]);
  const { user } = useAuth();
  const [version, setVersion] = useState(0);
  const [loaded, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/orders/{order_id}", { params: { path: { order_id: id } } })),
    `${id}:${version}`,
  );
  const [updated, setUpdated] = useState<Order | null>(null);
  const [cancelError, setCancelError] = useState<ApiProblem | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const order = updated?.id === id ? updated : loaded.state === "ready" ? loaded.data : null;
  useTitle(order ? `Order ${order.number}` : "Order");

  if (!order) {
    if (loaded.state === "error") {
      // Signed out without this order's token: the API asks for a login.
      const noAccess = loaded.error.status === 401 && !user;
      return (
        <>
          <h1>{loaded.error.status === 404 || noAccess ? "Order not found" : "The order could not be loaded"}</h1>
          {noAccess ? (
            <p>
              <Link to={`/login?next=${encodeURIComponent(`/orders/${id}`)}`}>Log in</Link> to see your orders, or open
              the link in your order confirmation email.
            </p>
          ) : (
            <ErrorNotice error={loaded.error} retry={retry} />
          )}
          {loaded.error.status === 404 ? (
            <p>Ordered as a guest? Open the link in your order confirmation email.</p>
          ) : null}
        </>
      );
    }
    return <Loading label="Loading the order…" />;
  }

  async function cancel() {
    if (!order) return;
    setCancelling(true);
    setCancelError(null);
    try {
      setUpdated(
        await unwrap(api.POST("/api/v1/orders/{order_id}/cancel", { params: { path: { order_id: order.id } } })),
      );
    } catch (problem) {
      setCancelError(asProblem(problem));
      setVersion((n) => n + 1);
    } finally {
      setCancelling(false);
    }
  }

  return (
    <article className="order">
      {user ? (
        <p className="breadcrumb">
          <Link to="/account/orders">Your orders</Link>
        </p>
      ) : null}
      <h1>Order {order.number}</h1>
      <p className={`order-status order-status-${order.status}`}>
        Status: <strong>{STATUS_LABELS[order.status]}</strong>
        {order.tracking_number ? <> · Tracking number {order.tracking_number}</> : null}
      </p>
      {order.status === "paid" ? (
        <Notice kind="success">Thank you! Your payment is received and your order is confirmed.</Notice>
      ) : null}
      {order.payment.status === "declined" && order.status === "pending_payment" ? (
        <p className="field-error">The last payment was declined. Try another card.</p>
      ) : null}
      {order.status === "pending_payment" && order.payment.provider === "dev" ? (
        <PaymentForm order={order} onPaid={setUpdated} />
      ) : null}
      {order.status === "pending_payment" && order.payment.provider === "stripe" ? (
        <StripePayment order={order} onSettled={setUpdated} />
      ) : null}
      <OrderLines order={order} linkTo={(line) => `/products/${line.slug}`} />
      <h2>Shipping to</h2>
      <address>
        {[order.shipping_address.name, order.shipping_address.line1, order.shipping_address.line2,
          `${order.shipping_address.postal_code} ${order.shipping_address.city}`, order.shipping_address.country]
          .filter(Boolean)
          .map((line) => (
            <span key={line} className="address-line">
              {line}
            </span>
          ))}
      </address>
      <h2>History</h2>
      <ol className="history">
        {order.history.map((entry) => (
          <li key={`${entry.status}-${entry.at}`}>
            <time dateTime={entry.at}>{new Date(entry.at).toLocaleString()}</time>: {STATUS_LABELS[entry.status]}
            {entry.note ? ` (${entry.note})` : ""}
          </li>
        ))}
      </ol>
      {CANCELLABLE.includes(order.status) ? (
        <p>
          <button type="button" className="button-secondary" disabled={cancelling} onClick={() => void cancel()}>
            {cancelling ? "Cancelling…" : "Cancel the order"}
          </button>
        </p>
      ) : null}
      {cancelError ? <ErrorNotice error={cancelError} /> : null}
    </article>
  );
}
