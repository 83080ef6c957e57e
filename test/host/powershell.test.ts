import {
  decodeCommand,
  encodeCommand,
  powershellCommandLine,
  powershellPrefix,
  quotePowerShell,
  unquotePowerShell,
} from "../../components/host/powershell";

const tricky = [
  "",
  "plain",
  "O'Brien",
  "''",
  "'",
  "it\u2018s",
  "it\u2019s",
  "low\u201Aquote",
  "reversed\u201Bquote",
  "\u2018\u2019\u201A\u201B'",
  "'; Remove-Item C:\\ -Recurse #",
  '$(whoami) $env:PATH `" & | ; %PATH%',
  'C:\\x\\`"; calc',
  "tab\there",
  "unicode \u00e9\u4e2d\u{1F600}",
  "ends with a quote'",
];

describe("quotePowerShell", () => {
  it("wraps a value in single quotes", () => {
    expect(quotePowerShell("Provisioning Engine")).toBe("'Provisioning Engine'");
    expect(quotePowerShell("")).toBe("''");
  });

  it("doubles the straight single quote", () => {
    expect(quotePowerShell("O'Brien")).toBe("'O''Brien'");
    expect(quotePowerShell("'; calc #")).toBe("'''; calc #'");
  });

  it.each([
    ["\u2018", "'it\u2018\u2018s'"],
    ["\u2019", "'it\u2019\u2019s'"],
    ["\u201A", "'it\u201A\u201As'"],
    ["\u201B", "'it\u201B\u201Bs'"],
  ])("doubles the typographic quote %s, which PowerShell also treats as a quote", (quote, expected) => {
    expect(quotePowerShell(`it${quote}s`)).toBe(expected);
  });

  it("leaves $, backtick, double quotes and semicolons alone: nothing expands in a single-quoted literal", () => {
    expect(quotePowerShell('$(whoami) `" ; &')).toBe("'$(whoami) `\" ; &'");
  });

  it.each([
    ["a\nb", '"a\\nb"'],
    ["a\rb", '"a\\rb"'],
    ["a\0b", '"a\\u0000b"'],
  ])("refuses a value with a line break or NUL: %j", (value, shown) => {
    expect(() => quotePowerShell(value)).toThrow(
      new Error(`refusing to quote a value with a control character: ${shown}`),
    );
  });
});

describe("unquotePowerShell", () => {
  it.each(tricky)("round-trips %j", (value) => {
    expect(unquotePowerShell(quotePowerShell(value))).toBe(value);
  });

  it.each([
    ["unquoted", "no quotes at all"],
    ["'a'b'", "a lone quote inside"],
    ["'a' + 'b'", "two literals"],
    ["'abc", "no closing quote"],
    ["abc'", "no opening quote"],
    ["'it\u2019s'", "a lone typographic quote inside"],
    ['"abc"', "double quotes"],
    ["", "nothing"],
    ["'", "a single quote"],
  ])("returns undefined for %j (%s)", (literal) => {
    expect(unquotePowerShell(literal)).toBeUndefined();
  });
});

describe("encodeCommand / decodeCommand", () => {
  it("encodes as base64 of UTF-16LE, as -EncodedCommand expects", () => {
    expect(encodeCommand("exit 0")).toBe(
      Buffer.from([0x65, 0, 0x78, 0, 0x69, 0, 0x74, 0, 0x20, 0, 0x30, 0]).toString("base64"),
    );
    expect(encodeCommand("exit 0")).toBe("ZQB4AGkAdAAgADAA");
  });

  it.each([...tricky, "line one\nline two\r\n", "# mps-hotfix script=probe\n$x = 'a''b'\nexit 0\n"])(
    "round-trips %j",
    (script) => {
      expect(decodeCommand(encodeCommand(script))).toBe(script);
    },
  );

  it("builds the one command line shape the product sends", () => {
    expect(powershellPrefix).toBe(
      "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ",
    );
    const line = powershellCommandLine("Write-Output 'a''b'\nexit 0");
    expect(line).toBe(powershellPrefix + encodeCommand("Write-Output 'a''b'\nexit 0"));
    expect(decodeCommand(line.slice(powershellPrefix.length))).toBe("Write-Output 'a''b'\nexit 0");
    // The command line carries nothing a shell on the way could interpret.
    expect(line.slice(powershellPrefix.length)).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });
});
