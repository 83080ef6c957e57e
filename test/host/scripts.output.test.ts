import { renderScript } from "../../components/host/scriptAssembly";
import { bootstrapScript } from "../../components/host/invocation";
import { everyScriptText, loadPowerShellGrammar, parse, scriptsByName, unloadPowerShellGrammar } from "./psAst";
import { outputProblems } from "./scriptOutput";

/**
 * The only output of a script is its key=value lines: every statement of every script the product
 * can send (each engine script, each inside the relay script, the bootstrap) either prints a
 * key=value line or discards what it produces. A COM method's return value left uncaptured would
 * turn a successful step into "unexpected answer".
 */

beforeAll(loadPowerShellGrammar);
afterAll(unloadPowerShellGrammar);

const problemsOf = (text: string): string[] =>
  outputProblems(parse(text)).map((p) => `${p.where}: ${p.problem}: ${p.statement}`);

describe("every script prints only its key=value lines", () => {
  it.each(everyScriptText.map((s) => [s.label, s.text] as const))("%s", (_label, text) => {
    expect(problemsOf(text)).toEqual([]);
  });
});

describe("the check finds what PowerShell would print", () => {
  const deactivate = renderScript(scriptsByName["deactivate-engine"]);

  it("a COM method's value left uncaptured (Deactivate without [void])", () => {
    const uncaptured = deactivate.replace("[void]$engine.Deactivate(", "$engine.Deactivate(");
    const line = uncaptured.split("\n").indexOf("$engine.Deactivate($EngineName)") + 1;
    expect(line).toBeGreaterThan(0);
    expect(problemsOf(uncaptured)).toEqual([
      `line ${line}, column 1: writes the value of an expression to the output: $engine.Deactivate($EngineName)`,
    ]);
  });

  it.each([
    [
      "a .NET call whose value is kept by nothing",
      "[IO.Directory]::CreateDirectory('C:\\x')",
      "writes the value of an expression to the output",
    ],
    ["a bare variable", "$count", "writes the value of an expression to the output"],
    ["a literal", "'done'", "writes the value of an expression to the output"],
    ["a command that prints", "Get-Date", "runs get-date, whose output is not discarded"],
    ["a line that is not key=value", "Write-Output 'done'", 'prints "done", not a key=value line'],
    ["a computed line without a key", "Write-Output ($name + '=1')", 'prints "#=1", not a key=value line'],
    ["a return from the script", "return 1", "returns a value from the script, which prints it"],
  ])("%s", (_what, statement, problem) => {
    expect(problemsOf(`${statement}\nexit 0\n`)).toEqual([`line 1, column 1: ${problem}: ${statement}`]);
  });

  it("a function that prints, and a function called for its value without keeping it", () => {
    const text = "function F($x) {\n  Write-Output 'a=1'\n  return $x\n}\nF 1\n$y = F 2\nexit 0\n";
    expect(problemsOf(text)).toEqual([
      "line 2, column 3: prints from a function, whose output is its value: Write-Output 'a=1'",
      "line 5, column 1: calls f for its value without keeping it: F 1",
    ]);
  });

  it("statements inside blocks are held to it too, and discarded values pass", () => {
    const text = [
      "if ($a) { [void]$x.Close() } elseif ($b) { $x.Open() } else { $y = 1 }",
      "foreach ($i in $list) { $i }",
      "try { $x++ } catch { 'oops' } finally { $z | Out-Null }",
      "Get-Content -LiteralPath $p | ForEach-Object { Write-Output ('log:' + $_) }",
      "exit 0",
      "",
    ].join("\n");
    expect(problemsOf(text)).toEqual([
      "line 1, column 44: writes the value of an expression to the output: $x.Open()",
      "line 2, column 25: writes the value of an expression to the output: $i",
      "line 3, column 22: writes the value of an expression to the output: 'oops'",
    ]);
  });

  it("the bootstrap's run of the script is its one pass-through", () => {
    expect(problemsOf(bootstrapScript)).toEqual([]);
    expect(problemsOf(bootstrapScript.replace("$mpsPayload\n", "$mpsPayload $extra\n"))).toHaveLength(1);
  });
});
