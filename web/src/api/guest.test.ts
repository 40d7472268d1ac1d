import { describe, expect, it } from "vitest";
import { GuestTokens, guestHeader } from "./guest";

function memory() {
  const data = new Map<string, string>();
  return {
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    removeItem: (key: string) => void data.delete(key),
  };
}

describe("guest tokens", () => {
  it("sends the cart token on cart calls and checkout only while signed out", () => {
    const guest = new GuestTokens(memory());
    expect(guestHeader(guest, "/api/v1/cart", "http://shop/api/v1/cart", false)).toBeNull();
    guest.setCartToken("cart-secret");
    expect(guestHeader(guest, "/api/v1/cart/items", "http://shop/api/v1/cart/items", false)).toEqual([
      "Cart-Token",
      "cart-secret",
    ]);
    expect(guestHeader(guest, "/api/v1/orders", "http://shop/api/v1/orders", false)).toEqual(["Cart-Token", "cart-secret"]);
    expect(guestHeader(guest, "/api/v1/cart", "http://shop/api/v1/cart", true)).toBeNull();
    expect(guestHeader(guest, "/api/v1/users/me", "http://shop/api/v1/users/me", false)).toBeNull();
    guest.forgetCart();
    expect(guest.cartToken()).toBeNull();
  });

  it("sends an order's own token on that order's calls only", () => {
    const guest = new GuestTokens(memory());
    guest.setOrderToken("a".repeat(24), "token-a");
    guest.setOrderToken("b".repeat(24), "token-b");
    const path = "/api/v1/orders/{order_id}/pay";
    expect(guestHeader(guest, path, `http://shop/api/v1/orders/${"a".repeat(24)}/pay`, true)).toEqual([
      "Order-Token",
      "token-a",
    ]);
    expect(guestHeader(guest, "/api/v1/orders/{order_id}", `http://shop/api/v1/orders/${"b".repeat(24)}`, false)).toEqual([
      "Order-Token",
      "token-b",
    ]);
    expect(guestHeader(guest, path, `http://shop/api/v1/orders/${"c".repeat(24)}/pay`, false)).toBeNull();
  });

  it("keeps a bounded list and survives a damaged entry", () => {
    const storage = memory();
    const guest = new GuestTokens(storage);
    for (let i = 0; i < 60; i++) guest.setOrderToken(`order-${i}`, `token-${i}`);
    expect(guest.orderToken("order-0")).toBeNull();
    expect(guest.orderToken("order-59")).toBe("token-59");
    storage.setItem("shop.order-tokens", "{not json");
    expect(guest.orderToken("order-59")).toBeNull();
    guest.setOrderToken("x", "y");
    expect(guest.orderToken("x")).toBe("y");
  });
});
