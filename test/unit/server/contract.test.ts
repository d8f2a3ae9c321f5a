/**
 * Contract: real responses of a real server validate against the committed OpenAPI document
 * (docs/api/openapi.yaml, JSON Schema 2020-12 as OpenAPI 3.1 says) — every JSON route, its
 * success and its problem answers. The document is generated from the same zod schemas the
 * routes use; this checks the bytes that go out against the file clients read.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { runSweep } from '../../../src/engine/sweep/sweep.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

type Op = { responses: Record<string, { content?: Record<string, { schema: object }> }> };
const doc = parse(readFileSync(new URL('../../../docs/api/openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Op>>;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });

/** Validates one response against the document's schema for (method, path template, status). */
async function conforms(method: string, template: string, res: Response): Promise<void> {
  const op = doc.paths[template]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${template} is in the document`);
  const spec = op.responses[String(res.status)];
  assert.ok(spec, `${method} ${template} documents status ${res.status}`);
  const media = Object.keys(spec.content ?? {});
  if (res.status === 204) return;
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
  const json = type === 'application/json' || type === 'application/problem+json';
  if (!json) return;
  const schema = spec.content?.['application/json']?.schema ?? spec.content?.[media[0]!]?.schema;
  assert.ok(schema, `${method} ${template} ${res.status} has a schema`);
  const body: unknown = await res.json();
  const ok = ajv.validate(schema, body);
  assert.ok(ok, `${method} ${template} ${res.status}: ${ajv.errorsText()} in ${JSON.stringify(body).slice(0, 300)}`);
}

describe('btnb serve: responses conform to docs/api/openapi.yaml', function () {
  this.timeout(120_000);
  let dataDir = '';
  let datasetId = '';
  let runId = '';
  let s: Awaited<ReturnType<typeof buildServer>>;
  let url = '';

  before(async () => {
    ({ dataDir, datasetId } = await makeDataDir(2000, 51));
    runId = (await runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast: 5, slow: 20 } })).run.run_id;
    await runSweep({
      dataDir,
      datasetId,
      strategy: 'sma-cross',
      points: [{ fast: 3, slow: 20 }],
      seed: 0,
      costs: {},
      session: 'all',
      force: false,
      workers: 1,
      sweepId: '01JCONTRACTSWEEP0000000000',
    });
    s = await buildServer({ dataDir, jobsDir: jobsDirFor(MAIN), token: null, maxJobs: 1, maxQueued: 4 });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('every JSON route: success and problem answers', async () => {
    const json = { 'content-type': 'application/json' };
    const cases: [string, string, string, RequestInit?][] = [
      ['GET', '/healthz', '/healthz'],
      ['GET', '/backtests', '/backtests?limit=2'],
      ['GET', '/backtests', '/backtests?limit=0'],
      ['GET', '/backtests/{id}', `/backtests/${runId}`],
      ['GET', '/backtests/{id}', '/backtests/01AAAAAAAAAAAAAAAAAAAAAAAA'],
      ['PATCH', '/backtests/{id}', `/backtests/${runId}`, { method: 'PATCH', headers: json, body: JSON.stringify({ tags: ['c'] }) }],
      [
        'POST',
        '/backtests',
        '/backtests',
        {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ dataset_id: datasetId, strategy_id: 'sma-cross', params: { fast: 5, slow: 20 } }),
        },
      ],
      [
        'POST',
        '/backtests',
        '/backtests',
        {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ dataset_id: datasetId, strategy_id: 'sma-cross', params: { fast: 50, slow: 20 } }),
        },
      ],
      [
        'POST',
        '/backtests',
        '/backtests',
        { method: 'POST', headers: json, body: JSON.stringify({ dataset_id: 'ds_00000000000000ff', strategy_id: 'sma-cross' }) },
      ],
      ['GET', '/backtests/{id}/series', `/backtests/${runId}/series?points=200`],
      ['GET', '/backtests/{id}/fills', `/backtests/${runId}/fills?limit=10`],
      ['GET', '/backtests/{id}/orders', `/backtests/${runId}/orders?limit=10`],
      ['GET', '/backtests/{id}/trades', `/backtests/${runId}/trades?limit=10`],
      ['GET', '/backtests/{id}/artifacts/{name}', `/backtests/${runId}/artifacts/metrics.json`],
      ['GET', '/backtests/{id}/artifacts/{name}', `/backtests/${runId}/artifacts/catalog.sqlite`],
      ['GET', '/datasets', '/datasets'],
      ['GET', '/datasets/{id}', `/datasets/${datasetId}`],
      ['GET', '/datasets/{id}', '/datasets/ds_00000000000000ff'],
      ['GET', '/sweeps/{id}', '/sweeps/01JCONTRACTSWEEP0000000000'],
      ['POST', '/tickets', '/tickets', { method: 'POST' }],
    ];
    for (const [method, template, path, init] of cases) await conforms(method, template, await fetch(`${url}${path}`, init));
    // the document's schemas constrain: a wrong body does not pass
    const health = doc.paths['/healthz']!.get!.responses['200']!.content!['application/json']!.schema;
    assert.equal(ajv.validate(health, { status: 'ok', version: '1' }), false);
  });
});
