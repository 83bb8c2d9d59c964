export { type Alert, type AlertKind, AlertNotifier } from './notifier.js';
export { AlertMonitor, type MonitorOptions } from './monitor.js';
export { Retention, type RetentionOptions } from './retention.js';
