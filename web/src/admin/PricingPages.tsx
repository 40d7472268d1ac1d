// What a cart is charged besides its goods: shipping methods, tax rates and discount codes.
// Each page lists what there is, adds one, switches it on or off (or changes its rate) and
// deletes it; the API's problems show beside their fields.
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../api";
import type { components } from "../api/schema";
import { Field, SelectField } from "../components/Field";
import { ErrorNotice, Loading, Notice, TableWrap } from "../components/Status";
import { formatMoney, parseMoney } from "../lib/money";
import { textOf, useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";

type ShippingMethod = components["schemas"]["AdminShippingMethodOut"];
type TaxRate = components["schemas"]["TaxRateOut"];
type Discount = components["schemas"]["DiscountOut"];
const CURRENCY = "usd";

function money(form: FormData, name: string, mine: Record<string, string>, optional = false): number | null {
  const text = textOf(form, name);
  if (!text && optional) return null;
  const parsed = parseMoney(text, CURRENCY);
  if (parsed === null) mine[name] = `Enter an amount like 12.50 (${CURRENCY.toUpperCase()}).`;
  return parsed;
}

function whole(form: FormData, name: string): number | null {
  const text = textOf(form, name);
  return /^\d+$/.test(text) ? Number(text) : null;
}

function useReload(): [number, () => void] {
  const [version, setVersion] = useState(0);
  return [version, () => setVersion((n) => n + 1)];
}

// -- shipping methods ------------------------------------------------------------------------

export function ShippingMethodsPage() {
  useTitle("Shipping methods");
  const [version, reload] = useReload();
  const [done, setDone] = useState<string | null>(null);
  const [list, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/shipping-methods", { params: { query: { per_page: 100 } } })),
    String(version),
    true,
  );
  const action = useAction();

  async function toggle(method: ShippingMethod) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(
        api.PATCH("/api/v1/admin/shipping-methods/{method_id}", {
          params: { path: { method_id: method.id } },
          body: { active: !method.active },
        }),
      );
    });
    if (ok) {
      setDone(`${method.name} is ${method.active ? "switched off" : "offered again"}.`);
      reload();
    }
  }
  async function remove(method: ShippingMethod) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(
        api.DELETE("/api/v1/admin/shipping-methods/{method_id}", { params: { path: { method_id: method.id } } }),
      );
    });
    if (ok) {
      setDone(`${method.name} is deleted.`);
      reload();
    }
  }

  return (
    <>
      <h1>Shipping methods</h1>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" && list.data.items.length === 0 ? (
        <p>No shipping methods yet: orders ship free until you add one.</p>
      ) : null}
      {list.state === "ready" && list.data.items.length ? (
        <TableWrap label="Shipping methods">
          <table>
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col">Price</th>
                <th scope="col">Free over</th>
                <th scope="col">Countries</th>
                <th scope="col">Delivery</th>
                <th scope="col">Offered</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((method) => (
                <tr key={method.id}>
                  <th scope="row">{method.name}</th>
                  <td>
                    {method.weight_tiers.length
                      ? method.weight_tiers
                          .map((tier) => `≤ ${tier.up_to_grams} g: ${formatMoney(tier.price, method.currency)}`)
                          .join(", ")
                      : formatMoney(method.price, method.currency)}
                  </td>
                  <td>{method.free_over === null ? "—" : formatMoney(method.free_over, method.currency)}</td>
                  <td>{method.countries === "all" ? "All" : method.countries.join(", ")}</td>
                  <td>
                    {method.min_days}–{method.max_days} days
                  </td>
                  <td>{method.active ? "Yes" : "No"}</td>
                  <td>
                    <div className="address-actions">
                      <button
                        type="button"
                        className="button-secondary button-small"
                        disabled={action.busy}
                        onClick={() => void toggle(method)}
                      >
                        {method.active ? "Switch off" : "Offer"}
                        <span className="visually-hidden"> {method.name}</span>
                      </button>
                      <button
                        type="button"
                        className="button-secondary button-small"
                        disabled={action.busy}
                        onClick={() => void remove(method)}
                      >
                        Delete<span className="visually-hidden"> {method.name}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <section aria-labelledby="new-method-heading" className="narrow">
        <h2 id="new-method-heading">Add a shipping method</h2>
        <ShippingMethodForm
          key={version}
          onSaved={(name) => {
            setDone(`${name} is added.`);
            reload();
          }}
        />
      </section>
    </>
  );
}

function ShippingMethodForm({ onSaved }: { onSaved: (name: string) => void }) {
  const action = useAction();
  const [mine, setMine] = useState<Record<string, string>>({});
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const problems: Record<string, string> = {};
    const name = textOf(form, "name");
    const price = money(form, "price", problems);
    const freeOver = money(form, "free_over", problems, true);
    const minDays = whole(form, "min_days");
    const maxDays = whole(form, "max_days");
    if (minDays === null) problems.min_days = "Enter a number of days.";
    if (maxDays === null) problems.max_days = "Enter a number of days.";
    const countriesText = textOf(form, "countries").toUpperCase();
    const countries =
      countriesText === "" || countriesText === "ALL"
        ? ("all" as const)
        : countriesText.split(/[\s,]+/).filter(Boolean);
    setMine(problems);
    if (Object.keys(problems).length || price === null || minDays === null || maxDays === null) return;
    const ok = await action.run(async () => {
      await unwrap(
        api.POST("/api/v1/admin/shipping-methods", {
          body: {
            name,
            price,
            countries,
            min_days: minDays,
            max_days: maxDays,
            ...(freeOver === null ? {} : { free_over: freeOver }),
          },
        }),
      );
    });
    if (ok) onSaved(name);
  }
  const errors = { ...action.fields, ...mine };
  return (
    <form onSubmit={submit} noValidate aria-label="Add a shipping method">
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <Field label="Name" name="name" required error={errors.name} />
      <Field label={`Price (${CURRENCY.toUpperCase()})`} name="price" inputMode="decimal" required error={errors.price} />
      <Field
        label={`Free over (${CURRENCY.toUpperCase()})`}
        name="free_over"
        inputMode="decimal"
        hint="Free when the subtotal after discounts reaches this; leave empty for never."
        error={errors.free_over}
      />
      <Field
        label="Countries"
        name="countries"
        hint="Two-letter codes separated by commas (US, CA), or empty for all countries."
        error={errors.countries}
      />
      <Field label="Delivery from (days)" name="min_days" inputMode="numeric" required error={errors.min_days} />
      <Field label="Delivery within (days)" name="max_days" inputMode="numeric" required error={errors.max_days} />
      <button type="submit" disabled={action.busy}>
        {action.busy ? "Saving…" : "Add the shipping method"}
      </button>
    </form>
  );
}

// -- tax rates -------------------------------------------------------------------------------

export function TaxRatesPage() {
  useTitle("Tax rates");
  const [version, reload] = useReload();
  const [done, setDone] = useState<string | null>(null);
  const [list, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/tax-rates", { params: { query: { per_page: 100 } } })),
    String(version),
    true,
  );
  const action = useAction();
  async function remove(rate: TaxRate) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(api.DELETE("/api/v1/admin/tax-rates/{rate_id}", { params: { path: { rate_id: rate.id } } }));
    });
    if (ok) {
      setDone(`${rate.name} is deleted.`);
      reload();
    }
  }
  return (
    <>
      <h1>Tax rates</h1>
      <p>
        One rate per country (or state) and tax class. Products are in the <em>standard</em> class unless their
        form says otherwise. Whether prices include tax is the server's PRICES_INCLUDE_TAX setting.
      </p>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" && list.data.items.length === 0 ? <p>No tax rates yet: no tax is charged.</p> : null}
      {list.state === "ready" && list.data.items.length ? (
        <TableWrap label="Tax rates">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Where</th>
                <th scope="col">Class</th>
                <th scope="col">Rate</th>
                <th scope="col">On shipping</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((rate) => (
                <tr key={rate.id}>
                  <th scope="row">{rate.name}</th>
                  <td>{rate.region ? `${rate.country}-${rate.region}` : rate.country}</td>
                  <td>{rate.tax_class}</td>
                  <td>{(rate.rate_bp / 100).toFixed(3).replace(/\.?0+$/, "")} %</td>
                  <td>{rate.applies_to_shipping ? "Yes" : "No"}</td>
                  <td>
                    <button
                      type="button"
                      className="button-secondary button-small"
                      disabled={action.busy}
                      onClick={() => void remove(rate)}
                    >
                      Delete<span className="visually-hidden"> {rate.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <section aria-labelledby="new-rate-heading" className="narrow">
        <h2 id="new-rate-heading">Add a tax rate</h2>
        <TaxRateForm
          key={version}
          onSaved={(name) => {
            setDone(`${name} is added.`);
            reload();
          }}
        />
      </section>
    </>
  );
}

function TaxRateForm({ onSaved }: { onSaved: (name: string) => void }) {
  const action = useAction();
  const [mine, setMine] = useState<Record<string, string>>({});
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = textOf(form, "name");
    const country = textOf(form, "country");
    const region = textOf(form, "region");
    const percent = Number(textOf(form, "rate").replace(",", "."));
    const problems: Record<string, string> = {};
    if (!textOf(form, "rate") || !Number.isFinite(percent)) problems.rate_bp = "Enter a rate like 8.875.";
    setMine(problems);
    if (Object.keys(problems).length) return;
    const taxClass = textOf(form, "tax_class") as TaxRate["tax_class"];
    const ok = await action.run(async () => {
      await unwrap(
        api.POST("/api/v1/admin/tax-rates", {
          body: {
            name,
            country,
            ...(region ? { region } : {}),
            tax_class: taxClass,
            rate_bp: Math.round(percent * 10000) / 100,
            applies_to_shipping: form.get("applies_to_shipping") === "on",
          },
        }),
      );
    });
    if (ok) onSaved(name);
  }
  const errors = { ...action.fields, ...mine };
  return (
    <form onSubmit={submit} noValidate aria-label="Add a tax rate">
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <Field label="Name" name="name" required error={errors.name} />
      <Field label="Country" name="country" required hint="Two letters: US, FR" error={errors.country} />
      <Field label="State or region" name="region" hint="Optional: CA for California" error={errors.region} />
      <SelectField label="Tax class" name="tax_class" defaultValue="standard" error={errors.tax_class}>
        <option value="standard">Standard</option>
        <option value="reduced">Reduced</option>
        <option value="zero">Zero</option>
      </SelectField>
      <Field label="Rate (%)" name="rate" inputMode="decimal" required hint="8.875 for 8.875 %" error={errors.rate_bp} />
      <div className="field field-check">
        <input type="checkbox" id="rate-applies-to-shipping" name="applies_to_shipping" />
        <label htmlFor="rate-applies-to-shipping">Also tax shipping at this rate</label>
      </div>
      <button type="submit" disabled={action.busy}>
        {action.busy ? "Saving…" : "Add the tax rate"}
      </button>
    </form>
  );
}

// -- discount codes --------------------------------------------------------------------------

function describe(discount: Discount): string {
  if (discount.type === "percent") return `${discount.value ?? 0} % off`;
  if (discount.type === "fixed") return `${formatMoney(discount.value ?? 0, CURRENCY)} off`;
  return "Free shipping";
}

export function DiscountsPage() {
  useTitle("Discount codes");
  const [version, reload] = useReload();
  const [done, setDone] = useState<string | null>(null);
  const [list, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/discounts", { params: { query: { per_page: 100 } } })),
    String(version),
    true,
  );
  const action = useAction();
  async function toggle(discount: Discount) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(
        api.PATCH("/api/v1/admin/discounts/{discount_id}", {
          params: { path: { discount_id: discount.id } },
          body: { active: !discount.active },
        }),
      );
    });
    if (ok) {
      setDone(`${discount.code} is ${discount.active ? "switched off" : "active again"}.`);
      reload();
    }
  }
  async function remove(discount: Discount) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(
        api.DELETE("/api/v1/admin/discounts/{discount_id}", { params: { path: { discount_id: discount.id } } }),
      );
    });
    if (ok) {
      setDone(`${discount.code} is deleted.`);
      reload();
    }
  }
  return (
    <>
      <h1>Discount codes</h1>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" && list.data.items.length === 0 ? <p>No discount codes yet.</p> : null}
      {list.state === "ready" && list.data.items.length ? (
        <TableWrap label="Discount codes">
          <table>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Discount</th>
                <th scope="col">Minimum</th>
                <th scope="col">Used</th>
                <th scope="col">Active</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((discount) => (
                <tr key={discount.id}>
                  <th scope="row">{discount.code}</th>
                  <td>{describe(discount)}</td>
                  <td>{discount.min_subtotal === null ? "—" : formatMoney(discount.min_subtotal, CURRENCY)}</td>
                  <td>
                    {discount.times_used}
                    {discount.usage_limit === null ? "" : ` of ${discount.usage_limit}`}
                  </td>
                  <td>{discount.active ? "Yes" : "No"}</td>
                  <td>
                    <div className="address-actions">
                      <button
                        type="button"
                        className="button-secondary button-small"
                        disabled={action.busy}
                        onClick={() => void toggle(discount)}
                      >
                        {discount.active ? "Switch off" : "Activate"}
                        <span className="visually-hidden"> {discount.code}</span>
                      </button>
                      <button
                        type="button"
                        className="button-secondary button-small"
                        disabled={action.busy}
                        onClick={() => void remove(discount)}
                      >
                        Delete<span className="visually-hidden"> {discount.code}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <section aria-labelledby="new-discount-heading" className="narrow">
        <h2 id="new-discount-heading">Add a discount code</h2>
        <DiscountForm
          key={version}
          onSaved={(code) => {
            setDone(`${code} is added.`);
            reload();
          }}
        />
      </section>
    </>
  );
}

function DiscountForm({ onSaved }: { onSaved: (code: string) => void }) {
  const action = useAction();
  const [mine, setMine] = useState<Record<string, string>>({});
  const [type, setType] = useState<Discount["type"]>("percent");
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const problems: Record<string, string> = {};
    const code = textOf(form, "code");
    let value: number | null = null;
    if (type === "percent") {
      value = whole(form, "value");
      if (value === null) problems.value = "Enter a whole percent, like 10.";
    } else if (type === "fixed") {
      value = money(form, "value", problems);
    }
    const minimum = money(form, "min_subtotal", problems, true);
    const limitText = textOf(form, "usage_limit");
    const limit = limitText ? whole(form, "usage_limit") : null;
    if (limitText && limit === null) problems.usage_limit = "Enter a whole number of uses.";
    const perCustomerText = textOf(form, "usage_limit_per_customer");
    const perCustomer = perCustomerText ? whole(form, "usage_limit_per_customer") : null;
    if (perCustomerText && perCustomer === null) problems.usage_limit_per_customer = "Enter a whole number of uses.";
    setMine(problems);
    if (Object.keys(problems).length) return;
    const ok = await action.run(async () => {
      await unwrap(
        api.POST("/api/v1/admin/discounts", {
          body: {
            code,
            type,
            ...(value === null ? {} : { value }),
            ...(minimum === null ? {} : { min_subtotal: minimum }),
            ...(limit === null ? {} : { usage_limit: limit }),
            ...(perCustomer === null ? {} : { usage_limit_per_customer: perCustomer }),
          },
        }),
      );
    });
    if (ok) onSaved(code);
  }
  const errors = { ...action.fields, ...mine };
  return (
    <form onSubmit={submit} noValidate aria-label="Add a discount code">
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <Field label="Code" name="code" required hint="Letters, digits, - and _; shoppers may type it in any case." error={errors.code} />
      <SelectField
        label="Kind"
        name="type"
        value={type}
        onChange={(event) => setType(event.currentTarget.value as Discount["type"])}
        error={errors.type}
      >
        <option value="percent">Percent off</option>
        <option value="fixed">Amount off</option>
        <option value="free_shipping">Free shipping</option>
      </SelectField>
      {type === "free_shipping" ? null : (
        <Field
          label={type === "percent" ? "Percent" : `Amount (${CURRENCY.toUpperCase()})`}
          name="value"
          inputMode={type === "percent" ? "numeric" : "decimal"}
          required
          error={errors.value}
        />
      )}
      <Field label={`Minimum subtotal (${CURRENCY.toUpperCase()})`} name="min_subtotal" inputMode="decimal" error={errors.min_subtotal} />
      <Field label="Uses in all" name="usage_limit" inputMode="numeric" hint="Empty: no limit" error={errors.usage_limit} />
      <Field
        label="Uses per customer"
        name="usage_limit_per_customer"
        inputMode="numeric"
        hint="Per account, or per email address for guests; empty: no limit"
        error={errors.usage_limit_per_customer}
      />
      <button type="submit" disabled={action.busy}>
        {action.busy ? "Saving…" : "Add the discount code"}
      </button>
    </form>
  );
}
