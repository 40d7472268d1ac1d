// A shopper's account: the profile (kept through a session that ends mid-form: log in again in
// place), a saved address used at checkout, the orders list with history, and a cancellation.
import { expect, test } from "@playwright/test";
import { SHOPPER_PASSWORD, placeOrder, productId, registerShopper } from "./api";
import { checkPage, loginAs, watchPage } from "./helpers";

test("a shopper edits the profile, saves an address, checks out with it and cancels an order", async ({ page, request }, testInfo) => {
  const problems = watchPage(page);
  const shopper = await registerShopper(request, `alex-${testInfo.project.name}-${Date.now()}@example.com`, "Alex Shopper");
  // An earlier order, still awaiting payment: the one cancelled below.
  const earlier = await placeOrder(request, shopper, await productId(request, "organic-cotton-tee"), { pay: false });

  await loginAs(page, "/account", shopper.email, SHOPPER_PASSWORD);
  await expect(page.getByRole("heading", { level: 1, name: "Your profile" })).toBeVisible();
  await page.getByLabel("Name").fill("Alex Q. Shopper");
  await page.getByLabel("Phone (optional)").fill("+44 20 7946 0000");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Your profile is saved.")).toBeVisible();
  await expect(page.getByRole("link", { name: /Alex Q\. Shopper/ })).toBeVisible();
  await checkPage(page, testInfo, "50-account-profile");

  // The session ends while the form is being filled in (logged out elsewhere): saving asks to
  // log in again in place, and the typed name survives.
  await page.getByLabel("Name").fill("Alex Quinn Shopper");
  const refreshToken = await page.evaluate(() => (JSON.parse(localStorage.getItem("shop.tokens") ?? "{}") as { refresh?: string }).refresh);
  const revoked = await request.post("/api/v1/auth/logout", {
    headers: { Authorization: `Bearer ${await page.evaluate(() => (JSON.parse(localStorage.getItem("shop.tokens") ?? "{}") as { access?: string }).access)}` },
    data: { refresh_token: refreshToken },
  });
  expect(revoked.status()).toBe(204);
  await page.getByRole("button", { name: "Save" }).click();
  const dialog = page.getByRole("dialog", { name: "Please log in again" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Password")).toBeFocused();
  await checkPage(page, testInfo, "51-login-again");
  await dialog.getByLabel("Password").fill(SHOPPER_PASSWORD);
  await dialog.getByRole("button", { name: "Log in again" }).click();
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByLabel("Name")).toHaveValue("Alex Quinn Shopper");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Your profile is saved.")).toBeVisible();
  await expect(page.getByRole("link", { name: /Alex Quinn Shopper/ })).toBeVisible();

  // A saved address: the API's objection beside its field first.
  await page.getByRole("navigation", { name: "Your account" }).getByRole("link", { name: "Addresses" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your addresses" })).toBeVisible();
  await page.getByRole("button", { name: "Add an address" }).click();
  await page.getByLabel("Address", { exact: true }).fill("12 Quay Street");
  await page.getByLabel("City").fill("Bristol");
  await page.getByLabel("Country").fill("GB");
  await page.getByRole("button", { name: "Save the address" }).click();
  await expect(page.getByLabel("Postal code")).toHaveAttribute("aria-invalid", "true");
  await checkPage(page, testInfo, "52-account-address-invalid");
  await page.getByLabel("Postal code").fill("BS1 4DB");
  await page.getByLabel("Use as my default address").check();
  await page.getByRole("button", { name: "Save the address" }).click();
  await expect(page.getByText("The address is saved.")).toBeVisible();
  await expect(page.locator("address").getByText("12 Quay Street")).toBeVisible();
  await expect(page.getByText("Default address")).toBeVisible();
  await checkPage(page, testInfo, "53-account-addresses");

  // Checkout offers it (chosen, as the default); the order ships there.
  await page.goto("/products/running-shorts");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText(/Added 1 to your cart/)).toBeVisible();
  await page.goto("/checkout");
  const saved = page.getByLabel(/12 Quay Street, BS1 4DB Bristol, GB/);
  await expect(saved).toBeChecked();
  await expect(page.getByLabel("City")).toBeHidden();
  await checkPage(page, testInfo, "54-checkout-saved-address");
  await page.getByRole("button", { name: "Place the order" }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f]{24}$/);
  await expect(page.locator("address")).toContainText("12 Quay Street");
  await page.getByRole("button", { name: /^Pay / }).click();
  await expect(page.getByText("Status: Paid")).toBeVisible();

  // The orders list, newest first; the earlier one is cancelled from its page.
  await page.getByRole("link", { name: /Alex Quinn Shopper/ }).click();
  await page.getByRole("navigation", { name: "Your account" }).getByRole("link", { name: "Orders" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your orders" })).toBeVisible();
  await expect(page.getByRole("row")).toHaveCount(3);
  await expect(page.getByRole("row").nth(1)).toContainText("Paid");
  await expect(page.getByRole("row").nth(2)).toContainText("Awaiting payment");
  await checkPage(page, testInfo, "55-account-orders");
  await page.getByRole("link", { name: earlier.number }).click();
  await page.getByRole("button", { name: "Cancel the order" }).click();
  await expect(page.getByText("Status: Cancelled")).toBeVisible();
  await expect(page.locator(".history li").last()).toContainText("Cancelled");
  await expect(page.getByRole("button", { name: "Cancel the order" })).toHaveCount(0);
  await checkPage(page, testInfo, "56-order-cancelled");

  expect(problems).toEqual([]);
});
