// An admin reads the overview's sales chart and best sellers, then connects a webhook
// receiver: a refused URL first, then the secret shown once, the endpoint listed with its
// (empty) delivery log, switched off and removed.
import { expect, test } from "@playwright/test";
import { checkPage, loginAs, watchPage } from "./helpers";

test("an admin sees sales and manages webhook endpoints", async ({ page }, testInfo) => {
  const problems = watchPage(page);
  const url = `http://127.0.0.1:9/hooks/${testInfo.project.name}-${Date.now()}`;

  await loginAs(page, "/admin", process.env.SHOP_ADMIN_EMAIL ?? "", process.env.SHOP_ADMIN_PASSWORD ?? "");
  await expect(page.getByRole("heading", { level: 2, name: "Sales, last 30 days" })).toBeVisible();
  await expect(page.getByText("Net sales per day, last 30 days")).toBeVisible();
  await expect(page.locator(".sales-chart .recharts-surface")).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name: "Top products, last 30 days" })).toBeVisible();
  await page.getByText("Sales by day as a table").click();
  await expect(page.getByRole("region", { name: "Sales by day" }).getByRole("row")).toHaveCount(31);
  await checkPage(page, testInfo, "80-admin-overview-sales");

  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Webhooks" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Webhooks" })).toBeVisible();
  const add = page.getByRole("form", { name: "Add a webhook endpoint" });
  await add.getByLabel("URL").fill("ftp://example.com/hooks");
  await add.getByLabel(/Order paid/).check();
  await add.getByRole("button", { name: "Add the endpoint" }).click();
  await expect(add.getByLabel("URL")).toHaveAttribute("aria-invalid", "true");
  await add.getByLabel("URL").fill(url);
  await add.getByRole("button", { name: "Add the endpoint" }).click();
  await expect(page.getByText(`${url} is added.`)).toBeVisible();
  await expect(page.locator("code.secret")).toHaveText(/^whsec_/);
  await expect(page.getByRole("heading", { level: 3, name: url })).toBeVisible();
  await page.getByText(`Delivery log of ${url}`).click();
  await expect(page.getByText("No deliveries yet.").first()).toBeVisible();
  await checkPage(page, testInfo, "81-admin-webhooks");

  await page.getByRole("button", { name: `Switch off ${url}` }).click();
  await expect(page.getByText(`${url} is switched off.`)).toBeVisible();
  await page.reload();
  await expect(page.locator("code.secret")).toHaveCount(0); // shown once, never again
  await page.getByRole("button", { name: `Remove ${url}` }).click();
  await expect(page.getByText(`${url} is removed.`)).toBeVisible();
  await expect(page.getByRole("heading", { level: 3, name: url })).toHaveCount(0);

  expect(problems).toEqual([]);
});
