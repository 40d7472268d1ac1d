// Set-up through the public API, as any client could: a shopper with paid orders.
import { type APIRequestContext, expect } from "@playwright/test";

export const SHOPPER_PASSWORD = "Sturdy-Shopper-42";

export interface Shopper {
  email: string;
  token: string;
}

export async function registerShopper(request: APIRequestContext, email: string, name: string): Promise<Shopper> {
  const registered = await request.post("/api/v1/auth/register", {
    data: { email, password: SHOPPER_PASSWORD, name },
  });
  expect(registered.status()).toBe(201);
  const login = await request.post("/api/v1/auth/login", { data: { email, password: SHOPPER_PASSWORD } });
  expect(login.status()).toBe(200);
  return { email, token: ((await login.json()) as { access_token: string }).access_token };
}

/** A product in stock (by slug), its id. */
export async function productId(request: APIRequestContext, slug: string): Promise<string> {
  const response = await request.get(`/api/v1/products/${slug}`);
  expect(response.status()).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

/** Puts `quantity` of the product in the cart, checks out to a new address and pays. */
export async function placeOrder(
  request: APIRequestContext,
  shopper: Shopper,
  product: string,
  { quantity = 1, pay = true }: { quantity?: number; pay?: boolean } = {},
): Promise<{ id: string; number: string; total: number }> {
  const headers = { Authorization: `Bearer ${shopper.token}` };
  const added = await request.post("/api/v1/cart/items", { headers, data: { product_id: product, quantity } });
  expect(added.status(), await added.text()).toBeLessThan(300);
  const placed = await request.post("/api/v1/orders", {
    headers: { ...headers, "Idempotency-Key": crypto.randomUUID() },
    data: {
      shipping_address: { name: "Robin Shopper", line1: "9 Harbour Road", city: "Portsmouth", postal_code: "PO1 3AX", country: "GB" },
    },
  });
  expect(placed.status(), await placed.text()).toBe(201);
  const order = (await placed.json()) as { id: string; number: string; total: number };
  if (pay) {
    const paid = await request.post(`/api/v1/orders/${order.id}/pay`, {
      headers: { ...headers, "Idempotency-Key": crypto.randomUUID() },
      data: { payment_method: "pm_card_visa" },
    });
    expect(paid.status(), await paid.text()).toBe(200);
  }
  return order;
}
