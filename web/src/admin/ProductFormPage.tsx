// The product questionnaire: add or edit a product, the API's message beside each field;
// images by URL; archive and restore; on an existing product, its stock and the ledger.
import { type FormEvent, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../api";
import type { paths } from "../api/schema";
import { Field, SelectField, TextAreaField } from "../components/Field";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { minorDigits, parseMoney } from "../lib/money";
import { textOf, useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";
import { flattenTree } from "./categories";
import { StockPanel } from "./StockPanel";
import { VariantsPanel } from "./VariantsPanel";

type Product = paths["/api/v1/admin/products/{product_id}"]["get"]["responses"][200]["content"]["application/json"];

export function NewProductPage() {
  useTitle("Add a product");
  return <ProductForm product={null} />;
}

export function EditProductPage() {
  const { id = "" } = useParams();
  const created = (useLocation().state as { created?: boolean } | null)?.created === true;
  const [version, setVersion] = useState(0);
  const [loaded, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/products/{product_id}", { params: { path: { product_id: id } } })),
    `${id}:${version}`,
    true,
  );
  useTitle(loaded.state === "ready" ? `Edit ${loaded.data.name}` : "Product");
  if (loaded.state === "loading") return <Loading label="Loading the product…" />;
  if (loaded.state === "error") {
    return (
      <>
        <h1>{loaded.error.status === 404 ? "Product not found" : "The product could not be loaded"}</h1>
        <ErrorNotice error={loaded.error} retry={retry} />
      </>
    );
  }
  return (
    <>
      {created ? <Notice kind="success">The product is added.</Notice> : null}
      <ProductForm product={loaded.data} onChanged={() => setVersion((n) => n + 1)} />
      <VariantsPanel key={`variants-${version}`} product={loaded.data} onChanged={() => setVersion((n) => n + 1)} />
      <StockPanel product={loaded.data} onChanged={() => setVersion((n) => n + 1)} />
    </>
  );
}

/** `key: value` lines to attributes (blank lines skipped). */
function parseAttributes(text: string): Record<string, string> | null {
  const attributes: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at < 1) return null;
    attributes[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return attributes;
}

function firstUnder(fields: Record<string, string>, prefix: string): string | undefined {
  const key = Object.keys(fields).find((name) => name === prefix || name.startsWith(`${prefix}.`));
  return key ? fields[key] : undefined;
}

function ProductForm({ product, onChanged }: { product: Product | null; onChanged?: () => void }) {
  const navigate = useNavigate();
  const [tree] = useLoad(() => unwrap(api.GET("/api/v1/categories")), "categories");
  const action = useAction();
  const [local, setLocal] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const currency = product?.currency ?? "usd";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    const form = new FormData(event.currentTarget);
    // What the browser can tell before asking: a price and attributes it can read.
    const priceText = textOf(form, "price");
    const negative = priceText.startsWith("-");
    const parsed = parseMoney(negative ? priceText.slice(1) : priceText, currency);
    const attributes = parseAttributes(String(form.get("attributes") ?? ""));
    const mine: Record<string, string> = {};
    if (parsed === null) mine.price = `Enter a price like 12.50 (${currency.toUpperCase()}).`;
    if (attributes === null) mine.attributes = "One attribute per line, as name: value.";
    setLocal(mine);
    if (Object.keys(mine).length) {
      action.clear();
      return;
    }
    const name = textOf(form, "name");
    const images = String(form.get("images") ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      // A path on this shop (/media/…) becomes its full address; anything else goes as typed.
      .map((url) => ({ url: url.startsWith("/") && !url.startsWith("//") ? new URL(url, window.location.origin).href : url, alt: name }));
    const brand = textOf(form, "brand");
    const body = {
      name,
      description: String(form.get("description") ?? ""),
      price: negative ? -parsed! : parsed!,
      category: textOf(form, "category"),
      brand: brand || null,
      attributes: attributes!,
      images,
      low_stock_threshold: Number(textOf(form, "low_stock_threshold") || "0"),
    };
    await action.run(async () => {
      if (product) {
        // The price shown is the cheapest variant's: sent back unchanged it would become the
        // product's own price (the one variants without theirs sell at), so only a change goes.
        const { price, ...rest } = body;
        await unwrap(
          api.PATCH("/api/v1/admin/products/{product_id}", {
            params: { path: { product_id: product.id } },
            body: price === product.price ? rest : body,
          }),
        );
        setSaved(true);
        onChanged?.();
      } else {
        const stockText = textOf(form, "stock");
        const made = await unwrap(
          api.POST("/api/v1/admin/products", {
            body: { ...body, stock: /^\d+$/.test(stockText) ? Number(stockText) : (stockText as unknown as number) },
          }),
        );
        navigate(`/admin/products/${made.id}`, { state: { created: true } });
      }
    });
  }

  async function setStatus(status: "active" | "archived") {
    if (!product) return;
    const ok = await action.run(async () => {
      if (status === "archived") {
        await unwrap(
          api.DELETE("/api/v1/admin/products/{product_id}", { params: { path: { product_id: product.id } } }),
        );
      } else {
        await unwrap(
          api.PATCH("/api/v1/admin/products/{product_id}", {
            params: { path: { product_id: product.id } },
            body: { status: "active" },
          }),
        );
      }
    });
    if (ok) onChanged?.();
  }

  const fields = { ...action.fields, ...local };
  const digits = minorDigits(currency);
  const categories = tree.state === "ready" ? flattenTree(tree.data) : [];
  return (
    <section aria-labelledby="product-form-heading">
      <p className="breadcrumb">
        <Link to="/admin/products">Products</Link>
      </p>
      <h1 id="product-form-heading">{product ? product.name : "Add a product"}</h1>
      {product ? (
        <p className="product-meta">
          {product.status === "active" ? (
            <>
              In the catalog at <Link to={`/products/${product.slug}`}>/products/{product.slug}</Link>.{" "}
              <button type="button" className="button-secondary button-small" disabled={action.busy} onClick={() => void setStatus("archived")}>
                Archive
              </button>
            </>
          ) : (
            <>
              <strong>Archived</strong>: not in the catalog.{" "}
              <button type="button" className="button-small" disabled={action.busy} onClick={() => void setStatus("active")}>
                Restore
              </button>
            </>
          )}
        </p>
      ) : null}
      {saved ? <Notice kind="success">Saved.</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {!action.error && Object.keys(local).length ? (
        <div className="notice notice-error" role="alert">
          <p>Some fields need attention: see the messages beside them.</p>
        </div>
      ) : null}
      <form onSubmit={submit} noValidate className="product-form">
        <Field label="Name" name="name" required defaultValue={product?.name ?? ""} error={fields.name} />
        <TextAreaField
          label="Description"
          name="description"
          rows={4}
          defaultValue={product?.description ?? ""}
          error={fields.description}
        />
        <div className="field-row">
          <Field
            label={`Price (${currency.toUpperCase()})`}
            name="price"
            inputMode="decimal"
            required
            defaultValue={product ? (product.price / 10 ** digits).toFixed(digits) : ""}
            error={fields.price}
          />
          {product ? null : (
            <Field label="Stock" name="stock" inputMode="numeric" required defaultValue="0" error={fields.stock} />
          )}
          <Field
            label="Low-stock threshold"
            name="low_stock_threshold"
            inputMode="numeric"
            defaultValue={String(product?.low_stock_threshold ?? 5)}
            error={fields.low_stock_threshold}
          />
        </div>
        <SelectField
          label="Category"
          name="category"
          required
          defaultValue={product?.category?.id ?? ""}
          key={`category-${categories.length}`}
          error={fields.category}
        >
          <option value="">Choose a category</option>
          {categories.map((option) => (
            <option key={option.id} value={option.id}>
              {option.label}
            </option>
          ))}
        </SelectField>
        <Field label="Brand (optional)" name="brand" defaultValue={product?.brand ?? ""} error={fields.brand} />
        <TextAreaField
          label="Attributes (optional)"
          name="attributes"
          rows={3}
          hint="One per line, as name: value (for example color: blue)."
          defaultValue={Object.entries(product?.attributes ?? {})
            .map(([key, value]) => `${key}: ${value}`)
            .join("\n")}
          error={firstUnder(fields, "attributes")}
        />
        <TextAreaField
          label="Image URLs (optional)"
          name="images"
          rows={3}
          hint="One address per line (https://… or a path on this shop such as /media/…); the first is the main picture."
          defaultValue={(product?.images ?? []).map((image) => image.url).join("\n")}
          error={firstUnder(fields, "images")}
        />
        {product?.images.length ? (
          <ul className="thumbnails" aria-label="Current images">
            {product.images.map((image) => (
              <li key={image.url}>
                <img src={image.url} alt={image.alt || product.name} width={64} height={64} />
              </li>
            ))}
          </ul>
        ) : null}
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Saving…" : product ? "Save changes" : "Add the product"}
        </button>
      </form>
    </section>
  );
}
