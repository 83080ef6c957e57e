import { win32 } from "node:path";

/** Windows paths ignore case and accept either slash, so lookups go through one spelling. */
export function pathKey(path: string): string {
  return win32.normalize(path).replace(/\\+$/, "").toLowerCase();
}

/** `[IO.Path]::GetFileName`, which splits on either slash and on a drive colon. */
export function fileNameOf(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("\\"), path.lastIndexOf("/"), path.lastIndexOf(":")) + 1);
}

/** `[IO.Path]::Combine` for two parts: a rooted second part wins, and no separator is doubled. */
export function combinePath(directory: string, file: string): string {
  if (directory === "" || win32.isAbsolute(file) || /^[A-Za-z]:/.test(file)) return file;
  return /[\\/:]$/.test(directory) ? directory + file : `${directory}\\${file}`;
}

export function isInDirectory(path: string, directory: string): boolean {
  return pathKey(win32.dirname(path)) === pathKey(directory);
}
