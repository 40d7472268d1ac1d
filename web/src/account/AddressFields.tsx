// The fields of a postal address, each with the API's message beside it (`prefix` is where the
// API puts them: "" for /users/me/addresses, "shipping_address." at checkout).
import { Field } from "../components/Field";

export interface AddressValues {
  name?: string | null;
  line1?: string;
  line2?: string | null;
  city?: string;
  postal_code?: string;
  country?: string;
  phone?: string | null;
}

export function AddressFields({
  values = {},
  fields,
  prefix = "",
  withName = false,
}: {
  values?: AddressValues;
  fields: Record<string, string>;
  prefix?: string;
  withName?: boolean;
}) {
  const error = (name: string) => fields[`${prefix}${name}`];
  return (
    <>
      {withName ? (
        <Field label="Full name" name="name" autoComplete="name" defaultValue={values.name ?? ""} error={error("name")} />
      ) : null}
      <Field label="Address" name="line1" autoComplete="address-line1" required defaultValue={values.line1 ?? ""} error={error("line1")} />
      <Field
        label="Address line 2 (optional)"
        name="line2"
        autoComplete="address-line2"
        defaultValue={values.line2 ?? ""}
        error={error("line2")}
      />
      <Field label="City" name="city" autoComplete="address-level2" required defaultValue={values.city ?? ""} error={error("city")} />
      <Field
        label="Postal code"
        name="postal_code"
        autoComplete="postal-code"
        required
        defaultValue={values.postal_code ?? ""}
        error={error("postal_code")}
      />
      <Field label="Country" name="country" autoComplete="country" required defaultValue={values.country ?? ""} error={error("country")} />
      <Field
        label="Phone (optional)"
        name="phone"
        type="tel"
        autoComplete="tel"
        defaultValue={values.phone ?? ""}
        error={error("phone")}
      />
    </>
  );
}

/** The address fields of a form, optional ones left out when empty. */
export function addressFromForm(form: FormData) {
  const text = (name: string) => String(form.get(name) ?? "").trim();
  const optional = (name: string) => (text(name) ? { [name]: text(name) } : {});
  return {
    line1: text("line1"),
    city: text("city"),
    postal_code: text("postal_code"),
    country: text("country"),
    ...optional("line2"),
    ...optional("phone"),
  };
}

export function addressLines(address: AddressValues): string[] {
  return [address.name, address.line1, address.line2, `${address.postal_code ?? ""} ${address.city ?? ""}`.trim(), address.country]
    .filter((line): line is string => Boolean(line));
}
