// Checkout: the cart's summary and a shipping address; the order is placed once however often
// the button is pressed or the network retries (Idempotency-Key), then paid on its own page.
// A guest checks out with an email address (or logs in, which merges the guest cart): the
// order's token is kept (localStorage) so its page opens without an account.
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, guest, unwrap } from "../api";
import type { ApiProblem } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Field } from "../components/Field";
import { ErrorNotice, Loading } from "../components/Status";
import { formatMoney } from "../lib/money";
import { asProblem, useLoad, useTitle } from "../lib/useLoad";
import { loadCart } from "./cart";
import { PriceRows } from "../components/PriceRows";

const newKey = () => crypto.randomUUID();

export function CheckoutPage() {
  useTitle("Checkout");
  const { user } = useAuth();
  if (user === undefined) return <Loading />;
  if (user === null) return <CheckoutForm signedIn={false} defaultName="" defaultPhone="" key="guest" />;
  return <CheckoutForm signedIn defaultName={user.name} defaultPhone={user.phone ?? ""} key={user.id} />;
}

function CheckoutForm({
  signedIn,
  defaultName,
  defaultPhone,
}: {
  signedIn: boolean;
  defaultName: string;
  defaultPhone: string;
}) {
  const navigate = useNavigate();
  const [cart, retry] = useLoad(() => loadCart(signedIn), "cart");
  const [saved] = useLoad(
    () =>
      signedIn
        ? unwrap(api.GET("/api/v1/users/me/addresses", { params: { query: { per_page: 100 } } })).then((page) => page.items)
        : Promise.resolve([]),
    "addresses",
  );
  const addresses = saved.state === "ready" ? saved.data : [];
  // A saved address (the default first) or "new"; the new address's fields keep their input.
  const [choice, setChoice] = useState<string | null>(null);
  const chosen = choice ?? (addresses.find((address) => address.is_default) ?? addresses[0])?.id ?? "new";
  // The destination prices shipping and tax: the saved address's, or the new one's as typed.
  const [country, setCountry] = useState("");
  const [region, setRegion] = useState("");
  const [method, setMethod] = useState<string | null>(null);
  const picked = addresses.find((address) => address.id === chosen);
  const destination = picked ? { country: picked.country, region: picked.region ?? "" } : { country, region };
  const query: { country?: string; region?: string; shipping_method_id?: string } = {};
  if (/^[A-Za-z]{2}$/.test(destination.country.trim())) {
    query.country = destination.country.trim();
    if (/^[A-Za-z0-9]{1,3}$/.test(destination.region.trim())) query.region = destination.region.trim();
    if (method) query.shipping_method_id = method;
  }
  const [quote, retryQuote] = useLoad(
    // A guest who has no cart yet has nothing to price (and the API would ask who it is).
    () => (signedIn || guest.cartToken() ? unwrap(api.GET("/api/v1/cart/quote", { params: { query } })) : Promise.resolve(null)),
    JSON.stringify(query),
    true,
  );
  const [key, setKey] = useState(newKey);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiProblem | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const optional = (name: string) => (text(name) ? { [name]: text(name) } : {});
    // The method the summary shows is the one charged (the quote's, chosen or the cheapest).
    const shippingMethod = method ?? (quote.state === "ready" ? quote.data?.shipping_method?.id : undefined);
    const shipping = shippingMethod ? { shipping_method_id: shippingMethod } : {};
    setBusy(true);
    setError(null);
    try {
      const order = await unwrap(
        api.POST("/api/v1/orders", {
          params: { header: { "Idempotency-Key": key } },
          body: chosen !== "new" ? { address_id: chosen, ...shipping } : {
            ...shipping,
            ...(signedIn ? {} : { email: text("email") }),
            shipping_address: {
              line1: text("line1"),
              city: text("city"),
              postal_code: text("postal_code"),
              country: text("country"),
              ...optional("name"),
              ...optional("line2"),
              ...optional("region"),
              ...optional("phone"),
            },
          },
        }),
      );
      // A guest's order opens with its token, shown this once: keep it for the order page.
      guest.setOrderToken(order.id, order.order_token);
      navigate(`/orders/${order.id}`);
    } catch (problem) {
      const failure = asProblem(problem);
      // No answer: the same key again, so a retry cannot order twice. An answer: a new try.
      if (failure.status !== 0) setKey(newKey());
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  if (cart.state === "loading" || saved.state === "loading") return <Loading label="Loading your cart…" />;
  if (cart.state === "error") return <ErrorNotice error={cart.error} retry={retry} />;
  if (cart.data.items.length === 0) {
    return (
      <>
        <h1>Checkout</h1>
        <p>
          Your cart is empty. <Link to="/">Browse the catalog</Link>
        </p>
      </>
    );
  }
  const fields = error?.fieldErrors ?? {};
  const field = (name: string) => fields[`shipping_address.${name}`];
  return (
    <>
      <h1>Checkout</h1>
      <div className="checkout">
        <section aria-labelledby="summary-heading" className="checkout-summary">
          <h2 id="summary-heading">Your order</h2>
          <ul>
            {cart.data.items.map((line) => (
              <li key={line.product_id}>
                {line.quantity} × {line.name}: {formatMoney(line.line_total, cart.data.currency)}
              </li>
            ))}
          </ul>
          {quote.state === "error" ? <ErrorNotice error={quote.error} retry={retryQuote} /> : null}
          {quote.state === "ready" && quote.data ? (
            <>
              {quote.data.shipping_methods.length ? (
                <fieldset className="shipping-methods">
                  <legend>Shipping method</legend>
                  {quote.data.shipping_methods.map((option) => (
                    <div className="field field-check" key={option.id}>
                      <input
                        type="radio"
                        id={`method-${option.id}`}
                        name="shipping_method"
                        value={option.id}
                        // The choice shows at once; the quote for it follows.
                        checked={(method ?? quote.data?.shipping_method?.id) === option.id}
                        onChange={() => setMethod(option.id)}
                      />
                      <label htmlFor={`method-${option.id}`}>
                        {option.name}: {formatMoney(option.price, option.currency)}, {option.min_days}–{option.max_days}{" "}
                        days
                        {option.free_over !== null ? ` (free over ${formatMoney(option.free_over, option.currency)})` : ""}
                      </label>
                    </div>
                  ))}
                </fieldset>
              ) : null}
              {fields.shipping_method_id ? <p className="field-error">{fields.shipping_method_id}</p> : null}
              <dl className="totals" aria-label="Order totals">
                <PriceRows priced={quote.data} />
              </dl>
              {!query.country ? <p>Shipping and tax are added once you give the address.</p> : null}
            </>
          ) : (
            <p>
              Subtotal: <strong>{formatMoney(cart.data.subtotal, cart.data.currency)}</strong>
            </p>
          )}
          <p>
            <Link to="/cart">Change the cart</Link>
          </p>
        </section>
        <form onSubmit={submit} noValidate aria-labelledby="address-heading">
          <h2 id="address-heading">Shipping address</h2>
          {error ? <ErrorNotice error={error} /> : null}
          {!signedIn ? (
            <>
              <p>
                Checking out as a guest. Have an account?{" "}
                <Link to="/login?next=%2Fcheckout">Log in</Link> and your cart comes with you.
              </p>
              <Field
                label="Email"
                name="email"
                type="email"
                autoComplete="email"
                required
                hint="Your order confirmation, with a link to the order, goes here."
                error={fields.email}
              />
            </>
          ) : null}
          {addresses.length ? (
            <fieldset className="saved-addresses">
              <legend>Ship to</legend>
              {addresses.map((address) => (
                <div className="field field-check" key={address.id}>
                  <input
                    type="radio"
                    id={`ship-${address.id}`}
                    name="ship_to"
                    value={address.id}
                    checked={chosen === address.id}
                    onChange={() => {
                      setChoice(address.id);
                      setMethod(null);
                    }}
                  />
                  <label htmlFor={`ship-${address.id}`}>
                    {[address.line1, address.line2, `${address.postal_code} ${address.city}`, address.country]
                      .filter(Boolean)
                      .join(", ")}
                    {address.is_default ? " (default)" : ""}
                  </label>
                </div>
              ))}
              <div className="field field-check">
                <input type="radio" id="ship-new" name="ship_to" value="new" checked={chosen === "new"} onChange={() => {
                    setChoice("new");
                    setMethod(null);
                  }} />
                <label htmlFor="ship-new">A new address</label>
              </div>
            </fieldset>
          ) : null}
          {fields.address_id && chosen !== "new" ? <p className="field-error">{fields.address_id}</p> : null}
          <div hidden={chosen !== "new"}>
          <Field label="Full name" name="name" autoComplete="name" defaultValue={defaultName} error={field("name")} />
          <Field label="Address" name="line1" autoComplete="address-line1" required error={field("line1")} />
          <Field label="Address line 2 (optional)" name="line2" autoComplete="address-line2" error={field("line2")} />
          <Field label="City" name="city" autoComplete="address-level2" required error={field("city")} />
          <Field label="Postal code" name="postal_code" autoComplete="postal-code" required error={field("postal_code")} />
          <Field
            label="Country"
            name="country"
            autoComplete="country"
            required
            hint="Two letters: US, FR"
            value={country}
            onChange={(event) => {
              // Another destination has its own methods: the cheapest again until one is chosen.
              setCountry(event.currentTarget.value);
              setMethod(null);
            }}
            error={field("country")}
          />
          <Field
            label="State or region (optional)"
            name="region"
            autoComplete="address-level1"
            hint="For the US and Canada: CA for California"
            value={region}
            onChange={(event) => {
              setRegion(event.currentTarget.value);
              setMethod(null);
            }}
            error={field("region")}
          />
          <Field label="Phone (optional)" name="phone" type="tel" autoComplete="tel" defaultValue={defaultPhone} error={field("phone")} />
          </div>
          <button type="submit" disabled={busy}>
            {busy ? "Placing the order…" : "Place the order"}
          </button>
        </form>
      </div>
    </>
  );
}
