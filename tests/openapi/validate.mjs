// Validates web/openapi.json (or the file named as the argument) against the
// OpenAPI 3.1 schema with an independent validator, and also resolves every
// $ref in it. Prints each error and exits 1 when there is any; run by
// tests/api/test_openapi.py.
import { Validator } from "@seriousme/openapi-schema-validator";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? path.join(here, "..", "..", "web", "openapi.json");

const validator = new Validator();
const res = await validator.validate(file);
if (!res.valid) {
  console.log(JSON.stringify(res.errors, null, 2));
  process.exit(1);
}
if (validator.version !== "3.1") {
  console.log(`expected OpenAPI 3.1, the document is ${validator.version}`);
  process.exit(1);
}
try {
  await validator.resolveRefs();
} catch (err) {
  console.log(`unresolvable $ref: ${err.message}`);
  process.exit(1);
}
console.log(`ok: ${file} is a valid OpenAPI ${validator.version} document`);
