// The money rows of a quote or an order, in the order the API computes them: subtotal, the
// discount (with its code), shipping (with its method), tax (added, or included in the
// prices), total. A row that is zero is left out, except shipping once a method is known.
import { formatMoney } from "../lib/money";

export interface Priced {
  subtotal: number;
  discount_total: number;
  shipping_total: number;
  shipping_discount: number;
  tax_total: number;
  total: number;
  currency: string;
  prices_include_tax: boolean;
  shipping_method: { name: string } | null;
  discount: { code: string } | null;
}

export function PriceRows({ priced, totalLabel = "Total" }: { priced: Priced; totalLabel?: string }) {
  const money = (amount: number) => formatMoney(amount, priced.currency);
  return (
    <>
      <div>
        <dt>Subtotal</dt>
        <dd>{money(priced.subtotal)}</dd>
      </div>
      {priced.discount_total ? (
        <div>
          <dt>Discount{priced.discount ? ` (${priced.discount.code})` : ""}</dt>
          <dd>−{money(priced.discount_total)}</dd>
        </div>
      ) : null}
      {priced.shipping_method || priced.shipping_total ? (
        <div>
          <dt>Shipping{priced.shipping_method ? ` (${priced.shipping_method.name})` : ""}</dt>
          <dd>
            {priced.shipping_total ? money(priced.shipping_total) : "Free"}
            {priced.shipping_discount ? ` (saved ${money(priced.shipping_discount)})` : ""}
          </dd>
        </div>
      ) : null}
      {priced.tax_total ? (
        <div>
          <dt>{priced.prices_include_tax ? "Tax included" : "Tax"}</dt>
          <dd>{money(priced.tax_total)}</dd>
        </div>
      ) : null}
      <div>
        <dt>{totalLabel}</dt>
        <dd>
          <strong>{money(priced.total)}</strong>
        </dd>
      </div>
    </>
  );
}
