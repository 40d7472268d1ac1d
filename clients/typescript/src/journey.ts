// A shopper's journey through the client generated from /openapi.json, against a live server:
// register, log in, refresh, browse, search, fill the cart, check out, pay, read the orders.
// `tsc --noEmit` (strict) checks every call and field below against the schema, so a schema
// that lies fails the build; at run time each answer is checked (status and key fields), and
// the first surprise exits non-zero.
import { randomUUID } from "node:crypto";

import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "../generated/schema.js";

type Problem = components["schemas"]["Problem"];
type ProductListItem = components["schemas"]["ProductListItem"];
type CategoryNode = components["schemas"]["CategoryNode"];
type Json<Path extends keyof paths, Method extends "get" | "post"> = paths[Path][Method] extends {
  responses: { 200: { content: { "application/json": infer Body } } };
}
  ? Body
  : never;
type Cart = Json<"/api/v1/cart", "get">;
type Order = Json<"/api/v1/orders/{order_id}", "get">;

const baseUrl = process.env.SHOP_API_URL;
if (!baseUrl) {
  console.error("set SHOP_API_URL, e.g. http://127.0.0.1:8000");
  process.exit(2);
}

const MAX_LINE_QUANTITY = 99; // a cart line holds at most this many units

let accessToken: string | undefined;
const bearer: Middleware = {
  onRequest({ request }) {
    if (accessToken) request.headers.set("Authorization", `Bearer ${accessToken}`);
    return request;
  },
};
const api = createClient<paths>({ baseUrl });
api.use(bearer);

let passed = 0;
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
  passed += 1;
}

/** The body of a successful answer, after checking its status. */
function ok<T>(
  result: { data?: T; error?: unknown; response: Response },
  status: number,
  what: string,
): T {
  const { data, error, response } = result;
  check(
    response.status === status,
    `${what}: expected ${status}, got ${response.status} ${JSON.stringify(error ?? data)}`,
  );
  check(data !== undefined, `${what}: no body`);
  return data;
}

/** The problem+json of a failed answer, after checking its status and code. */
function problem(
  result: { error?: Problem; response: Response },
  status: number,
  code: string,
  what: string,
): Problem {
  const { error, response } = result;
  check(response.status === status, `${what}: expected ${status}, got ${response.status}`);
  const contentType = response.headers.get("content-type") ?? "";
  check(contentType.startsWith("application/problem+json"), `${what}: content-type ${contentType}`);
  check(error !== undefined, `${what}: no problem body`);
  check(error.code === code, `${what}: expected code ${code}, got ${error.code}`);
  check(error.status === status, `${what}: body status ${error.status}`);
  check(error.detail.length > 0 && error.title.length > 0, `${what}: detail and title`);
  return error;
}

function isTimestamp(value: string): boolean {
  return /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value));
}

function step(name: string): void {
  console.log(`-- ${name}`);
}

function slugsUnder(node: CategoryNode): string[] {
  return [node.slug, ...node.children.flatMap(slugsUnder)];
}

