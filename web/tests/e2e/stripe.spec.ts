// With PAYMENT_PROVIDER=stripe, an order awaiting payment is paid through Stripe's Payment Element,
// as far as this offline machine allows. What is real: the shop (its own server, Stripe
// configured) with localstripe as Stripe's API, which holds the PaymentIntent checkout created
// and delivers the signed `payment_intent.succeeded` webhook that marks the order paid; the SPA
// asking for the publishable key, @stripe/stripe-js injecting Stripe.js from js.stripe.com (so
// the page's CSP must allow it) and mounting a Payment Element with the order's client_secret,
// confirmPayment, the wait for the webhook. What is a stand-in: Stripe.js itself (js.stripe.com
// cannot be reached here, and localstripe's own stripe.js has no Payment Element or
// confirmPayment), served at Stripe's URL by this test; its confirmPayment calls
// api.stripe.com, which this test hands to localstripe.
import { type Route, expect, request as newRequest, test } from "@playwright/test";
import { SHOPPER_PASSWORD, productId, registerShopper } from "./api";
import { checkPage, watchPage } from "./helpers";

const shop = process.env.SHOP_STRIPE_BASE_URL ?? "";
const emulator = process.env.SHOP_STRIPE_EMULATOR_URL ?? "";
const secretKey = process.env.SHOP_STRIPE_SECRET_KEY ?? "";

// The stand-in for Stripe.js: the Payment Element's API as the app uses it, recording its calls.
const FAKE_STRIPE_JS = `(() => {
  const calls = (window.__stripeCalls = []);
  function Stripe(key) {
    calls.push(["Stripe", key]);
    return {
      _registerWrapper() {},
      elements(options) {
        calls.push(["elements", options.clientSecret]);
        return {
          clientSecret: options.clientSecret,
          create(type) {
            calls.push(["create", type]);
            let holder = null;
            return {
              mount(element) {
                calls.push(["mount"]);
                holder = element;
                element.innerHTML =
                  '<label for="stand-in-card">Card (test stand-in for Stripe\\'s Payment Element)</label>' +
                  '<select id="stand-in-card"><option value="pm_card_visa">Visa 4242</option>' +
                  '<option value="pm_card_chargeCustomerFail">Declined card</option></select>';
              },
              destroy() { if (holder) holder.textContent = ""; },
            };
          },
        };
      },
      async confirmPayment({ elements, confirmParams, redirect }) {
        calls.push(["confirmPayment", confirmParams.return_url, redirect]);
        const intent = elements.clientSecret.split("_secret_")[0];
        const response = await fetch("https://api.stripe.com/v1/payment_intents/" + intent + "/confirm", {
          method: "POST",
          body: JSON.stringify({ key, client_secret: elements.clientSecret,
            payment_method: document.getElementById("stand-in-card").value }),
        });
        const body = await response.json();
        return body.error ? { error: body.error } : { paymentIntent: body };
      },
    };
  }
  Stripe.version = "endive";
  window.Stripe = Stripe;
})();`;

/** Stripe's API for the stand-in: the intent's client_secret checked, then confirmed at localstripe. */
async function stripeApi(route: Route): Promise<void> {
  const intent = /\/v1\/payment_intents\/(\w+)\/confirm$/.exec(new URL(route.request().url()).pathname)?.[1];
  const cors = { "Access-Control-Allow-Origin": new URL(shop).origin };
  const data = JSON.parse(route.request().postData() ?? "{}") as { client_secret?: string; payment_method?: string };
  const stripe = await newRequest.newContext({ baseURL: emulator, extraHTTPHeaders: { Authorization: `Bearer ${secretKey}` } });
  try {
    const found = intent ? await stripe.get(`/v1/payment_intents/${intent}`) : null;
    if (!found || !found.ok() || (await found.json()).client_secret !== data.client_secret) {
      await route.fulfill({ status: 400, headers: cors, json: { error: { message: "No such payment intent." } } });
      return;
    }
    await stripe.post(`/v1/payment_intents/${intent}`, { form: { payment_method: data.payment_method ?? "" } });
    const confirmed = await stripe.post(`/v1/payment_intents/${intent}/confirm`);
    const body = (await confirmed.json()) as { error?: { message: string } };
    await route.fulfill({ status: confirmed.status(), headers: cors, json: body });
  } finally {
    await stripe.dispose();
  }
}

