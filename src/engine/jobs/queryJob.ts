/** Child process: a read-only SQL query over the catalog (a notebook `sql` cell). */
import { runJobChild } from './childRuntime.ts';

runJobChild('query', async (p) => {
  const [{ queryCatalog }, { dataPaths }] = await Promise.all([import('../catalog/readOnlyQuery.ts'), import('../dataDir.ts')]);
  return queryCatalog(dataPaths(p.dataDir).catalog, p.sql, p.maxRows);
});
