// A product's options (size, colour…) and variants: sku, option values, own price, stock.
// Saved as one PATCH of the product (`options` and `variants`): variants whose option values
// stay keep their id and ledger; a changed stock goes through the ledger.
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../api";
import type { paths } from "../api/schema";
import { Notice, ErrorNotice, TableWrap } from "../components/Status";
import { minorDigits, parseMoney } from "../lib/money";
import { useAction } from "../lib/useAction";

type Product = paths["/api/v1/admin/products/{product_id}"]["get"]["responses"][200]["content"]["application/json"];

interface Row {
  key: string;
  sku: string;
  options: Record<string, string>;
  price: string;
  stock: string;
}

/** `size: S, M, L` lines to options (null when a line cannot be read). */
export function parseOptions(text: string): { name: string; values: string[] }[] | null {
  const options = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at < 1) return null;
    const values = line
      .slice(at + 1)
      .split(",")
      .map((value) => value.trim())
      .filter(Boolean);
    if (!values.length) return null;
    options.push({ name: line.slice(0, at).trim().toLowerCase(), values });
  }
  return options;
}

export function VariantsPanel({ product, onChanged }: { product: Product; onChanged: () => void }) {
  const digits = minorDigits(product.currency);
  const [optionsText, setOptionsText] = useState(
    product.options.map((option) => `${option.name}: ${option.values.join(", ")}`).join("\n"),
  );
  const [rows, setRows] = useState<Row[]>(
    product.variants.map((variant) => ({
      key: variant.id,
      sku: variant.sku,
      options: { ...variant.options },
      // The API answers each variant's selling price; the form shows it as its own.
      price: product.variants.length > 1 ? (variant.price / 10 ** digits).toFixed(digits) : "",
      stock: String(variant.stock),
    })),
  );
  const [local, setLocal] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const options = parseOptions(optionsText) ?? [];

  function update(index: number, change: Partial<Row>) {
    setRows((all) => all.map((row, i) => (i === index ? { ...row, ...change } : row)));
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    const parsed = parseOptions(optionsText);
    if (parsed === null) {
      setLocal("One option per line, as name: value, value…");
      return;
    }
    setLocal(null);
    const variants = rows.map((row) => {
      const price = row.price.trim() ? parseMoney(row.price.trim(), product.currency) : null;
      return {
        sku: row.sku.trim() || null,
        options: Object.fromEntries(parsed.map((option) => [option.name, row.options[option.name] ?? ""])),
        price,
        stock: /^\d+$/.test(row.stock.trim()) ? Number(row.stock.trim()) : (row.stock as unknown as number),
      };
    });
    const ok = await action.run(async () => {
      await unwrap(
        api.PATCH("/api/v1/admin/products/{product_id}", {
          params: { path: { product_id: product.id } },
          body: { options: parsed, variants },
        }),
      );
    });
    if (ok) {
      setSaved(true);
      onChanged();
    }
  }

  return (
    <section aria-labelledby="variants-heading" className="variants-panel">
      <h2 id="variants-heading">Options and variants</h2>
      {saved ? <Notice kind="success">Variants saved.</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <form onSubmit={save} noValidate aria-label="Options and variants">
        <div className="field">
          <label htmlFor="variant-options">Options</label>
          <textarea
            id="variant-options"
            rows={3}
            value={optionsText}
            aria-describedby="variant-options-hint"
            aria-invalid={local ? true : undefined}
            onChange={(event) => setOptionsText(event.target.value)}
          />
          <p id="variant-options-hint" className="hint">
            One per line, e.g. <code>size: S, M, L</code> (at most 3).
          </p>
          {local ? <p className="field-error">{local}</p> : null}
        </div>
        <TableWrap label="Variants">
          <table>
            <caption className="visually-hidden">Variants of {product.name}</caption>
            <thead>
              <tr>
                <th scope="col">SKU</th>
                {options.map((option) => (
                  <th scope="col" key={option.name}>
                    {option.name}
                  </th>
                ))}
                <th scope="col">Own price ({product.currency.toUpperCase()})</th>
                <th scope="col">Stock</th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => (
                <tr key={row.key}>
                  <td>
                    <input
                      aria-label={`SKU of variant ${index + 1}`}
                      value={row.sku}
                      onChange={(event) => update(index, { sku: event.target.value })}
                    />
                  </td>
                  {options.map((option) => (
                    <td key={option.name}>
                      <select
                        aria-label={`${option.name} of variant ${index + 1}`}
                        value={row.options[option.name] ?? ""}
                        onChange={(event) =>
                          update(index, { options: { ...row.options, [option.name]: event.target.value } })
                        }
                      >
                        <option value="">—</option>
                        {option.values.map((value) => (
                          <option key={value} value={value}>
                            {value}
                          </option>
                        ))}
                      </select>
                    </td>
                  ))}
                  <td>
                    <input
                      aria-label={`Own price of variant ${index + 1}`}
                      inputMode="decimal"
                      placeholder={(product.price / 10 ** digits).toFixed(digits)}
                      value={row.price}
                      onChange={(event) => update(index, { price: event.target.value })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Stock of variant ${index + 1}`}
                      inputMode="numeric"
                      value={row.stock}
                      onChange={(event) => update(index, { stock: event.target.value })}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      disabled={rows.length === 1}
                      onClick={() => setRows((all) => all.filter((_, i) => i !== index))}
                    >
                      Remove<span className="visually-hidden"> variant {index + 1}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
        <p>
          <button
            type="button"
            className="button-secondary"
            onClick={() =>
              setRows((all) => [...all, { key: `new-${all.length}-${Date.now()}`, sku: "", options: {}, price: "", stock: "0" }])
            }
          >
            Add a variant
          </button>{" "}
          <button type="submit" disabled={action.busy}>
            {action.busy ? "Saving…" : "Save variants"}
          </button>
        </p>
      </form>
    </section>
  );
}
