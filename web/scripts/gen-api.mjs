// `npm run gen`: the API's types, generated from the app's own OpenAPI document.
// The document is written by `quart openapi` (no server, no database); openapi-typescript turns
// it into src/api/schema.d.ts. Both are build outputs (git-ignored): they are regenerated on
// every build, so the web app is always typed against the backend it ships with.
// PYTHON names the interpreter with the app's dependencies (default: the repository's .venv).
// OPENAPI_JSON names a document `quart openapi` already wrote (the Dockerfile's node stage,
// which has no Python): it is used as it is.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(web, "..");

function run(command, args, cwd) {
  const env = { ...process.env, LOG_LEVEL: "WARNING" };
  const result = spawnSync(command, args, { cwd, stdio: "inherit", env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

let document = join(web, "generated", "openapi.json");
if (process.env.OPENAPI_JSON) {
  document = resolve(process.env.OPENAPI_JSON);
  if (!existsSync(document)) {
    console.error(`gen: OPENAPI_JSON names ${document}, which does not exist`);
    process.exit(1);
  }
} else {
  const python = process.env.PYTHON ?? join(root, ".venv", "bin", "python");
  if (!process.env.PYTHON && !existsSync(python)) {
    console.error(`gen: no ${python}; run \`make run\` or \`make test\` once, or set PYTHON`);
    process.exit(1);
  }
  mkdirSync(dirname(document), { recursive: true });
  run(python, ["-m", "quart", "--app", "wsgi:app", "openapi", "--output", document], root);
}
run(
  process.execPath,
  [join(web, "node_modules", "openapi-typescript", "bin", "cli.js"), document,
    "--output", join(web, "src", "api", "schema.d.ts")],
  web,
);
