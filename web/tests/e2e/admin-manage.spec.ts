// An admin manages the category tree, a user's account (deactivate, reactivate, unlock) and
// the email outbox (reads a message, resends it).
import { expect, test } from "@playwright/test";
import { registerShopper } from "./api";
import { checkPage, loginAs, mailTo, watchPage } from "./helpers";

test("an admin manages categories, users and the email outbox", async ({ page, request }, testInfo) => {
  const problems = watchPage(page);
  const stamp = `${testInfo.project.name}-${Date.now()}`;
  const shopper = await registerShopper(request, `kim-${stamp}@example.com`, "Kim Shopper");
  const category = `Rainwear ${stamp}`;

  await loginAs(page, "/admin/categories", process.env.SHOP_ADMIN_EMAIL ?? "", process.env.SHOP_ADMIN_PASSWORD ?? "");
  await expect(page.getByRole("heading", { level: 1, name: "Categories" })).toBeVisible();
  const add = page.getByRole("form", { name: "Add a category" });
  await add.getByRole("button", { name: "Add the category" }).click();
  await expect(add.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await add.getByLabel("Name").fill(category);
  const parent = add.getByLabel("Parent");
  await parent.selectOption((await parent.locator("option", { hasText: "Outerwear" }).first().getAttribute("value"))!);
  await add.getByRole("button", { name: "Add the category" }).click();
  await expect(page.getByText(`${category} is added.`)).toBeVisible();
  await expect(page.getByRole("rowheader", { name: category })).toBeVisible();
  await checkPage(page, testInfo, "70-admin-categories");
  await page.getByRole("button", { name: `Edit ${category}` }).click();
  const edit = page.getByRole("form", { name: `Edit ${category}` });
  await edit.getByLabel("Name").fill(`${category} and snow`);
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText(`${category} and snow is saved.`)).toBeVisible();
  await page.getByRole("button", { name: `Delete ${category} and snow` }).click();
  await expect(page.getByText(`${category} and snow is deleted.`)).toBeVisible();
  await expect(page.getByRole("rowheader", { name: `${category} and snow` })).toHaveCount(0);
  // A category with products cannot go: the API says why.
  await page.getByRole("button", { name: "Delete Footwear", exact: true }).click();
  await expect(page.getByRole("alert")).toBeVisible();

  // Users: find the shopper, deactivate (signed out everywhere), reactivate, unlock.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Email starts with").fill(`kim-${stamp}`);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByText("1 user", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: `Deactivate ${shopper.email}` }).click();
  await expect(page.getByText(`${shopper.email} is deactivated and signed out.`)).toBeVisible();
  await expect(page.getByRole("row").nth(1)).toContainText("Deactivated");
  expect((await request.get("/api/v1/users/me", { headers: { Authorization: `Bearer ${shopper.token}` } })).status()).toBe(401);
  await checkPage(page, testInfo, "71-admin-users");
  await page.getByRole("button", { name: `Reactivate ${shopper.email}` }).click();
  await expect(page.getByText(`${shopper.email} is active again.`)).toBeVisible();
  await page.getByRole("button", { name: `Unlock sign-in ${shopper.email}` }).click();
  await expect(page.getByText(`${shopper.email} can sign in again straight away.`)).toBeVisible();

  // The outbox: the shopper's confirmation mail, read and sent again.
  await mailTo(shopper.email, /confirm|verify/i);
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Emails" }).click();
  await page.getByLabel("Recipient").fill(shopper.email);
  await page.getByLabel("Kind").selectOption("verify_email");
  await page.getByLabel("Status").selectOption("sent");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/kind=verify_email/);
  await expect(page.getByText("1 email", { exact: true })).toBeVisible();
  await page.locator(".outbox summary").first().click();
  await expect(page.locator(".email-text").first()).toContainText("/verify-email?token=");
  await checkPage(page, testInfo, "72-admin-emails");
  await page.getByRole("button", { name: new RegExp(`^Resend .* to ${shopper.email.replace(/[.]/g, "\\.")}$`) }).click();
  await expect(page.getByText(/is queued again for/)).toBeVisible();

  expect(problems).toEqual([]);
});
