import { type FormEvent, useState } from "react";
import type { components, paths } from "../api/schema";
import { Link, useParams } from "react-router";
import { api, guest, unwrap } from "../api";
import type { ApiProblem } from "../api/problem";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { formatMoney } from "../lib/money";
import { asProblem, useLoad, useTitle } from "../lib/useLoad";
import { STOCK_LABELS } from "./ProductCard";

/** Adds to the signed-in shopper's cart, or a guest's (the first add creates it: its token is
 * kept). A guest cart that expired is forgotten and a new one started. */
async function addToGuestOrOwnCart(productId: string, variantId: string | null, quantity: number): Promise<void> {
  const body = variantId ? { product_id: productId, variant_id: variantId, quantity } : { product_id: productId, quantity };
  const add = () => unwrap(api.POST("/api/v1/cart/items", { body }));
  try {
    guest.setCartToken((await add()).cart_token);
  } catch (problem) {
    if (asProblem(problem).code !== "cart_not_found") throw problem;
    guest.forgetCart();
    guest.setCartToken((await add()).cart_token);
  }
}

export function ProductPage() {
  const { slug = "" } = useParams();
  const [product, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/products/{reference}", { params: { path: { reference: slug } } })),
    slug,
  );
  const [shown, setShown] = useState(0);
  const [quantity, setQuantity] = useState(1);
  const [adding, setAdding] = useState(false);
  const [added, setAdded] = useState<number | null>(null);
  const [error, setError] = useState<ApiProblem | null>(null);
  const [chosen, setChosen] = useState<Record<string, string> | null>(null);
  useTitle(product.state === "ready" ? product.data.name : "Product");

  if (product.state === "loading") return <Loading label="Loading the product…" />;
  if (product.state === "error") {
    return (
      <>
        <h1>{product.error.status === 404 ? "Product not found" : "The product could not be loaded"}</h1>
        <ErrorNotice error={product.error} retry={retry} />
        <p>
          <Link to="/">Back to the catalog</Link>
        </p>
      </>
    );
  }
  const item = product.data;
  const image = item.images[shown] ?? item.images[0];
  const picked = chosen ?? firstChoice(item);
  const variant = selectedVariant(item, picked);
  const status = variant ? variant.stock_status : item.stock_status;
  const maxQuantity = Math.max(1, Math.min(99, variant ? variant.stock : item.stock));
  const soldOut = status === "out_of_stock" || !variant;

  function choose(index: number, value: string) {
    // Later options follow: the first of their values in stock with the earlier choices.
    const next: Record<string, string> = {};
    item.options.forEach((option, i) => {
      const fallback = option.values[0] ?? "";
      if (i < index) next[option.name] = picked[option.name] ?? fallback;
      else if (i === index) next[option.name] = value;
      else next[option.name] = option.values.find((v) => inStock(item, { ...next, [option.name]: v })) ?? fallback;
    });
    setChosen(next);
    setQuantity(1);
    setAdded(null);
  }

  async function addToCart(event: FormEvent) {
    event.preventDefault();
    setAdding(true);
    setError(null);
    setAdded(null);
    try {
      await addToGuestOrOwnCart(item.id, variant?.id ?? null, quantity);
      setAdded(quantity);
    } catch (problem) {
      setError(asProblem(problem));
    } finally {
      setAdding(false);
    }
  }

  return (
    <article className="product">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/">Catalog</Link>
        {item.category ? (
          <>
            {" / "}
            <Link to={`/?category=${encodeURIComponent(item.category.slug)}`}>{item.category.name}</Link>
          </>
        ) : null}
      </nav>
      <div className="product-layout">
        <div className="gallery">
          {image ? <img src={image.url} alt={image.alt || item.name} width={800} height={800} /> : null}
          {item.images.length > 1 ? (
            <ul className="thumbnails" aria-label="More pictures">
              {item.images.map((picture, index) => (
                <li key={picture.url}>
                  <button
                    type="button"
                    onClick={() => setShown(index)}
                    aria-pressed={index === shown}
                    aria-label={`Show picture ${index + 1} of ${item.images.length}`}
                  >
                    <img src={picture.url} alt="" width={80} height={80} />
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
        <div className="product-info">
          <h1>{item.name}</h1>
          {item.brand ? <p className="product-brand">{item.brand}</p> : null}
          <p className="price price-large">{formatMoney(variant ? variant.price : item.price, item.currency)}</p>
          <p className="rating">
            {item.rating.count
              ? `Rated ${item.rating.average.toFixed(1)} out of 5 (${item.rating.count} reviews)`
              : "No reviews yet"}
          </p>
          <p className={`stock stock-${status}`} aria-live="polite">
            {variant ? STOCK_LABELS[status] : "Not sold in this combination"}
          </p>
          <p className="description">{item.description}</p>
          {Object.keys(item.attributes).length ? (
            <dl className="attributes">
              {Object.entries(item.attributes).map(([name, value]) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd>{value}</dd>
                </div>
              ))}
            </dl>
          ) : null}
          <form className="add-to-cart" onSubmit={addToCart}>
            {item.options.map((option, index) => (
              <fieldset className="variant-option" key={option.name}>
                <legend>
                  {capitalize(option.name)}: <strong>{picked[option.name]}</strong>
                </legend>
                {option.values.map((value) => {
                  const available = inStock(item, { ...earlier(item, picked, index), [option.name]: value });
                  return (
                    <button
                      type="button"
                      key={value}
                      className="option-button"
                      aria-pressed={picked[option.name] === value}
                      disabled={!available}
                      title={available ? undefined : "Sold out"}
                      onClick={() => choose(index, value)}
                    >
                      {value}
                      {available ? null : <span className="visually-hidden"> (sold out)</span>}
                    </button>
                  );
                })}
              </fieldset>
            ))}
            <div className="field">
              <label htmlFor="quantity">Quantity</label>
              <input
                id="quantity"
                type="number"
                min={1}
                max={maxQuantity}
                value={quantity}
                onChange={(event) =>
                  setQuantity(Math.max(1, Math.min(maxQuantity, Number(event.target.value) || 1)))
                }
                disabled={soldOut}
              />
            </div>
            <button type="submit" disabled={adding || soldOut}>
              {adding ? "Adding…" : "Add to cart"}
            </button>
          </form>
          {added !== null ? (
            <Notice kind="success">
              Added {added} to your cart. <Link to="/cart">View your cart</Link>
            </Notice>
          ) : null}
          {error ? <ErrorNotice error={error} /> : null}
        </div>
      </div>
    </article>
  );
}

type Product = paths["/api/v1/products/{reference}"]["get"]["responses"][200]["content"]["application/json"];
type Variant = components["schemas"]["VariantOut"];

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function matches(variant: Variant, choice: Record<string, string>): boolean {
  return Object.entries(choice).every(([name, value]) => variant.options[name] === value);
}

/** Whether some variant with these option values (a part of them) is in stock. */
function inStock(product: Product, choice: Record<string, string>): boolean {
  return product.variants.some((variant) => variant.stock > 0 && matches(variant, choice));
}

/** The choices of the options before `index`: a value's availability depends on them. */
function earlier(product: Product, picked: Record<string, string>, index: number): Record<string, string> {
  const before: Record<string, string> = {};
  product.options.slice(0, index).forEach((option) => {
    const value = picked[option.name];
    if (value !== undefined) before[option.name] = value;
  });
  return before;
}

/** The first variant in stock (else the first), as the page opens. */
function firstChoice(product: Product): Record<string, string> {
  const first = product.variants.find((variant) => variant.stock > 0) ?? product.variants[0];
  return first ? { ...first.options } : {};
}

function selectedVariant(product: Product, picked: Record<string, string>): Variant | undefined {
  if (!product.options.length) return product.variants[0];
  return product.variants.find((variant) => product.options.every((o) => variant.options[o.name] === picked[o.name]));
}
