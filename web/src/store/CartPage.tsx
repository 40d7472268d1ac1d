import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../api";
import { loadCart } from "./cart";
import type { ApiProblem } from "../api/problem";
import type { components } from "../api/schema";
import { useAuth } from "../auth/AuthContext";
import { ErrorNotice, Loading } from "../components/Status";
import { formatMoney } from "../lib/money";
import { asProblem, useLoad, useTitle } from "../lib/useLoad";
import { OptionsText, optionsLabel } from "../components/OptionsText";
import { Field } from "../components/Field";
import { PriceRows } from "../components/PriceRows";
import { textOf, useAction } from "../lib/useAction";

type CartLine = components["schemas"]["CartItemOut"];

export function CartPage() {
  const { user } = useAuth();
  useTitle("Your cart");
  if (user === undefined) return <Loading />;
  // Signed in or not: a guest's cart works the same (its token travels as Cart-Token).
  return <CartView signedIn={user !== null} key={user?.id ?? "guest"} />;
}

function CartView({ signedIn }: { signedIn: boolean }) {
  const [version, setVersion] = useState(0);
  const [cart, retry] = useLoad(() => loadCart(signedIn), String(version));
  const [error, setError] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  async function change(line: CartLine, quantity: number) {
    setBusy(true);
    setError(null);
    try {
      // A line is named by its variant (a product id names it only when it has one line).
      const path = { params: { path: { product_id: line.variant_id } } };
      if (quantity === 0) await unwrap(api.DELETE("/api/v1/cart/items/{product_id}", path));
      else await unwrap(api.PATCH("/api/v1/cart/items/{product_id}", { ...path, body: { quantity } }));
      setVersion((n) => n + 1);
    } catch (problem) {
      setError(asProblem(problem));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <h1>Your cart</h1>
      {error ? <ErrorNotice error={error} /> : null}
      {cart.state === "loading" ? <Loading label="Loading your cart…" /> : null}
      {cart.state === "error" ? <ErrorNotice error={cart.error} retry={retry} /> : null}
      {cart.state === "ready" && cart.data.items.length === 0 ? (
        <p>
          Your cart is empty. <Link to="/">Browse the catalog</Link>
        </p>
      ) : null}
      {cart.state === "ready" && cart.data.items.length ? (
        <>
          <table className="cart-table">
            <caption className="visually-hidden">Products in your cart</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Price</th>
                <th scope="col">Quantity</th>
                <th scope="col">Total</th>
              </tr>
            </thead>
            <tbody>
              {cart.data.items.map((line) => (
                <tr key={line.variant_id}>
                  <th scope="row">
                    <Link to={`/products/${line.slug}`}>{line.name}</Link>
                    <OptionsText options={line.options} />
                    {!line.available ? <span className="stock stock-out_of_stock"> No longer available</span> : null}
                  </th>
                  <td>{formatMoney(line.unit_price, cart.data.currency)}</td>
                  <td>
                    <label className="visually-hidden" htmlFor={`qty-${line.variant_id}`}>
                      Quantity of {line.name} {optionsLabel(line.options)}
                    </label>
                    <input
                      id={`qty-${line.variant_id}`}
                      type="number"
                      min={0}
                      max={99}
                      defaultValue={line.quantity}
                      disabled={busy}
                      onBlur={(event) => {
                        const next = Number(event.target.value);
                        if (Number.isInteger(next) && next >= 0 && next !== line.quantity) void change(line, next);
                      }}
                    />
                    <button type="button" className="link-button" disabled={busy} onClick={() => void change(line, 0)}>
                      Remove<span className="visually-hidden"> {line.name} {optionsLabel(line.options)}</span>
                    </button>
                  </td>
                  <td>{formatMoney(line.line_total, cart.data.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="cart-subtotal">
            Subtotal ({cart.data.item_count} item{cart.data.item_count === 1 ? "" : "s"}):{" "}
            <strong>{formatMoney(cart.data.subtotal, cart.data.currency)}</strong>
          </p>
          <DiscountCode version={version} />
          <p className="cart-actions">
            <Link to="/checkout" className="button">
              Check out
            </Link>
          </p>
          {!signedIn ? (
            <p>
              Have an account? <Link to="/login?next=%2Fcart">Log in</Link> and this cart joins yours.
            </p>
          ) : null}
        </>
      ) : null}
    </>
  );
}

// The discount code: apply one (the API's reason shows beside the field), see what it takes
// off, take it off again. Shipping and tax come at checkout, once the address is known.
function DiscountCode({ version }: { version: number }) {
  const [changed, setChanged] = useState(0);
  const [quote, retry] = useLoad(() => unwrap(api.GET("/api/v1/cart/quote")), `${version}-${changed}`, true);
  const action = useAction();
  async function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const code = textOf(new FormData(event.currentTarget), "code");
    const ok = await action.run(async () => {
      await unwrap(api.POST("/api/v1/cart/discount", { body: { code } }));
    });
    if (ok) setChanged((n) => n + 1);
  }
  async function remove() {
    const ok = await action.run(async () => {
      await unwrap(api.DELETE("/api/v1/cart/discount"));
    });
    if (ok) setChanged((n) => n + 1);
  }
  if (quote.state === "error") return <ErrorNotice error={quote.error} retry={retry} />;
  if (quote.state === "loading") return null;
  const discount = quote.data.discount;
  return (
    <section aria-labelledby="discount-heading" className="narrow">
      <h2 id="discount-heading">Discount code</h2>
      {discount ? (
        <p>
          {discount.applied ? (
            <>
              Code <strong>{discount.code}</strong> is applied.
            </>
          ) : (
            <>
              Code <strong>{discount.code}</strong> no longer applies: {discount.message}
            </>
          )}{" "}
          <button type="button" className="link-button" disabled={action.busy} onClick={() => void remove()}>
            Remove the code<span className="visually-hidden"> {discount.code}</span>
          </button>
        </p>
      ) : (
        <form onSubmit={apply} noValidate aria-label="Discount code">
          <Field label="Discount code" name="code" autoComplete="off" error={action.fields.code} />
          <button type="submit" disabled={action.busy}>
            {action.busy ? "Applying…" : "Apply"}
          </button>
        </form>
      )}
      <dl className="totals" aria-label="Cart totals">
        <PriceRows priced={quote.data} totalLabel="Total before shipping" />
      </dl>
    </section>
  );
}
