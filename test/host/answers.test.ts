import { encodeOem } from "../../components/host/codePages";
import {
  decodeHostOutput,
  errorLine,
  parseInstallAnswer,
  parseKeyValueLines,
  parseProbeAnswer,
  parseStageAnswer,
  UnexpectedAnswerError,
} from "../../components/host/answers";
import { kbFile } from "../support/targets";

const files = ["Mapsproccntl.dll"];
/** A version the probe reports: the one the catalog requires, and the same cut to three parts. */
const version = kbFile.version;
const threeParts = version.split(".").slice(0, 3).join(".");

/** What the probe script prints on Windows: CRLF lines ending with exit=0. */
function probeOutput(lines: readonly string[]): string {
  return lines.map((l) => `${l}\r\n`).join("");
}

const goodProbe = [
  `file:Mapsproccntl.dll=${version}`,
  "engine=active",
  "complus.instances=2",
  "complus=running",
  "complus.responding=yes",
  "renames=0",
  "exit=0",
];

function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error("expected an error");
}

describe("parseProbeAnswer", () => {
  it("reads a good answer", () => {
    expect(parseProbeAnswer(probeOutput(goodProbe), files)).toEqual({
      files: { "Mapsproccntl.dll": version },
      engine: "active",
      complus: "running",
      complusInstances: 2,
      complusResponding: "yes",
      renames: [],
    });
  });

  it("reads KB952089's symptom: COM+ runs and its component does not answer", () => {
    const wedged = goodProbe.map((line) => (line === "complus.responding=yes" ? "complus.responding=no" : line));
    expect(parseProbeAnswer(probeOutput(wedged), files)).toMatchObject({ complus: "running", complusResponding: "no" });
  });

  it("rejects an answer that says COM+ runs without saying whether it responds, or that it responds while stopped", () => {
    const silent = goodProbe.filter((line) => !line.startsWith("complus.responding="));
    expect(thrownBy(() => parseProbeAnswer(probeOutput(silent), files)).message).toContain(
      "complus=running, but complus.responding is missing",
    );
    const stopped = goodProbe.map((line) => (line === "complus=running" ? "complus=stopped" : line));
    expect(thrownBy(() => parseProbeAnswer(probeOutput(stopped), files)).message).toContain(
      "complus=stopped, but complus.responding is there",
    );
    expect(() =>
      parseProbeAnswer(probeOutput([...silent.slice(0, -1), "complus.responding=maybe", "exit=0"]), files),
    ).toThrow(/complusResponding/);
  });

  it("reads a missing file, a deactivated engine, a stopped application and the pending renames, empty ones too", () => {
    const answer = parseProbeAnswer(
      [
        "file:Mapsproccntl.dll=missing",
        "engine=deactivated",
        "complus.instances=0",
        "complus=stopped",
        "rename.0=\\??\\C:\\Windows\\Temp\\a.tmp",
        "rename.1=",
        "rename.2=\\??\\C:\\Program Files\\Av\\engine.new",
        "rename.3=!\\??\\C:\\Program Files\\Av\\engine.dll",
        "renames=4",
        "",
      ].join("\n"),
      files,
    );
    expect(answer).toEqual({
      files: { "Mapsproccntl.dll": "missing" },
      engine: "deactivated",
      complus: "stopped",
      complusInstances: 0,
      renames: [
        "\\??\\C:\\Windows\\Temp\\a.tmp",
        "",
        "\\??\\C:\\Program Files\\Av\\engine.new",
        "!\\??\\C:\\Program Files\\Av\\engine.dll",
      ],
    });
  });

  it("matches reported file names case-insensitively and keeps the host's spelling", () => {
    const answer = parseProbeAnswer(
      probeOutput(goodProbe.map((l) => l.replace("Mapsproccntl", "MAPSPROCCNTL"))),
      files,
    );
    expect(answer.files).toEqual({ "MAPSPROCCNTL.dll": version });
  });

  it("is an UnexpectedAnswerError", () => {
    const error = thrownBy(() => parseProbeAnswer("", files));
    expect(error).toBeInstanceOf(UnexpectedAnswerError);
    expect(error.name).toBe("UnexpectedAnswerError");
  });

  it.each([
    ["nothing", "", "unexpected answer to probe: the host printed nothing"],
    ["blank lines", "\r\n   \r\n\n", "unexpected answer to probe: the host printed nothing"],
    [
      "garbage",
      "engine=active\r\nthis is not an answer\r\n",
      'unexpected answer to probe: line 2 is not key=value: "this is not an answer"',
    ],
    [
      "a long line with control characters, shortened and made printable",
      `${"x".repeat(100)}\u0007\u00e9`,
      `unexpected answer to probe: line 1 is not key=value: "${"x".repeat(80)}…"`,
    ],
    ["an unprintable short line", "\u0007bell\u00e9", 'unexpected answer to probe: line 1 is not key=value: "?bell?"'],
    [
      "a version that is not four numbers",
      probeOutput(goodProbe.map((l) => l.replace(version, threeParts))),
      "unexpected answer to probe: files.Mapsproccntl.dll: must be a file version of four numbers, each 0-65535, such as 13.3.609.1",
    ],
    [
      "a missing file line",
      probeOutput(goodProbe.slice(1)),
      "unexpected answer to probe: reported files none, asked for mapsproccntl.dll",
    ],
    [
      "an extra file",
      probeOutput(["file:Other.dll=1.0.0.0", ...goodProbe]),
      "unexpected answer to probe: reported files mapsproccntl.dll, other.dll, asked for mapsproccntl.dll",
    ],
    [
      "a duplicate key",
      probeOutput([...goodProbe, "engine=deactivated"]),
      "unexpected answer to probe: key engine appears twice",
    ],
    [
      "an engine state it does not know",
      probeOutput(goodProbe.map((l) => l.replace("engine=active", "engine=paused"))),
      'unexpected answer to probe: engine: Invalid option: expected one of "active"|"deactivated"',
    ],
    [
      "no count of pending renames",
      probeOutput(goodProbe.filter((l) => !l.startsWith("renames="))),
      "unexpected answer to probe: renames: missing (the count of pending renames)",
    ],
    [
      "a count of pending renames that does not match the entries",
      probeOutput(goodProbe.map((l) => l.replace("renames=0", "rename.0=\\??\\C:\\a.tmp\r\nrenames=2"))),
      "unexpected answer to probe: renames=2, but 1 rename entries were printed",
    ],
    [
      "a rename entry out of order",
      probeOutput(goodProbe.map((l) => l.replace("renames=0", "rename.1=\\??\\C:\\a.tmp\r\nrenames=1"))),
      "unexpected answer to probe: rename.1 is out of order (expected rename.0)",
    ],
    [
      "a count that is not a number",
      probeOutput(goodProbe.map((l) => l.replace("instances=2", "instances=two"))),
      "unexpected answer to probe: complusInstances: must be a count",
    ],
    [
      "a key it does not know",
      probeOutput([...goodProbe, "color=blue"]),
      'unexpected answer to probe: Unrecognized key: "color"',
    ],
  ])("rejects %s", (_what, stdout, message) => {
    expect(() => parseProbeAnswer(stdout, files)).toThrow(UnexpectedAnswerError);
    expect(thrownBy(() => parseProbeAnswer(stdout, files)).message).toBe(message);
  });
});

