/**
 * The channel.k8s.io WebSocket framing used by exec and attach (v4 and v5): every binary message
 * starts with a channel byte. Pure helpers, unit-tested without sockets.
 */

/** Channel numbers. */
export const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** Subprotocols we speak, most preferred first. v5 adds the close-channel message [255, ch]. */
export const STREAM_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** Picks the subprotocol to answer with from the client's offer; undefined when none fits. */
export function pickProtocol(offered: Iterable<string>): string | undefined {
  const set = new Set([...offered].map((s) => s.trim()));
  return STREAM_PROTOCOLS.find((p) => set.has(p));
}

/** Prefixes `data` with the channel byte. */
export function frame(channel: number, data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

/** A decoded client message. */
export type ClientMessage =
  | { kind: 'stdin'; data: Buffer }
  | { kind: 'resize'; width: number; height: number }
  | { kind: 'close'; channel: number }
  | { kind: 'ignored' };

/** Decodes one message from the client (kubectl). Malformed resize JSON is ignored, like kubelet. */
export function decodeClientMessage(msg: Buffer): ClientMessage {
  if (msg.length === 0) return { kind: 'ignored' };
  const ch = msg[0];
  if (ch === CH.stdin) return { kind: 'stdin', data: msg.subarray(1) };
  if (ch === CH.resize) {
    try {
      const s = JSON.parse(msg.subarray(1).toString('utf8')) as { Width?: number; Height?: number };
      if (typeof s.Width === 'number' && typeof s.Height === 'number') return { kind: 'resize', width: s.Width, height: s.Height };
    } catch { /* ignored */ }
    return { kind: 'ignored' };
  }
  if (ch === CH.close && msg.length >= 2) return { kind: 'close', channel: msg[1] };
  return { kind: 'ignored' };
}

/** The Status sent on channel 3 when the process ends (kubelet's wording). */
export function exitStatus(result: { exitCode: number } | { error: string }): object {
  if ('error' in result) return { metadata: {}, status: 'Failure', message: result.error, reason: 'InternalError' };
  if (result.exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {}, status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [], exit code ${result.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
  };
}