async function main(): Promise<void> {
  step("health");
  const health = ok(await api.GET("/health"), 200, "GET /health");
  check(health.status === "ok", "health says ok");

  // -- account --------------------------------------------------------------------------------
  step("register");
  const email = `shopper.${Date.now()}.${randomUUID().slice(0, 8)}@example.com`;
  const password = "Journey-Walker-2026!";
  const registered = ok(
    await api.POST("/api/v1/auth/register", {
      // The minimal body API.md allows, with the optional address in its minimal form too.
      body: {
        email,
        password,
        name: "Jo Shopper",
        address: { line1: "1 Market Street", city: "Springfield", postal_code: "12345", country: "US" },
      },
    }),
    201,
    "register",
  );
  check(registered.user.email === email, "registered email");
  check(registered.user.role === "customer", "a new user is a customer");
  check(registered.user.email_verified === false, "not verified yet");
  check(isTimestamp(registered.user.created_at), "created_at is an ISO timestamp");
  const again = await api.POST("/api/v1/auth/register", {
    body: { email, password, name: "Jo Again" },
  });
  problem(again, 409, "email_taken", "register twice");
  const weak = await api.POST("/api/v1/auth/register", {
    body: { email: `other.${email}`, password: "short", name: "Weak" },
  });
  const invalid = problem(weak, 422, "validation_error", "weak password");
  check(
    invalid.errors?.some((e) => e.loc.includes("password") && e.msg.length > 0) === true,
    "the 422 names the password field",
  );

  step("login");
  const wrong = await api.POST("/api/v1/auth/login", {
    body: { email, password: "Not-The-Password-99" },
  });
  problem(wrong, 401, "invalid_credentials", "wrong password");
  const login = ok(await api.POST("/api/v1/auth/login", { body: { email, password } }), 200, "login");
  check(login.token_type === "bearer", "token_type bearer");
  check(login.expires_in > 0, "expires_in > 0");
  check(login.user.id === registered.user.id, "login names the registered user");
  accessToken = login.access_token;

  step("refresh");
  const refreshed = ok(
    await api.POST("/api/v1/auth/refresh", { body: { refresh_token: login.refresh_token } }),
    200,
    "refresh",
  );
  check(refreshed.refresh_token !== login.refresh_token, "the refresh token rotated");
  accessToken = refreshed.access_token;
  const me = ok(await api.GET("/api/v1/users/me"), 200, "GET /users/me");
  check(me.id === registered.user.id && me.email === email, "me after refresh");

  const addresses = ok(await api.GET("/api/v1/users/me/addresses"), 200, "GET addresses");
  check(addresses.total === 1 && addresses.items.length === 1, "the registration address was saved");
  const saved = addresses.items[0];
  check(saved !== undefined && saved.is_default && saved.line2 === null, "it is the default address");

  // -- browse ---------------------------------------------------------------------------------
  step("browse: list, filter, categories, product page");
  const first = ok(await api.GET("/api/v1/products"), 200, "GET /products");
  check(first.page === 1 && first.per_page === 20, "default page and per_page");
  check(first.total > 0 && first.items.length === Math.min(20, first.total), "a full first page");
  check(first.pages === Math.ceil(first.total / first.per_page), "pages agrees with total");
  check(
    first.items.every((p) => p.currency === first.items[0]?.currency && Number.isInteger(p.price)),
    "one currency, integer prices",
  );

  const tree = ok(await api.GET("/api/v1/categories"), 200, "GET /categories");
  check(tree.length > 0, "a category tree");
  const root = tree.find((node) => node.children.length > 0);
  check(root !== undefined, "a root with sub-categories");
  const inRoot = new Set(slugsUnder(root));

  const filtered = ok(
    await api.GET("/api/v1/products", {
      params: { query: { category: root.slug, in_stock: true, sort: "price", per_page: 50 } },
    }),
    200,
    "filtered list",
  );
  check(filtered.items.length > 0, `products in ${root.slug}`);
  check(
    filtered.items.every((p) => p.category !== null && inRoot.has(p.category.slug)),
    "every product is in the category or below it",
  );
  check(filtered.items.every((p) => p.stock_status !== "out_of_stock"), "in_stock=true");
  check(
    filtered.items.every((p, i, all) => i === 0 || (all[i - 1]?.price ?? 0) <= p.price),
    "sorted by price",
  );
  const cheap = filtered.items[0];
  check(cheap !== undefined, "a cheapest product");
  const band = ok(
    await api.GET("/api/v1/products", {
      params: { query: { min_price: cheap.price, max_price: cheap.price } },
    }),
    200,
    "price band",
  );
  check(
    band.items.some((p) => p.id === cheap.id) && band.items.every((p) => p.price === cheap.price),
    "min_price/max_price bound the prices",
  );
  const tooMany = await api.GET("/api/v1/products", { params: { query: { per_page: 101 } } });
  const tooManyProblem = problem(tooMany, 422, "validation_error", "per_page 101");
  check(
    tooManyProblem.errors?.some((e) => e.loc.includes("per_page")) === true,
    "the 422 names per_page",
  );

  // Two buyable products from the filtered page: A for the paid order, B (fewer units than a
  // cart line can hold) to ask for more than there is.
  const buyable = filtered.items.filter((p) => p.stock_status === "in_stock");
  const itemA = buyable[0];
  check(itemA !== undefined, "a product in stock");
  const page = ok(
    await api.GET("/api/v1/products/{reference}", { params: { path: { reference: itemA.slug } } }),
    200,
    "product page by slug",
  );
  check(page.id === itemA.id && page.price === itemA.price, "the page is the listed product");
  check(page.description.length > 0 && page.stock >= 3, "a description and stock");
  check(typeof page.attributes === "object" && isTimestamp(page.updated_at), "attributes, updated_at");
  const byId = ok(
    await api.GET("/api/v1/products/{reference}", { params: { path: { reference: itemA.id } } }),
    200,
    "product page by id",
  );
  check(byId.slug === page.slug, "the same product by id and by slug");
  const missing = await api.GET("/api/v1/products/{reference}", {
    params: { path: { reference: "no-such-product-anywhere" } },
  });
  problem(missing, 404, "not_found", "unknown product");

  let pageB: typeof page | undefined;
  for (const candidate of buyable.slice(1)) {
    const result = await api.GET("/api/v1/products/{reference}", {
      params: { path: { reference: candidate.id } },
    });
    const product = ok(result, 200, `product page ${candidate.slug}`);
    if (product.stock >= 2 && product.stock < MAX_LINE_QUANTITY) {
      pageB = product;
      break;
    }
  }
  check(pageB !== undefined, "a second product with a few units in stock");
  const itemB = pageB;

  step("search");
  const word = page.name.split(/\s+/).sort((a, b) => b.length - a.length)[0] ?? page.name;
  const found = ok(
    await api.GET("/api/v1/products", { params: { query: { q: word } } }),
    200,
    `search ${word}`,
  );
  check(found.items.some((p: ProductListItem) => p.id === page.id), `searching "${word}" finds it`);
  const nothing = ok(
    await api.GET("/api/v1/products", { params: { query: { q: "zzqxwv" } } }),
    200,
    "search for nothing",
  );
  check(nothing.total === 0 && nothing.items.length === 0 && nothing.pages === 0, "an empty page");

  // -- cart -----------------------------------------------------------------------------------
  step("cart: add, merge, update, view");
  const empty = ok(await api.GET("/api/v1/cart"), 200, "GET /cart");
  check(empty.items.length === 0 && empty.subtotal === 0 && empty.item_count === 0, "empty cart");
  ok(
    await api.POST("/api/v1/cart/items", { body: { product_id: itemA.id, quantity: 1 } }),
    200,
    "add A",
  );
  let cart: Cart = ok(
    await api.POST("/api/v1/cart/items", { body: { product_id: itemA.id, quantity: 1 } }),
    200,
    "add A again",
  );
  check(cart.items.length === 1 && cart.items[0]?.quantity === 2, "adding again merges the line");
  cart = ok(
    await api.POST("/api/v1/cart/items", { body: { product_id: itemB.id, quantity: 1 } }),
    200,
    "add B",
  );
  cart = ok(
    await api.PATCH("/api/v1/cart/items/{product_id}", {
      params: { path: { product_id: itemA.id } },
      body: { quantity: 3 },
    }),
    200,
    "set A to 3",
  );
  const lineA = cart.items.find((line) => line.product_id === itemA.id);
  check(lineA?.quantity === 3 && lineA.line_total === 3 * page.price, "A: 3 at the current price");
  check(lineA.available && lineA.unit_price === page.price, "A is available");
  // One B is in the cart: adding all of B's stock asks for one more than there is.
  const overStock = await api.POST("/api/v1/cart/items", {
    body: { product_id: itemB.id, quantity: itemB.stock },
  });
  const shortProblem = problem(overStock, 409, "insufficient_stock", "more than in stock");
  const short = shortProblem.lines?.[0];
  check(
    short?.product_id === itemB.id &&
      short.requested === itemB.stock + 1 &&
      short.available === itemB.stock &&
      short.name === itemB.name,
    `the 409 names the short line: ${JSON.stringify(shortProblem.lines)}`,
  );
  const overLimit = await api.POST("/api/v1/cart/items", {
    body: { product_id: itemB.id, quantity: MAX_LINE_QUANTITY },
  });
  problem(overLimit, 409, "cart_quantity_limit", "more than a cart line holds");
  const unknown = await api.POST("/api/v1/cart/items", {
    body: { product_id: "0123456789abcdef01234567", quantity: 1 },
  });
  problem(unknown, 404, "not_found", "an unknown product");
  cart = ok(
    await api.PATCH("/api/v1/cart/items/{product_id}", {
      params: { path: { product_id: itemB.id } },
      body: { quantity: 0 },
    }),
    200,
    "set B to 0",
  );
  check(cart.items.every((line) => line.product_id !== itemB.id), "quantity 0 removes the line");
  cart = ok(await api.GET("/api/v1/cart"), 200, "view the cart");
  check(cart.items.length === 1 && cart.item_count === 3, "one line of three");
  check(cart.subtotal === 3 * page.price && cart.currency === page.currency, "subtotal, currency");

  // -- the priced cart: shipping methods, quote, discount code --------------------------------
  step("shipping methods, the cart's quote, a discount code");
  const methods = ok(
    await api.GET("/api/v1/shipping-methods", { params: { query: { country: "US", region: "CA" } } }),
    200,
    "GET /shipping-methods",
  );
  check(methods.every((m) => m.currency === cart.currency && m.min_days <= m.max_days), "methods");
  const quoted = ok(
    await api.GET("/api/v1/cart/quote", { params: { query: { country: "US", region: "CA" } } }),
    200,
    "GET /cart/quote",
  );
  const taxAdded = quoted.prices_include_tax ? 0 : quoted.tax_total;
  check(quoted.subtotal === cart.subtotal, "the quote's subtotal is the cart's");
  check(
    quoted.total === quoted.subtotal - quoted.discount_total + quoted.shipping_total + taxAdded,
    "the quote adds up",
  );
  check(
    quoted.lines.length === cart.items.length &&
      quoted.lines.every((line) => line.discount >= 0 && line.tax >= 0 && line.total >= 0),
    "discount and tax per line",
  );
  check(quoted.shipping_methods.length === methods.length, "the destination's methods");
  const badCode = await api.POST("/api/v1/cart/discount", { body: { code: "NO-SUCH-CODE" } });
  check(problem(badCode, 422, "discount_invalid", "an unknown code").reason === "unknown", "reason");
  const noCode = ok(await api.DELETE("/api/v1/cart/discount"), 200, "DELETE /cart/discount");
  check(noCode.discount === null && noCode.total === noCode.subtotal + noCode.shipping_total + (noCode.prices_include_tax ? 0 : noCode.tax_total), "no code on the cart");

  // -- checkout and pay -----------------------------------------------------------------------
  step("checkout with an Idempotency-Key");
  const key = randomUUID();
  const shipping = { line1: "1 Market Street", city: "Springfield", postal_code: "12345", country: "US" };
  const placed = await api.POST("/api/v1/orders", {
    body: { shipping_address: shipping },
    params: { header: { "Idempotency-Key": key } },
  });
  const order = ok(placed, 201, "POST /orders");
  check(order.status === "pending_payment", "a new order waits for payment");
  check(order.items.length === 1 && order.items[0]?.product_id === itemA.id, "the cart's line");
  check(order.subtotal === cart.subtotal && order.total >= order.subtotal, "totals");
  check(
    order.total === quoted.total && order.tax_total === quoted.tax_total && order.discount_total === 0,
    "the order charges the quote",
  );
  check(order.items.every((item) => item.tax >= 0 && item.discount === 0), "per line tax and discount");
  check(order.currency === cart.currency, "currency");
  check(order.payment.provider === "dev" && order.payment.status === "requires_payment", "payment");
  check(typeof order.payment.client_secret === "string", "a client secret for the frontend");
  check(order.shipping_address.line1 === shipping.line1 && order.shipping_address.line2 === null, "address");
  check(order.history.length === 1 && order.history[0]?.status === "pending_payment", "history");
  check(isTimestamp(order.created_at) && order.history.every((h) => isTimestamp(h.at)), "times");
  const replay = await api.POST("/api/v1/orders", {
    body: { shipping_address: shipping },
    params: { header: { "Idempotency-Key": key } },
  });
  check(ok(replay, 201, "the same key again").id === order.id, "the same order, not a second one");
  check(replay.response.headers.get("Idempotent-Replayed") === "true", "Idempotent-Replayed");
  const after = ok(await api.GET("/api/v1/cart"), 200, "cart after checkout");
  check(after.items.length === 0, "checkout emptied the cart");
  const afterCheckout = ok(
    await api.GET("/api/v1/products/{reference}", { params: { path: { reference: itemA.id } } }),
    200,
    "product after checkout",
  );
  check(afterCheckout.stock === page.stock - 3, "checkout took three units");
  const emptyCheckout = await api.POST("/api/v1/orders", { body: { address_id: saved.id } });
  problem(emptyCheckout, 422, "cart_empty", "checkout of an empty cart");

  step("pay with pm_card_visa (dev gateway)");
  const paid = ok(
    await api.POST("/api/v1/orders/{order_id}/pay", {
      params: { path: { order_id: order.id }, header: { "Idempotency-Key": randomUUID() } },
      body: { payment_method: "pm_card_visa" },
    }),
    200,
    "pay",
  );
  check(paid.status === "paid" && paid.payment.status === "succeeded", "the order is paid");
  check(paid.history.map((h) => h.status).join(",") === "pending_payment,paid", "history says so");

  step("a declined card, then cancel (second order, to the saved address)");
  ok(
    await api.POST("/api/v1/cart/items", { body: { product_id: itemB.id, quantity: 1 } }),
    200,
    "add B",
  );
  const second = ok(
    await api.POST("/api/v1/orders", {
      body: { address_id: saved.id },
      params: { header: { "Idempotency-Key": randomUUID() } },
    }),
    201,
    "second checkout",
  );
  check(second.shipping_address.city === saved.city, "shipped to the saved address");
  const declined = await api.POST("/api/v1/orders/{order_id}/pay", {
    params: { path: { order_id: second.id } },
    body: { payment_method: "pm_card_chargeDeclined" },
  });
  const declineProblem = problem(declined, 402, "payment_declined", "a declined card");
  check(typeof declineProblem.decline_code === "string", "the 402 says why");
  const cancelled = ok(
    await api.POST("/api/v1/orders/{order_id}/cancel", { params: { path: { order_id: second.id } } }),
    200,
    "cancel",
  );
  check(cancelled.status === "cancelled", "cancelled");
  check(cancelled.payment.status === "declined" || cancelled.payment.status === "cancelled", "payment");

  // -- order history --------------------------------------------------------------------------
  step("order history and one order");
  const history = ok(await api.GET("/api/v1/orders"), 200, "GET /orders");
  check(history.total === 2 && history.items.length === 2, "two orders");
  check(history.items[0]?.id === second.id && history.items[1]?.id === order.id, "newest first");
  const summary = history.items[1];
  check(summary?.status === "paid" && summary.payment_status === "succeeded", "the paid summary");
  check(summary.total === order.total && summary.item_count === 3, "its total and item count");
  const one: Order = ok(
    await api.GET("/api/v1/orders/{order_id}", { params: { path: { order_id: order.id } } }),
    200,
    "GET /orders/{id}",
  );
  check(one.number === order.number && one.status === "paid", "one order, paid");
  check(one.tracking_number === null && one.payment.amount_refunded === 0, "not shipped, not refunded");
  const notMine = await api.GET("/api/v1/orders/{order_id}", {
    params: { path: { order_id: "0123456789abcdef01234567" } },
  });
  problem(notMine, 404, "not_found", "an order that is not mine");

  step("logout");
  const out = await api.POST("/api/v1/auth/logout", { body: { refresh_token: refreshed.refresh_token } });
  check(out.response.status === 204, `logout: ${out.response.status}`);
  problem(await api.GET("/api/v1/users/me"), 401, "invalid_token", "the access token is dead");

  await guestJourney(itemA.id, shipping);
}

