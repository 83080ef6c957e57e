import type { Socket } from "node:net";
import type { ServerChannel } from "ssh2";

/** One write of a flooding answer: key=value lines, as a script in a loop would print them. */
const floodChunk = Buffer.from(`flood=${"x".repeat(1016)}\r\n`.repeat(64), "utf8");

/**
 * The most a flooding host sends before it gives up on its own: far beyond any client's limit, so
 * that a client that does not stop reading is seen to read on, yet a finite test.
 */
export const floodCapBytes = 2 * 1024 * 1024 * 1024;

/**
 * Streams an answer without end on `channel` until the client closes it (or the connection goes),
 * honouring SSH flow control as a real sshd does: a client that stops adjusting its window stops
 * the stream. Calls `ended` once with the bytes sent and why the stream ended.
 */
export function floodChannel(
  channel: ServerChannel,
  socket: Socket,
  ended: (bytes: number, why: "channel closed" | "connection closed" | "cap reached") => void,
): void {
  let sent = 0;
  let done = false;
  const finish = (why: "channel closed" | "connection closed" | "cap reached"): void => {
    if (done) return;
    done = true;
    ended(sent, why);
  };
  channel.once("close", () => finish(socket.destroyed ? "connection closed" : "channel closed"));
  socket.once("close", () => finish("connection closed"));
  const pump = (): void => {
    while (!done) {
      if (socket.destroyed) {
        finish("connection closed");
        return;
      }
      if (sent >= floodCapBytes) {
        finish("cap reached");
        channel.end();
        return;
      }
      sent += floodChunk.length;
      if (!channel.write(floodChunk)) {
        channel.once("drain", pump);
        return;
      }
    }
  };
  pump();
}
