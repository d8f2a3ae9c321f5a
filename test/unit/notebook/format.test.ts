import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import {
  INVALID_KEY,
  MAX_TEXT_OUTPUT,
  MIME,
  notebookJsonSchema,
  persistedOutputs,
  readNotebook,
  writeNotebook,
} from '../../../src/notebook/format.ts';
import { starterNotebook } from '../../../src/notebook/starter.ts';
import { analyzeCell, CONFIG_LANGUAGES, type ConfigLanguage } from '../../../src/notebook/cellConfig.ts';
import { strategyCellName } from '../../../src/notebook/strategyCells.ts';

const canonical = writeNotebook(starterNotebook());

describe('.btnb format (reader, writer, schema)', () => {
  it('round-trips byte for byte, whatever key order or whitespace the file had', () => {
    assert.equal(writeNotebook(readNotebook(canonical)), canonical);
    // the same notebook minified, keys reversed at every level, sources as one string
    const reverse = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverse)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverse(x)]),
            )
          : v;
    const file = JSON.parse(canonical) as { cells: { source: string[] }[] };
    for (const c of file.cells) (c as { source: unknown }).source = c.source.join('\n');
    assert.equal(writeNotebook(readNotebook(JSON.stringify(reverse(file)))), canonical);
  });

  it('writes 2-space JSON with sources as lines, sorted metadata, execution and only re-renderable outputs', () => {
    const text = writeNotebook({
      metadata: { z: 1, a: { d: 2, c: 1 } },
      cells: [
        {
          kind: 'code',
          language: 'btnb-backtest',
          source: 'dataset: ds_0123456789abcdef\nstrategy: sma-cross',
          metadata: { name: 'x' },
          execution: { order: 3, success: true },
          outputs: [
            { mime: MIME.run, data: { run_id: 'R', metrics: { sharpe: 1.5, cagr: 0.1 } } },
            { mime: 'application/vnd.other+json', data: { huge: 'series' } },
            { mime: MIME.text, data: 'x'.repeat(MAX_TEXT_OUTPUT + 50) },
          ],
        },
        { kind: 'markdown', language: 'markdown', source: '# hi', metadata: {}, execution: null, outputs: [] },
      ],
    });
    assert.ok(text.endsWith('\n') && text.startsWith('{\n  "format": 1,\n  "metadata": {\n    "a": {\n      "c": 1,'), text.slice(0, 80));
    const f = JSON.parse(text) as { cells: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(f.cells[0]!), ['kind', 'language', 'source', 'metadata', 'execution', 'outputs']);
    assert.deepEqual(f.cells[0]!.source, ['dataset: ds_0123456789abcdef', 'strategy: sma-cross']);
    const outs = f.cells[0]!.outputs as { mime: string; data: unknown }[];
    assert.deepEqual(
      outs.map((o) => o.mime),
      [MIME.run, MIME.text],
      'an unknown output type is not kept',
    );
    assert.deepEqual(Object.keys((outs[0]!.data as { metrics: object }).metrics), ['cagr', 'sharpe']);
    assert.ok((outs[1]!.data as string).endsWith('… (cut)') && (outs[1]!.data as string).length < MAX_TEXT_OUTPUT + 20);
    assert.deepEqual(Object.keys(f.cells[1]!), ['kind', 'language', 'source'], 'markdown cells carry no outputs');
  });

  const invalidCases: [string, string, RegExp][] = [
    ['invalid JSON', '{"format": 1, "cells": [', /not valid JSON/],
    ['a newer format', '{"format": 7, "cells": []}', /format 7 is newer than this version .* reads \(format 1\); update the extension/],
    ['a malformed cell kind', '{"format":1,"cells":[{"kind":"raw","language":"x","source":""}]}', /\.cells\[0\]\.kind: /],
    ['a cell without its language', '{"format":1,"cells":[{"kind":"code","source":"x"}]}', /\.cells\[0\]\.language: /],
    [
      'a source of the wrong type',
      '{"format":1,"cells":[{"kind":"code","language":"sql","source":5}]}',
      /\.cells\[0\]\.source: expected the cell text/,
    ],
    ['an unknown top-level key', '{"format":1,"cells":[],"extra":true}', /Unrecognized key/],
    ['no cells', '{"format":1}', /\.cells: /],
    ['an array at the top', '[1,2]', /\(top level\)/],
  ];
  for (const [what, text, message] of invalidCases) {
    it(`${what} opens as one error cell that names the problem and keeps the text`, () => {
      const doc = readNotebook(text, 'nb.btnb');
      assert.equal(doc.cells.length, 1);
      assert.equal(doc.cells[0]!.source, text, 'the original text, unchanged');
      assert.match((doc.metadata[INVALID_KEY] as { problem: string }).problem, message);
      assert.match((doc.metadata[INVALID_KEY] as { problem: string }).problem, /^nb\.btnb: /);
      assert.equal(doc.cells[0]!.outputs[0]!.mime, MIME.error);
      assert.equal(writeNotebook(doc), text, 'saving it untouched writes the same bytes back');
      // edited in the cell, the text is what gets saved (repairing the file)
      doc.cells[0]!.source = '{"format":1,"cells":[]}';
      assert.equal(writeNotebook(doc), '{"format":1,"cells":[]}');
    });
  }

  it('an empty file is an empty notebook', () => {
    assert.deepEqual(readNotebook(''), { metadata: {}, cells: [] });
  });

  it('keeps outputs as data only: errors and text stay, series never enter the file', () => {
    const kept = persistedOutputs([
      { mime: MIME.error, data: { name: 'CellError', message: 'boom', stack: 'at x' } },
      { mime: MIME.text, data: { not: 'text' } },
    ]);
    assert.deepEqual(kept, [{ mime: MIME.error, data: { message: 'boom', name: 'CellError', stack: 'at x' } }]);
  });

  it("the committed JSON Schema is the format's (npm run gen:notebook)", () => {
    assert.deepEqual(JSON.parse(readFileSync('schemas/btnb-notebook.schema.json', 'utf8')), notebookJsonSchema());
  });

  it('the sample workspace notebook is the starter, and every starter cell checks out', () => {
    assert.equal(readFileSync('sample-workspace/analysis.btnb', 'utf8'), canonical);
    const cells = starterNotebook().cells;
    for (const c of cells) {
      if ((CONFIG_LANGUAGES as readonly string[]).includes(c.language)) {
        const a = analyzeCell(c.language as ConfigLanguage, c.source);
        assert.deepEqual(a.issues, [], `${c.language} cell: ${c.source}`);
      }
    }
    const strategy = cells.find((c) => c.language === 'typescript')!;
    const name = strategyCellName(strategy.source, strategy.metadata);
    assert.equal(name, 'meanReversion');
    assert.ok(
      cells.some((c) => c.language === 'btnb-backtest' && c.source.includes(`strategy: ${name}`)),
      'a backtest of the strategy cell',
    );
  });
});
