import { classifyMsiexecExit } from "../../components/runbook/msiexecExit";

describe("classifyMsiexecExit", () => {
  it("0 is installed", () => {
    expect(classifyMsiexecExit(0)).toEqual({ kind: "installed" });
  });

  it.each([
    [3010, "installed; a restart is required to complete it"],
    [1641, "installed; the installer started a restart"],
  ])("%i is a pending restart", (code, meaning) => {
    expect(classifyMsiexecExit(code)).toEqual({ kind: "restart-pending", meaning });
  });

  it("1618 is busy (another installation is running), the only code worth retrying", () => {
    expect(classifyMsiexecExit(1618)).toEqual({ kind: "busy", meaning: "another installation is already in progress" });
  });

  it.each([
    [1602, "the installation was cancelled"],
    [1603, "fatal error during installation"],
    [1619, "the package could not be opened"],
    [1620, "the package could not be opened (not a valid package)"],
    [1625, "the installation is forbidden by system policy"],
    [1633, "the package is not supported on this processor type"],
    [1638, "another version of this product is already installed"],
  ])("%i fails: %s", (code, meaning) => {
    expect(classifyMsiexecExit(code)).toEqual({ kind: "failed", meaning });
  });

  it.each([1, 2, 1601, 1604, -1, 2147483647, -2147023293])(
    "an unknown code %i fails with a generic meaning",
    (code) => {
      expect(classifyMsiexecExit(code)).toEqual({ kind: "failed", meaning: "installation failed" });
    },
  );
});
