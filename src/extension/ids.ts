/** Run ids chosen by the host before a job starts (so it can settle the run if the child dies). */
export { newUlid as ulid } from '../engine/catalog/ulid.ts';
