// The app's client instance: tokens in localStorage, refreshes serialised across tabs.
import { createApi } from "./client";

const locks = typeof navigator !== "undefined" && "locks" in navigator ? navigator.locks : undefined;

export const { api, tokens, guest } = createApi({ storage: window.localStorage, locks });

window.addEventListener("storage", (event) => tokens.storageChanged(event.key));

export { unwrap } from "./client";
export { ApiProblem } from "./problem";
