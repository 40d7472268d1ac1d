// The overview's figures: sales by day over the last 30 days as a chart (recharts), with the
// same numbers as a table (for screen readers too), and the best sellers.
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap } from "../api";
import { ErrorNotice, Loading, TableWrap } from "../components/Status";
import { formatMoney, minorDigits } from "../lib/money";
import { useLoad } from "../lib/useLoad";

const DAYS = 30;

/** The reports also come as CSV (a string): this page asks for JSON and narrows to it. */
export function rowsOf<T>(data: T[] | string): T[] {
  if (typeof data === "string") throw new Error("the report came as CSV, not JSON");
  return data;
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The last `DAYS` days, today included (UTC calendar days; the store's zone applies server-side). */
export function lastDays(now: Date = new Date()): { from: string; to: string } {
  const start = new Date(now.getTime() - (DAYS - 1) * 86_400_000);
  return { from: isoDay(start), to: isoDay(now) };
}

export function SalesChart() {
  const range = lastDays();
  const [sales, retry] = useLoad(
    async () =>
      rowsOf(await unwrap(api.GET("/api/v1/admin/reports/sales", { params: { query: { ...range, interval: "day" } } }))),
    `sales:${range.from}:${range.to}`,
  );
  if (sales.state === "loading") return <Loading />;
  if (sales.state === "error") return <ErrorNotice error={sales.error} retry={retry} />;
  const rows = sales.data;
  const currency = rows[0]?.currency ?? "usd";
  const scale = 10 ** minorDigits(currency);
  const totals = rows.reduce(
    (sum, row) => ({ orders: sum.orders + row.orders, gross: sum.gross + row.gross, net: sum.net + row.net }),
    { orders: 0, gross: 0, net: 0 },
  );
  const points = rows.map((row) => ({ day: row.period.slice(5), net: row.net / scale, orders: row.orders }));
  return (
    <>
      <p className="result-count">
        {totals.orders === 1 ? "1 paid order" : `${totals.orders} paid orders`}: {formatMoney(totals.gross, currency)} gross,{" "}
        {formatMoney(totals.net, currency)} net after refunds
      </p>
      <figure className="sales-chart">
        <div aria-hidden="true" style={{ width: "100%", height: 240 }}>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={points} margin={{ top: 8, right: 8, bottom: 8, left: 8 }} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="day" tick={{ fontSize: 12 }} interval="preserveStartEnd" />
              <YAxis tick={{ fontSize: 12 }} width={56} />
              <Tooltip formatter={(value) => formatMoney(Math.round(Number(value) * scale), currency)} />
              <Bar dataKey="net" name="Net sales" fill="#2f6f4f" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
        <figcaption>Net sales per day, last {DAYS} days (the table below has the figures)</figcaption>
      </figure>
      <details>
        <summary>Sales by day as a table</summary>
        <TableWrap label="Sales by day">
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Orders</th>
                <th scope="col">Gross</th>
                <th scope="col">Refunds</th>
                <th scope="col">Net</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.period}>
                  <th scope="row">{row.period}</th>
                  <td>{row.orders}</td>
                  <td>{formatMoney(row.gross, currency)}</td>
                  <td>{formatMoney(row.refunds, currency)}</td>
                  <td>{formatMoney(row.net, currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </details>
    </>
  );
}

export function TopProducts() {
  const range = lastDays();
  const [top, retry] = useLoad(
    async () =>
      rowsOf(await unwrap(api.GET("/api/v1/admin/reports/top-products", { params: { query: { ...range, limit: 5 } } }))),
    `top:${range.from}:${range.to}`,
  );
  if (top.state === "loading") return <Loading />;
  if (top.state === "error") return <ErrorNotice error={top.error} retry={retry} />;
  if (top.data.length === 0) return <p>No paid orders in the last {DAYS} days.</p>;
  return (
    <TableWrap label="Top products">
      <table>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Units</th>
            <th scope="col">Revenue</th>
          </tr>
        </thead>
        <tbody>
          {top.data.map((row) => (
            <tr key={row.product_id}>
              <th scope="row">{row.name}</th>
              <td>{row.units}</td>
              <td>{formatMoney(row.revenue, row.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
