import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { openapiYaml } from '../../../src/engine/server/openapi.ts';

describe('btnb serve: the OpenAPI document', () => {
  it('docs/api/openapi.yaml is what the routes generate (run `npm run api:openapi` after changing a route)', async () => {
    const committed = readFileSync(new URL('../../../docs/api/openapi.yaml', import.meta.url), 'utf8');
    const generated = await openapiYaml();
    assert.equal(committed, generated);
    const doc = parse(generated) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    assert.equal(doc.openapi, '3.1.0');
    // every operation documents its success and its problem answers
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const codes = Object.keys(op.responses ?? {});
        assert.ok(
          codes.some((c) => c.startsWith('2')),
          `${method.toUpperCase()} ${path} documents a success`,
        );
      }
  });
});
