// The shop's users: find by email (its start) and role; change the role, deactivate or
// reactivate (which signs them out everywhere), and unlock sign-ins after failed attempts.
import { type FormEvent, useState } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import type { components } from "../api/schema";
import { Pager, pageParam } from "../components/Pager";
import { ErrorNotice, Loading, Notice, TableWrap } from "../components/Status";
import { useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";

type User = components["schemas"]["UserOut"];

export function UsersPage() {
  useTitle("Users");
  const [params, setParams] = useSearchParams();
  const email = params.get("email") ?? "";
  const role = params.get("role") === "admin" || params.get("role") === "customer" ? params.get("role")! : "";
  const page = pageParam(params);
  const [version, setVersion] = useState(0);
  const [list, retry] = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/admin/users", {
          params: {
            query: {
              page,
              per_page: 20,
              ...(email ? { email } : {}),
              ...(role ? { role: role as User["role"] } : {}),
            },
          },
        }),
      ),
    `${email}:${role}:${page}:${version}`,
    true,
  );
  const action = useAction();
  const [done, setDone] = useState<string | null>(null);

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    const text = String(form.get("email") ?? "").trim();
    if (text) next.set("email", text);
    const chosen = String(form.get("role") ?? "");
    if (chosen) next.set("role", chosen);
    setParams(next);
  }

  async function change(user: User, body: { role?: User["role"]; is_active?: boolean }, message: string) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(api.PATCH("/api/v1/admin/users/{user_id}", { params: { path: { user_id: user.id } }, body }));
    });
    if (ok) {
      setDone(message);
      setVersion((n) => n + 1);
    }
  }

  async function unlock(user: User) {
    setDone(null);
    const ok = await action.run(async () => {
      await unwrap(api.POST("/api/v1/admin/users/{user_id}/unlock", { params: { path: { user_id: user.id } } }));
    });
    if (ok) setDone(`${user.email} can sign in again straight away.`);
  }

  return (
    <>
      <h1>Users</h1>
      <form role="search" className="toolbar" onSubmit={filter} aria-label="Find users">
        <div className="field">
          <label htmlFor="user-email">Email starts with</label>
          <input id="user-email" type="search" name="email" defaultValue={email} key={email} maxLength={254} />
        </div>
        <div className="field">
          <label htmlFor="user-role">Role</label>
          <select id="user-role" name="role" defaultValue={role} key={role}>
            <option value="">Any role</option>
            <option value="customer">Customers</option>
            <option value="admin">Admins</option>
          </select>
        </div>
        <button type="submit">Show</button>
      </form>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" ? (
        <>
          <p className="result-count">{list.data.total === 1 ? "1 user" : `${list.data.total} users`}</p>
          {list.data.items.length ? (
            <TableWrap label="Users">
              <table className="wide">
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((user) => (
                    <tr key={user.id}>
                      <th scope="row">
                        {user.name}
                        <span className="address-line field-hint">{user.email}</span>
                      </th>
                      <td>{user.role === "admin" ? "Admin" : "Customer"}</td>
                      <td>{user.is_active ? "Active" : "Deactivated"}</td>
                      <td>
                        <div className="address-actions">
                          <button
                            type="button"
                            className="button-secondary button-small"
                            disabled={action.busy}
                            onClick={() =>
                              void change(
                                user,
                                { is_active: !user.is_active },
                                user.is_active ? `${user.email} is deactivated and signed out.` : `${user.email} is active again.`,
                              )
                            }
                          >
                            {user.is_active ? "Deactivate" : "Reactivate"}
                            <span className="visually-hidden"> {user.email}</span>
                          </button>
                          <button
                            type="button"
                            className="button-secondary button-small"
                            disabled={action.busy}
                            onClick={() =>
                              void change(
                                user,
                                { role: user.role === "admin" ? "customer" : "admin" },
                                user.role === "admin" ? `${user.email} is a customer now.` : `${user.email} is an admin now.`,
                              )
                            }
                          >
                            {user.role === "admin" ? "Make customer" : "Make admin"}
                            <span className="visually-hidden"> {user.email}</span>
                          </button>
                          <button
                            type="button"
                            className="button-secondary button-small"
                            disabled={action.busy}
                            onClick={() => void unlock(user)}
                          >
                            Unlock sign-in<span className="visually-hidden"> {user.email}</span>
                          </button>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          ) : (
            <p>No users match.</p>
          )}
          <Pager page={list.data.page} pages={list.data.pages} />
        </>
      ) : null}
    </>
  );
}
