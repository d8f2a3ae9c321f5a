// An empty module for the Node built-ins and CSS some browser dependencies name but never use (esbuild.mjs aliases).
module.exports = {};
