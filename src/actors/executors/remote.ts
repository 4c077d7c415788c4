/**
 * The remote executor: the port the WebSocket worker protocol plugs into. Each connected worker
 * is a connection that can be sent `assign` and `cancel`; the dispatcher only assigns while the
 * worker has free slots (credit-based), and the worker reports back through the app with its lease.
 */
import type { Assignment, CancelTarget, ExecutionSink, Executor } from './executor.js';

export interface RemoteConnection {
  assign(assignment: Assignment): void;
  cancel(jobId: string, lease: string, reason: string): void;
}

export class RemoteExecutor implements Executor {
  readonly name = 'remote';
  private readonly connections = new Map<string, RemoteConnection>();

  attach(workerId: string, connection: RemoteConnection): void {
    this.connections.set(workerId, connection);
  }

  detach(workerId: string): void {
    this.connections.delete(workerId);
  }

  start(assignment: Assignment, sink: ExecutionSink): void {
    const connection = this.connections.get(assignment.workerId);
    if (!connection) {
      // Gone between lease and start: the dispatcher's worker_left returns the job to pending.
      sink.fail(assignment.jobId, assignment.lease, {
        code: 'WORKER_LOST',
        message: `worker ${assignment.workerId} disconnected before the job started`,
        retryable: true,
      });
      return;
    }
    connection.assign(assignment);
  }

  cancel(target: CancelTarget, reason: string): void {
    this.connections.get(target.workerId)?.cancel(target.jobId, target.lease, reason);
  }
}
