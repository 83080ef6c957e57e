/**
 * The bad-input examples of docs/failures-and-recovery.md ("Faults and bad input") that are
 * mistakes in a stack's config, shared by the program's tests (test/config/fleetPlan.test.ts) and
 * the JSON Schema's (test/config/fleetSchema.test.ts), so both refuse the same values.
 */

/** "quotes, `$`, `;`, `&`, `|`, backticks or typographic quotes in names, hosts, users or paths". */
export const injections = [
  "MPS01'; Remove-Item C:\\ -Recurse #",
  "host$(whoami)",
  'C:\\x\\`"; calc',
  "a&b",
  "x|y",
  "MPS\u201901",
  "MPS\u201801",
  "a;b",
  "a%PATH%b",
  "a\nb",
];

/** "a version that is not four numbers". */
export const notFourNumbers = ["13.3.609", "13.3.609.1.0", "a.b.c.d", "65536.0.0.0", "01.2.3.4"];

/** "an unknown hotfix id": `unknown hotfix KB999999 (the catalog has KB952089)`. */
export const unknownHotfixId = "KB999999";
