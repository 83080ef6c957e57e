import { read } from "../../components/provider/hotfixProvider";
import { programRan, runProgramVariable, staleConfigProblem } from "../../components/provider/programRun";

describe("a refresh that may not have run the program", () => {
  it("reads PULUMI_RUN_PROGRAM as the CLI reads a boolean", () => {
    expect(programRan({ [runProgramVariable]: "true" })).toBe(true);
    expect(programRan({ [runProgramVariable]: "TRUE" })).toBe(true);
    expect(programRan({ [runProgramVariable]: "1" })).toBe(true);
    expect(programRan({ [runProgramVariable]: "false" })).toBe(false);
    expect(programRan({ [runProgramVariable]: "yes" })).toBe(false);
    expect(programRan({})).toBe(false);
  });

  it("is refused before any host is contacted, naming the variable and the engine", async () => {
    const saved = process.env[runProgramVariable];
    Reflect.deleteProperty(process.env, runProgramVariable);
    try {
      // No state at all: the refusal comes before the stored state is even looked at.
      await expect(read("MPS01", {})).rejects.toThrow(staleConfigProblem("MPS01"));
    } finally {
      if (saved !== undefined) process.env[runProgramVariable] = saved;
    }
    expect(staleConfigProblem("MPS01")).toContain(`${runProgramVariable}=true`);
  });
});
