// A guest's secrets, kept in localStorage (every tab shares them): the guest cart's token,
// sent as Cart-Token while nobody is signed in, and each guest order's token, sent as
// Order-Token on that order's calls. The API shows an order's token once (checkout's answer,
// and the confirmation email's link ?token=…): it is kept here so the order page reloads.
import type { StorageLike } from "./tokens";

const CART_KEY = "shop.cart-token";
const ORDERS_KEY = "shop.order-tokens";
// Enough for any shopper; the oldest are forgotten first.
const MAX_ORDER_TOKENS = 50;

export class GuestTokens {
  constructor(private readonly storage: StorageLike) {}

  cartToken(): string | null {
    return this.storage.getItem(CART_KEY);
  }

  setCartToken(token: string | null | undefined): void {
    if (token) this.storage.setItem(CART_KEY, token);
  }

  /** The guest cart is gone (merged into an account's, or expired). */
  forgetCart(): void {
    this.storage.removeItem(CART_KEY);
  }

  private orders(): [string, string][] {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(ORDERS_KEY) ?? "[]");
      return Array.isArray(parsed)
        ? parsed.filter(
            (entry): entry is [string, string] =>
              Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "string",
          )
        : [];
    } catch {
      return [];
    }
  }

  orderToken(orderId: string): string | null {
    return this.orders().find(([id]) => id === orderId)?.[1] ?? null;
  }

  setOrderToken(orderId: string, token: string | null | undefined): void {
    if (!token) return;
    const kept = this.orders().filter(([id]) => id !== orderId);
    kept.push([orderId, token]);
    this.storage.setItem(ORDERS_KEY, JSON.stringify(kept.slice(-MAX_ORDER_TOKENS)));
  }
}

const ORDER_PATH = /^\/api\/v1\/orders\/\{order_id\}/;

/**
 * The guest header a call needs, if any: Order-Token on an order's own calls (it names one
 * order, so it goes with or without a login), Cart-Token on the cart and checkout while
 * signed out (a login has its own cart).
 */
export function guestHeader(
  guest: GuestTokens,
  schemaPath: string,
  url: string,
  signedIn: boolean,
): [string, string] | null {
  if (ORDER_PATH.test(schemaPath)) {
    const id = /\/api\/v1\/orders\/([^/?]+)/.exec(new URL(url, "http://x").pathname)?.[1];
    const token = id ? guest.orderToken(decodeURIComponent(id)) : null;
    return token ? ["Order-Token", token] : null;
  }
  if (signedIn) return null;
  if (schemaPath.startsWith("/api/v1/cart") || schemaPath === "/api/v1/orders") {
    const token = guest.cartToken();
    return token ? ["Cart-Token", token] : null;
  }
  return null;
}
