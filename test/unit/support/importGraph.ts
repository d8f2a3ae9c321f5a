/**
 * The import graph of the sources, read with TypeScript's own parser (not a regex): static
 * imports and re-exports, side-effect imports, dynamic `import()` and `require()` calls. Used by
 * the room-boundary and import-cycle tests.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** As written. */
  spec: string;
  /** Relative specifiers resolved to a path (joined as written); null for packages. */
  resolved: string | null;
  /** `import type …` / `export type … from`: erased at build time, so no runtime edge. */
  typeOnly: boolean;
  dynamic: boolean;
  line: number;
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? sourceFiles(p) : /\.(ts|tsx|mts|cts)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
    });
}

export function importsOf(file: string, text = readFileSync(file, 'utf8')): ImportEdge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: ImportEdge[] = [];
  const add = (lit: ts.Expression | undefined, typeOnly: boolean, dynamic: boolean) => {
    if (!lit || !ts.isStringLiteralLike(lit)) return;
    const spec = lit.text;
    out.push({
      spec,
      resolved: spec.startsWith('.') ? join(file, '..', spec) : null,
      typeOnly,
      dynamic,
      line: sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line + 1,
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly === true, false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly, false);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression, node.isTypeOnly, false);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require'))
        add(node.arguments[0], false, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/**
 * The runtime import cycles among `files` (Tarjan's strongly connected components of the graph
 * of non-type-only relative imports), each as the list of its files, relative to `root`.
 */
export function importCycles(files: string[], root = process.cwd()): string[][] {
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const f of files) {
    const to = importsOf(f)
      .filter((e) => !e.typeOnly && e.resolved !== null && known.has(e.resolved))
      .map((e) => e.resolved!);
    edges.set(f, [...new Set(to)]);
  }
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  // Iterative Tarjan: the graph has hundreds of files, recursion would be fine, but this needs no care.
  for (const start of files) {
    if (index.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const out = edges.get(top.node)!;
      if (top.i < out.length) {
        const w = out[top.i++]!;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.node);
        const selfLoop = edges.get(top.node)!.includes(top.node);
        if (scc.length > 1 || selfLoop) cycles.push(scc.map((f) => relative(root, f)).sort());
      }
    }
  }
  return cycles;
}
