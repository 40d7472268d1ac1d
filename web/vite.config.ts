/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the app with hot reload and hands everything that is not the web app
// to a running shop (make run, or SHOP_API_URL).
const api = process.env.SHOP_API_URL ?? "http://127.0.0.1:8000";
const backend = ["/api", "/media", "/openapi.json", "/docs", "/docs-assets", "/health", "/ready"];

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets", // hashed names: served with Cache-Control immutable
    sourcemap: false,
  },
  server: {
    host: "127.0.0.1",
    proxy: Object.fromEntries(backend.map((path) => [path, { target: api, changeOrigin: false }])),
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
