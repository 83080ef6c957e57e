import { loadPowerShellGrammar, parse, unloadPowerShellGrammar, everyScriptText } from "./psAst";
import {
  citedPages,
  cmdlets,
  comClasses,
  instanceMembers,
  operators,
  staticMembers,
  statements,
  types,
  variables,
} from "./powershell2";
import { vocabularyOf, type Vocabulary } from "./psVocabulary";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { commonFileName, powershellDir, sharedFileNames } from "../../components/host/scriptFiles";

/**
 * PowerShell 2.0 and .NET Framework 2.0 only, checked: every cmdlet, parameter, statement,
 * operator, variable, .NET type and member and COM class or member that any script says must be
 * in the allow-list (test/host/powershell2.ts), each with the Microsoft page that shows it there.
 * The grammar accepts PowerShell 7 syntax; the allow-list does not.
 */

beforeAll(loadPowerShellGrammar);
afterAll(unloadPowerShellGrammar);

const listed = {
  cmdlets: new Set(Object.keys(cmdlets)),
  parameters: new Set(
    Object.entries(cmdlets).flatMap(([name, c]) => Object.keys(c.parameters).map((p) => `${name} ${p}`)),
  ),
  statements: new Set(Object.keys(statements)),
  operators: new Set(Object.keys(operators)),
  variables: new Set(Object.keys(variables)),
  types: new Set(Object.keys(types)),
  staticMembers: new Set(Object.keys(staticMembers)),
  instanceMembers: new Set(Object.keys(instanceMembers)),
  comClasses: new Set(Object.keys(comClasses)),
  unknown: new Set<string>(),
} satisfies Record<keyof Vocabulary, Set<string>>;

type Kind = keyof typeof listed;
const kinds = Object.keys(listed) as Kind[];

/** The functions the shared files define, which a step's file may call (read once the grammar is loaded). */
let shared: ReadonlySet<string> | undefined;
const sharedFunctions = (): ReadonlySet<string> =>
  (shared ??= new Set(
    [commonFileName, ...sharedFileNames].flatMap((file) =>
      parse(readFileSync(join(powershellDir, file), "utf8"))
        .descendantsOfType("function_name")
        .map((name) => name!.text.toLowerCase()),
    ),
  ));

/** What a script says that the allow-list does not name, as "kind: word (where)". */
function unlisted(text: string): string[] {
  const vocabulary = vocabularyOf(parse(text), sharedFunctions());
  return kinds.flatMap((kind) =>
    [...vocabulary[kind]].filter(([word]) => !listed[kind].has(word)).map(([word, at]) => `${kind}: ${word} (${at})`),
  );
}

describe("every script uses PowerShell 2.0 and .NET Framework 2.0 only", () => {
  it.each(everyScriptText.map((s) => [s.label, s.text] as const))("%s", (_label, text) => {
    expect(unlisted(text)).toEqual([]);
  });

  it("the allow-list names nothing the scripts do not use", () => {
    const used = Object.fromEntries(kinds.map((kind) => [kind, new Set<string>()])) as Record<Kind, Set<string>>;
    for (const { text } of everyScriptText) {
      const vocabulary = vocabularyOf(parse(text), sharedFunctions());
      for (const kind of kinds) for (const word of vocabulary[kind].keys()) used[kind].add(word);
    }
    const unused = kinds.flatMap((kind) =>
      [...listed[kind]].filter((word) => !used[kind].has(word)).map((w) => `${kind}: ${w}`),
    );
    expect(unused).toEqual([]);
  });

  it("every entry cites a Microsoft Learn page, or this product's own engine-control contract", () => {
    for (const url of citedPages()) {
      expect(url).toMatch(/^(https:\/\/learn\.microsoft\.com\/en-us\/|docs\/operator-guide\.md#)/);
    }
  });
});

describe("the check fails on what PowerShell 2.0 or .NET 2.0 does not have", () => {
  it.each([
    ["a cmdlet of PowerShell 3.0", "$h = Get-FileHash -LiteralPath $p", ["cmdlets: get-filehash (line 1, column 6)"]],
    ["a cmdlet of PowerShell 3.0", "$j = ConvertTo-Json $x", ["cmdlets: convertto-json (line 1, column 6)"]],
    [
      "a parameter the allow-list does not name",
      "Test-Path -Path $x",
      ["parameters: test-path -path (line 1, column 11)"],
    ],
    ["the -in operator of PowerShell 3.0", "$a = $x -in $list", ["operators: -in (line 1, column 9)"]],
    [
      "::new() of PowerShell 5.0",
      "$s = [Text.UTF8Encoding]::new($false)",
      ["staticMembers: text.utf8encoding::new (line 1, column 6)"],
    ],
    ["$PSItem of PowerShell 3.0", "$a = $PSItem", ["variables: $psitem (line 1, column 6)"]],
    [
      "a type .NET 2.0 does not have",
      "$t = [Threading.Tasks.Task]::Run($x)",
      ["types: threading.tasks.task (line 1, column 6)", "staticMembers: threading.tasks.task::run (line 1, column 6)"],
    ],
    [
      "a pipeline",
      "$a = $b | Sort-Object",
      ["cmdlets: sort-object (line 1, column 11)", "operators: | (line 1, column 6)"],
    ],
    ["a switch statement", "switch ($x) { 1 { $y = 2 } }", ["unknown: switch_statement (line 1, column 1)"]],
  ])("%s: %s", (_what, text, expected) => {
    const problems = unlisted(`${text}\n`);
    for (const problem of expected) expect(problems).toContain(problem);
  });
});
