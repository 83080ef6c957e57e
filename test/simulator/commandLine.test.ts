import { encodeCommand, powershellCommandLine, powershellPrefix } from "../../components/host/powershell";
import { renderRelayScript, renderScript, renderedParams, type HostScript } from "../../components/host/scriptAssembly";
import { bootstrapCommandLine, invocationFor } from "../../components/host/invocation";
import { commandLineRejection, parseInput } from "../../simulator/commandLine";
import { direct, packageBase64, scripts, via } from "./helpers";

const allScripts: readonly HostScript[] = [
  scripts.probe("MPS01"),
  scripts.stage(),
  scripts.deactivate("MPS01"),
  scripts.shutdown(),
  scripts.install("MPS01"),
  scripts.start(),
  scripts.activate("MPS01"),
  scripts.readLog("MPS01"),
  { name: "installer-status", params: { LogPath: "C:\\Windows\\Temp\\mps-hotfix\\KB952089-MPS01.log" } },
];

const notBootstrap =
  "not the mps-hotfix bootstrap (powershell.exe -EncodedCommand of the script that reads its script from standard input)";

/** Standard input carrying `text` as the script, as the bootstrap reads it. */
const input = (text: string, payload = ""): string => `${Buffer.from(text, "utf8").toString("base64")}\n${payload}`;

function rejection(stdin: string): string {
  const result = parseInput(stdin);
  if (result.ok) throw new Error("accepted");
  return result.reason;
}

/** The product's probe script with one text edit applied, as standard input. */
function editedProbe(edit: (script: string) => string): string {
  return input(edit(renderScript(scripts.probe("MPS01"))));
}

describe("the command line", () => {
  test("is the bootstrap for every script, direct or relayed", () => {
    for (const script of allScripts) {
      expect(invocationFor(script, direct).commandLine).toBe(bootstrapCommandLine);
      expect(invocationFor(script, via("mps05.corp.example")).commandLine).toBe(bootstrapCommandLine);
    }
    expect(commandLineRejection(bootstrapCommandLine)).toBeUndefined();
  });

  test.each([
    ["a plain shell command", "whoami"],
    ["another PowerShell switch", `powershell.exe -NoLogo -Command ${encodeCommand("Get-Date")}`],
    ["an empty encoded command", powershellPrefix],
    ["a trailing space", `${bootstrapCommandLine} `],
    ["an appended command", `${bootstrapCommandLine} & del C:\\x`],
    [
      "a whole script on the command line, as the product once sent it",
      powershellCommandLine(renderScript(scripts.start())),
    ],
  ])("rejects %s", (_what, commandLine) => {
    expect(commandLineRejection(commandLine)).toBe(notBootstrap);
  });
});

