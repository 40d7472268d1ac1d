import { type FormEvent, useState } from "react";
import { Link, useParams } from "react-router";
import { api, guest, unwrap } from "../api";
import type { ApiProblem } from "../api/problem";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { formatMoney } from "../lib/money";
import { asProblem, useLoad, useTitle } from "../lib/useLoad";
import { STOCK_LABELS } from "./ProductCard";

/** Adds to the signed-in shopper's cart, or a guest's (the first add creates it: its token is
 * kept). A guest cart that expired is forgotten and a new one started. */
async function addToGuestOrOwnCart(productId: string, quantity: number): Promise<void> {
  const add = () => unwrap(api.POST("/api/v1/cart/items", { body: { product_id: productId, quantity } }));
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
  const maxQuantity = Math.max(1, Math.min(99, item.stock));

  async function addToCart(event: FormEvent) {
    event.preventDefault();
    setAdding(true);
    setError(null);
    setAdded(null);
    try {
      await addToGuestOrOwnCart(item.id, quantity);
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
          <p className="price price-large">{formatMoney(item.price, item.currency)}</p>
          <p className="rating">
            {item.rating.count
              ? `Rated ${item.rating.average.toFixed(1)} out of 5 (${item.rating.count} reviews)`
              : "No reviews yet"}
          </p>
          <p className={`stock stock-${item.stock_status}`}>{STOCK_LABELS[item.stock_status]}</p>
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
                disabled={item.stock_status === "out_of_stock"}
              />
            </div>
            <button type="submit" disabled={adding || item.stock_status === "out_of_stock"}>
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
