// An order's lines and totals, as the shopper's order page and the admin's order page show
// them (one place for the breakdown, so a new total row appears on both).
import { Link } from "react-router";
import type { paths } from "../api/schema";
import { formatMoney } from "../lib/money";
import { TableWrap } from "./Status";
import { OptionsText } from "./OptionsText";
import { PriceRows } from "./PriceRows";

type CustomerOrder = paths["/api/v1/orders/{order_id}"]["get"]["responses"][200]["content"]["application/json"];
type AdminOrder = paths["/api/v1/admin/orders/{order_id}"]["get"]["responses"][200]["content"]["application/json"];
type Order = CustomerOrder | AdminOrder;
type Line = Order["items"][number];

export function OrderLines({
  order,
  linkTo,
  showRefunded = false,
}: {
  order: Order;
  /** Where a line's product name links to. */
  linkTo: (line: Line) => string;
  /** Add a "Refunded" row when money was given back. */
  showRefunded?: boolean;
}) {
  const money = (amount: number) => formatMoney(amount, order.currency);
  return (
    <>
      <TableWrap label="Products in this order">
        <table>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col">Price</th>
              <th scope="col">Quantity</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {order.items.map((line) => (
              <tr key={line.variant_id ?? line.product_id}>
                <th scope="row">
                  <Link to={linkTo(line)}>{line.name}</Link>
                  <OptionsText options={line.options} />
                </th>
                <td>{money(line.unit_price)}</td>
                <td>{line.quantity}</td>
                <td>{money(line.line_total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      <dl className="totals">
        <PriceRows priced={order} />
        {showRefunded && order.payment.amount_refunded ? (
          <div>
            <dt>Refunded</dt>
            <dd>{money(order.payment.amount_refunded)}</dd>
          </div>
        ) : null}
      </dl>
    </>
  );
}
