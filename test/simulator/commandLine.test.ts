import { encodeCommand, powershellCommandLine, powershellPrefix } from "../../components/host/powershell";
import { commandLineFor, renderRelayScript, renderScript, type HostScript } from "../../components/host/scripts";
import { parseCommandLine } from "../../simulator/commandLine";
import { direct, scripts, via } from "./helpers";

const allScripts: readonly HostScript[] = [
  scripts.probe("MPS01"),
  scripts.stage(),
  scripts.deactivate("MPS01"),
  scripts.shutdown(),
  scripts.install("MPS01"),
  scripts.start(),
  scripts.activate("MPS01"),
  scripts.readLog("MPS01"),
];

function rejection(commandLine: string): string {
  const result = parseCommandLine(commandLine);
  if (result.ok) throw new Error("accepted");
  return result.reason;
}

/** The product's probe script with one text edit applied before encoding. */
function editedProbe(edit: (script: string) => string): string {
  return powershellCommandLine(edit(renderScript(scripts.probe("MPS01"), "stdin")));
}

describe("command line parsing", () => {
  test.each(allScripts.map((script) => [script.name, script] as const))(
    "the product's %s script is read back exactly",
    (_name, script) => {
      expect(parseCommandLine(commandLineFor(script, direct))).toEqual({
        ok: true,
        command: { kind: "script", script: { name: script.name, params: script.params, payloadSource: "stdin" } },
      });
      expect(parseCommandLine(commandLineFor(script, via("mps05.corp.example")))).toEqual({
        ok: true,
        command: {
          kind: "relay",
          engine: "mps05.corp.example",
          forwardInput: script.stdin !== undefined,
          inner: { name: script.name, params: script.params, payloadSource: "argument" },
        },
      });
    },
  );

  test("quotes inside values survive the round trip", () => {
    const script: HostScript = {
      name: "probe",
      params: {
        FilePaths: ["C:\\it's\\a.dll", "C:\\b, c\\d.dll", "C:\\x\u2019y\\e.dll"],
        EngineName: "O'Brien",
        EngineControlProgId: "P.E",
        ComPlusApplication: "A",
      },
    };
    expect(parseCommandLine(commandLineFor(script, direct))).toEqual({
      ok: true,
      command: { kind: "script", script: { name: "probe", params: script.params, payloadSource: "stdin" } },
    });
  });

  test("an empty list parameter is read back", () => {
    const script: HostScript = {
      ...scripts.probe("MPS01"),
      params: { ...scripts.probe("MPS01").params, FilePaths: [] },
    };
    expect(parseCommandLine(commandLineFor(script, direct))).toMatchObject({
      ok: true,
      command: { script: { params: { FilePaths: [] } } },
    });
  });

  test.each([
    ["a plain shell command", "whoami", "not a powershell.exe -EncodedCommand command line"],
    [
      "another PowerShell switch",
      `powershell.exe -NoLogo -Command ${encodeCommand("Get-Date")}`,
      "not a powershell.exe -EncodedCommand command line",
    ],
    ["an empty encoded command", powershellPrefix, "-EncodedCommand is not base64"],
    ["a trailing space", `${commandLineFor(scripts.start(), direct)} `, "-EncodedCommand is not base64"],
    ["an appended command", `${commandLineFor(scripts.start(), direct)} & del C:\\x`, "-EncodedCommand is not base64"],
    [
      "odd UTF-16 bytes",
      powershellPrefix + Buffer.from("abc").toString("base64"),
      "-EncodedCommand is not UTF-16LE text",
    ],
    [
      "a script without the header",
      powershellCommandLine("Get-Date\n"),
      "not an mps-hotfix script (missing its header line)",
    ],
    [
      "an unknown script",
      powershellCommandLine("# mps-hotfix script=format-disk\n# end of parameters\n"),
      'unknown script "format-disk"',
    ],
    [
      "a parameter that is not a literal",
      editedProbe((s) => s.replace("$EngineName = 'MPS01'", "$EngineName = $env:COMPUTERNAME")),
      "parameter $EngineName is not a single-quoted literal",
    ],
    [
      "a quote that ends the literal early",
      editedProbe((s) => s.replace("'MPS01'", "'MPS01'; Remove-Item C:\\ -Recurse; ''")),
      "parameter $EngineName is not a single-quoted literal",
    ],
    [
      "a line added among the parameters",
      editedProbe((s) => s.replace("# end of parameters", "Stop-Computer\n# end of parameters")),
      "line 6 is not a parameter assignment",
    ],
    [
      "a parameter assigned twice",
      editedProbe((s) => s.replace("# end of parameters", "$EngineName = 'MPS02'\n# end of parameters")),
      "parameter $EngineName is assigned twice",
    ],
    [
      "a missing end of parameters",
      editedProbe((s) => s.replace("# end of parameters", "# end")),
      "line 6 is not a parameter assignment",
    ],
    [
      "an unexpected parameter",
      editedProbe((s) => s.replace("# end of parameters", "$Force = 'yes'\n# end of parameters")),
      "script probe takes parameters ComPlusApplication,EngineControlProgId,EngineName,FilePaths, given ComPlusApplication,EngineControlProgId,EngineName,FilePaths,Force",
    ],
    [
      "a list where a string belongs",
      editedProbe((s) => s.replace("$EngineName = 'MPS01'", "$EngineName = @('MPS01')")),
      "script probe: parameter EngineName must be a string",
    ],
    [
      "a changed body",
      editedProbe((s) => s.replace("Write-Output 'engine=active'", "Write-Output 'engine=active'; Stop-Service W3SVC")),
      "script probe differs from the product's probe script",
    ],
    ["CRLF line ends", editedProbe((s) => s.replace(/\n/g, "\r\n")), 'unknown script "probe\\r"'],
    [
      "a relay-rendered script sent directly",
      powershellCommandLine(renderScript(scripts.stage(), "argument")),
      "line 2 is not a parameter assignment",
    ],
  ])("rejects %s", (_what, commandLine, reason) => {
    expect(rejection(commandLine)).toBe(reason);
  });

  test.each([
    [
      "a changed relay body",
      powershellCommandLine(
        renderRelayScript("MPS05", renderScript(scripts.start(), "argument"), false).replace("exit $code", "exit 0"),
      ),
      "relay script differs from the product's relay script",
    ],
    [
      "a ForwardInput other than yes or no",
      powershellCommandLine(
        renderRelayScript("MPS05", renderScript(scripts.start(), "argument"), false).replace(
          "$ForwardInput = 'no'",
          "$ForwardInput = 'maybe'",
        ),
      ),
      "relay $ForwardInput must be 'yes' or 'no'",
    ],
    [
      "an inner script rendered for stdin",
      powershellCommandLine(renderRelayScript("MPS05", renderScript(scripts.stage(), "stdin"), true)),
      "script stage-package differs from the product's stage-package script",
    ],
    [
      "an inner script that is not the product's",
      powershellCommandLine(renderRelayScript("MPS05", "# mps-hotfix script=probe\nGet-Date\n", false)),
      "line 2 is not a parameter assignment",
    ],
  ])("rejects a relay script with %s", (_what, commandLine, reason) => {
    expect(rejection(commandLine)).toBe(reason);
  });
});