describe("standard input parsing", () => {
  test.each(allScripts.map((script) => [script.name, script] as const))(
    "the product's %s script is read back exactly, with its payload",
    (_name, script) => {
      const text = renderScript(script);
      expect(parseInput(invocationFor(script, direct).stdin)).toEqual({
        ok: true,
        command: {
          kind: "script",
          script: { name: script.name, params: renderedParams(script), text },
          payload: script.stdin ?? "",
        },
      });
      expect(parseInput(invocationFor(script, via("mps05.corp.example")).stdin)).toEqual({
        ok: true,
        command: {
          kind: "relay",
          engine: "mps05.corp.example",
          inner: { name: script.name, params: renderedParams(script), text },
          payload: script.stdin ?? "",
          text: renderRelayScript("mps05.corp.example", text),
        },
      });
    },
  );

  test("the payload is the rest of the input after the script's line", () => {
    const parsed = parseInput(invocationFor(scripts.stage(), direct).stdin);
    expect(parsed.ok && parsed.command.payload).toBe(packageBase64);
  });

  test("quotes inside values survive the round trip", () => {
    const script: HostScript = {
      name: "probe",
      params: {
        FilePaths: ["C:\\it's\\a.dll", "C:\\b, c\\d.dll", "C:\\x\u2019y\\e.dll"],
        EngineName: "O'Brien",
        EngineControlProgId: "P.E",
        ComPlusApplication: "A",
        ResponseTimeoutSeconds: "30",
      },
    };
    expect(parseInput(invocationFor(script, direct).stdin)).toMatchObject({
      ok: true,
      command: { kind: "script", script: { name: "probe", params: script.params } },
    });
  });

  test("an empty list parameter is read back", () => {
    const script: HostScript = {
      ...scripts.probe("MPS01"),
      params: { ...scripts.probe("MPS01").params, FilePaths: [] },
    };
    expect(parseInput(invocationFor(script, direct).stdin)).toMatchObject({
      ok: true,
      command: { script: { params: { FilePaths: [] } } },
    });
  });

  test.each([
    ["nothing at all", "", "the first line of standard input is not base64"],
    ["a first line that is not base64", "Get-Date\n", "the first line of standard input is not base64"],
    [
      "odd bytes",
      `${Buffer.from([0xff, 0xfe, 0xfd]).toString("base64")}\n`,
      "the script on standard input is not UTF-8 text",
    ],
    ["a script without the header", input("Get-Date\n"), "not an mps-hotfix script (missing its header line)"],
    [
      "an unknown script",
      input("# mps-hotfix script=format-disk\n# end of parameters\n"),
      'unknown script "format-disk"',
    ],
    [
      "a parameter that is not a literal",
      editedProbe((s) => s.replace("  EngineName = 'MPS01'", "  EngineName = $env:COMPUTERNAME")),
      "parameter EngineName is not a single-quoted literal",
    ],
    [
      "a quote that ends the literal early",
      editedProbe((s) => s.replace("'MPS01'", "'MPS01'; Remove-Item C:\\ -Recurse; ''")),
      "parameter EngineName is not a single-quoted literal",
    ],
    [
      "a line added among the parameters",
      editedProbe((s) => s.replace("\n}\n# end of parameters", "\nStop-Computer\n}\n# end of parameters")),
      "line 8 is not a parameter",
    ],
    [
      "a parameter assigned twice",
      editedProbe((s) => s.replace("\n}\n# end of parameters", "\n  EngineName = 'MPS02'\n}\n# end of parameters")),
      "parameter EngineName is given twice",
    ],
    [
      "a missing end of parameters",
      editedProbe((s) => s.replace("# end of parameters", "# end")),
      'missing "# end of parameters"',
    ],
    [
      "an unexpected parameter",
      editedProbe((s) => s.replace("\n}\n# end of parameters", "\n  Force = 'yes'\n}\n# end of parameters")),
      "script probe takes parameters ComPlusApplication,EngineControlProgId,EngineName,FilePaths,ResponseTimeoutSeconds, given ComPlusApplication,EngineControlProgId,EngineName,FilePaths,Force,ResponseTimeoutSeconds",
    ],
    [
      "a list where a string belongs",
      editedProbe((s) => s.replace("  EngineName = 'MPS01'", "  EngineName = @('MPS01')")),
      "script probe: parameter EngineName must be a string",
    ],
    [
      "a changed body",
      editedProbe((s) => s.replace("Write-Output 'engine=active'", "Write-Output 'engine=active'; Stop-Service W3SVC")),
      "script probe differs from the product's probe script",
    ],
    ["CRLF line ends", editedProbe((s) => s.replace(/\n/g, "\r\n")), 'unknown script "probe\\r"'],
    [
      "a hashtable that does not end",
      editedProbe((s) => s.replace("\n}\n# end of parameters\n", "\n")),
      "line 8 is not a parameter",
    ],
    [
      "a payload parameter on a script that takes none",
      editedProbe((s) => s.replace("# mps-hotfix script=probe\n", "# mps-hotfix script=probe\nparam($Payload)\n")),
      "script probe differs from the product's probe script",
    ],
  ])("rejects %s", (_what, stdin, reason) => {
    expect(rejection(stdin)).toBe(reason);
  });

  test.each([
    [
      "a changed relay body",
      input(renderRelayScript("MPS05", renderScript(scripts.start())).replace("exit $code", "exit 0")),
      "relay script differs from the product's relay script",
    ],
    [
      "no payload parameter",
      input(renderRelayScript("MPS05", renderScript(scripts.start())).replace("param($Payload)\n", "")),
      "relay script differs from the product's relay script",
    ],
    [
      "an inner script that is not the product's",
      input(renderRelayScript("MPS05", "# mps-hotfix script=probe\nGet-Date\n")),
      'line 2 is not "$parameters = @{"',
    ],
  ])("rejects a relay script with %s", (_what, stdin, reason) => {
    expect(rejection(stdin)).toBe(reason);
  });
});