describe("parseKeyValueLines", () => {
  it("collects log: lines apart, in order, and skips blank lines", () => {
    const answer = parseKeyValueLines("read-install-log", "log:MSI (s) a=b\r\n\r\nlog:\r\nlog:last\r\nexit=0\r\n");
    expect(answer.logLines).toEqual(["MSI (s) a=b", "", "last"]);
    expect([...answer.values]).toEqual([["exit", "0"]]);
  });

  it("keeps everything after the first = in the value", () => {
    expect([...parseKeyValueLines("x", "error=a = b == c\n").values]).toEqual([["error", "a = b == c"]]);
  });

  it("rejects a key that does not start with a letter", () => {
    expect(() => parseKeyValueLines("x", "1key=v")).toThrow(
      'unexpected answer to x: line 1 is not key=value: "1key=v"',
    );
  });
});

describe("parseStageAnswer", () => {
  const sha = "0123456789abcdef".repeat(4);

  it("reads the staged package's hash, size and path", () => {
    expect(
      parseStageAnswer(
        `sha256=${sha}\r\nbytes=21408\r\npath=C:\\Windows\\Temp\\mps-hotfix\\KB952089.msi\r\nexit=0\r\n`,
      ),
    ).toEqual({ sha256: sha, bytes: 21408, path: "C:\\Windows\\Temp\\mps-hotfix\\KB952089.msi" });
  });

  it.each([
    ["an uppercase hash", `sha256=${sha.toUpperCase()}\nbytes=1\npath=x\n`, "sha256: must be a lowercase SHA-256"],
    ["a short hash", "sha256=abc\nbytes=1\npath=x\n", "sha256: must be a lowercase SHA-256"],
    ["no path", `sha256=${sha}\nbytes=1\nexit=0\n`, "path: Invalid input: expected string, received undefined"],
    ["a negative size", `sha256=${sha}\nbytes=-1\npath=x\n`, "bytes: must be a count"],
    ["an extra key", `sha256=${sha}\nbytes=1\npath=x\nfoo=bar\n`, 'Unrecognized key: "foo"'],
    ["an empty path", `sha256=${sha}\nbytes=1\npath=\n`, "path: Too small: expected string to have >=1 characters"],
  ])("rejects %s", (_what, stdout, detail) => {
    expect(thrownBy(() => parseStageAnswer(stdout)).message).toBe(`unexpected answer to stage-package: ${detail}`);
  });
});

