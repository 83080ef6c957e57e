import { spawnSync } from "node:child_process";
import { decodeCodePage, encodeOem, oemUpperHalves } from "../../components/host/codePages";

/**
 * The OEM code pages' tables are checked against iconv where it is installed (glibc's CP437 and
 * CP850, which follow Microsoft's mappings); elsewhere that test says it was skipped.
 */
const iconv = spawnSync("iconv", ["--version"]).status === 0;

describe("the OEM code pages of US and Western European servers", () => {
  const upperHalf = Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i));

  (iconv ? it.each([437, 850] as const) : it.skip.each([437, 850] as const))(
    "code page %i's upper half is iconv's",
    (codePage) => {
      const converted = spawnSync("iconv", ["-f", `CP${codePage}`, "-t", "UTF-8"], { input: upperHalf });
      expect(converted.status).toBe(0);
      expect(oemUpperHalves[codePage]).toBe(converted.stdout.toString("utf8"));
    },
  );

  it.each([437, 850] as const)("code page %i decodes what it encodes, and ASCII as ASCII", (codePage) => {
    const text = "exit=0 \u00e9\u00e8\u00fc\u00df\u00e7";
    expect(decodeCodePage(encodeOem(text, codePage), codePage)).toBe(text);
    expect(encodeOem("plain", codePage)).toEqual(Buffer.from("plain"));
  });

  it("writes a character the code page lacks as '?', as Windows does", () => {
    expect(encodeOem("\u4e2d", 850)).toEqual(Buffer.from("?"));
  });

  it("reads the code pages the platform decodes, and says so for one it does not", () => {
    expect(decodeCodePage(Buffer.from([0xe9]), 1252)).toBe("\u00e9");
    expect(decodeCodePage(Buffer.from("\u00e9", "utf8"), 65001)).toBe("\u00e9");
    expect(decodeCodePage(Buffer.from([0x82]), 932)).toBeUndefined();
  });
});
