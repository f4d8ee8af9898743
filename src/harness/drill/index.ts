export * from './deps.js';
export * from './errors.js';
export * from './fault-driver.js';
export * from './interrupt.js';
export * from './report.js';
export * from './runner.js';
export * from './spec.js';
export * from './validate.js';
