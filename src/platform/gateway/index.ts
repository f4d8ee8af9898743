export { buildGateway, type GatewayOptions, REDACTED_LOG_PATHS } from './app.js';
export { GatewayError, isGatewayError, type ErrorBody } from './gateway-error.js';
export type * from './ports.js';
export { rejectionError, TaskService } from './task-service.js';
export { startGateway, type RunningGateway, type StartGatewayOptions } from './server.js';
export { toTaskView, type TaskView } from './task-view.js';
