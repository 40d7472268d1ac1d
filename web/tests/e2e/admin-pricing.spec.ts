// An admin sets up what a cart is charged besides its goods: a shipping method, a tax rate
// and a discount code, switches them off and deletes them again. Everything is for a
// destination no other journey ships to (Iceland on the desktop, Liechtenstein on the phone:
// the two projects run side by side and a tax rate is unique per country and class).
import { expect, test } from "@playwright/test";
import { checkPage, loginAs, watchPage } from "./helpers";

test("an admin manages shipping methods, tax rates and discount codes", async ({ page }, testInfo) => {
  const problems = watchPage(page);
  const stamp = `${testInfo.project.name}-${Date.now()}`.replace(/[^A-Za-z0-9-]/g, "");
  const method = `Glacier post ${stamp}`;
  const code = `ICE-${stamp}`.slice(0, 40);
  const country = testInfo.project.name === "phone" ? "LI" : "IS";

  await loginAs(page, "/admin/shipping", process.env.SHOP_ADMIN_EMAIL ?? "", process.env.SHOP_ADMIN_PASSWORD ?? "");
  await expect(page.getByRole("heading", { level: 1, name: "Shipping methods" })).toBeVisible();
  const addMethod = page.getByRole("form", { name: "Add a shipping method" });
  await addMethod.getByRole("button", { name: "Add the shipping method" }).click();
  await expect(addMethod.getByLabel("Price (USD)")).toHaveAttribute("aria-invalid", "true");
  await addMethod.getByLabel("Name").fill(method);
  await addMethod.getByLabel("Price (USD)").fill("7.50");
  await addMethod.getByLabel("Free over (USD)").fill("100");
  await addMethod.getByLabel("Countries").fill(country.toLowerCase());
  await addMethod.getByLabel("Delivery from (days)").fill("5");
  // Out of order: the API's message shows beside the field.
  await addMethod.getByLabel("Delivery within (days)").fill("2");
  await addMethod.getByRole("button", { name: "Add the shipping method" }).click();
  await expect(page.getByRole("alert").first()).toBeVisible();
  await addMethod.getByLabel("Delivery within (days)").fill("9");
  await addMethod.getByRole("button", { name: "Add the shipping method" }).click();
  await expect(page.getByText(`${method} is added.`)).toBeVisible();
  const row = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: method }) });
  await expect(row).toContainText("$7.50");
  await expect(row).toContainText(country);
  await checkPage(page, testInfo, "80-admin-shipping");
  const offered = await page.request.get(`/api/v1/shipping-methods?country=${country}`);
  expect((await offered.json()).map((m: { name: string }) => m.name)).toContain(method);
  await page.getByRole("button", { name: `Switch off ${method}` }).click();
  await expect(page.getByText(`${method} is switched off.`)).toBeVisible();
  const after = await page.request.get(`/api/v1/shipping-methods?country=${country}`);
  expect((await after.json()).map((m: { name: string }) => m.name)).not.toContain(method);
  await page.getByRole("button", { name: `Delete ${method}` }).click();
  await expect(page.getByText(`${method} is deleted.`)).toBeVisible();

  // Tax: a rate for Iceland with three decimals of a percent kept exactly.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Tax" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Tax rates" })).toBeVisible();
  const addRate = page.getByRole("form", { name: "Add a tax rate" });
  await addRate.getByLabel("Name").fill(`VSK ${stamp}`);
  await addRate.getByLabel("Country").fill(country);
  await addRate.getByLabel("Tax class").selectOption("reduced");
  await addRate.getByLabel("Rate (%)").fill("11.125");
  await addRate.getByRole("button", { name: "Add the tax rate" }).click();
  await expect(page.getByText(`VSK ${stamp} is added.`)).toBeVisible();
  const rateRow = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: `VSK ${stamp}` }) });
  await expect(rateRow).toContainText("11.125 %");
  await checkPage(page, testInfo, "81-admin-tax-rates");
  await page.getByRole("button", { name: `Delete VSK ${stamp}` }).click();
  await expect(page.getByText(`VSK ${stamp} is deleted.`)).toBeVisible();

  // A discount code: 15 % off over $40, five uses.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Discounts" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Discount codes" })).toBeVisible();
  const addCode = page.getByRole("form", { name: "Add a discount code" });
  await addCode.getByLabel("Code").fill(code);
  await addCode.getByLabel("Kind").selectOption("percent");
  await addCode.getByLabel("Percent").fill("150");
  await addCode.getByRole("button", { name: "Add the discount code" }).click();
  await expect(addCode.getByLabel("Percent")).toHaveAttribute("aria-invalid", "true");
  await addCode.getByLabel("Percent").fill("15");
  await addCode.getByLabel("Minimum subtotal (USD)").fill("40");
  await addCode.getByLabel("Uses in all").fill("5");
  await addCode.getByRole("button", { name: "Add the discount code" }).click();
  await expect(page.getByText(`${code} is added.`)).toBeVisible();
  const codeRow = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: code }) });
  await expect(codeRow).toContainText("15 % off");
  await expect(codeRow).toContainText("0 of 5");
  await checkPage(page, testInfo, "82-admin-discounts");
  await page.getByRole("button", { name: `Switch off ${code}` }).click();
  await expect(page.getByText(`${code} is switched off.`)).toBeVisible();
  await page.getByRole("button", { name: `Delete ${code}` }).click();
  await expect(page.getByText(`${code} is deleted.`)).toBeVisible();

  expect(problems).toEqual([]);
});