describe("parseInstallAnswer", () => {
  it("reads msiexec's exit code and the log path", () => {
    expect(
      parseInstallAnswer("msiexec.exit=1603\r\nlog=C:\\Windows\\Temp\\mps-hotfix\\a.log\r\nexit=1603\r\n"),
    ).toEqual({
      msiexecExit: 1603,
      log: "C:\\Windows\\Temp\\mps-hotfix\\a.log",
    });
  });

  it("reads a negative exit code", () => {
    expect(parseInstallAnswer("msiexec.exit=-2147023293\nlog=C:\\a.log\n").msiexecExit).toBe(-2147023293);
  });

  it.each([
    ["no exit code", "log=C:\\a.log\nexit=0\n", "msiexecExit: Invalid input: expected string, received undefined"],
    ["no log", "msiexec.exit=0\nexit=0\n", "log: Invalid input: expected string, received undefined"],
    ["an exit code that is not a number", "msiexec.exit=abc\nlog=x\n", "msiexecExit: must be an exit code"],
  ])("rejects %s", (_what, stdout, detail) => {
    expect(thrownBy(() => parseInstallAnswer(stdout)).message).toBe(`unexpected answer to install-package: ${detail}`);
  });
});

describe("errorLine", () => {
  it("returns the text after error=", () => {
    expect(errorLine("a=b\r\nerror=COM+ application not found: Provisioning Engine\r\nexit=1\r\n")).toBe(
      "COM+ application not found: Provisioning Engine",
    );
  });

  it("returns the text after relay.error=", () => {
    expect(errorLine("relay.error=The WSMan provider host process did not return a proper response.\nexit=21\n")).toBe(
      "The WSMan provider host process did not return a proper response.",
    );
  });

  it("keeps = signs in the message", () => {
    expect(errorLine("error=expected a=b\n")).toBe("expected a=b");
  });

  it("returns the first error line", () => {
    expect(errorLine("error=first\nerror=second\n")).toBe("first");
  });

  it("returns undefined when there is none", () => {
    expect(errorLine("exit=0\n")).toBeUndefined();
    expect(errorLine("")).toBeUndefined();
    expect(errorLine("the error=is not at the start\n")).toBeUndefined();
  });
});

describe("decodeHostOutput", () => {
  const french = "error=L'accès au chemin d'accès 'C:\\Windows\\Temp\\x.msi' est refusé.\r\nexit=1\r\n";

  it("reads UTF-8 when the host declares code page 65001, and takes the declaration off", () => {
    const bytes = Buffer.from(`encoding=65001\r\n${french}`, "utf8");
    expect(decodeHostOutput("stage-package", bytes)).toEqual({ text: french, codePage: 65001 });
  });

  it.each([437, 850] as const)(
    "reads the OEM code page %i a host declares when the switch to UTF-8 did not take",
    (codePage) => {
      const bytes = Buffer.concat([Buffer.from(`encoding=${codePage}\r\n`), encodeOem(french, codePage)]);
      // Read as UTF-8, the accents would be lost.
      expect(bytes.toString("utf8")).not.toContain("accès");
      expect(decodeHostOutput("stage-package", bytes)).toEqual({ text: french, codePage });
    },
  );

  it("reads output without a declaration as UTF-8, as it is", () => {
    expect(decodeHostOutput("probe", Buffer.from("exit=0\r\n"))).toEqual({ text: "exit=0\r\n" });
    expect(decodeHostOutput("probe", Buffer.alloc(0))).toEqual({ text: "" });
  });

  it("refuses a code page it has no decoder for, naming it and the ones it reads", () => {
    expect(thrownBy(() => decodeHostOutput("probe", Buffer.from("encoding=932\r\nexit=0\r\n"))).message).toBe(
      "unexpected answer to probe: the host writes its answers in code page 932, which mps-hotfix does not read (it reads 437, 850, 866, 1250, 1251, 1252, 1253, 1254, 1257, 65001)",
    );
  });
});
