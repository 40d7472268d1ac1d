import type { Stripe } from "@stripe/stripe-js";
import { describe, expect, it, vi } from "vitest";
import { createApi } from "../api/client";
import { ApiProblem } from "../api/problem";
import { mountPaymentElement, paymentConfigLoader, StripeUnavailable, waitUntilSettled } from "./stripe";

const CLIENT_SECRET = "pi_123_secret_456";

/** A fake Stripe.js: records what the app asks of it; confirmPayment answers `outcome`. */
function fakeStripe(outcome: unknown) {
  const element = { mount: vi.fn(), destroy: vi.fn() };
  const elements = { create: vi.fn(() => element) };
  const stripe = {
    elements: vi.fn(() => elements),
    confirmPayment: vi.fn(async () => outcome),
  };
  return { stripe, elements, element, load: vi.fn(async () => stripe as unknown as Stripe) };
}

const container = {} as HTMLElement;

describe("the Payment Element", () => {
  it("loads Stripe.js with the publishable key and mounts a Payment Element for the client_secret", async () => {
    const fake = fakeStripe({ paymentIntent: { status: "succeeded" } });
    const mounted = await mountPaymentElement(fake.load, "pk_test_abc", CLIENT_SECRET, container);
    expect(fake.load).toHaveBeenCalledWith("pk_test_abc");
    expect(fake.stripe.elements).toHaveBeenCalledWith({ clientSecret: CLIENT_SECRET });
    expect(fake.elements.create).toHaveBeenCalledWith("payment");
    expect(fake.element.mount).toHaveBeenCalledWith(container);
    expect(fake.stripe.confirmPayment).not.toHaveBeenCalled();

    const outcome = await mounted.confirm("https://shop.test/orders/o1");
    expect(outcome).toEqual({ ok: true, status: "succeeded" });
    expect(fake.stripe.confirmPayment).toHaveBeenCalledWith({
      elements: fake.elements,
      confirmParams: { return_url: "https://shop.test/orders/o1" },
      redirect: "if_required",
    });
    mounted.destroy();
    expect(fake.element.destroy).toHaveBeenCalledOnce();
  });

  it("says in words why Stripe refused the payment", async () => {
    const fake = fakeStripe({ error: { type: "card_error", message: "Your card was declined." } });
    const mounted = await mountPaymentElement(fake.load, "pk_test_abc", CLIENT_SECRET, container);
    expect(await mounted.confirm("https://shop.test/orders/o1")).toEqual({
      ok: false,
      message: "Your card was declined.",
    });
  });

  it("fails clearly when Stripe.js cannot be loaded (offline, blocked)", async () => {
    await expect(mountPaymentElement(async () => null, "pk", CLIENT_SECRET, container)).rejects.toBeInstanceOf(
      StripeUnavailable,
    );
    const throwing = async () => {
      throw new Error("Failed to load Stripe.js");
    };
    await expect(mountPaymentElement(throwing, "pk", CLIENT_SECRET, container)).rejects.toBeInstanceOf(
      StripeUnavailable,
    );
  });
});

describe("the payment settings", () => {
  it("asks the shop once for its provider and publishable key, and again after a failure", async () => {
    const calls: string[] = [];
    let fail = true;
    const fetch = async (request: Request) => {
      calls.push(`${request.method} ${new URL(request.url).pathname}`);
      if (fail) {
        fail = false;
        return new Response(JSON.stringify({ status: 503, title: "Unavailable", code: "service_unavailable" }), {
          status: 503,
          headers: { "Content-Type": "application/problem+json" },
        });
      }
      return Response.json({ provider: "stripe", publishable_key: "pk_test_abc" });
    };
    const storage = { getItem: () => null, setItem: () => undefined, removeItem: () => undefined };
    const { api } = createApi({ baseUrl: "http://shop.test", fetch, storage });
    const load = paymentConfigLoader(api);
    await expect(load()).rejects.toBeInstanceOf(ApiProblem);
    expect(await load()).toEqual({ provider: "stripe", publishable_key: "pk_test_abc" });
    expect(await load()).toEqual({ provider: "stripe", publishable_key: "pk_test_abc" });
    expect(calls).toEqual(["GET /api/v1/payments/config", "GET /api/v1/payments/config"]);
  });
});

describe("after Stripe confirmed", () => {
  it("asks for the order until the webhook has marked it paid", async () => {
    const answers = ["pending_payment", "pending_payment", "paid"];
    const fetchOrder = vi.fn(async () => ({ status: answers.shift() ?? "paid" }));
    const waits: number[] = [];
    const order = await waitUntilSettled(fetchOrder, { sleep: async (ms) => void waits.push(ms) });
    expect(order.status).toBe("paid");
    expect(fetchOrder).toHaveBeenCalledTimes(3);
    expect(waits).toEqual([500, 1000]);
  });

  it("gives up after the attempts it was given, still awaiting payment", async () => {
    const fetchOrder = vi.fn(async () => ({ status: "pending_payment" }));
    const order = await waitUntilSettled(fetchOrder, { attempts: 3, sleep: async () => undefined });
    expect(order.status).toBe("pending_payment");
    expect(fetchOrder).toHaveBeenCalledTimes(3);
  });
});
