import type { Socket } from "node:net";
import type { ServerChannel } from "ssh2";

/**
 * Whether the client of a command is gone: its connection closed, or it closed the command's channel.
 *
 * When the client's CHANNEL_CLOSE arrives, or its connection drops, ssh2 ends the server channel's
 * stderr at once, and the channel itself unless the connection died (`onCHANNEL_CLOSE` in ssh2
 * 1.17's lib/utils.js). Node documents `writable.writable` as false once `end()` was called or the
 * stream was destroyed, so the two `writable` flags say whether anything can still be sent.
 */
export function clientLeft(socket: Socket, channel: ServerChannel): boolean {
  return socket.destroyed || !channel.writable || !channel.stderr.writable;
}

/** What a command printed and the status it exited with. */
export interface ChannelReply {
  readonly stdout?: Buffer;
  readonly stderr?: string;
  readonly exitCode: number;
}

/**
 * Sends a command's output and exit status and closes its channel, unless the client left; returns
 * whether it was sent. A write to a stream already ended is an ERR_STREAM_WRITE_AFTER_END 'error'
 * (Node's stream docs), which, with no listener, would be thrown and end the whole simulator.
 */
export function reply(socket: Socket, channel: ServerChannel, output: ChannelReply): boolean {
  if (clientLeft(socket, channel)) return false;
  if (output.stderr !== undefined) channel.stderr.write(output.stderr);
  if (output.stdout !== undefined) channel.write(output.stdout);
  // ssh2's README: exit() "may be called right before you close the channel".
  channel.exit(output.exitCode);
  channel.end();
  return true;
}

/**
 * A channel's streams report errors as 'error' events, and an 'error' event with no listener is
 * thrown (Node's events docs, "Error events"). The client leaving is the only way a simulated
 * command's streams fail, and its command is recorded by the caller, so the error itself is dropped.
 */
export function ignoreStreamErrors(channel: ServerChannel): ServerChannel {
  channel.on("error", () => undefined);
  channel.stderr.on("error", () => undefined);
  return channel;
}
