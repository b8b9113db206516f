/**
 * When the reader of stdout or stderr goes away early (`| head` has read enough, `| tee` was
 * stopped by the same Ctrl-C), the next write fails with EPIPE, emitted as an 'error' event that
 * would crash the process with a stack trace. It only means that nobody reads this stream any more.
 */
export function onReaderGone(stream: NodeJS.WritableStream, handler: () => void): void {
  let gone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // Anything else is a real failure: rethrown, it crashes as it did without this listener.
    if (err.code !== 'EPIPE') throw err;
    if (gone) return;
    gone = true;
    handler();
  });
}
