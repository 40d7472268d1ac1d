// The category tree: add a category (at the root or under another), rename or move one (its
// sub-tree moves with it), delete one that has no products or sub-categories.
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../api";
import { Field, SelectField } from "../components/Field";
import { ErrorNotice, Loading, Notice, TableWrap } from "../components/Status";
import { textOf, useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";
import { type CategoryOption, flattenTree } from "./categories";

export function CategoriesPage() {
  useTitle("Categories");
  const [version, setVersion] = useState(0);
  const [tree, retry] = useLoad(() => unwrap(api.GET("/api/v1/categories")), String(version), true);
  const [editing, setEditing] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const options = tree.state === "ready" ? flattenTree(tree.data) : [];
  const changed = (message: string) => {
    setDone(message);
    setEditing(null);
    setVersion((n) => n + 1);
  };

  async function remove(category: CategoryOption) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(
        api.DELETE("/api/v1/admin/categories/{category_id}", { params: { path: { category_id: category.id } } }),
      );
    });
    if (ok) changed(`${category.name} is deleted.`);
  }

  return (
    <>
      <h1>Categories</h1>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {tree.state === "loading" ? <Loading /> : null}
      {tree.state === "error" ? <ErrorNotice error={tree.error} retry={retry} /> : null}
      {options.length ? (
        <TableWrap label="Categories">
          <table>
            <thead>
              <tr>
                <th scope="col">Category</th>
                <th scope="col">Address</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {options.map((category) => (
                <tr key={category.id}>
                  {editing === category.id ? (
                    <td colSpan={3}>
                      <CategoryForm
                        category={category}
                        options={options}
                        onSaved={(name) => changed(`${name} is saved.`)}
                        onCancel={() => setEditing(null)}
                      />
                    </td>
                  ) : (
                    <>
                      <th scope="row" style={{ paddingLeft: `${0.5 + category.depth * 1.25}rem` }}>
                        {category.name}
                      </th>
                      <td>/?category={category.slug}</td>
                      <td>
                        <div className="address-actions">
                          <button type="button" className="button-secondary button-small" onClick={() => setEditing(category.id)}>
                            Edit<span className="visually-hidden"> {category.name}</span>
                          </button>
                          <button
                            type="button"
                            className="button-secondary button-small"
                            disabled={action.busy}
                            onClick={() => void remove(category)}
                          >
                            Delete<span className="visually-hidden"> {category.name}</span>
                          </button>
                        </div>
                      </td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <section aria-labelledby="new-category-heading" className="narrow">
        <h2 id="new-category-heading">Add a category</h2>
        <CategoryForm key={version} category={null} options={options} onSaved={(name) => changed(`${name} is added.`)} />
      </section>
    </>
  );
}

function CategoryForm({
  category,
  options,
  onSaved,
  onCancel,
}: {
  category: CategoryOption | null;
  options: CategoryOption[];
  onSaved: (name: string) => void;
  onCancel?: () => void;
}) {
  const action = useAction();
  // A category cannot move under itself or its own sub-tree.
  const below = new Set<string>();
  if (category) {
    below.add(category.id);
    for (const option of options) if (option.parentId && below.has(option.parentId)) below.add(option.id);
  }
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = textOf(form, "name");
    const parent = textOf(form, "parent_id") || null;
    const ok = await action.run(async () => {
      if (category) {
        await unwrap(
          api.PATCH("/api/v1/admin/categories/{category_id}", {
            params: { path: { category_id: category.id } },
            body: { name, parent_id: parent },
          }),
        );
      } else {
        await unwrap(api.POST("/api/v1/admin/categories", { body: { name, parent_id: parent } }));
      }
    });
    if (ok) onSaved(name);
  }
  return (
    <form onSubmit={submit} noValidate aria-label={category ? `Edit ${category.name}` : "Add a category"}>
      {action.error ? <ErrorNotice error={action.error} /> : null}
      <Field label="Name" name="name" required defaultValue={category?.name ?? ""} error={action.fields.name} />
      <SelectField label="Parent" name="parent_id" defaultValue={category?.parentId ?? ""} error={action.fields.parent_id}>
        <option value="">None (a top-level category)</option>
        {options
          .filter((option) => !below.has(option.id))
          .map((option) => (
            <option key={option.id} value={option.id}>
              {option.label}
            </option>
          ))}
      </SelectField>
      <div className="address-actions">
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Saving…" : category ? "Save" : "Add the category"}
        </button>
        {onCancel ? (
          <button type="button" className="button-secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
