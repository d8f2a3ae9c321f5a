// `btnb decode` end to end: the real CLI entry point in a child process.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMetadata, writeTradeRecord } from '../../../src/engine/dbn/encoder.ts';
import { fixturePath } from './helpers.ts';

const MAIN = join(import.meta.dirname, '..', '..', '..', 'src', 'engine', 'cli', 'main.ts');
function btnb(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('btnb decode', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-decode-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--json prints one dbn-style JSON object per record', () => {
    const r = btnb('decode', fixturePath('test_data.trades.v3.dbn.zst'), '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.equal(
      lines[0],
      '{"hd":{"ts_event":"1609160400098821953","rtype":0,"publisher_id":1,"instrument_id":5482},"price":"3720250000000","size":5,"action":"T","side":"A","flags":129,"depth":0,"ts_recv":"1609160400099150057","ts_in_delta":19251,"sequence":1170380}',
    );
    assert.equal(JSON.parse(lines[1]!).sequence, 1170414);
  });

  it('--limit N stops after N records', () => {
    const r = btnb('decode', fixturePath('multi-frame.definition.v1.dbn.frag.zst'), '--json', '--limit', '3');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      r.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).hd.rtype),
      [19, 19, 19],
    );
  });

  it('default: a text summary; --summary --json: one JSON object', () => {
    const t = btnb('decode', fixturePath('test_data.tbbo.v2.dbn.zst'));
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /^version +DBN v2$/m);
    assert.match(t.out, /^dataset +GLBX\.MDP3$/m);
    assert.match(t.out, /^schema +tbbo$/m);
    assert.match(t.out, /^time range +2020-12-28T13:00:00\.000000000Z \.\. 2020-12-29T00:00:00\.000000000Z \(UTC\)$/m);
    assert.match(t.out, /^ {2}ESH1: 2020-12-28\.\.2020-12-29 -> 5482$/m);
    assert.match(t.out, /^ {2}mbp-1 +rtype 0x01 +2$/m);
    assert.match(t.out, /^bytes +513 decompressed, 197 zstd$/m);
    const j = btnb('decode', fixturePath('test_data.tbbo.v2.dbn.zst'), '--summary', '--json');
    assert.equal(j.code, 0, j.err);
    const s = JSON.parse(j.out);
    assert.deepEqual(
      [
        s.version,
        s.dataset,
        s.schema,
        s.start_ns,
        s.end,
        s.symbols,
        s.records,
        s.record_counts,
        s.bytes,
        s.compressed_bytes,
        s.stype_in,
        s.stype_out,
      ],
      [
        2,
        'GLBX.MDP3',
        'tbbo',
        '1609160400000000000',
        '2020-12-29T00:00:00.000000000Z',
        ['ESH1'],
        2,
        { 'mbp-1': 2 },
        513,
        197,
        'raw_symbol',
        'instrument_id',
      ],
    );
    assert.deepEqual(s.mappings, [
      { raw_symbol: 'ESH1', intervals: [{ start_date: '2020-12-28', end_date: '2020-12-29', symbol: '5482' }] },
    ]);
  });

  it('bad file: exit 1, the error names the file and byte offset on stderr, nothing on stdout', () => {
    const r = btnb('decode', fixturePath('test_data.mbo.dbz'));
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /test_data\.mbo\.dbz: byte 0: expected DBN magic.*legacy DBZ/);
    const missing = btnb('decode', join(dir, 'nope.dbn'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /ENOENT.*nope\.dbn/);
  });

  it('usage errors exit 2', () => {
    assert.equal(btnb('decode').code, 2);
    assert.equal(btnb('decode', 'a', 'b').code, 2);
    assert.equal(btnb('decode', 'a', '--limit', 'x', '--json').code, 2);
    assert.equal(btnb('decode', 'a', '--fragment-version', '4').code, 2);
    assert.equal(btnb('decode', 'a', '--bogus').code, 2);
    const h = btnb('decode', '--help');
    assert.equal(h.code, 0);
    assert.match(h.out, /^Usage: btnb decode FILE/);
  });

  it('reads a pipe in one pass (zstd on /dev/stdin)', () => {
    const r = spawnSync(
      'bash',
      ['-c', `zstd -q -c "${fixturePath('test_data.tbbo.dbn')}" | "${process.execPath}" "${MAIN}" decode /dev/stdin --json`],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).levels[0].bid_sz),
      [26, 21],
    );
  });

  it('a closed stdout pipe (| head -1) ends quietly with exit 0', () => {
    const n = 40000;
    const meta = encodeMetadata({
      version: 3,
      dataset: 'GLBX.MDP3',
      schema: 4,
      start: 0n,
      end: null,
      stypeIn: 1,
      stypeOut: 0,
      symbols: [],
      mappings: [],
    });
    const bytes = new Uint8Array(meta.length + n * 48);
    bytes.set(meta);
    const v = new DataView(bytes.buffer);
    for (let i = 0, o = meta.length; i < n; i++) {
      o = writeTradeRecord(v, o, {
        publisherId: 1,
        instrumentId: 1,
        tsEvent: BigInt(i),
        price: 1n,
        size: 1,
        action: 84,
        side: 65,
        flags: 0,
        depth: 0,
        tsRecv: BigInt(i),
        tsInDelta: 0,
        sequence: i,
      });
    }
    const p = join(dir, 'many.dbn');
    writeFileSync(p, bytes);
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${MAIN}" decode "${p}" --json | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`], {
      encoding: 'utf8',
    });
    assert.equal(JSON.parse(r.stdout.trim()).sequence, 0);
    assert.equal(r.stderr.trim(), 'rc=0');
  });
});
