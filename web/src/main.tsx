import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, RouterProvider } from "react-router";
import { AdminHome, LowStockPage } from "./admin/AdminHome";
import { AdminOrderPage } from "./admin/AdminOrderPage";
import { CategoriesPage } from "./admin/CategoriesPage";
import { EmailsPage } from "./admin/EmailsPage";
import { UsersPage } from "./admin/UsersPage";
import { WebhooksPage } from "./admin/WebhooksPage";
import { OrdersPage } from "./admin/OrdersPage";
import { DiscountsPage, ShippingMethodsPage, TaxRatesPage } from "./admin/PricingPages";
import { EditProductPage, NewProductPage } from "./admin/ProductFormPage";
import { ProductsPage } from "./admin/ProductsPage";
import { AdminLayout } from "./admin/AdminLayout";
import { AccountLayout } from "./account/AccountLayout";
import { AddressesPage } from "./account/AddressesPage";
import { OrdersListPage } from "./account/OrdersListPage";
import { ProfilePage } from "./account/ProfilePage";
import { AuthProvider } from "./auth/AuthContext";
import { ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from "./store/AccountRecovery";
import { CartPage } from "./store/CartPage";
import { CatalogPage } from "./store/CatalogPage";
import { CheckoutPage } from "./store/CheckoutPage";
import { OrderPage } from "./store/OrderPage";
import { LoginPage } from "./store/LoginPage";
import { NotFoundPage } from "./store/NotFoundPage";
import { ProductPage } from "./store/ProductPage";
import { RegisterPage } from "./store/RegisterPage";
import { StoreLayout } from "./store/StoreLayout";
import "./styles.css";

const router = createBrowserRouter([
  {
    path: "/admin",
    element: <AdminLayout />,
    children: [
      { index: true, element: <AdminHome /> },
      { path: "products", element: <ProductsPage /> },
      { path: "products/new", element: <NewProductPage /> },
      { path: "products/:id", element: <EditProductPage /> },
      { path: "low-stock", element: <LowStockPage /> },
      { path: "orders", element: <OrdersPage /> },
      { path: "orders/:id", element: <AdminOrderPage /> },
      { path: "categories", element: <CategoriesPage /> },
      { path: "users", element: <UsersPage /> },
      { path: "emails", element: <EmailsPage /> },
      { path: "webhooks", element: <WebhooksPage /> },
      { path: "shipping", element: <ShippingMethodsPage /> },
      { path: "tax-rates", element: <TaxRatesPage /> },
      { path: "discounts", element: <DiscountsPage /> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
  {
    path: "/",
    element: <StoreLayout />,
    children: [
      { index: true, element: <CatalogPage /> },
      { path: "products/:slug", element: <ProductPage /> },
      { path: "cart", element: <CartPage /> },
      { path: "checkout", element: <CheckoutPage /> },
      { path: "orders/:id", element: <OrderPage /> },
      {
        path: "account",
        element: <AccountLayout />,
        children: [
          { index: true, element: <ProfilePage /> },
          { path: "addresses", element: <AddressesPage /> },
          { path: "orders", element: <OrdersListPage /> },
        ],
      },
      { path: "login", element: <LoginPage /> },
      { path: "register", element: <RegisterPage /> },
      { path: "verify-email", element: <VerifyEmailPage /> },
      { path: "forgot-password", element: <ForgotPasswordPage /> },
      { path: "reset-password", element: <ResetPasswordPage /> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <AuthProvider>
      <RouterProvider router={router} />
    </AuthProvider>
  </StrictMode>,
);
