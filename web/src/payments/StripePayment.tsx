// The Payment Element on an order awaiting payment with Stripe (see ./stripe.ts).
import { loadStripe } from "@stripe/stripe-js/pure";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { api, unwrap } from "../api";
import type { paths } from "../api/schema";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { formatMoney } from "../lib/money";
import { useLoad } from "../lib/useLoad";
import { type MountedPayment, mountPaymentElement, paymentConfigLoader, waitUntilSettled } from "./stripe";

type Order = paths["/api/v1/orders/{order_id}"]["get"]["responses"][200]["content"]["application/json"];

const paymentConfig = paymentConfigLoader(api);

export function StripePayment({ order, onSettled }: { order: Order; onSettled: (order: Order) => void }) {
  const [config, retry] = useLoad(paymentConfig, "payment-config");
  const container = useRef<HTMLDivElement>(null);
  const [payment, setPayment] = useState<MountedPayment | null>(null);
  const [mountError, setMountError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const key = config.state === "ready" ? config.data.publishable_key : null;
  const clientSecret = order.payment.client_secret;

  useEffect(() => {
    if (!key || !clientSecret || !container.current) return;
    let mounted: MountedPayment | null = null;
    let current = true;
    setMountError(null);
    mountPaymentElement(loadStripe, key, clientSecret, container.current).then(
      (ready) => {
        mounted = ready;
        if (current) setPayment(ready);
        else ready.destroy();
      },
      (error: unknown) => current && setMountError(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      current = false;
      mounted?.destroy();
      setPayment(null);
    };
  }, [key, clientSecret]);

  async function settle() {
    setConfirming(true);
    try {
      const fetchOrder = () => unwrap(api.GET("/api/v1/orders/{order_id}", { params: { path: { order_id: order.id } } }));
      onSettled(await waitUntilSettled(fetchOrder));
    } catch {
      setMessage("Your payment went through; the order page will show it shortly. Reload to check.");
    } finally {
      setConfirming(false);
    }
  }

  // Back from a bank's page (a redirect-based method): Stripe adds redirect_status to the URL.
  useEffect(() => {
    const status = new URLSearchParams(window.location.search).get("redirect_status");
    if (status === "succeeded" || status === "processing") void settle();
    else if (status === "failed") setMessage("The payment did not go through. Try again or use another method.");
    // Once per order page.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [order.id]);

  async function pay(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!payment) return;
    setBusy(true);
    setMessage(null);
    try {
      const outcome = await payment.confirm(`${window.location.origin}/orders/${order.id}`);
      if (outcome.ok) await settle();
      else setMessage(outcome.message);
    } finally {
      setBusy(false);
    }
  }

  if (config.state === "loading") return <Loading label="Loading the payment form…" />;
  if (config.state === "error") return <ErrorNotice error={config.error} retry={retry} />;
  if (!key || !clientSecret) {
    return <Notice>Online payment is not set up in this shop yet. Contact the shop to pay for this order.</Notice>;
  }
  const total = formatMoney(order.total, order.currency);
  return (
    <form onSubmit={pay} className="payment" aria-labelledby="pay-heading">
      <h2 id="pay-heading">Pay {total}</h2>
      <div ref={container} className="payment-element" data-testid="payment-element" />
      {!payment && !mountError ? <Loading label="Loading Stripe's payment form…" /> : null}
      {mountError ? (
        <div className="notice notice-error" role="alert">
          <p>{mountError} Check your connection and reload the page.</p>
        </div>
      ) : null}
      {message ? (
        <p className="field-error" role="alert">
          {message}
        </p>
      ) : null}
      {confirming ? <Loading label="Payment received, confirming your order…" /> : null}
      <button type="submit" disabled={!payment || busy || confirming}>
        {busy ? "Paying…" : `Pay ${total}`}
      </button>
    </form>
  );
}
