// zod's locale index for every bundle (esbuild.mjs maps zod's own to this): English only.
// zod exports every locale from one namespace, so without this all of them (~400 KiB) ship.
export { default as en } from 'zod/v4/locales/en.js';
