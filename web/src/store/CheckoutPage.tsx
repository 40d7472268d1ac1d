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
  const [key, setKey] = useState(newKey);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiProblem | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const optional = (name: string) => (text(name) ? { [name]: text(name) } : {});
    setBusy(true);
    setError(null);
    try {
      const order = await unwrap(
        api.POST("/api/v1/orders", {
          params: { header: { "Idempotency-Key": key } },
          body: chosen !== "new" ? { address_id: chosen } : {
            ...(signedIn ? {} : { email: text("email") }),
            shipping_address: {
              line1: text("line1"),
              city: text("city"),
              postal_code: text("postal_code"),
              country: text("country"),
              ...optional("name"),
              ...optional("line2"),
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
          <p>
            Subtotal: <strong>{formatMoney(cart.data.subtotal, cart.data.currency)}</strong>
          </p>
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
                    onChange={() => setChoice(address.id)}
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
                <input type="radio" id="ship-new" name="ship_to" value="new" checked={chosen === "new"} onChange={() => setChoice("new")} />
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
          <Field label="Country" name="country" autoComplete="country" required error={field("country")} />
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
