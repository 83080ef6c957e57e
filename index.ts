import { fleetProgram } from "./components/program";

// The program `pulumi preview` and `pulumi up` run in this directory. MPS_HOTFIX_ADOPT=1 registers
// what each engine has without changing any host, like `mps-hotfix adopt`.
export = fleetProgram({ projectDir: __dirname, adoptOnly: process.env["MPS_HOTFIX_ADOPT"] === "1" });
