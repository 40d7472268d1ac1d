// An admin adds a product through the questionnaire (the API's objection to a bad price beside
// the field first), finds it in the storefront, adjusts its stock and reads the ledger, then
// archives it (it leaves the catalog) and restores it.
import { expect, test } from "@playwright/test";
import { checkPage, loginAs, watchPage } from "./helpers";

test("an admin adds a product, finds it in the shop, adjusts its stock and archives it", async ({ page }, testInfo) => {
  const problems = watchPage(page);
  const name = `Harbour Rain Jacket ${testInfo.project.name} ${Date.now()}`;

  await loginAs(page, "/admin/products", process.env.SHOP_ADMIN_EMAIL ?? "", process.env.SHOP_ADMIN_PASSWORD ?? "");
  await expect(page.getByRole("heading", { level: 1, name: "Products" })).toBeVisible();
  await expect(page.getByText(/^\d+ products$/)).toBeVisible();
  // The panel's header says "admin" once (its brand), not again as a link beside "Overview".
  const header = page.getByRole("banner");
  await expect(header.getByRole("link", { name: "Shop admin" })).toBeVisible();
  await expect(header.getByRole("link", { name: "Admin", exact: true })).toHaveCount(0);
  await checkPage(page, testInfo, "40-admin-products");

  await page.getByRole("link", { name: "Add a product" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Add a product" })).toBeVisible();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Description").fill("A light waterproof jacket for wet walks.");
  // A price the API refuses: its message lands beside the field.
  await page.getByLabel("Price (USD)").fill("-12.50");
  await page.getByLabel("Stock", { exact: true }).fill("8");
  await page.getByLabel("Low-stock threshold").fill("3");
  const category = page.getByLabel("Category");
  const footwear = await category.locator("option", { hasText: "Footwear" }).first().getAttribute("value");
  await category.selectOption(footwear!);
  await page.getByLabel("Brand (optional)").fill("Harbour");
  await page.getByLabel("Attributes (optional)").fill("color: navy\nsize: M");
  await page.getByLabel("Image URLs (optional)").fill("/media/demo/trail-running-shoe/1.svg");
  await page.getByRole("button", { name: "Add the product" }).click();
  const price = page.getByLabel("Price (USD)");
  await expect(price).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator(".field-invalid").filter({ has: price }).locator(".field-error")).toContainText(/0/);
  await expect(page.getByRole("alert").first()).toContainText("Some fields need attention");
  // Nothing typed is lost.
  await expect(page.getByLabel("Name")).toHaveValue(name);
  await checkPage(page, testInfo, "41-admin-product-invalid");

  await price.fill("89.00");
  await page.getByRole("button", { name: "Add the product" }).click();
  await expect(page.getByText("The product is added.")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByText("In stock: 8")).toBeVisible();
  await checkPage(page, testInfo, "42-admin-product-added");

  // The stock: a delivery adds 5, the ledger shows it with the reason.
  await page.getByLabel("Change").selectOption("add");
  await page.getByLabel("Units").fill("5");
  await page.getByLabel("Reason").fill("delivery from the supplier");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText("Stock is now 13.")).toBeVisible();
  await expect(page.getByText("In stock: 13")).toBeVisible();
  const ledger = page.getByRole("table").filter({ has: page.getByRole("columnheader", { name: "Stock after" }) });
  await expect(ledger.getByRole("row").nth(1)).toContainText("+5");
  await expect(ledger.getByRole("row").nth(1)).toContainText("delivery from the supplier");
  // Removing more than there is: refused, nothing changes.
  await page.getByLabel("Change").selectOption("remove");
  await page.getByLabel("Units").fill("99");
  await page.getByLabel("Reason").fill("breakage");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByText("In stock: 13")).toBeVisible();
  await page.getByLabel("Change").selectOption("set");
  await page.getByLabel("Units").fill("2");
  await page.getByLabel("Reason").fill("stocktake");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText("Stock is now 2.")).toBeVisible();
  await expect(ledger.getByRole("row").nth(1)).toContainText("-11");
  await checkPage(page, testInfo, "43-admin-stock-ledger");

  // Now under its threshold: on the low-stock page.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Low stock" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Low stock" })).toBeVisible();
  await checkPage(page, testInfo, "44-admin-low-stock");

  // The storefront has it, with its picture and price.
  await page.goto(`/?q=${encodeURIComponent("Harbour Rain Jacket")}`);
  await expect(page.getByRole("link", { name }).first()).toBeVisible();
  await checkPage(page, testInfo, "45-storefront-search");
  await page.getByRole("link", { name }).first().click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByText("$89.00").first()).toBeVisible();
  await checkPage(page, testInfo, "46-storefront-new-product");
  const productUrl = page.url();

  // Archived: gone from the shop; restored: back.
  await page.goto("/admin/products");
  await page.getByLabel("Search").fill(name);
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByRole("button", { name: `Archive ${name}` }).click();
  await expect(page.getByText(`${name} is archived`)).toBeVisible();
  await page.goto(productUrl);
  await expect(page.getByRole("heading", { level: 1, name: /not found/i })).toBeVisible();
  await page.goto(`/admin/products?status=archived&q=${encodeURIComponent(name)}`);
  await page.getByRole("link", { name }).click();
  await expect(page.getByText("Archived: not in the catalog.")).toBeVisible();
  await checkPage(page, testInfo, "47-admin-product-archived");
  await page.getByRole("button", { name: "Restore" }).click();
  await expect(page.getByText(/In the catalog at/)).toBeVisible();
  await page.goto(productUrl);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  // Archived again from its own page, so the demo catalog the other journeys count is as it was.
  await page.goBack();
  await page.getByRole("button", { name: "Archive" }).click();
  await expect(page.getByText("Archived: not in the catalog.")).toBeVisible();

  expect(problems).toEqual([]);
});

test("an admin sets the stock of one variant", async ({ page }, testInfo) => {
  const problems = watchPage(page);
  await loginAs(page, "/admin/products", process.env.SHOP_ADMIN_EMAIL ?? "", process.env.SHOP_ADMIN_PASSWORD ?? "");
  await page.getByLabel("Search", { exact: true }).fill("Tempo Road Runner");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByRole("link", { name: "Tempo Road Runner" }).click();
  await expect(page.getByRole("heading", { level: 2, name: "Options and variants" })).toBeVisible();
  const perVariant = page.getByRole("table", { name: /Stock of each variant/ });
  // Each run (desktop, then phone) on the same shop: the count it sets is the one it finds plus 3.
  const row = perVariant.getByRole("row", { name: /TEMPO-ROAD-RUNNER-41-BLACK/ });
  const counted = Number(await row.getByRole("cell").textContent()) + 3;
  await page.getByLabel("Variant", { exact: true }).selectOption({ label: "TEMPO-ROAD-RUNNER-41-BLACK · 41 · black" });
  await page.getByLabel("Change").selectOption("set");
  await page.getByLabel("Units").fill(String(counted));
  await page.getByLabel("Reason").fill("stocktake");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText(new RegExp(`Stock of TEMPO-ROAD-RUNNER-41-BLACK is now ${counted} \\(\\d+ in all\\)\\.`))).toBeVisible();
  await expect(row.getByRole("cell")).toHaveText(String(counted));
  const ledger = page.getByRole("table").filter({ has: page.getByRole("columnheader", { name: "Stock after" }) });
  await expect(ledger.getByRole("row").nth(1)).toContainText("TEMPO-ROAD-RUNNER-41-BLACK");
  await checkPage(page, testInfo, "49-admin-variant-stock");
  expect(problems).toEqual([]);
});
