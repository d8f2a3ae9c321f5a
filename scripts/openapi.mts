// `npm run api:openapi`: regenerates docs/api/openapi.yaml from the server's routes.
import { writeFileSync } from 'node:fs';
import { openapiYaml } from '../src/engine/server/openapi.ts';

const out = new URL('../docs/api/openapi.yaml', import.meta.url).pathname;
writeFileSync(out, await openapiYaml());
process.stdout.write(`wrote ${out}\n`);
