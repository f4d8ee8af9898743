export * from './incidents.js';
export * from './render.js';
export * from './write.js';
export * from './evidence-reports.js';
