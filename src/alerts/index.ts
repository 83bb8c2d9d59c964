export { AlertMonitor, createAlertMonitor, type MonitorOptions } from './monitor.js';
export { type Alert, type AlertKind, AlertNotifier } from './notifier.js';
export { Retention, type RetentionOptions } from './retention.js';
