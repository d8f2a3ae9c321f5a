/** The notebook's contributed ids (package.json), in a module light enough for activation. */
export const NOTEBOOK_TYPE = 'btnb-notebook';
export const CONTROLLER_ID = 'btnb-controller';
export const RENDERER_ID = 'btnb-renderer';
