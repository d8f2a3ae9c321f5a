// Platform-specific packages (`npm run package -- --target T`): each .vsix carries exactly its
// platform's better-sqlite3 prebuild and esbuild binary (executable), and says its target in
// the manifest — user .ts strategies are bundled by esbuild at run time, so a package without
// its platform's esbuild could not run them. darwin-arm64's binary is not installed on this
// Linux machine: the script fetches it from the npm registry and removes it again afterwards.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../vscode/codeServer.ts';

interface Entry {
  name: string;
  mode: number;
}

/** Entries of a zip with their unix mode (python3's zipfile: no zip library in the project). */
function zipEntries(file: string): Entry[] {
  const py =
    'import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); print(json.dumps([[i.filename, i.external_attr >> 16] for i in z.infolist()]))';
  const r = spawnSync('python3', ['-c', py, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot list ${file}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as [string, number][]).map(([name, mode]) => ({ name, mode }));
}

function unzipText(file: string, entry: string): string {
  const py = 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())';
  const r = spawnSync('python3', ['-c', py, file, entry], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot read ${entry} from ${file}: ${r.stderr}`);
  return r.stdout;
}

describe('e2e: platform-specific .vsix packages', function () {
  this.timeout(300_000);
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const vsixOf = (t: string) => join(REPO_ROOT, `${pkg.name}-${pkg.version}@${t}.vsix`);
  const targets = ['linux-x64', 'darwin-arm64'];
  const esbuildDirsBefore = readdirSync(join(REPO_ROOT, 'node_modules', '@esbuild')).sort();

  before(() => {
    for (const t of targets) rmSync(vsixOf(t), { force: true });
    const r = spawnSync(process.execPath, ['scripts/package.mjs', '--no-build', ...targets.flatMap((t) => ['--target', t])], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 280_000,
    });
    assert.equal(r.status, 0, `package.mjs failed:\n${r.stdout}\n${r.stderr}`);
  });

  after(() => {
    for (const t of targets) rmSync(vsixOf(t), { force: true });
  });

  for (const [target, sqlite, esbuildBin] of [
    ['linux-x64', 'linux-x64', '@esbuild/linux-x64/bin/esbuild'],
    ['darwin-arm64', 'darwin-arm64', '@esbuild/darwin-arm64/bin/esbuild'],
  ] as const) {
    it(`${target}: its better-sqlite3 prebuild and executable esbuild binary, nobody else's; TargetPlatform in the manifest`, () => {
      const file = vsixOf(target);
      assert.ok(existsSync(file), `${file} was not written`);
      const entries = zipEntries(file);
      const names = entries.map((e) => e.name);
      const prebuilds = names.filter((n) => n.includes('better-sqlite3/prebuilds/'));
      assert.deepEqual(prebuilds, [`extension/node_modules/better-sqlite3/prebuilds/${sqlite}.node`]);
      const binaries = names.filter((n) => /node_modules\/@esbuild\/[^/]+\/(bin\/esbuild|esbuild\.exe)$/.test(n));
      assert.deepEqual(binaries, [`extension/node_modules/${esbuildBin}`]);
      const bin = entries.find((e) => e.name === `extension/node_modules/${esbuildBin}`)!;
      assert.ok((bin.mode & 0o111) !== 0, `${esbuildBin} is not executable in the zip (mode ${bin.mode.toString(8)})`);
      for (const must of [
        'extension/dist/extension.js',
        'extension/dist/cli.js',
        'extension/dist/cli-main.js',
        'extension/node_modules/esbuild/lib/main.js',
        'extension/node_modules/parquet-wasm/node/parquet_wasm_bg.wasm',
      ]) {
        assert.ok(names.includes(must), `${must} missing from ${file}`);
      }
      assert.ok(!names.some((n) => n.startsWith('extension/src/') || n.startsWith('extension/test/')), 'sources or tests shipped');
      assert.match(unzipText(file, 'extension.vsixmanifest'), new RegExp(`TargetPlatform="${target}"`));
    });
  }

  it('leaves node_modules/@esbuild as npm installed it (the fetched binary is removed again)', () => {
    assert.deepEqual(readdirSync(join(REPO_ROOT, 'node_modules', '@esbuild')).sort(), esbuildDirsBefore);
  });
});
