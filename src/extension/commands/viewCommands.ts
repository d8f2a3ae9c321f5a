/** Tree view commands. */
import type { Services } from '../services.ts';
import * as ui from '../ui.ts';
import { RUN_STATUSES, type RunStatus } from '../catalog/model.ts';

export async function filterByStatus(s: Services, arg?: { statuses?: RunStatus[] }): Promise<{ ok: boolean; statuses?: RunStatus[] }> {
  let statuses = arg?.statuses;
  if (!statuses) {
    const picked = await ui.pick(
      RUN_STATUSES.map((st) => ({ label: st, picked: s.tree.statusFilter.has(st) })),
      { title: 'Show runs with status', canPickMany: true },
    );
    if (!picked) return { ok: false };
    statuses = picked.map((p) => p.label);
  }
  s.tree.setStatusFilter(statuses);
  return { ok: true, statuses };
}
