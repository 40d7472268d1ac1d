// The cart as a page shows it: the signed-in shopper's, or the guest's (Cart-Token, sent by
// the API module). A guest who has added nothing has an empty cart without asking; a guest
// cart the API no longer knows (30 days unused) is forgotten and shown empty.
import { api, guest, unwrap } from "../api";
import type { paths } from "../api/schema";
import { asProblem } from "../lib/useLoad";

export type Cart = paths["/api/v1/cart"]["get"]["responses"][200]["content"]["application/json"];

const EMPTY: Cart = { items: [], subtotal: 0, item_count: 0, currency: "usd", cart_token: null, cart_merge: null };

export async function loadCart(signedIn: boolean): Promise<Cart> {
  if (!signedIn && !guest.cartToken()) return EMPTY;
  try {
    return await unwrap(api.GET("/api/v1/cart"));
  } catch (problem) {
    if (!signedIn && asProblem(problem).code === "cart_not_found") {
      guest.forgetCart();
      return EMPTY;
    }
    throw problem;
  }
}
