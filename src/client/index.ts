/**
 * The typed SDK: one entry point for the HTTP client (and the WebSocket client beside it).
 */
export {
  HttpClient,
  type HttpClientOptions,
  type JobInput,
  type ListJobsQuery,
  type ListWorkflowsQuery,
  MailroomApiError,
  MailroomConnectionError,
  type Page,
  type StatsView,
  type Submitted,
  type WorkflowInput,
} from './http-client.js';
export {
  type WorkerActivity,
  WorkerClient,
  type WorkerClientOptions,
  type WorkerContext,
  type WorkerHandler,
  type WorkerResult,
} from './worker-client.js';
export {
  type ClientSubscription,
  type SubscribeOptions,
  WsClient,
  type WsClientOptions,
} from './ws-client.js';
export type { ConnectionOptions } from './ws-connection.js';
