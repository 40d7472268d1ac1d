import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

function App() {
  return <h1>Shop</h1>;
}

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
