// The admin panel is for admins: anonymous visitors log in first, customers get a 403 page.
import { expect, test } from "@playwright/test";
import { checkPage, watchPage } from "./helpers";

const adminEmail = process.env.SHOP_ADMIN_EMAIL ?? "";
const adminPassword = process.env.SHOP_ADMIN_PASSWORD ?? "";

test("the admin panel asks for a login, refuses customers and opens for admins", async ({ page, request }, testInfo) => {
  const problems = watchPage(page);

  await page.goto("/admin");
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin$/);

  // A customer (registered through the API, as any client could).
  const email = `customer-${testInfo.project.name}-${Date.now()}@example.com`;
  const password = "Sturdy-Customer-42";
  const registered = await request.post("/api/v1/auth/register", {
    data: { email, password, name: "Casey Customer" },
  });
  expect(registered.status()).toBe(201);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "403: admins only" })).toBeVisible();
  await checkPage(page, testInfo, "30-admin-forbidden");
  await page.getByRole("link", { name: "Back to the shop" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();

  await page.goto("/admin");
  await page.getByLabel("Email").fill(adminEmail);
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  // The demo shop has products at or under their threshold.
  await expect(page.getByRole("heading", { name: "Low stock" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Low-stock products" }).locator("tbody tr").first()).toBeVisible();
  await checkPage(page, testInfo, "31-admin-overview");

  expect(problems).toEqual([]);
});
