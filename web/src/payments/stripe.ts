// Stripe's Payment Element for an order awaiting payment (PAYMENT_PROVIDER=stripe): Stripe.js
// is loaded from js.stripe.com only when the shop says it uses Stripe (the CSP allows it only
// then), with the publishable key from GET /api/v1/payments/config; the element is mounted with
// the order's `payment.client_secret` and confirmPayment sends the card to Stripe, never to us.
// The order turns `paid` when Stripe's webhook reaches the shop: waitUntilSettled polls for it.
// Kept apart from React so Vitest can drive it with a fake Stripe object.
import type { Stripe } from "@stripe/stripe-js";
import type { ApiClient } from "../api/client";
import { unwrap } from "../api/client";
import type { paths } from "../api/schema";

export type PaymentConfig = paths["/api/v1/payments/config"]["get"]["responses"][200]["content"]["application/json"];

/** The shop's payment settings (public; asked once per page load, and again after a failure). */
export function paymentConfigLoader(api: ApiClient): () => Promise<PaymentConfig> {
  let pending: Promise<PaymentConfig> | null = null;
  return () => {
    pending ??= unwrap(api.GET("/api/v1/payments/config")).catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}

export type PaymentOutcome =
  | { ok: true; status: string } // Stripe's PaymentIntent status: succeeded, processing, ...
  | { ok: false; message: string };

export interface MountedPayment {
  confirm(returnUrl: string): Promise<PaymentOutcome>;
  destroy(): void;
}

export type LoadStripe = (publishableKey: string) => Promise<Stripe | null>;

export class StripeUnavailable extends Error {}

/** Loads Stripe.js with the publishable key and mounts a Payment Element for the intent. */
export async function mountPaymentElement(
  load: LoadStripe,
  publishableKey: string,
  clientSecret: string,
  container: HTMLElement,
): Promise<MountedPayment> {
  let stripe: Stripe | null;
  try {
    stripe = await load(publishableKey);
  } catch {
    stripe = null;
  }
  if (!stripe) throw new StripeUnavailable("Stripe's payment form could not be loaded.");
  const elements = stripe.elements({ clientSecret });
  const element = elements.create("payment");
  element.mount(container);
  return {
    async confirm(returnUrl) {
      // Cards settle here; a method that needs a bank's page returns to returnUrl afterwards.
      const result = await stripe.confirmPayment({
        elements,
        confirmParams: { return_url: returnUrl },
        redirect: "if_required",
      });
      if (result.error) {
        return { ok: false, message: result.error.message ?? "The payment did not go through." };
      }
      return { ok: true, status: result.paymentIntent.status };
    },
    destroy() {
      element.destroy();
    },
  };
}

/**
 * After Stripe confirmed a payment, the order is `paid` once the webhook has reached the shop:
 * ask for it again, waiting longer each time, until it no longer awaits payment (or give up).
 */
export async function waitUntilSettled<T extends { status: string }>(
  fetchOrder: () => Promise<T>,
  { attempts = 8, firstDelayMs = 500, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)) } = {},
): Promise<T> {
  let order = await fetchOrder();
  let delay = firstDelayMs;
  for (let attempt = 1; attempt < attempts && order.status === "pending_payment"; attempt++) {
    await sleep(delay);
    delay = Math.min(delay * 2, 5000);
    order = await fetchOrder();
  }
  return order;
}