/** Without an account: a guest cart (Cart-Token), checkout with an email, the order read,
 * paid and refused to strangers with its Order-Token: the headers are typed parameters. */
async function guestJourney(productId: string, shipping: { line1: string; city: string; postal_code: string; country: string }) {
  step("a guest cart, guest checkout and the order token");
  accessToken = undefined;
  const started = ok(
    await api.POST("/api/v1/cart/items", { body: { product_id: productId, quantity: 1 } }),
    200,
    "an anonymous add creates a guest cart",
  );
  const cartToken = started.cart_token;
  check(typeof cartToken === "string" && cartToken.length >= 43, "a cart token of 256 bits");
  const guestCart: Cart = ok(
    await api.GET("/api/v1/cart", { params: { header: { "Cart-Token": cartToken } } }),
    200,
    "GET /cart with Cart-Token",
  );
  check(guestCart.items.length === 1 && guestCart.cart_token === cartToken, "the guest's cart");
  problem(
    await api.GET("/api/v1/cart", { params: { header: { "Cart-Token": "not-a-token" } } }),
    404,
    "cart_not_found",
    "an unknown cart token",
  );
  const placed = ok(
    await api.POST("/api/v1/orders", {
      params: { header: { "Cart-Token": cartToken, "Idempotency-Key": randomUUID() } },
      body: { email: `guest-${randomUUID()}@example.com`, shipping_address: shipping },
    }),
    201,
    "guest checkout",
  );
  const orderToken = placed.order_token;
  check(typeof orderToken === "string" && orderToken.length >= 43, "an order token, shown once");
  const read = ok(
    await api.GET("/api/v1/orders/{order_id}", {
      params: { path: { order_id: placed.id }, header: { "Order-Token": orderToken } },
    }),
    200,
    "GET the guest's order with Order-Token",
  );
  check(read.id === placed.id && read.order_token === null, "the order, without its token");
  const paid = ok(
    await api.POST("/api/v1/orders/{order_id}/pay", {
      params: { path: { order_id: placed.id }, header: { "Order-Token": orderToken } },
      body: { payment_method: "pm_card_visa" },
    }),
    200,
    "the guest pays",
  );
  check(paid.status === "paid", "the guest's order is paid");
  problem(
    await api.GET("/api/v1/orders/{order_id}", {
      params: { path: { order_id: placed.id }, header: { "Order-Token": cartToken } },
    }),
    404,
    "not_found",
    "another token opens nothing",
  );
}

main().then(
  () => {
    console.log(`journey: ${passed} passed, 0 failed`);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    console.log(`journey: ${passed} passed, 1 failed`);
    process.exit(1);
  },
);
