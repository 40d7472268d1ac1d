import { Link } from "react-router";
import type { components } from "../api/schema";
import { formatMoney } from "../lib/money";

export type ProductListItem = components["schemas"]["ProductListItem"];

export const STOCK_LABELS = {
  in_stock: "In stock",
  low_stock: "Only a few left",
  out_of_stock: "Out of stock",
} as const;

export function ProductCard({ product }: { product: ProductListItem }) {
  const image = product.images[0];
  return (
    <li className="product-card">
      <Link to={`/products/${product.slug}`} className="product-card-link">
        {image ? (
          <img src={image.url} alt="" width={400} height={400} loading="lazy" />
        ) : (
          <div className="no-image" aria-hidden="true" />
        )}
        <span className="product-card-name">{product.name}</span>
      </Link>
      {product.brand ? <span className="product-card-brand">{product.brand}</span> : null}
      <span className="price">{formatMoney(product.price, product.currency)}</span>
      <span className={`stock stock-${product.stock_status}`}>
        {STOCK_LABELS[product.stock_status]}
      </span>
    </li>
  );
}
