// A product's stock: add, remove or set it (with a reason), and the ledger of every change.
import { type FormEvent, useRef, useState } from "react";
import { api, unwrap } from "../api";
import type { paths } from "../api/schema";
import { Field, SelectField } from "../components/Field";
import { ErrorNotice, Loading, Notice, TableWrap } from "../components/Status";
import { textOf, useAction } from "../lib/useAction";
import { useLoad } from "../lib/useLoad";

type Product = paths["/api/v1/admin/products/{product_id}"]["get"]["responses"][200]["content"]["application/json"];

export function describeActor(actor: string | null): string {
  if (!actor) return "—";
  if (actor.startsWith("admin:")) return "an admin";
  if (actor === "customer" || actor.startsWith("user:") || actor.startsWith("customer:")) return "the customer";
  return actor;
}

export function StockPanel({ product, onChanged }: { product: Product; onChanged: () => void }) {
  const [version, setVersion] = useState(0);
  const [ledger, retry] = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/admin/inventory/movements", {
          params: { query: { product_id: product.id, per_page: 20 } },
        }),
      ),
    `${product.id}:${version}`,
    true,
  );
  const action = useAction();
  const [done, setDone] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  async function adjust(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setDone(null);
    const form = new FormData(event.currentTarget);
    const how = textOf(form, "how");
    const amountText = textOf(form, "amount");
    const amount = /^\d+$/.test(amountText) ? Number(amountText) : (amountText as unknown as number);
    const reason = textOf(form, "reason");
    const variantId = textOf(form, "variant_id");
    const which = variantId ? { variant_id: variantId } : {};
    const body =
      how === "set"
        ? { set: amount, reason, ...which }
        : { delta: how === "remove" && typeof amount === "number" ? -amount : amount, reason, ...which };
    const ok = await action.run(async () => {
      const level = await unwrap(
        api.POST("/api/v1/admin/products/{product_id}/stock", {
          params: { path: { product_id: product.id } },
          body,
        }),
      );
      setDone(
        several ? `Stock of ${level.sku} is now ${level.variant_stock} (${level.stock} in all).` : `Stock is now ${level.stock}.`,
      );
    });
    if (ok) {
      formRef.current?.reset();
      setVersion((n) => n + 1);
      onChanged();
    }
  }

  const fields = action.fields;
  const several = product.variants.length > 1;
  const variantName = (variant: Product["variants"][number]) =>
    [variant.sku, ...product.options.map((option) => variant.options[option.name] ?? "")].join(" · ");
  const skuOf = (variantId: string | null | undefined) =>
    product.variants.find((variant) => variant.id === variantId)?.sku ?? "";
  return (
    <section aria-labelledby="stock-heading" className="stock-panel">
      <h2 id="stock-heading">Stock</h2>
      <p>
        In stock: <strong>{product.stock}</strong> (low at {product.low_stock_threshold} or fewer)
      </p>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {several ? (
        <TableWrap label="Stock per variant">
          <table>
            <caption className="visually-hidden">Stock of each variant of {product.name}</caption>
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col">In stock</th>
              </tr>
            </thead>
            <tbody>
              {product.variants.map((variant) => (
                <tr key={variant.id}>
                  <th scope="row">{variantName(variant)}</th>
                  <td>{variant.stock}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <form ref={formRef} onSubmit={adjust} noValidate className="field-row" aria-label="Adjust the stock">
        {several ? (
          <SelectField label="Variant" name="variant_id" error={fields.variant_id}>
            {product.variants.map((variant) => (
              <option key={variant.id} value={variant.id}>
                {variantName(variant)}
              </option>
            ))}
          </SelectField>
        ) : null}
        <SelectField label="Change" name="how" defaultValue="add">
          <option value="add">Add units</option>
          <option value="remove">Remove units</option>
          <option value="set">Set the count to</option>
        </SelectField>
        <Field label="Units" name="amount" inputMode="numeric" required error={fields.delta ?? fields.set ?? fields._} />
        <Field label="Reason" name="reason" required error={fields.reason} hint="For the ledger: delivery, stocktake…" />
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Saving…" : "Apply"}
        </button>
      </form>
      <h3>Ledger</h3>
      {ledger.state === "loading" ? <Loading label="Loading the ledger…" /> : null}
      {ledger.state === "error" ? <ErrorNotice error={ledger.error} retry={retry} /> : null}
      {ledger.state === "ready" && ledger.data.items.length === 0 ? <p>No stock changes yet.</p> : null}
      {ledger.state === "ready" && ledger.data.items.length ? (
        <TableWrap label="Stock ledger">
          <table>
            <caption className="visually-hidden">Stock changes of {product.name}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                {several ? <th scope="col">Variant</th> : null}
                <th scope="col">Change</th>
                <th scope="col">Stock after</th>
                <th scope="col">Reason</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {ledger.data.items.map((move) => (
                <tr key={move.id}>
                  <td>
                    <time dateTime={move.at}>{new Date(move.at).toLocaleString()}</time>
                  </td>
                  {several ? <td>{move.sku ?? skuOf(move.variant_id)}</td> : null}
                  <td>{move.delta > 0 ? `+${move.delta}` : move.delta}</td>
                  <td>{move.stock_after}</td>
                  <td>{move.reason}</td>
                  <td>{move.order_id ? "an order" : describeActor(move.actor)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </section>
  );
}
