// An admin prepares and ships an order (the tracking number asked for first), which the shopper
// then sees on their order page; and refunds another order, part first, then the rest.
import { expect, test } from "@playwright/test";
import { SHOPPER_PASSWORD, placeOrder, productId, registerShopper } from "./api";
import { checkPage, loginAs, watchPage } from "./helpers";

test("an admin ships an order with a tracking number the shopper sees, and refunds another", async ({ page, request }, testInfo) => {
  const problems = watchPage(page);
  const shopper = await registerShopper(request, `robin-${testInfo.project.name}-${Date.now()}@example.com`, "Robin Shopper");
  const product = await productId(request, "organic-cotton-tee");
  const shipped = await placeOrder(request, shopper, product);
  const refunded = await placeOrder(request, shopper, product);

  await loginAs(page, "/admin/orders", process.env.SHOP_ADMIN_EMAIL ?? "", process.env.SHOP_ADMIN_PASSWORD ?? "");
  await expect(page.getByRole("heading", { level: 1, name: "Orders" })).toBeVisible();
  await page.getByLabel("Status").selectOption("paid");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/status=paid/);
  await expect(page.getByRole("link", { name: shipped.number })).toBeVisible();
  await checkPage(page, testInfo, "60-admin-orders");
  // The shopper's orders by their email and a range of days (in the URL); none before today.
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString("en-CA");
  await page.getByLabel("Status").selectOption("");
  await page.getByLabel("Customer email").fill(shopper.email.toUpperCase());
  await page.getByLabel("Placed from").fill(day(-1));
  await page.getByLabel("Placed until").fill(day(1));
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(new RegExp(`[?]email=${encodeURIComponent(shopper.email.toUpperCase())}&from=${day(-1)}&to=${day(1)}$`));
  await expect(page.getByText("2 orders", { exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: refunded.number })).toBeVisible();
  await checkPage(page, testInfo, "60b-admin-orders-by-customer");
  await page.getByLabel("Placed until").fill(day(-1));
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByText("No orders match.")).toBeVisible();
  // Back: the previous filters, in the fields too.
  await page.goBack();
  await expect(page.getByText("2 orders", { exact: true })).toBeVisible();
  await expect(page.getByLabel("Placed until")).toHaveValue(day(1));
  await page.getByRole("link", { name: "Clear the filters" }).click();
  await expect(page.getByLabel("Customer email")).toHaveValue("");
  await page.getByLabel("Order number").fill(shipped.number);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByText("1 order", { exact: true })).toBeVisible();
  await page.getByRole("link", { name: shipped.number }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Order ${shipped.number}` })).toBeVisible();
  await checkPage(page, testInfo, "61-admin-order");

  // paid -> processing -> shipped (which needs a tracking number: the API says so first).
  await page.getByLabel("New status").selectOption("processing");
  await page.getByRole("button", { name: "Update the status" }).click();
  await expect(page.getByText("The order is now: Being prepared.")).toBeVisible();
  await page.getByLabel("New status").selectOption("shipped");
  await page.getByRole("button", { name: "Update the status" }).click();
  const tracking = page.getByLabel("Tracking number");
  await expect(tracking).toHaveAttribute("aria-invalid", "true");
  await checkPage(page, testInfo, "62-admin-ship-needs-tracking");
  await tracking.fill("1Z999AA10123456784");
  await page.getByLabel("Note (optional)").fill("Parcel handed to the carrier");
  await page.getByRole("button", { name: "Update the status" }).click();
  await expect(page.getByText("The order is now: Shipped.")).toBeVisible();
  await expect(page.getByText("Tracking number 1Z999AA10123456784")).toBeVisible();
  await expect(page.locator(".history li").last()).toContainText("Parcel handed to the carrier");
  await checkPage(page, testInfo, "63-admin-order-shipped");

  // A refund: part of it first, then the rest (which refunds the order).
  await page.goto(`/admin/orders?q=${refunded.number}`);
  await page.getByRole("link", { name: refunded.number }).click();
  await page.getByLabel(/^Amount/).fill("10.00");
  await page.getByLabel("Reason (optional)").fill("Scuffed on arrival");
  await page.getByRole("button", { name: "Refund" }).click();
  await expect(page.getByText("Refunded $10.00.")).toBeVisible();
  await expect(page.getByText("Refund of $10.00: succeeded (Scuffed on arrival)")).toBeVisible();
  await checkPage(page, testInfo, "64-admin-partial-refund");
  await page.getByRole("button", { name: "Refund" }).click();
  await expect(page.getByText("The order is refunded in full.")).toBeVisible();
  await expect(page.getByText("Status: Refunded")).toBeVisible();
  await checkPage(page, testInfo, "65-admin-refunded");

  // The shopper sees the tracking number on their order, from their orders list.
  await page.getByRole("button", { name: "Log out" }).click();
  await loginAs(page, "/account/orders", shopper.email, SHOPPER_PASSWORD);
  await expect(page.getByRole("heading", { level: 1, name: "Your orders" })).toBeVisible();
  const rows = page.getByRole("row");
  await expect(rows.filter({ hasText: shipped.number })).toContainText("Shipped");
  await expect(rows.filter({ hasText: refunded.number })).toContainText("Refunded");
  await page.getByRole("link", { name: shipped.number }).click();
  await expect(page.getByText("Tracking number 1Z999AA10123456784")).toBeVisible();
  await expect(page.locator(".history li").last()).toContainText("Shipped");
  await checkPage(page, testInfo, "66-shopper-sees-tracking");

  expect(problems).toEqual([]);
});
