/**
 * Calls `onGone` once when the process that started this one has exited, seen as a change of the
 * parent process id (the orphan is handed to a reaper). `npm run demo` runs the demo under `sh`:
 * when npm is killed it passes the signal to `sh` only, which exits without passing it on.
 */
export function watchParent(onGone: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  // The watch alone must not keep the process alive.
  timer.unref();
  return () => clearInterval(timer);
}