test("with Stripe, an order is paid through the Payment Element and the webhook", async ({ page }, testInfo) => {
  test.skip(!shop, process.env.SHOP_STRIPE_SKIPPED ?? "no Stripe-configured shop (run make test-web)");
  const problems = watchPage(page);
  const scripts: string[] = [];
  await page.route("https://js.stripe.com/**", (route) => {
    scripts.push(route.request().url());
    return route.fulfill({ contentType: "text/javascript", body: FAKE_STRIPE_JS });
  });
  await page.route("https://api.stripe.com/**", stripeApi);

  const api = await newRequest.newContext({ baseURL: shop });
  const shopper = await registerShopper(api, `sam-${testInfo.project.name}-${Date.now()}@example.com`, "Sam Stripe");
  const headers = { Authorization: `Bearer ${shopper.token}` };
  const product = await productId(api, "organic-cotton-tee");
  expect((await api.post("/api/v1/cart/items", { headers, data: { product_id: product, quantity: 1 } })).ok()).toBe(true);
  await api.dispose();


  // Checkout in the browser; the order page offers Stripe's form, not the dev gateway's cards.
  await page.goto(`${shop}/login?next=%2Fcheckout`);
  await page.getByLabel("Email").fill(shopper.email);
  await page.getByLabel("Password").fill(SHOPPER_PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Checkout" })).toBeVisible();
  await page.getByLabel("Address", { exact: true }).fill("3 Mill Lane");
  await page.getByLabel("City").fill("Leeds");
  await page.getByLabel("Postal code").fill("LS1 4AP");
  await page.getByLabel("Country").fill("GB");
  await page.getByRole("button", { name: "Place the order" }).click();
  await expect(page.getByText("Status: Awaiting payment")).toBeVisible();
  const card = page.getByLabel(/Card \(test stand-in/);
  await expect(card).toBeVisible();
  await expect(page.getByLabel(/Visa ending 4242/)).toHaveCount(0);
  expect(scripts).toEqual(["https://js.stripe.com/endive/stripe.js"]);
  const calls = (await page.evaluate("window.__stripeCalls")) as unknown[][];
  expect(calls.map((call) => call[0])).toEqual(["Stripe", "elements", "create", "mount"]);
  expect(calls[0]?.[1]).toBe("pk_test_web_journeys");
  expect(String(calls[1]?.[1])).toMatch(/^pi_\w+_secret_\w+$/);
  expect(calls[2]?.[1]).toBe("payment");
  await checkPage(page, testInfo, "80-stripe-payment-element");

  // Visa: confirmed at "Stripe"; the order turns paid when the webhook reaches the shop.
  await card.selectOption("pm_card_visa");
  await page.getByRole("button", { name: /^Pay / }).click();
  await expect(page.getByText("Thank you! Your payment is received")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText("Status: Paid")).toBeVisible();
  const confirm = ((await page.evaluate("window.__stripeCalls")) as unknown[][]).filter((call) => call[0] === "confirmPayment");
  expect(confirm).toEqual([["confirmPayment", expect.stringMatching(new RegExp(`^${shop}/orders/\\w+$`)), "if_required"]]);
  await checkPage(page, testInfo, "81-stripe-paid");

  // Another order, a card the bank declines: Stripe's message, the order still awaits payment.
  // (localstripe cannot confirm an intent again after a decline, so no retry here.)
  const again = await newRequest.newContext({ baseURL: shop });
  expect((await again.post("/api/v1/cart/items", { headers, data: { product_id: product, quantity: 1 } })).ok()).toBe(true);
  const placed = await again.post("/api/v1/orders", {
    headers: { ...headers, "Idempotency-Key": crypto.randomUUID() },
    data: { shipping_address: { line1: "3 Mill Lane", city: "Leeds", postal_code: "LS1 4AP", country: "GB" } },
  });
  expect(placed.status()).toBe(201);
  const declined = (await placed.json()) as { id: string };
  await again.dispose();
  await page.goto(`${shop}/orders/${declined.id}`);
  await card.selectOption("pm_card_chargeCustomerFail");
  await page.getByRole("button", { name: /^Pay / }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Your card was declined." })).toBeVisible();
  await expect(page.getByText("Status: Awaiting payment")).toBeVisible();
  await checkPage(page, testInfo, "82-stripe-declined");

  expect(problems).toEqual([]);
});
