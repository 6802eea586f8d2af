/**
 * The contract between the API server and whoever runs Pods (the node agent) for the streaming
 * subresources: pods/log, pods/exec, pods/attach, pods/portforward. The API server owns the wire
 * (HTTP chunked text for logs, WebSocket v5.channel.k8s.io framing for exec/attach, SPDY/3.1 —
 * plain or tunnelled in a WebSocket — for port-forward); the provider owns the processes. The API server answers 503/ServiceUnavailable-like Status when no provider is
 * registered for the Pod's node.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

export interface LogOptions {
  container?: string;
  follow?: boolean;
  tailLines?: number;
  previous?: boolean;
  /** Prefix each line with the RFC 3339 time it was written. */
  timestamps?: boolean;
  /** Only lines written in the last N seconds (by their write time). */
  sinceSeconds?: number;
  /** Only lines written at or after this RFC 3339 time (kubectl logs --since-time). */
  sinceTime?: string;
  limitBytes?: number;
}

export interface ExecOptions {
  container?: string;
  /** For exec: the command. Ignored for attach. */
  command?: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The outcome the API server reports on channel 3: exit code 0 → Success, else NonZeroExitCode. */
export type ExecResult = { exitCode: number } | { error: string };

/** A running exec/attach session. Streams are absent when not asked for. */
export interface ExecSession {
  stdin?: Writable;
  stdout?: Readable;
  /** Absent when tty is true (a TTY merges stderr into stdout). */
  stderr?: Readable;
  /** Terminal size change (channel 4). */
  resize?(width: number, height: number): void;
  /** Settles once the process has exited (exec) or the attach has ended; stdout/stderr drained first. */
  result: Promise<ExecResult>;
  /** Ends the session early (client went away). For exec this kills the process. */
  close(): void;
}

/** Serves the streaming subresources for the Pods of one or more nodes. Errors are ApiErrors. */
export interface PodStreamProvider {
  logs(namespace: string, pod: string, opts: LogOptions, signal: AbortSignal): Promise<Readable>;
  exec(namespace: string, pod: string, opts: ExecOptions): Promise<ExecSession>;
  attach(namespace: string, pod: string, opts: ExecOptions): Promise<ExecSession>;
  /**
   * A byte stream to `port` inside the Pod's network namespace. Ending the writable side half-closes
   * the connection; a connection that cannot be made ends the stream with an error whose message
   * the API server reports to the client.
   */
  portForward(namespace: string, pod: string, port: number): Promise<Duplex>;
}

/**
 * A refusal of a stream request in the words of the kubelet's streaming server: plain text with an
 * HTTP status (the kubelet answers an exec into a container that is not running with 500
 * `container not found ("c")`). The API server passes it on as the answer to the upgrade, as
 * kube-apiserver proxies the kubelet's answer, so kubectl prints
 * `unable to upgrade connection: container not found ("c")`. Other provider errors are ApiErrors.
 */
export class StreamRefusal extends Error {
  readonly code = 'STREAM_REFUSED';
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'StreamRefusal';
  }
}
