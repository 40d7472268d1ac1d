// Saved addresses: add, edit, make default, remove. Checkout offers them.
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../api";
import type { components } from "../api/schema";
import { ErrorNotice, Loading, Notice } from "../components/Status";
import { useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";
import { AddressFields, addressFromForm, addressLines } from "./AddressFields";

type Address = components["schemas"]["AddressOut"];

export function AddressesPage() {
  useTitle("Your addresses");
  const [version, setVersion] = useState(0);
  const [list, retry] = useLoad(() => unwrap(api.GET("/api/v1/users/me/addresses", { params: { query: { per_page: 100 } } })), String(version), true);
  const [editing, setEditing] = useState<string | "new" | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const reload = () => setVersion((n) => n + 1);

  async function remove(address: Address) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(
        api.DELETE("/api/v1/users/me/addresses/{address_id}", { params: { path: { address_id: address.id } } }),
      );
    });
    if (ok) {
      setDone("The address is removed.");
      reload();
    }
  }

  async function makeDefault(address: Address) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(
        api.PATCH("/api/v1/users/me/addresses/{address_id}", {
          params: { path: { address_id: address.id } },
          body: { is_default: true },
        }),
      );
    });
    if (ok) {
      setDone("The default address is changed.");
      reload();
    }
  }

  const addresses: Address[] = list.state === "ready" ? list.data.items : [];
  return (
    <>
      <h1>Your addresses</h1>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error && !editing ? <ErrorNotice error={action.error} /> : null}
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" && addresses.length === 0 ? <p>No saved addresses yet.</p> : null}
      {addresses.length ? (
        <ul className="address-list">
          {addresses.map((address) => (
            <li key={address.id}>
              {editing === address.id ? (
                <AddressForm
                  address={address}
                  onCancel={() => setEditing(null)}
                  onSaved={() => {
                    setEditing(null);
                    setDone("The address is saved.");
                    reload();
                  }}
                />
              ) : (
                <>
                  <address>
                    {addressLines(address).map((line) => (
                      <span key={line} className="address-line">
                        {line}
                      </span>
                    ))}
                    {address.phone ? <span className="address-line">{address.phone}</span> : null}
                  </address>
                  {address.is_default ? <p className="field-hint">Default address</p> : null}
                  <div className="address-actions">
                    <button type="button" className="button-secondary button-small" onClick={() => setEditing(address.id)}>
                      Edit<span className="visually-hidden"> {address.line1}</span>
                    </button>
                    {address.is_default ? null : (
                      <button type="button" className="button-secondary button-small" onClick={() => void makeDefault(address)}>
                        Make default<span className="visually-hidden"> {address.line1}</span>
                      </button>
                    )}
                    <button type="button" className="button-secondary button-small" onClick={() => void remove(address)}>
                      Remove<span className="visually-hidden"> {address.line1}</span>
                    </button>
                  </div>
                </>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {editing === "new" ? (
        <section aria-labelledby="new-address-heading" className="narrow">
          <h2 id="new-address-heading">New address</h2>
          <AddressForm
            address={null}
            onCancel={() => setEditing(null)}
            onSaved={() => {
              setEditing(null);
              setDone("The address is saved.");
              reload();
            }}
          />
        </section>
      ) : (
        <p>
          <button type="button" onClick={() => setEditing("new")}>
            Add an address
          </button>
        </p>
      )}
    </>
  );
}

function AddressForm({ address, onSaved, onCancel }: { address: Address | null; onSaved: () => void; onCancel: () => void }) {
  const action = useAction();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = { ...addressFromForm(form), is_default: form.get("is_default") === "on" };
    const ok = await action.run(async () => {
      if (address) {
        await unwrap(
          api.PATCH("/api/v1/users/me/addresses/{address_id}", {
            params: { path: { address_id: address.id } },
            body: { line2: null, phone: null, ...body },
          }),
        );
      } else {
        await unwrap(api.POST("/api/v1/users/me/addresses", { body }));
      }
    });
    if (ok) onSaved();
  }
  return (
    <form onSubmit={submit} noValidate aria-label={address ? `Edit ${address.line1}` : "New address"}>
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <AddressFields values={address ?? {}} fields={action.fields} />
      <div className="field field-check">
        <input type="checkbox" id={`default-${address?.id ?? "new"}`} name="is_default" defaultChecked={address?.is_default ?? false} />
        <label htmlFor={`default-${address?.id ?? "new"}`}>Use as my default address</label>
      </div>
      <div className="address-actions">
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Saving…" : "Save the address"}
        </button>
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
