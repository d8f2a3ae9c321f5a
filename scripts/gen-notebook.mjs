// npm run gen:notebook — writes what the notebook format generates: schemas/btnb-notebook.schema.json
// (from the zod schema in src/notebook/format.ts) and the sample workspace's analysis.btnb (the
// starter notebook of src/notebook/starter.ts). A unit test fails when either differs.
import { writeFileSync } from 'node:fs';
import { notebookJsonSchema, writeNotebook } from '../src/notebook/format.ts';
import { starterNotebook } from '../src/notebook/starter.ts';

writeFileSync(new URL('../schemas/btnb-notebook.schema.json', import.meta.url), `${JSON.stringify(notebookJsonSchema(), null, 2)}\n`);
writeFileSync(new URL('../sample-workspace/analysis.btnb', import.meta.url), writeNotebook(starterNotebook()));
