/**
 * What `btnb worker`s need from the coordinator: a dataset's bars (content-addressed: the
 * SHA-256 travels in the job and in `Repr-Digest`) and the upload of a run's files. An upload is
 * published like any run directory (temp + fsync + rename) only when every file's bytes match
 * the digest sent ahead of them; otherwise 422 and nothing is written (the worker's job fails
 * and BullMQ retries it).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { dataPaths } from '../../dataDir.ts';
import { cachedSha256File } from '../../io/files.ts';
import { syncFiles } from '../../backtest/artifacts.ts';
import { writePoint } from '../../io/crashPoints.ts';
import { DIGESTS_FIELD, UploadDigests } from '../../distributed/protocol.ts';
import { ARTIFACT_NAMES, DatasetId, Problem, RunId, UploadAccepted } from '../api.ts';
import { HttpProblem } from '../problem.ts';
import type { ServerContext, TypedApp } from '../context.ts';

let uploads = 0;

async function receive(
  req: FastifyRequest,
  dir: string,
): Promise<{ digests: Record<string, string>; got: Map<string, string>; bytes: number }> {
  let digests: Record<string, string> | null = null;
  const got = new Map<string, string>();
  let bytes = 0;
  for await (const part of req.parts()) {
    if (part.type === 'field') {
      if (part.fieldname !== DIGESTS_FIELD)
        throw new HttpProblem(400, `unexpected field '${part.fieldname}'`, { field: `body.${part.fieldname}` });
      let raw: unknown;
      try {
        raw = JSON.parse(String(part.value));
      } catch {
        throw new HttpProblem(400, `${DIGESTS_FIELD}: not JSON`, { field: `body.${DIGESTS_FIELD}` });
      }
      const parsed = UploadDigests.safeParse(raw);
      if (!parsed.success)
        throw new HttpProblem(400, `${DIGESTS_FIELD}: ${parsed.error.issues[0]?.message}`, { field: `body.${DIGESTS_FIELD}` });
      digests = parsed.data;
      continue;
    }
    const name = part.filename;
    if (!digests) throw new HttpProblem(400, `the '${DIGESTS_FIELD}' field must come before the files`, { field: `body.${DIGESTS_FIELD}` });
    if (!(ARTIFACT_NAMES as readonly string[]).includes(name) || got.has(name))
      throw new HttpProblem(400, `file '${name}': expected each of ${ARTIFACT_NAMES.join(', ')} once`, { field: 'body.file' });
    const h = createHash('sha256');
    await pipeline(
      part.file,
      new Transform({
        transform(chunk: Buffer, _e, cb) {
          h.update(chunk);
          bytes += chunk.length;
          cb(null, chunk);
        },
      }),
      createWriteStream(join(dir, name)),
    );
    if (part.file.truncated) throw new HttpProblem(413, `file '${name}' exceeds the upload limit`, { field: 'body.file' });
    got.set(name, h.digest('hex'));
  }
  if (!digests) throw new HttpProblem(400, `no '${DIGESTS_FIELD}' field`, { field: `body.${DIGESTS_FIELD}` });
  return { digests, got, bytes };
}

export function registerDistributed(app: TypedApp, ctx: ServerContext): void {
  app.get(
    '/datasets/:id/bars.parquet',
    {
      schema: { params: DatasetId, response: { 200: z.any().describe('the bars Parquet file'), 400: Problem, 404: Problem, 409: Problem } },
    },
    async (req, reply) => {
      const d = ctx.catalog.getDataset(req.params.id);
      if (!d) throw new HttpProblem(404, `dataset ${req.params.id} is not in the catalog`, { field: 'params.id' });
      if (d.status !== 'ready')
        throw new HttpProblem(409, `dataset ${req.params.id} is ${d.status}: it has no bars yet`, { field: 'params.id' });
      const path = dataPaths(ctx.opts.dataDir).barsParquet(d.dataset_id);
      const [st, hex] = await Promise.all([stat(path), cachedSha256File(path)]);
      const digest = Buffer.from(hex, 'hex');
      return reply
        .header('Content-Type', 'application/vnd.apache.parquet')
        .header('Content-Length', st.size)
        .header('ETag', `"${digest.toString('hex')}"`)
        .header('Repr-Digest', `sha-256=:${digest.toString('base64')}:`)
        .send(createReadStream(path));
    },
  );

  app.put(
    '/backtests/:id/artifacts',
    {
      schema: {
        params: RunId,
        consumes: ['multipart/form-data'],
        response: { 200: UploadAccepted, 201: UploadAccepted, 400: Problem, 404: Problem, 409: Problem, 413: Problem, 422: Problem },
      },
    },
    async (req, reply) => {
      const run = ctx.catalog.getRun(req.params.id);
      if (!run) throw new HttpProblem(404, `run ${req.params.id} is not in the catalog`, { field: 'params.id' });
      // only a distributed point still open takes files (a second delivery of a finished one is answered below)
      const open = run.sweep_id !== null && ctx.catalog.openQueuedRuns(run.sweep_id).some((r) => r.run_id === run.run_id);
      const uploadedBefore = run.status === 'succeeded' && run.materialized;
      if (!open && !uploadedBefore)
        throw new HttpProblem(
          409,
          `run ${run.run_id} is ${run.status}${run.status === 'succeeded' ? ' without uploaded files' : ''}: it takes no upload (only a queued sweep point does)`,
          {
            field: 'params.id',
          },
        );
      const paths = dataPaths(ctx.opts.dataDir);
      const finalDir = paths.runDir(run.run_id);
      const tempDir = join(paths.backtestsRoot, `.${run.run_id}.${process.pid}.up${++uploads}.tmp`);
      await mkdir(tempDir, { recursive: true });
      try {
        const { digests, got, bytes } = await receive(req, tempDir);
        for (const name of ARTIFACT_NAMES) {
          if (!got.has(name)) throw new HttpProblem(422, `file '${name}' is missing from the upload`, { field: 'body.file' });
          if (got.get(name) !== digests[name])
            throw new HttpProblem(
              422,
              `file '${name}': its bytes hash to ${got.get(name)}, the upload declared ${digests[name] ?? 'nothing'} (corrupted or truncated on the way)`,
              {
                field: `body.file.${name}`,
              },
            );
        }
        let manifest: { run_id?: string; input_hash?: string };
        try {
          manifest = JSON.parse(await readFile(join(tempDir, 'run-manifest.json'), 'utf8')) as typeof manifest;
        } catch {
          throw new HttpProblem(422, 'run-manifest.json is not JSON', { field: 'body.file.run-manifest.json' });
        }
        if (manifest.run_id !== run.run_id || manifest.input_hash !== run.input_hash)
          throw new HttpProblem(422, `run-manifest.json names run ${manifest.run_id} / input ${manifest.input_hash}, not this run`, {
            field: 'body.file.run-manifest.json',
          });
        if (existsSync(finalDir)) return reply.code(200).send({ run_id: run.run_id, stored: false, bytes });
        await syncFiles([...ARTIFACT_NAMES.map((n) => join(tempDir, n)), tempDir]);
        writePoint(`rename ${finalDir}`);
        try {
          await rename(tempDir, finalDir);
        } catch (err) {
          // another upload of the same point (a second delivery) was published first: same bytes
          if (existsSync(join(finalDir, 'run-manifest.json'))) return reply.code(200).send({ run_id: run.run_id, stored: false, bytes });
          throw err;
        }
        await syncFiles([], [paths.backtestsRoot]);
        return reply.code(201).send({ run_id: run.run_id, stored: true, bytes });
      } finally {
        await rm(tempDir, { recursive: true, force: true });
      }
    },
  );
}
